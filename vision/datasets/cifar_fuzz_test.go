package datasets

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzCifar feeds arbitrary bytes to the CIFAR archive reader (gzip, tar, then the pickled
// batches): it must return an error or consistent images and labels, never panic, and allocate
// in proportion to the bytes it decompresses (see allocBound), whatever the tar headers and the
// pickles claim.
func FuzzCifar(f *testing.F) {
	const maxBytes = 4 << 20
	c10 := smallCifar10(f)
	raw, err := gunzip(c10)
	if err != nil {
		f.Fatal(err)
	}
	var forged bytes.Buffer
	w := tar.NewWriter(&forged)
	w.WriteHeader(&tar.Header{Name: "data_batch_1", Mode: 0o644, Size: 3 << 20, Typeflag: tar.TypeReg})
	w.Write([]byte("\x80\x02}q\x01(U\x04data"))
	batch := py2Batch(cifarImages(2, 0), [][]int{{1, 2}}, "labels")
	for _, seed := range [][]byte{
		c10, raw, raw[:len(raw)/2], c10[:len(c10)/2], smallCifar100(f), forged.Bytes(), gz(forged.Bytes()), {}, gz(nil),
		tarBytes(f, tarMember{"data_batch_1", batch}), tarBytes(f, tarMember{"data_batch_1", batch[:len(batch)-40]}),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		limit := allocBound(b, maxBytes, 12, 2<<20)
		for _, c := range []struct {
			flag    string
			keys    []string
			classes int
		}{{"data_batch", []string{"labels", "fine_labels"}, 10}, {"train", []string{"coarse_labels"}, 20}} {
			var images, labels []byte
			var err error
			alloc := allocated(func() { images, labels, err = readCifar(bytes.NewReader(b), c.flag, c.keys, c.classes, maxBytes) })
			if alloc > limit {
				t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", alloc, len(b), limit)
			}
			if err != nil {
				if images != nil || labels != nil {
					t.Fatalf("error %v with data", err)
				}
				continue
			}
			if len(images) != cifarPixels*len(labels) || len(labels) == 0 {
				t.Fatalf("%d image bytes for %d labels", len(images), len(labels))
			}
			for i, l := range labels {
				if int(l) >= c.classes {
					t.Fatalf("label %d at %d", l, i)
				}
			}
			ds := newCifar10(images, labels, nil)
			ds.Get(ds.Len() - 1)
			ds.GetBatch([]int{0})
		}
	})
}

// FuzzMat feeds arbitrary bytes to the MAT-file reader that Flowers uses for its labels: it must
// return an error or arrays whose values match their dimensions, never panic, and allocate in
// proportion to what it reads (compressed variables within the budget).
func FuzzMat(f *testing.F) {
	for _, compress := range []bool{false, true} {
		f.Add(matFile(compress, matVar{name: "labels", vals: []float64{5, 102, 1}}))
		f.Add(matFile(compress, matVar{name: "trnid", vals: []float64{2}, u16: true}, matVar{name: "tstid", vals: []float64{6, 1, 3}, u16: true}))
	}
	f.Add(make([]byte, 128))
	f.Fuzz(func(t *testing.T, b []byte) {
		const budget = 1 << 20
		var m map[string]matArray
		var err error
		alloc := allocated(func() {
			m, err = readMat(b, map[string]bool{"labels": true, "trnid": true, "tstid": true, "valid": true}, budget)
		})
		// Decompressed variables and the float64 values count against the budget; readN may
		// double a buffer once.
		if limit := uint64(16*len(b)) + 3*budget + 1<<20; alloc > limit {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", alloc, len(b), limit)
		}
		if err != nil {
			return
		}
		for name, a := range m {
			n := 1
			for _, d := range a.dims {
				n *= d
			}
			if n != len(a.data) {
				t.Fatalf("%s: %d values for dims %v", name, len(a.data), a.dims)
			}
		}
	})
}
