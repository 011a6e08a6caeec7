package datasets

import (
	"bytes"
	"testing"
)

// FuzzIDX feeds arbitrary bytes to the IDX reader, as images and as labels: it must return an
// error or data that matches the dimensions, never panic.
func FuzzIDX(f *testing.F) {
	images, labels := smallMNIST(2)
	im := idxBytes(idxImagesMagic, []int{2, 28, 28}, images)
	lb := idxBytes(idxLabelsMagic, []int{2}, labels)
	for _, seed := range [][]byte{
		im, gz(im), lb, gz(lb), {}, gz(nil), {0, 0, 8, 1}, {0, 0, 8, 3, 0, 0, 0, 1},
		im[:20], gz(im)[:30], append(lb, 0), idxBytes(idxLabelsMagic, []int{1 << 20}, nil),
		{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, magic := range []uint32{idxImagesMagic, idxLabelsMagic} {
			dims, data, err := decodeIDX(b, magic)
			if err != nil {
				if dims != nil || data != nil {
					t.Fatalf("error %v with data", err)
				}
				continue
			}
			if len(dims) != int(magic&0xff) {
				t.Fatalf("dims %v for magic 0x%08x", dims, magic)
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			if len(data) != n {
				t.Fatalf("%d bytes for dims %v", len(data), dims)
			}
			if magic == idxLabelsMagic {
				badLabel(data) // the MNIST check on top must not panic either
			}
		}
	})
}

// FuzzMNISTJSON feeds arbitrary bytes to the mnist.json.gz reader: it must return an error or
// three consistent splits, never panic.
func FuzzMNISTJSON(f *testing.F) {
	img := image("0")
	good := "[[" + img + "," + image("-0.5") + "],[3,9]]"
	for _, seed := range []string{
		jsonOf(good), jsonOf("[[],[]]"), "", "[", "[[[[", jsonOf("[[[1e39]],[1]]"), jsonOf("[[" + img + "],[10]]"),
		jsonOf(good) + "x", `[[[[-0.1e-3, 2E+5]], [1.0]]]`,
	} {
		f.Add([]byte(seed))
		f.Add(gz([]byte(seed)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		splits, err := ReadMNISTJSON(bytes.NewReader(b))
		if err != nil {
			for _, s := range splits {
				if s != nil {
					t.Fatalf("error %v with a split", err)
				}
			}
			return
		}
		for k, s := range splits {
			if len(s.images) != mnistPixels*len(s.labels) {
				t.Fatalf("split %d: %d values for %d labels", k, len(s.images), len(s.labels))
			}
			if i, l := badLabel(s.labels); i >= 0 {
				t.Fatalf("split %d: label %d", k, l)
			}
			if s.Len() > 0 {
				s.Get(s.Len() - 1)
				s.GetBatch([]int{0})
			}
		}
	})
}
