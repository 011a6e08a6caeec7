package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestConstructors(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	require.Equal(t, []int{2, 3}, x.Shape())
	require.Equal(t, 6, x.Len())
	require.Equal(t, 2, x.Rank())
	require.Equal(t, 3, x.Dim(-1))
	require.Equal(t, float32(6), x.At(1, -1))
	require.Equal(t, []int{3}, tensor.New([]float32{1, 2, 3}, 3).Shape())
	require.Equal(t, []int{}, tensor.New([]float32{4}).Shape()) // no shape: 0-d
	require.Equal(t, []int{}, tensor.Scalar(2).Shape())
	require.Equal(t, float32(2), tensor.Scalar(2).Item())
	require.Equal(t, []float32{7, 7}, tensor.Full(7, 2).Data())
	tensortest.AllClose(t, tensor.FromRows([][]float32{{1, 2, 3}, {4, 5, 6}}), x, 0, 0)
	require.Equal(t, []int{0, 0}, tensor.FromRows(nil).Shape())

	requirePanic(t, "tensor: New: shape [2 2] needs 4 elements, data has 3", func() { tensor.New([]float32{1, 2, 3}, 2, 2) })
	requirePanic(t, "tensor: New: no shape given for 3 elements: pass the shape (New(data, 3) for 1-D), or use Scalar for one value",
		func() { tensor.New([]float32{1, 2, 3}) })
	requirePanic(t, "tensor: Zeros: negative dimension in shape [2 -1]", func() { tensor.Zeros(2, -1) })
	requirePanic(t, "tensor: FromRows: row 1 has 1 elements, row 0 has 2", func() { tensor.FromRows([][]float32{{1, 2}, {3}}) })
	requirePanic(t, "tensor: Item: tensor of shape [2 3] has 6 elements, want 1", func() { x.Item() })
	requirePanic(t, "tensor: At: index 2 out of range for axis 0 of shape [2 3]", func() { x.At(2, 0) })
	requirePanic(t, "tensor: Dim: axis 2 out of range for rank 2", func() { x.Dim(2) })
}

func TestString(t *testing.T) {
	require.Equal(t, "Tensor(shape=[2, 2], requires_grad=false,\n       [[1, 2],\n        [3, 4.5]])",
		tensor.New([]float32{1, 2, 3, 4.5}, 2, 2).String())
	require.Equal(t, "Tensor(shape=[10], requires_grad=true,\n       [0, 1, 2, ..., 7, 8, 9])",
		tensor.Arange(10).SetRequiresGrad(true).String())
}

func TestBroadcastValues(t *testing.T) {
	a := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	tensortest.AllClose(t, a.Add(tensor.New([]float32{10, 20, 30}, 3)), tensor.New([]float32{11, 22, 33, 14, 25, 36}, 2, 3), 0, 0)
	tensortest.AllClose(t, a.Sub(tensor.New([]float32{1, 2}, 2, 1)), tensor.New([]float32{0, 1, 2, 2, 3, 4}, 2, 3), 0, 0)
	tensortest.AllClose(t, tensor.New([]float32{1, 2}, 2, 1).Mul(tensor.New([]float32{1, 10, 100}, 1, 3)),
		tensor.New([]float32{1, 10, 100, 2, 20, 200}, 2, 3), 0, 0)
	tensortest.AllClose(t, a.Div(tensor.Scalar(2)), tensor.New([]float32{0.5, 1, 1.5, 2, 2.5, 3}, 2, 3), 0, 0)
	tensortest.AllClose(t, a.Maximum(tensor.Scalar(3.5)), tensor.New([]float32{3.5, 3.5, 3.5, 4, 5, 6}, 2, 3), 0, 0)
	tensortest.AllClose(t, a.Equal(tensor.New([]float32{1, 5, 3}, 3)), tensor.New([]float32{1, 0, 1, 0, 1, 0}, 2, 3), 0, 0)
	tensortest.AllClose(t, tensor.Where(a.Greater(tensor.Scalar(3)), a, a.Neg()), tensor.New([]float32{-1, -2, -3, 4, 5, 6}, 2, 3), 0, 0)
	requirePanic(t, "tensor: Add: shapes [[2 3] [2]] do not broadcast", func() { a.Add(tensor.Zeros(2)) })
	requirePanic(t, "tensor: Mul: shapes [[2 3] [3 1]] do not broadcast", func() { a.Mul(tensor.Zeros(3, 1)) })
}

func TestReductions(t *testing.T) {
	x := tensor.Arange(24).Reshape(2, 3, 4)
	require.Equal(t, float32(276), x.Sum().Item())
	require.Equal(t, []int{}, x.Sum().Shape())
	require.Equal(t, float32(11.5), x.Mean().Item())
	tensortest.AllClose(t, x.Sum(-1), tensor.New([]float32{6, 22, 38, 54, 70, 86}, 2, 3), 0, 0)
	require.Equal(t, []int{2, 1, 4}, x.SumKeepDim(1).Shape())
	tensortest.AllClose(t, x.Mean(0, 2), tensor.New([]float32{7.5, 11.5, 15.5}, 3), 0, 0)
	tensortest.AllClose(t, x.Max(1), tensor.New([]float32{8, 9, 10, 11, 20, 21, 22, 23}, 2, 4), 0, 0)
	require.Equal(t, []int{2, 3, 1}, x.MaxKeepDim(-1).Shape())
	ties := tensor.New([]float32{1, 5, 5, 2, 7, 7}, 2, 3)
	tensortest.AllClose(t, ties.ArgMax(-1), tensor.New([]float32{1, 1}, 2), 0, 0) // lowest index wins
	tensortest.AllClose(t, ties.ArgMaxKeepDim(0), tensor.New([]float32{1, 1, 1}, 1, 3), 0, 0)
	nan := float32(math.NaN())
	tensortest.AllClose(t, tensor.New([]float32{1, nan, 3}, 3).ArgMax(0), tensor.Scalar(1), 0, 0)
	require.True(t, math.IsNaN(float64(tensor.Zeros(0).Mean().Item())))
	requirePanic(t, "tensor: Sum: axis 3 out of range for rank 3", func() { x.Sum(3) })
	requirePanic(t, "tensor: Mean: axis -1 repeated in [2 -1]", func() { x.Mean(2, -1) })
	requirePanic(t, "tensor: Max: axis 0 of shape [0 2] is empty", func() { tensor.Zeros(0, 2).Max(0) })
	tensortest.AllClose(t, x.Max(0, 2), tensor.New([]float32{15, 19, 23}, 3), 0, 0)
	tensortest.AllClose(t, x.Min(), tensor.Scalar(0), 0, 0)
	require.Equal(t, []int{1, 3, 1}, x.MinKeepDim(0, -1).Shape())
	tensortest.AllClose(t, x.ArgMax(), tensor.Scalar(23), 0, 0)                                 // the flat index
	tensortest.AllClose(t, x.ArgMax(1, 2), tensor.New([]float32{11, 11}, 2), 0, 0)              // row-major in [3, 4]
	tensortest.AllClose(t, x.ArgMax(0, 2), tensor.New([]float32{7, 7, 7}, 3), 0, 0)             // 1*4 + 3
	tensortest.AllClose(t, x.ArgMin(0, 1), tensor.Zeros(4), 0, 0)                               // x[0, 0, k]
	tensortest.AllClose(t, ties.ArgMaxKeepDim(), tensor.New([]float32{4}, 1, 1), 0, 0)          // the first 7
	tensortest.AllClose(t, ties.ArgMinKeepDim(1), tensor.New([]float32{0, 0}, 2, 1), 0, 0)      // 1 and 2
	tensortest.AllClose(t, tensor.New([]float32{1, nan, 3}, 3).Min(), tensor.Scalar(nan), 0, 0) // NaN counts as the minimum
}

func TestSoftmaxExtremes(t *testing.T) {
	s := tensor.New([]float32{1000, 0}, 2).Softmax(-1)
	tensortest.AllClose(t, s, tensor.New([]float32{1, 0}, 2), 0, 0)
	ls := tensor.New([]float32{1000, 0, -1000}, 3).LogSoftmax(0)
	require.True(t, ls.AllFinite(), "%v", ls)
	tensortest.AllClose(t, ls, tensor.New([]float32{0, -1000, -2000}, 3), 1e-3, 0)
	// rows are independent; each sums to 1
	p := tensor.New([]float32{1, 2, 3, -50, 0, 50}, 2, 3).Softmax(1)
	tensortest.AllClose(t, p.Sum(1), tensor.New([]float32{1, 1}, 2), 1e-6, 0)
	// gradient of log-softmax at extreme logits stays finite
	x := tensor.New([]float32{1e4, -1e4, 0}, 3).SetRequiresGrad(true)
	x.LogSoftmax(0).Index(0, 1).Backward()
	require.True(t, x.Grad().AllFinite())
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{-1, 1, 0}, 3), 1e-6, 0)
}

func TestShapeOps(t *testing.T) {
	x := tensor.Arange(6).Reshape(2, -1)
	require.Equal(t, []int{2, 3}, x.Shape())
	tensortest.AllClose(t, x.T(), tensor.New([]float32{0, 3, 1, 4, 2, 5}, 3, 2), 0, 0)
	y := tensor.Arange(24).Reshape(2, 3, 4)
	p := y.Permute(2, 0, 1)
	require.Equal(t, []int{4, 2, 3}, p.Shape())
	require.Equal(t, y.At(1, 2, 3), p.At(3, 1, 2))
	require.Equal(t, []int{2, 12}, y.Flatten(1, -1).Shape())
	require.Equal(t, []int{6, 4}, y.Flatten(0, 1).Shape())
	require.Equal(t, []int{2, 3, 1, 4}, y.Unsqueeze(-2).Shape())
	require.Equal(t, []int{2, 3}, tensor.Zeros(1, 2, 1, 3).Squeeze().Shape())
	tensortest.AllClose(t, tensor.Concat([]*tensor.Tensor{x, tensor.Full(9, 2, 1)}, 1),
		tensor.New([]float32{0, 1, 2, 9, 3, 4, 5, 9}, 2, 4), 0, 0)
	st := tensor.Stack([]*tensor.Tensor{x, x.Scale(10)}, 0)
	require.Equal(t, []int{2, 2, 3}, st.Shape())
	require.Equal(t, float32(50), st.At(1, 1, 2))
	tensortest.AllClose(t, x.Slice(1, 1, 100), tensor.New([]float32{1, 2, 4, 5}, 2, 2), 0, 0)
	require.Equal(t, []int{2, 0}, x.Slice(1, 2, 1).Shape())
	tensortest.AllClose(t, x.Index(0, -1), tensor.New([]float32{3, 4, 5}, 3), 0, 0)
	tensortest.AllClose(t, x.Gather(tensor.New([]float32{2, 2, 0}, 3), 1), tensor.New([]float32{2, 2, 0, 5, 5, 3}, 2, 3), 0, 0)
	tensortest.AllClose(t, x.TakeAlongAxis(tensor.New([]float32{2, 0}, 2, 1), 1), tensor.New([]float32{2, 3}, 2, 1), 0, 0)

	requirePanic(t, "tensor: Reshape: cannot reshape [2 3] (6 elements) into [4 2]", func() { x.Reshape(4, 2) })
	requirePanic(t, "tensor: Reshape: bad dimension -1 in [-1 -1] (only one -1 is allowed)", func() { x.Reshape(-1, -1) })
	// The overflow check does not stop at a zero dimension.
	empty := tensor.Zeros(0, 3)
	require.Equal(t, []int{3, 0, 1 << 40}, empty.Reshape(3, 0, 1<<40).Shape())
	requirePanic(t, "tensor: Reshape: shape [0 9223372036854775807 9223372036854775807]: its dimensions other than 0 multiply past the largest int", func() {
		empty.Reshape(0, math.MaxInt, math.MaxInt)
	})
	requirePanic(t, "tensor: Reshape: shape [3 0 4611686018427387904 4]: its dimensions other than 0 multiply past the largest int", func() {
		empty.Reshape(3, 0, 1<<62, 4)
	})
	requirePanic(t, "tensor: Zeros: shape [0 4294967296 4294967296]: its dimensions other than 0 multiply past the largest int", func() {
		tensor.Zeros(0, 1<<32, 1<<32)
	})
	requirePanic(t, "tensor: New: shape [4294967296 0 4294967296]: its dimensions other than 0 multiply past the largest int", func() {
		tensor.New(nil, 1<<32, 0, 1<<32)
	})
	requirePanic(t, "tensor: Permute: axes [0 0] are not a permutation for shape [2 3]", func() { x.Permute(0, 0) })
	requirePanic(t, "tensor: Squeeze: axis 0 of shape [2 3] has size 2, not 1", func() { x.Squeeze(0) })
	requirePanic(t, "tensor: Concat: shapes [[2 3] [3 3]] differ outside axis 1", func() { tensor.Concat([]*tensor.Tensor{x, tensor.Zeros(3, 3)}, 1) })
	requirePanic(t, "tensor: Stack: shapes differ: [[2 3] [3 2]]", func() { tensor.Stack([]*tensor.Tensor{x, x.T()}, 0) })
	requirePanic(t, "tensor: Index: index 2 out of range for axis 0 of shape [2 3]", func() { x.Index(0, 2) })
	requirePanic(t, "tensor: Gather: id 3 at index 1 is not an integer in [0, 3)", func() { x.Gather(tensor.New([]float32{0, 3}, 2), 1) })
	requirePanic(t, "tensor: TakeAlongAxis: id 1.5 at index 1 is not an integer in [0, 3)", func() {
		x.TakeAlongAxis(tensor.New([]float32{0, 1.5}, 2, 1), 1)
	})
	requirePanic(t, "tensor: TakeAlongAxis: id -1 at index 0 is not an integer in [0, 3)", func() {
		x.TakeAlongAxis(tensor.New([]float32{-1, 0}, 2, 1), -1)
	})
	requirePanic(t, "tensor: TakeAlongAxis: ids shape [3 1] does not match [2 3] outside axis 1", func() {
		x.TakeAlongAxis(tensor.Zeros(3, 1), 1)
	})
}

func TestMatMulValuesAndPanics(t *testing.T) {
	a := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.New([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	tensortest.AllClose(t, a.MatMul(b), tensor.New([]float32{4, 5, 10, 11}, 2, 2), 0, 0)
	tensortest.AllClose(t, a.MatMul(tensor.New([]float32{1, 1, 1}, 3)), tensor.New([]float32{6, 15}, 2), 0, 0)
	tensortest.AllClose(t, tensor.New([]float32{1, 1}, 2).MatMul(a), tensor.New([]float32{5, 7, 9}, 3), 0, 0)
	batched := tensor.Stack([]*tensor.Tensor{a, a.Scale(2)}, 0).MatMul(b) // [2,2,3]·[3,2]
	tensortest.AllClose(t, batched.Index(0, 1), tensor.New([]float32{8, 10, 20, 22}, 2, 2), 0, 0)
	requirePanic(t, "tensor: MatMul: shape mismatch [32 784] x [100 10]", func() { tensor.Zeros(32, 784).MatMul(tensor.Zeros(100, 10)) })
	requirePanic(t, "tensor: MatMul: shape mismatch [2 2 3] x [3 3 2]: batch axes do not broadcast", func() {
		tensor.Zeros(2, 2, 3).MatMul(tensor.Zeros(3, 3, 2))
	})
	requirePanic(t, "tensor: MatMul: shape mismatch [] x [3]: scalars are not matrices", func() { tensor.Scalar(1).MatMul(tensor.Zeros(3)) })
}

func TestUnaryValues(t *testing.T) {
	x := tensor.New([]float32{-2, -0.5, 0, 0.5, 2}, 5)
	tensortest.AllClose(t, x.ReLU(), tensor.New([]float32{0, 0, 0, 0.5, 2}, 5), 0, 0)
	tensortest.AllClose(t, x.LeakyReLU(0.1), tensor.New([]float32{-0.2, -0.05, 0, 0.5, 2}, 5), 1e-7, 0)
	tensortest.AllClose(t, x.Clip(-1, 1), tensor.New([]float32{-1, -0.5, 0, 0.5, 1}, 5), 0, 0)
	tensortest.AllClose(t, x.Abs(), tensor.New([]float32{2, 0.5, 0, 0.5, 2}, 5), 0, 0)
	tensortest.AllClose(t, tensor.New([]float32{-100, 0, 100}, 3).Sigmoid(), tensor.New([]float32{0, 0.5, 1}, 3), 1e-7, 0)
	require.True(t, tensor.New([]float32{-1000, 1000}, 2).Sigmoid().AllFinite())
	requirePanic(t, "tensor: Clip: lo 1 > hi 0", func() { x.Clip(1, 0) })
}
