package data_test

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
)

func TestDefaultCollate(t *testing.T) {
	s := []data.Sample{
		{tensor.New([]float32{1, 2, 3, 4}, 1, 2, 2), tensor.New([]float32{7}, 1)},
		{tensor.New([]float32{5, 6, 7, 8}, 1, 2, 2), tensor.New([]float32{3}, 1)},
	}
	b := data.DefaultCollate(s)
	require.Len(t, b, 2)
	require.Equal(t, []int{2, 1, 2, 2}, b[0].Shape())
	require.Equal(t, []float32{1, 2, 3, 4, 5, 6, 7, 8}, b[0].Data())
	require.Equal(t, []int{2, 1}, b[1].Shape())
	require.Equal(t, []float32{7, 3}, b[1].Data())
	b[0].Data()[0] = 100
	require.Equal(t, float32(1), s[0][0].Data()[0], "the batch has its own data")

	// Scalars stack to a vector.
	require.Equal(t, []int{2}, data.DefaultCollate([]data.Sample{{tensor.Scalar(1)}, {tensor.Scalar(2)}})[0].Shape())

	for _, tc := range []struct {
		s    []data.Sample
		want string
	}{
		{nil, "data: DefaultCollate: no samples"},
		{[]data.Sample{{tensor.Zeros(2)}, {tensor.Zeros(2), tensor.Zeros(1)}}, "data: DefaultCollate: sample 1 has 2 fields, sample 0 has 1"},
		{[]data.Sample{{tensor.Zeros(2)}, {tensor.Zeros(1, 2)}}, "data: DefaultCollate: field 0 of sample 1 has shape [1 2], sample 0's has [2]"},
		{[]data.Sample{{nil}}, "data: DefaultCollate: field 0 of sample 0 is nil"},
		{[]data.Sample{{tensor.Zeros(2)}, {nil}}, "data: DefaultCollate: field 0 of sample 1 is nil"},
	} {
		require.PanicsWithError(t, tc.want, func() { data.DefaultCollate(tc.s) })
	}
}

func TestTensorDataset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.Randn(rng, 5, 2, 3)
	y := tensor.New([]float32{0, 1, 2, 3, 4}, 5, 1)
	ds := data.NewTensorDataset(x, y)
	require.Equal(t, 5, ds.Len())
	s := ds.Get(3)
	require.Equal(t, []int{2, 3}, s[0].Shape())
	require.Equal(t, x.Data()[18:24], s[0].Data())
	require.Equal(t, []int{1}, s[1].Shape())
	require.Equal(t, float32(3), s[1].Item())
	s[0].Data()[0] = 42
	require.NotEqual(t, float32(42), x.Data()[18], "Get copies")

	idx := []int{4, 0, 4}
	samples := []data.Sample{ds.Get(4), ds.Get(0), ds.Get(4)}
	want := data.DefaultCollate(samples)
	got := ds.GetBatch(idx)
	require.Equal(t, want[0].Shape(), got[0].Shape())
	require.Equal(t, want[0].Data(), got[0].Data())
	require.Equal(t, want[1].Data(), got[1].Data())
	require.Equal(t, got[0].Data(), data.GetBatch(ds, idx)[0].Data())

	require.PanicsWithError(t, "data: NewTensorDataset: no tensors", func() { data.NewTensorDataset() })
	require.PanicsWithError(t, "data: NewTensorDataset: tensor 1 has 4 rows, tensor 0 has 5", func() { data.NewTensorDataset(x, tensor.Zeros(4)) })
	require.PanicsWithError(t, "data: NewTensorDataset: tensor 0 is a scalar", func() { data.NewTensorDataset(tensor.Scalar(1)) })
	require.PanicsWithError(t, "data: TensorDataset.Get: index 5 out of range [0, 5)", func() { ds.Get(5) })
	require.PanicsWithError(t, "data: TensorDataset.GetBatch: index -1 out of range [0, 5)", func() { ds.GetBatch([]int{-1}) })
}

func TestSubsetAndRandomSplit(t *testing.T) {
	ds := newSeq(10)
	sub := &data.Subset{Dataset: ds, Indices: []int{9, 2, 5}}
	require.Equal(t, 3, sub.Len())
	require.Equal(t, float32(2), sub.Get(1)[0].Data()[0])
	require.Equal(t, []int{5, 9}, ids(sub.GetBatch([]int{2, 0})))

	for _, tc := range []struct {
		lengths []float64
		want    []int
	}{
		{[]float64{7, 3}, []int{7, 3}},
		{[]float64{10}, []int{10}},
		{[]float64{0, 10, 0}, []int{0, 10, 0}},
		{[]float64{0.5, 0.5}, []int{5, 5}},
		{[]float64{0.33, 0.33, 0.34}, []int{4, 3, 3}}, // floor: 3, 3, 3; the remainder goes to the first
		{[]float64{0.25, 0.75}, []int{3, 7}},          // floor: 2, 7; remainder 1 to the first
		{[]float64{1}, []int{10}},
	} {
		parts := data.RandomSplit(ds, tc.lengths, 11)
		var sizes []int
		var all []int
		for _, p := range parts {
			sizes = append(sizes, p.Len())
			all = append(all, p.Indices...)
		}
		require.Equal(t, tc.want, sizes, "%v", tc.lengths)
		require.ElementsMatch(t, seqInts(10), all, "disjoint and complete")
		again := data.RandomSplit(ds, tc.lengths, 11)
		for k := range parts {
			require.Equal(t, parts[k].Indices, again[k].Indices, "seeded")
		}
	}
	a := data.RandomSplit(newSeq(100), []float64{50, 50}, 1)
	b := data.RandomSplit(newSeq(100), []float64{50, 50}, 2)
	require.NotEqual(t, a[0].Indices, b[0].Indices)

	for _, tc := range []struct {
		lengths []float64
		want    string
	}{
		{nil, "data: RandomSplit: no lengths"},
		{[]float64{5, 4}, "data: RandomSplit: counts [5 4] add up to 9, the data set has 10 items"},
		{[]float64{5, -5, 10}, "data: RandomSplit: invalid length -5 in [5 -5 10]"},
		{[]float64{0.5, 0.4}, "data: RandomSplit: lengths [0.5 0.4] are neither counts nor fractions adding up to 1"},
	} {
		require.PanicsWithError(t, tc.want, func() { data.RandomSplit(ds, tc.lengths, 1) })
	}
}

func TestSubsetKeepsBatcher(t *testing.T) {
	ds := &batcherDS{seqDS: newSeq(10)}
	parts := data.RandomSplit(ds, []float64{0.8, 0.2}, 3)
	collect(t, &data.Loader{Dataset: parts[0], BatchSize: 4})
	require.Equal(t, int64(2), ds.batches.Load(), "Subset passes GetBatch through")
}

func TestMapIsLazy(t *testing.T) {
	var calls atomic.Int64
	ds := data.Map(newSeq(5), func(s data.Sample) data.Sample {
		calls.Add(1)
		return data.Sample{s[0].Scale(2), s[1]}
	})
	require.Equal(t, 5, ds.Len())
	require.Zero(t, calls.Load())
	require.Equal(t, []float32{6, -6}, ds.Get(3)[0].Data())
	require.Equal(t, int64(1), calls.Load())
}
