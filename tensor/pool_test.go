package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestMaxPool2DTies(t *testing.T) {
	// Window (0,0) holds 3 twice: the first in row-major order, (0,1), wins and alone gets the
	// gradient. Window (0,1) ties 2 four times: (0,2) wins.
	x := tensor.New([]float32{
		1, 3, 2, 2,
		3, 0, 2, 2,
		-1, -2, 5, 4,
		-3, -1, 4, 5,
	}, 1, 1, 4, 4).SetRequiresGrad(true)
	y := x.MaxPool2D(tensor.PoolOptions{Kernel: []int{2}})
	tensortest.AllClose(t, y, tensor.New([]float32{3, 2, -1, 5}, 1, 1, 2, 2), 0, 0)
	y.Sum().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{
		0, 1, 1, 0,
		0, 0, 0, 0,
		1, 0, 1, 0,
		0, 0, 0, 0,
	}, 1, 1, 4, 4), 0, 0)
}

func TestPoolCeilModePaddle(t *testing.T) {
	// Width 5, kernel 2, stride 2, padding 1, ceil mode: Paddle keeps the fourth window, which
	// starts in the right padding (PyTorch would give 3 outputs). It lies wholly in the padding, so
	// it outputs 0.
	x := tensor.New([]float32{1, 2, 3, 4, 5}, 1, 1, 1, 5)
	opt := tensor.PoolOptions{Kernel: []int{1, 2}, Stride: []int{1, 2}, Padding: []int{0, 1}, CeilMode: true}
	tensortest.AllClose(t, x.MaxPool2D(opt), tensor.New([]float32{1, 3, 5, 0}, 1, 1, 1, 4), 0, 0)
	tensortest.AllClose(t, x.AvgPool2D(opt), tensor.New([]float32{1, 2.5, 4.5, 0}, 1, 1, 1, 4), 0, 0)
	opt.Inclusive = true // padding counts: the first window is (pad + 1)/2
	tensortest.AllClose(t, x.AvgPool2D(opt), tensor.New([]float32{0.5, 2.5, 4.5, 0}, 1, 1, 1, 4), 0, 0)
	opt.CeilMode = false
	require.Equal(t, []int{1, 1, 1, 3}, x.MaxPool2D(opt).Shape())
}

func TestAvgPool2DHandComputed(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	// 2x2 windows, stride 1, padding 1: corner windows hold one real cell.
	opt := tensor.PoolOptions{Kernel: []int{2}, Stride: []int{1}, Padding: []int{1}}
	excl := x.AvgPool2D(opt)
	require.Equal(t, []int{1, 1, 4, 4}, excl.Shape())
	require.Equal(t, float32(1), excl.At(0, 0, 0, 0))   // 1/1
	require.Equal(t, float32(1.5), excl.At(0, 0, 0, 1)) // (1+2)/2
	require.Equal(t, float32(3), excl.At(0, 0, 1, 1))   // (1+2+4+5)/4
	opt.Inclusive = true
	incl := x.AvgPool2D(opt)
	require.Equal(t, float32(0.25), incl.At(0, 0, 0, 0)) // 1/4
	require.Equal(t, float32(0.75), incl.At(0, 0, 0, 1)) // 3/4
	require.Equal(t, float32(2.25), incl.At(0, 0, 3, 3)) // 9/4
}

func TestPoolSame(t *testing.T) {
	x := tensor.Zeros(1, 1, 5, 7)
	y := x.MaxPool2D(tensor.PoolOptions{Kernel: []int{3}, Stride: []int{2}, PadMode: tensor.PadSame})
	require.Equal(t, []int{1, 1, 3, 4}, y.Shape())
}

func TestPoolGrad(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name string
		max  bool
		x    []int
		opt  tensor.PoolOptions
	}{
		{"max 2x2", true, []int{2, 3, 4, 6}, tensor.PoolOptions{Kernel: []int{2}}},
		{"max 3x3 stride 2 pad 1", true, []int{1, 2, 7, 6}, tensor.PoolOptions{Kernel: []int{3}, Stride: []int{2}, Padding: []int{1}}},
		{"max ceil mode", true, []int{1, 2, 5, 5}, tensor.PoolOptions{Kernel: []int{2}, Padding: []int{1}, CeilMode: true}},
		{"max 2x3 stride (1,2) 4-sided pad", true, []int{1, 1, 5, 6}, tensor.PoolOptions{Kernel: []int{2, 3}, Stride: []int{1, 2}, Padding: []int{1, 0, 0, 1}}},
		{"avg exclusive pad 1", false, []int{2, 2, 5, 5}, tensor.PoolOptions{Kernel: []int{3}, Stride: []int{2}, Padding: []int{1}}},
		{"avg inclusive ceil", false, []int{1, 2, 5, 5}, tensor.PoolOptions{Kernel: []int{2}, Padding: []int{1}, CeilMode: true, Inclusive: true}},
		{"avg 2x3 SAME", false, []int{1, 3, 4, 7}, tensor.PoolOptions{Kernel: []int{2, 3}, Stride: []int{2}, PadMode: tensor.PadSame}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := distinct(rng, c.x...)
			f := func(in ...*tensor.Tensor) *tensor.Tensor {
				if c.max {
					return in[0].MaxPool2D(c.opt)
				}
				return in[0].AvgPool2D(c.opt)
			}
			tensortest.GradCheck(t, f, []*tensor.Tensor{x}, tensortest.GradCheckOptions{})
		})
	}
}

func TestPoolPanics(t *testing.T) {
	x := tensor.Zeros(1, 1, 3, 3)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"no kernel", func() { x.MaxPool2D(tensor.PoolOptions{}) }, "tensor: MaxPool2D: Kernel is required"},
		{"kernel too large", func() { x.AvgPool2D(tensor.PoolOptions{Kernel: []int{4}}) },
			"tensor: AvgPool2D: kernel 4x4 larger than padded input 3x3 (input [1 1 3 3])"},
		{"padding as large as kernel", func() { x.MaxPool2D(tensor.PoolOptions{Kernel: []int{2}, Padding: []int{2}}) },
			"tensor: MaxPool2D: padding [2] must be smaller than the kernel [2]"},
		{"rank", func() { tensor.Zeros(3, 3).MaxPool2D(tensor.PoolOptions{Kernel: []int{2}}) },
			"tensor: MaxPool2D: input [3 3] must be 4-D (NCHW)"},
		{"zero stride", func() { x.MaxPool2D(tensor.PoolOptions{Kernel: []int{2}, Stride: []int{0}}) },
			"tensor: MaxPool2D: kernel [2] and stride [0] must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { requirePanic(t, c.msg, c.f) })
	}
}
