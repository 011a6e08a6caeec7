package tensor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// awayFromZero returns a random tensor whose entries are at least 0.1 from 0 (and from each other
// in sign pattern), so that kinks at 0 (ReLU, Abs) do not spoil finite differences.
func awayFromZero(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Randn(rng, shape...)
	for i, v := range t.Data() {
		if v >= 0 {
			t.Data()[i] = v + 0.1
		} else {
			t.Data()[i] = v - 0.1
		}
	}
	return t
}

// positive returns entries in [0.5, 2).
func positive(rng *rand.Rand, shape ...int) *tensor.Tensor {
	return tensor.Uniform(rng, 0.5, 2, shape...)
}

// distinct returns a random permutation of spaced values, so max/argmax have no ties.
func distinct(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	for i, p := range rng.Perm(t.Len()) {
		t.Data()[i] = float32(p)*0.25 - float32(t.Len())*0.125
	}
	return t
}

type fn = func(xs ...*tensor.Tensor) *tensor.Tensor

func TestGradElementwise(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name   string
		f      fn
		inputs []*tensor.Tensor
		opt    tensortest.GradCheckOptions
	}{
		{"Neg", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Neg() }, []*tensor.Tensor{tensor.Randn(rng, 3, 4)}, tensortest.GradCheckOptions{}},
		{"Scale", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Scale(-2.5) }, []*tensor.Tensor{tensor.Randn(rng, 5)}, tensortest.GradCheckOptions{}},
		{"AddScalar", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].AddScalar(3) }, []*tensor.Tensor{tensor.Randn(rng, 2, 3)}, tensortest.GradCheckOptions{}},
		{"Exp", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Exp() }, []*tensor.Tensor{tensor.Randn(rng, 2, 3)}, tensortest.GradCheckOptions{}},
		{"Log", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Log() }, []*tensor.Tensor{positive(rng, 2, 3)}, tensortest.GradCheckOptions{}},
		{"Sqrt", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sqrt() }, []*tensor.Tensor{positive(rng, 4)}, tensortest.GradCheckOptions{}},
		{"Abs", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Abs() }, []*tensor.Tensor{awayFromZero(rng, 3, 3)}, tensortest.GradCheckOptions{}},
		{"Pow", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Pow(2.5) }, []*tensor.Tensor{positive(rng, 3, 2)}, tensortest.GradCheckOptions{}},
		{"Clip", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Clip(-0.5, 0.7) }, []*tensor.Tensor{tensor.New([]float32{-1, -0.3, 0.1, 0.5, 0.9, 2}, 2, 3)}, tensortest.GradCheckOptions{}},
		{"ReLU", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].ReLU() }, []*tensor.Tensor{awayFromZero(rng, 4, 5)}, tensortest.GradCheckOptions{}},
		{"LeakyReLU", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].LeakyReLU(0.1) }, []*tensor.Tensor{awayFromZero(rng, 4, 5)}, tensortest.GradCheckOptions{}},
		{"Sigmoid", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sigmoid() }, []*tensor.Tensor{tensor.Randn(rng, 3, 4).Scale(3)}, tensortest.GradCheckOptions{}},
		{"Tanh", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Tanh() }, []*tensor.Tensor{tensor.Randn(rng, 3, 4)}, tensortest.GradCheckOptions{}},
		{"Clone", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Clone() }, []*tensor.Tensor{tensor.Randn(rng, 3)}, tensortest.GradCheckOptions{}},
		// binary ops with broadcasting: [2,3,4] with [3,1], [4] with [2,1,1], scalar with matrix
		{"Add/broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Add(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 2, 3, 4), tensor.Randn(rng, 3, 1)}, tensortest.GradCheckOptions{}},
		{"Add/same", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Add(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 2, 3), tensor.Randn(rng, 2, 3)}, tensortest.GradCheckOptions{}},
		{"Sub/broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sub(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 4), tensor.Randn(rng, 2, 1, 1)}, tensortest.GradCheckOptions{}},
		{"Mul/broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Mul(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 2, 3, 4), tensor.Randn(rng, 1, 4)}, tensortest.GradCheckOptions{}},
		{"Mul/scalar", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Mul(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 3, 2), tensor.Scalar(1.5)}, tensortest.GradCheckOptions{}},
		{"Mul/self", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Mul(x[0]) }, []*tensor.Tensor{tensor.Randn(rng, 5)}, tensortest.GradCheckOptions{}},
		{"Div/broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Div(x[1]) }, []*tensor.Tensor{tensor.Randn(rng, 3, 4), positive(rng, 3, 1)}, tensortest.GradCheckOptions{}},
		{"Maximum", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Maximum(x[1]) }, []*tensor.Tensor{distinct(rng, 2, 3), distinct(rng, 3).AddScalar(0.1)}, tensortest.GradCheckOptions{}},
		{"Minimum", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Minimum(x[1]) }, []*tensor.Tensor{distinct(rng, 2, 3), distinct(rng, 2, 1).AddScalar(0.1)}, tensortest.GradCheckOptions{}},
		{"Where", func(x ...*tensor.Tensor) *tensor.Tensor {
			return tensor.Where(tensor.New([]float32{1, 0, 1}, 3), x[0], x[1])
		}, []*tensor.Tensor{tensor.Randn(rng, 2, 3), tensor.Randn(rng, 2, 1)}, tensortest.GradCheckOptions{}},
		{"Erf", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Erf() }, []*tensor.Tensor{tensor.Randn(rng, 3, 4)}, tensortest.GradCheckOptions{}},
		{"PowTensor/broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].PowTensor(x[1]) }, []*tensor.Tensor{positive(rng, 2, 3), tensor.Randn(rng, 3)}, tensortest.GradCheckOptions{}},
		{"Square", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Square() }, []*tensor.Tensor{tensor.Randn(rng, 2, 3)}, tensortest.GradCheckOptions{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { tensortest.GradCheck(t, c.f, c.inputs, c.opt) })
	}
}

func TestGradReductionsAndShapes(t *testing.T) {
	rng := newRNG()
	x := func(shape ...int) []*tensor.Tensor { return []*tensor.Tensor{tensor.Randn(rng, shape...)} }
	cases := []struct {
		name   string
		f      fn
		inputs []*tensor.Tensor
	}{
		{"Sum/all", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sum() }, x(3, 4)},
		{"Sum/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sum(-1) }, x(2, 3, 4)},
		{"Sum/axes0,2", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Sum(0, -1) }, x(2, 3, 4)},
		{"SumKeepDim", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].SumKeepDim(1) }, x(2, 3, 4)},
		{"Mean/all", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Mean() }, x(3, 4)},
		{"Mean/axis-2", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Mean(-2) }, x(2, 3, 4)},
		{"MeanKeepDim", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MeanKeepDim(0, 2) }, x(2, 3, 4)},
		{"Max/axis1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Max(1) }, []*tensor.Tensor{distinct(rng, 2, 3, 4)}},
		{"MaxKeepDim/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MaxKeepDim(-1) }, []*tensor.Tensor{distinct(rng, 3, 4)}},
		{"Reshape", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Reshape(-1, 6).Mul(x[0].Reshape(4, 6)) }, x(2, 3, 4)},
		{"Flatten", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Flatten(1, -1).Scale(2) }, x(2, 3, 4)},
		{"Permute", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Permute(2, 0, -2) }, x(2, 3, 4)},
		{"T", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].T() }, x(3, 5)},
		{"Unsqueeze/Squeeze", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Unsqueeze(-1).Squeeze(-1).Unsqueeze(0) }, x(3, 2)},
		{"Slice", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Slice(-1, 1, -1) }, x(2, 3, 5)},
		{"Index", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Index(1, -1) }, x(2, 3, 4)},
		{"Concat/axis1", func(x ...*tensor.Tensor) *tensor.Tensor { return tensor.Concat([]*tensor.Tensor{x[0], x[1], x[0]}, 1) },
			[]*tensor.Tensor{tensor.Randn(rng, 2, 3, 2), tensor.Randn(rng, 2, 1, 2)}},
		{"Stack/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return tensor.Stack([]*tensor.Tensor{x[0], x[1]}, -1) },
			[]*tensor.Tensor{tensor.Randn(rng, 2, 3), tensor.Randn(rng, 2, 3)}},
		{"Gather/repeat", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Gather(tensor.New([]float32{2, 0, 2}, 3), 1) }, x(2, 3, 2)},
		{"TakeAlongAxis", func(x ...*tensor.Tensor) *tensor.Tensor {
			return x[0].TakeAlongAxis(tensor.New([]float32{3, 0, 1}, 3, 1), -1)
		}, x(3, 4)},
		{"Softmax/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Softmax(-1) }, x(3, 4)},
		{"Softmax/axis0", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Softmax(0) }, x(3, 2, 2)},
		{"LogSoftmax/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].LogSoftmax(-1) }, x(3, 5)},
		{"LogSoftmax/axis1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].LogSoftmax(1) }, x(2, 3, 2)},
		{"MatMul/2d", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MatMul(x[1]) },
			[]*tensor.Tensor{tensor.Randn(rng, 3, 4), tensor.Randn(rng, 4, 5)}},
		{"MatMul/batched-broadcast", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MatMul(x[1]) },
			[]*tensor.Tensor{tensor.Randn(rng, 2, 1, 3, 4), tensor.Randn(rng, 3, 4, 2)}},
		{"MatMul/vector-matrix", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MatMul(x[1]) },
			[]*tensor.Tensor{tensor.Randn(rng, 4), tensor.Randn(rng, 2, 4, 3)}},
		{"MatMul/matrix-vector", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MatMul(x[1]) },
			[]*tensor.Tensor{tensor.Randn(rng, 3, 4), tensor.Randn(rng, 4)}},
		{"MatMul/self", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MatMul(x[0]) }, x(3, 3)},
		{"Max/axes0,2", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Max(0, -1) }, []*tensor.Tensor{distinct(rng, 2, 3, 4)}},
		{"Max/all", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Max() }, []*tensor.Tensor{distinct(rng, 3, 4)}},
		{"MaxKeepDim/axes1,2", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MaxKeepDim(1, 2) }, []*tensor.Tensor{distinct(rng, 2, 3, 4)}},
		{"Min/axis1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Min(1) }, []*tensor.Tensor{distinct(rng, 2, 3, 4)}},
		{"Min/axes0,1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Min(0, 1) }, []*tensor.Tensor{distinct(rng, 2, 3, 4)}},
		{"Min/all", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].Min() }, []*tensor.Tensor{distinct(rng, 3, 4)}},
		{"MinKeepDim/axis-1", func(x ...*tensor.Tensor) *tensor.Tensor { return x[0].MinKeepDim(-1) }, []*tensor.Tensor{distinct(rng, 3, 4)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { tensortest.GradCheck(t, c.f, c.inputs, tensortest.GradCheckOptions{}) })
	}
}

// TestAddRowBroadcast checks the bias-like Add fast path against the general broadcast, values
// and gradients, in both operand orders.
func TestAddRowBroadcast(t *testing.T) {
	rng := newRNG()
	for _, shapes := range [][2][]int{{{4, 3}, {3}}, {{2, 3, 5}, {5}}, {{2, 3, 5}, {3, 5}}, {{4, 3}, {1, 3}}, {{2, 3, 5}, {1, 5}}} {
		x, b := tensor.Randn(rng, shapes[0]...), tensor.Randn(rng, shapes[1]...)
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[0].Add(xs[1]) }, []*tensor.Tensor{x, b}, tensortest.GradCheckOptions{})
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[1].Add(xs[0]) }, []*tensor.Tensor{x, b}, tensortest.GradCheckOptions{})
		// The same values as adding an explicitly broadcast copy.
		full := b.Add(tensor.Zeros(shapes[0]...))
		tensortest.AllClose(t, x.Add(b), x.Add(full), 0, 0)
		tensortest.AllClose(t, b.Add(x), full.Add(x), 0, 0)
	}
}

// TestGradMatMulTranspose checks every combination of MatMul's transpose options, for matrices,
// batches that broadcast and vectors (where Paddle ignores them), against GradCheck and against
// multiplying explicitly transposed copies.
func TestGradMatMulTranspose(t *testing.T) {
	rng := newRNG()
	swap := func(x *tensor.Tensor) *tensor.Tensor { // the last two axes swapped, as a copy
		axes := make([]int, x.Rank())
		for i := range axes {
			axes[i] = i
		}
		axes[len(axes)-1], axes[len(axes)-2] = axes[len(axes)-2], axes[len(axes)-1]
		return x.Permute(axes...)
	}
	for _, c := range []struct {
		name   string
		x, y   []int // shapes as stored
		tx, ty bool
	}{
		{"2d/X", []int{4, 3}, []int{4, 5}, true, false},
		{"2d/Y", []int{3, 4}, []int{5, 4}, false, true},
		{"2d/XY", []int{4, 3}, []int{5, 4}, true, true},
		{"batched/X", []int{2, 1, 4, 3}, []int{3, 4, 2}, true, false},
		{"batched/Y", []int{2, 3, 4}, []int{2, 4}, false, true},
		{"batched/XY", []int{2, 4, 3}, []int{2, 1, 5, 4}, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, y := tensor.Randn(rng, c.x...), tensor.Randn(rng, c.y...)
			opt := tensor.MatMulOptions{TransposeX: c.tx, TransposeY: c.ty}
			f := func(in ...*tensor.Tensor) *tensor.Tensor { return in[0].MatMul(in[1], opt) }
			tensortest.GradCheck(t, f, []*tensor.Tensor{x, y}, tensortest.GradCheckOptions{})
			a, b := x, y
			if c.tx {
				a = swap(a)
			}
			if c.ty {
				b = swap(b)
			}
			tensortest.AllClose(t, x.MatMul(y, opt), a.MatMul(b), 1e-6, 1e-6)
		})
	}
	v, m := tensor.Randn(rng, 4), tensor.Randn(rng, 4, 3)
	both := tensor.MatMulOptions{TransposeX: true, TransposeY: true}
	tensortest.AllClose(t, v.MatMul(m.T(), both), v.MatMul(m), 0, 0) // a vector is not transposed
	requirePanic(t, "tensor: MatMul: got 2 options values, want at most one", func() {
		v.MatMul(m, tensor.MatMulOptions{}, tensor.MatMulOptions{})
	})
	requirePanic(t, "tensor: MatMul: shape mismatch [4 3] x [4 3]", func() { m.MatMul(m, both) })
}

// TestBackwardSums checks the engine's summing: rules write, and Backward adds a tensor's
// gradients from several uses (a fan-out, the same leaf twice in one op, an earlier Backward),
// in a fixed order.
func TestBackwardSums(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	h := x.Exp()
	loss := h.Mul(h).Add(h.Scale(2)).Add(x.Mul(x)).Sum() // d/dx = 2e^2x + 2e^x + 2x
	loss.Backward()
	want := make([]float32, 3)
	for i, v := range x.Data() {
		e := float32(math.Exp(float64(v)))
		want[i] = 2*e*e + 2*e + 2*v
	}
	tensortest.AllClose(t, x.Grad(), tensor.New(want, 3), 1e-5, 1e-6)
	x.ClearGrad()
	x.Grad().Data()[0] = 10 // written after ClearGrad: the next Backward adds to it
	x.Sum().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{11, 1, 1}, 3), 0, 0)
}
