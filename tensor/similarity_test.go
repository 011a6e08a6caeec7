package tensor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestCosineSimilarity(t *testing.T) {
	x1 := tensor.FromRows([][]float32{{3, 4}, {1, 0}})
	x2 := tensor.FromRows([][]float32{{4, 3}, {0, 2}})
	// rows: 24/25, 0
	tensortest.AllClose(t, tensor.CosineSimilarity(x1, x2, 1, 1e-8), tensor.New([]float32{0.96, 0}, 2), 1e-7, 0)
	// columns: 12/(√10·4), 12/(4·√13)
	tensortest.AllClose(t, tensor.CosineSimilarity(x1, x2, 0, 1e-8),
		tensor.New([]float32{float32(3 / math.Sqrt(10)), float32(3 / math.Sqrt(13))}, 2), 1e-7, 0)
	// the other axes broadcast: one row against both
	tensortest.AllClose(t, tensor.CosineSimilarity(x1, tensor.FromRows([][]float32{{4, 3}}), -1, 1e-8),
		tensor.New([]float32{0.96, 0.8}, 2), 1e-7, 0)
	// Paddle bounds the product of the squared norms by eps²: x1 = x2 = [0.01, 0] with eps 1e-3
	// gives 1e-4/sqrt(max(1e-8, 1e-6)) = 0.1 (PyTorch 1.13, bounding each norm, gives 1)
	tiny := tensor.New([]float32{0.01, 0}, 1, 2)
	require.InDelta(t, 0.1, tensor.CosineSimilarity(tiny, tiny, 1, 1e-3).Item(), 1e-6)
	// and a zero vector gives 0, not NaN
	require.Equal(t, float32(0), tensor.CosineSimilarity(tensor.Zeros(1, 2), x1.Slice(0, 0, 1), 1, 1e-8).Item())

	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		s1, s2 []int
		axis   int
	}{
		{[]int{3, 4}, []int{3, 4}, 1},
		{[]int{5, 2}, []int{5, 2}, 0},
		{[]int{2, 3, 4}, []int{2, 1, 4}, -1},
		{[]int{2, 3, 2}, []int{1, 3, 2}, 1},
	} {
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return tensor.CosineSimilarity(xs[0], xs[1], tc.axis, 1e-8) },
			[]*tensor.Tensor{tensor.Randn(rng, tc.s1...), tensor.Randn(rng, tc.s2...)}, tensortest.GradCheckOptions{})
	}

	for _, tc := range []struct {
		f   func()
		msg string
	}{
		{func() { tensor.CosineSimilarity(tensor.Zeros(2, 3), tensor.Zeros(3), 1, 1e-8) },
			"tensor: CosineSimilarity: x1 [2 3] and x2 [3] differ in rank"},
		{func() { tensor.CosineSimilarity(tensor.Zeros(2, 3), tensor.Zeros(2, 4), 1, 1e-8) },
			"tensor: CosineSimilarity: x1 [2 3] and x2 [2 4] differ along axis 1"},
		{func() { tensor.CosineSimilarity(tensor.Zeros(2, 3), tensor.Zeros(2, 3), 2, 1e-8) },
			"tensor: CosineSimilarity: axis 2 out of range for rank 2"},
		{func() { tensor.CosineSimilarity(tensor.Zeros(2, 3), tensor.Zeros(2, 3), 1, -1) },
			"tensor: CosineSimilarity: eps -1 must be >= 0"},
	} {
		require.PanicsWithError(t, tc.msg, tc.f)
	}
	require.PanicsWithError(t, "tensor: CosineSimilarity: x1 [2 3] and x2 [3 3] do not broadcast outside axis 1",
		func() { tensor.CosineSimilarity(tensor.Zeros(2, 3), tensor.Zeros(3, 3), 1, 1e-8) })
}
