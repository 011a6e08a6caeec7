package datasets

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/oarlab/oar/data"
)

// getOnly hides a data set's GetBatch, so that the Loader builds batches item by item.
type getOnly struct{ data.Dataset }

// BenchmarkLoaderMNIST reads one epoch of the real training set per iteration, in shuffled
// batches of 64 normalized as the quick start does, and reports samples/s. "batch" is MNIST's
// GetBatch path (pixels through a table); "get" builds each item with Get and stacks them.
func BenchmarkLoaderMNIST(b *testing.B) {
	train, _ := realMNIST(b)
	m := *train
	m.transform = quickStart
	m.lut = newMNIST(nil, nil, quickStart).lut
	for _, path := range []struct {
		name string
		ds   data.Dataset
	}{{"batch", &m}, {"get", getOnly{&m}}} {
		for _, workers := range []int{0, 1, 2, 4} {
			b.Run(fmt.Sprintf("%s/workers=%d", path.name, workers), func(b *testing.B) {
				l := &data.Loader{Dataset: path.ds, BatchSize: 64, Shuffle: true, Seed: 1, Workers: workers}
				n := 0
				for b.Loop() {
					for batch := range l.All(context.Background()) {
						n += batch[0].Dim(0)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// BenchmarkIDXLoad reads and checks the training set's two gzip files (60,000 images).
func BenchmarkIDXLoad(b *testing.B) {
	realMNIST(b)
	dir := filepath.Join(DataHome(), "mnist")
	for b.Loop() {
		images, labels, err := loadMNIST(filepath.Join(dir, TrainImagesFile), filepath.Join(dir, TrainLabelsFile), DefaultMNISTMaxBytes, fromCache)
		if err != nil || len(labels) != 60000 || len(images) != 60000*784 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(60000*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkMNISTChecksum hashes the training set's two gzip files as NewMNIST does for cached
// files: the cost of the check on load.
func BenchmarkMNISTChecksum(b *testing.B) {
	realMNIST(b)
	dir := filepath.Join(DataHome(), "mnist")
	var files [][]byte
	for _, name := range []string{TrainImagesFile, TrainLabelsFile} {
		f, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	for b.Loop() {
		for _, f := range files {
			sha256.Sum256(f)
		}
	}
}
