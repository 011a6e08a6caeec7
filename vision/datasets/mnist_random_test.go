package datasets

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

func TestMNISTRandomTransformReproducible(t *testing.T) {
	dir := writeMNISTDir(t, 37, true)
	aug := transforms.Compose(
		transforms.RandomCrop([]int{28}, transforms.RandomCropOptions{Padding: []int{4}}),
		transforms.RandomHorizontalFlip(0.5),
		transforms.Normalize([]float32{127.5}, []float32{127.5}),
	)
	m, err := NewMNIST(MNISTOptions{Dir: dir, Transform: aug})
	require.NoError(t, err)
	var _ data.RandomBatcher = m

	epoch := func(workers int, ep int) [][]float32 {
		l := &data.Loader{Dataset: m, BatchSize: 8, Shuffle: true, Seed: 11, Workers: workers}
		l.SetEpoch(ep)
		var out [][]float32
		for b := range l.All(context.Background()) {
			require.Equal(t, []int{len(b[1].Data()), 1, 28, 28}, b[0].Shape())
			out = append(out, append(append([]float32(nil), b[0].Data()...), b[1].Data()...))
		}
		require.NoError(t, l.Err())
		return out
	}
	ref := epoch(0, 2)
	require.Len(t, ref, 5)
	for _, w := range []int{1, 4} {
		require.Equal(t, ref, epoch(w, 2), "workers=%d", w)
	}
	require.NotEqual(t, ref, epoch(0, 3), "the next epoch augments differently")

	// Item i is the transform's ApplyRandom on the raw image with SampleRand(Seed, epoch, i).
	l := &data.Loader{Dataset: m, BatchSize: 1, Seed: 11}
	l.SetEpoch(2)
	augmented := 0
	plain := transforms.Normalize([]float32{127.5}, []float32{127.5})
	i := -1
	for b := range l.All(context.Background()) {
		i++ // no shuffle: batch i is item i
		raw := make([]float32, mnistPixels)
		for k, p := range m.Image(i) {
			raw[k] = float32(p)
		}
		x := tensor.New(raw, 1, 28, 28)
		want := aug.(transforms.Random).ApplyRandom(x, data.SampleRand(11, 2, i))
		require.Equal(t, want.Data(), b[0].Data())
		require.Equal(t, want.Data(), m.GetRandom(i, data.SampleRand(11, 2, i))[0].Data())
		if !equal(plain.Apply(x).Data(), b[0].Data()) {
			augmented++
		}
	}
	require.Greater(t, augmented, 30, "nearly every image is shifted or flipped")

	// Without a Random transform GetRandom and GetBatchRandom are Get and GetBatch.
	p, err := NewMNIST(MNISTOptions{Dir: dir, Transform: plain})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	require.Equal(t, p.Get(3)[0].Data(), p.GetRandom(3, rng)[0].Data())
	require.Equal(t, p.GetBatch([]int{3, 4})[0].Data(), p.GetBatchRandom([]int{3, 4}, nil)[0].Data())
	require.PanicsWithError(t, "datasets: MNIST.GetRandom: index 37 out of range [0, 37)", func() { m.GetRandom(37, rng) })
	require.PanicsWithError(t, "datasets: MNIST.GetBatchRandom: 1 generators for 2 indices", func() { m.GetBatchRandom([]int{1, 2}, []*rand.Rand{rng}) })
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
