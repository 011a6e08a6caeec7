package datasets_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/transforms"
)

// writeIDX writes a gzip-compressed IDX file of unsigned bytes.
func writeIDX(path string, dims []int, values []byte) error {
	hdr := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(append(hdr, values...))
	zw.Close()
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// ExampleNewMNIST loads MNIST from a directory of IDX files (here three made-up digits, so that
// the example runs offline; without Dir, NewMNIST finds or acquires the real ones) and reads it
// in batches.
func ExampleNewMNIST() {
	dir, err := os.MkdirTemp("", "mnist")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	pixels := make([]byte, 3*28*28)
	for i := range pixels {
		pixels[i] = byte(i % 256)
	}
	if err := writeIDX(filepath.Join(dir, datasets.TestImagesFile), []int{3, 28, 28}, pixels); err != nil {
		panic(err)
	}
	if err := writeIDX(filepath.Join(dir, datasets.TestLabelsFile), []int{3}, []byte{7, 2, 1}); err != nil {
		panic(err)
	}

	test, err := datasets.NewMNIST(datasets.MNISTOptions{
		Dir:       dir,
		Mode:      "test",
		Transform: transforms.Normalize([]float32{127.5}, []float32{127.5}),
	})
	if err != nil {
		panic(err)
	}
	item := test.Get(0)
	fmt.Println(test.Len(), item[0].Shape(), item[1].Shape(), item[0].Data()[:3])

	loader := &data.Loader{Dataset: test, BatchSize: 2}
	for b := range loader.All(context.Background()) {
		fmt.Println(b[0].Shape(), b[1].Data())
	}

	// A corrupt file is an error that names it.
	os.WriteFile(filepath.Join(dir, datasets.TestLabelsFile), []byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 2}, 0o644)
	_, err = datasets.NewMNIST(datasets.MNISTOptions{Dir: dir, Mode: "test"})
	fmt.Println(filepath.Base(err.Error()))
	// Output:
	// 3 [1 28 28] [1] [-1 -0.99215686 -0.9843137]
	// [2 1 28 28] [7 2]
	// [1 1 28 28] [1]
	// t10k-labels-idx1-ubyte.gz: dimensions [3] declare 3 data bytes, the file has 2 after the 8-byte header
}
