package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxBytes encodes an IDX file: magic, dims, then data.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// smallMNIST returns n images whose pixels are (i*31 + p) % 256 and labels i % 10.
func smallMNIST(n int) (images, labels []byte) {
	images = make([]byte, n*mnistPixels)
	for i := range n {
		for p := range mnistPixels {
			images[i*mnistPixels+p] = byte((i*31 + p) % 256)
		}
	}
	labels = make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	return images, labels
}

// writeMNISTDir writes the train and test files of smallMNIST(n) to a new directory, gzipped or
// raw.
func writeMNISTDir(t testing.TB, n int, compress bool) string {
	t.Helper()
	dir := t.TempDir()
	images, labels := smallMNIST(n)
	files := map[string][]byte{
		TrainImagesFile: idxBytes(idxImagesMagic, []int{n, 28, 28}, images),
		TrainLabelsFile: idxBytes(idxLabelsMagic, []int{n}, labels),
		TestImagesFile:  idxBytes(idxImagesMagic, []int{n, 28, 28}, images),
		TestLabelsFile:  idxBytes(idxLabelsMagic, []int{n}, labels),
	}
	for name, b := range files {
		if compress {
			b = gz(b)
		} else {
			name = name[:len(name)-len(".gz")]
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

// realMNIST returns the real train and test splits, acquiring them as NewMNIST does. It skips
// the test when they cannot be had, unless OAR_REQUIRE_MNIST is set: then it fails.
func realMNIST(t testing.TB) (train, test *MNIST) {
	t.Helper()
	realOnce.Do(func() {
		realTrain, realErr = NewMNIST(MNISTOptions{Mode: "train"})
		if realErr == nil {
			realTest, realErr = NewMNIST(MNISTOptions{Mode: "test"})
		}
	})
	if realErr != nil {
		if os.Getenv("OAR_REQUIRE_MNIST") == "" {
			t.Skipf("real MNIST unavailable (set OAR_REQUIRE_MNIST=1 to fail instead): %v", realErr)
		}
		t.Fatalf("real MNIST required by OAR_REQUIRE_MNIST: %v", realErr)
	}
	return realTrain, realTest
}

var (
	realOnce            sync.Once
	realTrain, realTest *MNIST
	realErr             error
)
