package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"testing"
)

// FuzzIDX feeds arbitrary bytes to the IDX reader, as images and as labels: it must return an
// error or data that matches the dimensions, never panic, and allocate in proportion to the bytes
// it reads (see allocBound), whatever the header and the gzip size trailer claim.
func FuzzIDX(f *testing.F) {
	images, labels := smallMNIST(2)
	im := idxBytes(idxImagesMagic, []int{2, 28, 28}, images)
	lb := idxBytes(idxLabelsMagic, []int{2}, labels)
	for _, seed := range [][]byte{
		im, gz(im), lb, gz(lb), {}, gz(nil), {0, 0, 8, 1}, {0, 0, 8, 3, 0, 0, 0, 1},
		im[:20], gz(im)[:30], append(lb, 0), idxBytes(idxLabelsMagic, []int{1 << 20}, nil),
		{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff},
		forgeSize(gz(idxBytes(idxImagesMagic, []int{60000, 28, 28}, images)), 16+60000*784),
		gz(idxBytes(idxImagesMagic, []int{60000, 28, 28}, make([]byte, 1<<16))),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		limit := allocBound(b, DefaultMNISTMaxBytes, 4, 16*len(b)+1<<20)
		for _, magic := range []uint32{idxImagesMagic, idxLabelsMagic} {
			var dims []int
			var data []byte
			var err error
			alloc := allocated(func() { dims, data, err = decodeIDX(b, magic, DefaultMNISTMaxBytes) })
			if alloc > limit {
				t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", alloc, len(b), limit)
			}
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
// three consistent splits, never panic, and allocate in proportion to the JSON it reads (see
// allocBound).
func FuzzMNISTJSON(f *testing.F) {
	img := image("0")
	good := "[[" + img + "," + image("-0.5") + "],[3,9]]"
	for _, seed := range []string{
		jsonOf(good), jsonOf("[[],[]]"), "", "[", "[[[[", jsonOf("[[[1e39]],[1]]"), jsonOf("[[" + img + "],[10]]"),
		jsonOf(good) + "x", `[[[[-0.1e-3, 2E+5]], [1.0]]]`, "[" + strings.Repeat(" ", 1<<20),
	} {
		f.Add([]byte(seed))
		f.Add(gz([]byte(seed)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		limit := allocBound(b, DefaultMNISTJSONMaxBytes, 12, 2<<20)
		var splits [3]*JSONSplit
		var err error
		alloc := allocated(func() { splits, err = ReadMNISTJSON(bytes.NewReader(b)) })
		if alloc > limit {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", alloc, len(b), limit)
		}
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

// allocated returns the bytes that f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allocBound returns the most that a reader may allocate for input b: perByte bytes per byte it
// holds (decompressed, when it is gzip, up to maxBytes) plus fixed, twice that under the race
// detector.
func allocBound(b []byte, maxBytes int64, perByte, fixed int) uint64 {
	n := int64(len(b))
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		n = 0
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			n, _ = io.Copy(io.Discard, io.LimitReader(zr, maxBytes+1))
		}
	}
	bound := uint64(perByte)*uint64(n) + uint64(fixed)
	if raceEnabled {
		bound *= 2 // the race detector's instrumentation allocates too
	}
	return bound
}

// forgeSize sets the size trailer of the gzip file b to n.
func forgeSize(b []byte, n uint32) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], n)
	return b
}
