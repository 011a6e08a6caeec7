package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestConv2DHandComputed(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	cases := []struct {
		name  string
		w, b  *tensor.Tensor
		opt   tensor.ConvOptions
		want  []float32
		shape []int
	}{
		{"2x2 kernel, bias", tensor.New([]float32{1, 2, 3, 4}, 1, 1, 2, 2), tensor.New([]float32{1}, 1),
			tensor.ConvOptions{}, []float32{38, 48, 68, 78}, []int{1, 1, 2, 2}},
		{"3x3 ones, pad 1", tensor.Ones(1, 1, 3, 3), nil,
			tensor.ConvOptions{Padding: []int{1}}, []float32{12, 21, 16, 27, 45, 33, 24, 39, 28}, []int{1, 1, 3, 3}},
		{"3x3 ones, pad 1, stride 2", tensor.Ones(1, 1, 3, 3), nil,
			tensor.ConvOptions{Padding: []int{1}, Stride: []int{2}}, []float32{12, 16, 24, 28}, []int{1, 1, 2, 2}},
		{"3x3 ones, SAME", tensor.Ones(1, 1, 3, 3), nil,
			tensor.ConvOptions{PadMode: tensor.PadSame}, []float32{12, 21, 16, 27, 45, 33, 24, 39, 28}, []int{1, 1, 3, 3}},
		{"2x2 dilation 2", tensor.New([]float32{1, 0, 0, -1}, 1, 1, 2, 2), nil,
			tensor.ConvOptions{Dilation: []int{2}}, []float32{1 - 9}, []int{1, 1, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := x.Conv2D(c.w, c.b, c.opt)
			tensortest.AllClose(t, got, tensor.New(c.want, c.shape...), 0, 0)
		})
	}
	t.Run("groups", func(t *testing.T) {
		x2 := tensor.Concat([]*tensor.Tensor{x, x.Scale(10)}, 1) // [1,2,3,3]
		w := tensor.New([]float32{1, 2}, 2, 1, 1, 1)             // channel 0 ×1, channel 1 ×2
		got := x2.Conv2D(w, nil, tensor.ConvOptions{Groups: 2})  // each channel on its own
		want := tensor.Concat([]*tensor.Tensor{x, x.Scale(20)}, 1)
		tensortest.AllClose(t, got, want, 0, 0)
	})
}

func TestConv2DOutputShapes(t *testing.T) {
	x := tensor.Zeros(2, 3, 6, 7)
	w := tensor.Zeros(4, 3, 3, 3)
	cases := []struct {
		opt  tensor.ConvOptions
		want []int
	}{
		{tensor.ConvOptions{}, []int{2, 4, 4, 5}},
		{tensor.ConvOptions{Padding: []int{1}}, []int{2, 4, 6, 7}},
		{tensor.ConvOptions{Padding: []int{1, 0}}, []int{2, 4, 6, 5}},
		{tensor.ConvOptions{Padding: []int{0, 1, 2, 0}}, []int{2, 4, 5, 7}},
		{tensor.ConvOptions{Stride: []int{2}}, []int{2, 4, 2, 3}},
		{tensor.ConvOptions{Stride: []int{2, 3}, PadMode: tensor.PadSame}, []int{2, 4, 3, 3}},
		{tensor.ConvOptions{PadMode: tensor.PadValid}, []int{2, 4, 4, 5}},
		{tensor.ConvOptions{Dilation: []int{2}}, []int{2, 4, 2, 3}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, x.Conv2D(w, nil, c.opt).Shape(), "%+v", c.opt)
	}
}

func TestConv2DGrad(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name    string
		x, w, b []int // shapes; b nil for no bias
		opt     tensor.ConvOptions
	}{
		{"basic", []int{2, 3, 5, 5}, []int{4, 3, 3, 3}, []int{4}, tensor.ConvOptions{}},
		{"stride 2 pad 1", []int{2, 2, 6, 5}, []int{3, 2, 3, 3}, []int{3}, tensor.ConvOptions{Stride: []int{2}, Padding: []int{1}}},
		{"dilation 2, pad (1,2)", []int{1, 2, 7, 7}, []int{2, 2, 3, 3}, []int{2}, tensor.ConvOptions{Dilation: []int{2}, Padding: []int{1, 2}}},
		{"groups 2, stride (1,2)", []int{2, 4, 5, 5}, []int{6, 2, 3, 3}, []int{6}, tensor.ConvOptions{Groups: 2, Stride: []int{1, 2}}},
		{"4-sided pad, 2x3 kernel", []int{1, 2, 4, 5}, []int{2, 2, 2, 3}, []int{2}, tensor.ConvOptions{Padding: []int{1, 0, 2, 1}}},
		{"SAME stride 2", []int{1, 2, 6, 7}, []int{3, 2, 3, 3}, []int{3}, tensor.ConvOptions{PadMode: tensor.PadSame, Stride: []int{2}}},
		{"depthwise, no bias", []int{1, 3, 4, 4}, []int{3, 1, 3, 3}, nil, tensor.ConvOptions{Groups: 3, Padding: []int{1}}},
		{"batch 20 (several chunks)", []int{20, 1, 4, 4}, []int{2, 1, 3, 3}, []int{2}, tensor.ConvOptions{}},
		// InC·KH·KW = 144 and OutC·KH·KW = 135 (>= 128), 14 columns: the forward pass, the input
		// and the weight gradient all take the kernels' indirect (no im2col) path.
		{"indirect, 16 channels", []int{3, 16, 5, 14}, []int{15, 16, 3, 3}, []int{15}, tensor.ConvOptions{Padding: []int{1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inputs := []*tensor.Tensor{tensor.Randn(rng, c.x...), tensor.Randn(rng, c.w...)}
			if c.b != nil {
				inputs = append(inputs, tensor.Randn(rng, c.b...))
			}
			f := func(in ...*tensor.Tensor) *tensor.Tensor {
				var b *tensor.Tensor
				if len(in) > 2 {
					b = in[2]
				}
				return in[0].Conv2D(in[1], b, c.opt)
			}
			tensortest.GradCheck(t, f, inputs, tensortest.GradCheckOptions{Atol: 2e-2})
		})
	}
}

func TestConv2DPanics(t *testing.T) {
	x := tensor.Zeros(1, 2, 4, 4)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"kernel too large", func() { x.Conv2D(tensor.Zeros(1, 2, 5, 5), nil, tensor.ConvOptions{}) },
			"tensor: Conv2D: kernel 5x5 (dilated 5x5) larger than padded input 4x4 (input [1 2 4 4])"},
		{"channels", func() { x.Conv2D(tensor.Zeros(1, 3, 3, 3), nil, tensor.ConvOptions{}) },
			"tensor: Conv2D: input [1 2 4 4], weight [1 3 3 3], groups 1: want in channels = weight.shape[1]*groups and out channels divisible by groups"},
		{"bias", func() { x.Conv2D(tensor.Zeros(3, 2, 3, 3), tensor.Zeros(2), tensor.ConvOptions{}) },
			"tensor: Conv2D: bias [2], want [3] for weight [3 2 3 3]"},
		{"rank", func() { tensor.Zeros(2, 4, 4).Conv2D(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{}) },
			"tensor: Conv2D: input [2 4 4] and weight [1 2 3 3] must be 4-D (NCHW and [out, in/groups, kh, kw])"},
		{"stride values", func() { x.Conv2D(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{Stride: []int{1, 2, 3}}) },
			"tensor: Conv2D: Stride [1 2 3]: want 1 or 2 values"},
		{"zero stride", func() { x.Conv2D(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{Stride: []int{0}}) },
			"tensor: Conv2D: stride [0], dilation [] and kernel [3 3] must be at least 1"},
		{"padding values", func() { x.Conv2D(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{Padding: []int{1, 2, 3}}) },
			"tensor: Conv2D: Padding [1 2 3]: want 1, 2 or 4 values"},
		{"negative padding", func() { x.Conv2D(tensor.Zeros(1, 2, 3, 3), nil, tensor.ConvOptions{Padding: []int{-1}}) },
			"tensor: Conv2D: negative Padding [-1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { requirePanic(t, c.msg, c.f) })
	}
}

// requirePanic asserts that f panics with a *tensor.Error whose message is msg.
func requirePanic(t *testing.T, msg string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "no panic, want %q", msg)
		err, ok := r.(*tensor.Error)
		require.True(t, ok, "panic value %T (%v) is not a *tensor.Error", r, r)
		require.Equal(t, msg, err.Error())
	}()
	f()
}
