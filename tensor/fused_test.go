package tensor_test

import (
	"math"
	"testing"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
	"github.com/stretchr/testify/require"
)

func TestLinearMatchesMatMulAdd(t *testing.T) {
	rng := newRNG()
	for _, shapes := range [][3][]int{{{4, 3}, {3, 5}, {5}}, {{2, 3, 7}, {7, 2}, {2}}, {{6, 9}, {9, 4}, nil}, {{5}, {5, 3}, {3}}} {
		x, w := tensor.Randn(rng, shapes[0]...), tensor.Randn(rng, shapes[1]...)
		var b *tensor.Tensor
		if shapes[2] != nil {
			b = tensor.Randn(rng, shapes[2]...)
		}
		inputs := []*tensor.Tensor{x, w}
		if b != nil {
			inputs = append(inputs, b)
		}
		fused := func(xs ...*tensor.Tensor) *tensor.Tensor {
			if len(xs) > 2 {
				return xs[0].Linear(xs[1], xs[2])
			}
			return xs[0].Linear(xs[1], nil)
		}
		composite := func(xs ...*tensor.Tensor) *tensor.Tensor {
			y := xs[0].MatMul(xs[1])
			if len(xs) > 2 {
				y = y.Add(xs[2])
			}
			return y
		}
		tensortest.GradCheck(t, fused, inputs, tensortest.GradCheckOptions{})
		// Values and gradients bit for bit those of MatMul + Add.
		grads := func(f func(xs ...*tensor.Tensor) *tensor.Tensor) [][]float32 {
			for _, in := range inputs {
				in.SetRequiresGrad(true)
				in.ClearGrad()
			}
			y := f(inputs...)
			y.BackwardWith(tensor.Ones(y.Shape()...))
			out := [][]float32{append([]float32(nil), y.Data()...)}
			for _, in := range inputs {
				out = append(out, append([]float32(nil), in.Grad().Data()...))
			}
			return out
		}
		want, got := grads(composite), grads(fused)
		if len(shapes[0]) == 2 {
			require.Equal(t, want, got, "%v", shapes)
		} else {
			for i := range want {
				tensortest.AllClose(t, tensor.New(got[i], len(got[i])), tensor.New(want[i], len(want[i])), 1e-5, 1e-5)
			}
		}
		require.Equal(t, composite(inputs...).Shape(), fused(inputs...).Shape())
	}
	require.Panics(t, func() { tensor.Zeros(2, 3).Linear(tensor.Zeros(4, 2), nil) })
	require.Panics(t, func() { tensor.Zeros(2, 3).Linear(tensor.Zeros(3, 2), tensor.Zeros(3)) })
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	rng := newRNG()
	logits := tensor.Randn(rng, 5, 4).Scale(3)
	labels := tensor.New([]float32{2, 0, -100, 3, 1}, 5, 1)
	tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[0].SoftmaxCrossEntropy(labels, -100) },
		[]*tensor.Tensor{logits}, tensortest.GradCheckOptions{})

	// The values are those of -LogSoftmax at the label, bit for bit; the ignored row is 0.
	x := logits.Detach()
	got := x.SoftmaxCrossEntropy(labels, -100).Data()
	lp := x.LogSoftmax(1).Data()
	for r, l := range []int{2, 0, -1, 3, 1} {
		want := float32(0)
		if l >= 0 {
			want = -lp[r*4+l]
		}
		require.Equal(t, math.Float32bits(want), math.Float32bits(got[r]), "row %d", r)
	}
	// Stable for huge logits.
	big := tensor.New([]float32{1000, 0, -1000, 0}, 2, 2).SoftmaxCrossEntropy(tensor.New([]float32{1, 0}, 2), -100)
	require.True(t, big.AllFinite())
	require.InDelta(t, 1000, big.Data()[0], 1e-3)
	require.Panics(t, func() { x.SoftmaxCrossEntropy(tensor.New([]float32{4, 0, 0, 0, 0}, 5), -100) })
	require.Panics(t, func() { x.SoftmaxCrossEntropy(tensor.New([]float32{0.5, 0, 0, 0, 0}, 5), -100) })
	require.Panics(t, func() { x.SoftmaxCrossEntropy(tensor.New([]float32{0, 0, 0}, 3), -100) })
}

func TestConv2DReLUMaxPool(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name    string
		x, w, b []int // shapes; b nil for no bias
		conv    tensor.ConvOptions
		pool    tensor.PoolOptions
	}{
		{"LeNet conv1", []int{3, 1, 8, 8}, []int{6, 1, 3, 3}, []int{6}, tensor.ConvOptions{Padding: []int{1}}, tensor.PoolOptions{Kernel: []int{2}}},
		{"CNN conv2, 6 images", []int{6, 2, 4, 4}, []int{4, 2, 5, 5}, []int{4}, tensor.ConvOptions{Padding: []int{2}}, tensor.PoolOptions{Kernel: []int{2}}},
		{"indirect convolution (K >= 128)", []int{3, 16, 4, 14}, []int{15, 16, 3, 3}, []int{15}, tensor.ConvOptions{Padding: []int{1}}, tensor.PoolOptions{Kernel: []int{2}}},
		{"overlapping 3x3 stride 2, no bias", []int{2, 2, 7, 7}, []int{3, 2, 2, 2}, nil, tensor.ConvOptions{}, tensor.PoolOptions{Kernel: []int{3}, Stride: []int{2}}},
		{"strided conv, padded ceil pool, groups", []int{2, 4, 9, 8}, []int{4, 2, 3, 3}, []int{4}, tensor.ConvOptions{Stride: []int{2}, Groups: 2},
			tensor.PoolOptions{Kernel: []int{2}, Padding: []int{1}, CeilMode: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inputs := []*tensor.Tensor{tensor.Randn(rng, c.x...), tensor.Randn(rng, c.w...)}
			if c.b != nil {
				inputs = append(inputs, tensor.Randn(rng, c.b...))
			}
			bias := func(xs []*tensor.Tensor) *tensor.Tensor {
				if len(xs) > 2 {
					return xs[2]
				}
				return nil
			}
			fused := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return xs[0].Conv2DReLUMaxPool(xs[1], bias(xs), c.conv, c.pool)
			}
			composite := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return xs[0].Conv2D(xs[1], bias(xs), c.conv).ReLU().MaxPool2D(c.pool)
			}
			tensortest.GradCheck(t, fused, inputs, tensortest.GradCheckOptions{Eps: 1e-3, Atol: 2e-2})

			// Values and every gradient bit for bit those of the three ops in turn.
			dy := tensor.Randn(rng, composite(inputs...).Shape()...)
			run := func(f func(xs ...*tensor.Tensor) *tensor.Tensor) [][]float32 {
				for _, in := range inputs {
					in.SetRequiresGrad(true)
					in.ClearGrad()
				}
				y := f(inputs...)
				y.BackwardWith(dy)
				out := [][]float32{append([]float32(nil), y.Data()...)}
				for _, in := range inputs {
					out = append(out, append([]float32(nil), in.Grad().Data()...))
				}
				return out
			}
			want, got := run(composite), run(fused)
			require.Equal(t, len(want), len(got))
			for i := range want {
				requireSameBits(t, want[i], got[i], i)
			}
			require.Equal(t, composite(inputs...).Shape(), fused(inputs...).Shape())

			// Without a graph (inference) the values are the same and nothing is recorded.
			x := inputs[0].Detach().NoGrad()
			y := x.Conv2DReLUMaxPool(inputs[1], bias(inputs), c.conv, c.pool)
			require.False(t, y.RequiresGrad())
			requireSameBits(t, want[0], y.Data(), 0)
		})
	}
}

func requireSameBits(t *testing.T, want, got []float32, which int) {
	t.Helper()
	require.Equal(t, len(want), len(got), "result %d", which)
	for j := range want {
		require.Equal(t, math.Float32bits(want[j]), math.Float32bits(got[j]), "result %d, element %d: %v, want %v", which, j, got[j], want[j])
	}
}

func TestConv2DReLUMaxPoolPanics(t *testing.T) {
	x := tensor.Zeros(1, 2, 4, 4)
	// Under CheckFinite the convolution's own output is checked, even where ReLU would hide it.
	w := tensor.Zeros(1, 2, 3, 3)
	w.Data()[0] = float32(math.Inf(-1))
	x.Data()[0] = 1
	require.NotPanics(t, func() { x.Conv2DReLUMaxPool(w, nil, tensor.ConvOptions{}, tensor.PoolOptions{Kernel: []int{2}}) })
	require.PanicsWithError(t, "tensor: Conv2D: output [1 1 2 2] has -Inf at element 0 (inputs [[1 2 4 4] [1 2 3 3]])", func() {
		x.CheckFinite().Conv2DReLUMaxPool(w, nil, tensor.ConvOptions{}, tensor.PoolOptions{Kernel: []int{2}})
	})
	x = tensor.Zeros(1, 2, 4, 4)
	requirePanic(t, "tensor: MaxPool2D: kernel 3x3 larger than padded input 2x2 (input [1 1 2 2])", func() {
		x.Conv2DReLUMaxPool(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{}, tensor.PoolOptions{Kernel: []int{3}})
	})
	requirePanic(t, "tensor: Conv2D: bias [2], want [3] for weight [3 2 3 3]", func() {
		x.Conv2DReLUMaxPool(tensor.Zeros(3, 2, 3, 3), tensor.Zeros(2), tensor.ConvOptions{}, tensor.PoolOptions{Kernel: []int{2}})
	})
	requirePanic(t, "tensor: MaxPool2D: Kernel is required", func() {
		x.Conv2DReLUMaxPool(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{}, tensor.PoolOptions{})
	})
}

// A batch of no images gives an empty output of the right shape, as the three ops do.
func TestConv2DReLUMaxPoolNoImages(t *testing.T) {
	x, w, b := tensor.Zeros(0, 1, 8, 8), tensor.Ones(6, 1, 3, 3), tensor.Ones(6)
	conv, pool := tensor.ConvOptions{Padding: []int{1}}, tensor.PoolOptions{Kernel: []int{2}}
	want := x.Conv2D(w, b, conv).ReLU().MaxPool2D(pool)
	require.Equal(t, []int{0, 6, 4, 4}, want.Shape())
	require.Equal(t, want.Shape(), x.Conv2DReLUMaxPool(w, b, conv, pool).Shape())
}
