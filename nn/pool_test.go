package nn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// distinct returns a tensor of the given shape holding a shuffled 0.1, 0.2, ...: no ties, and far
// enough apart that GradCheck's steps never change a window's maximum.
func distinct(shape ...int) *tensor.Tensor {
	x := tensor.Zeros(shape...)
	for i, p := range newRNG().Perm(x.Len()) {
		x.Data()[i] = float32(p+1) * 0.1
	}
	return x
}

func TestAdaptivePoolLayers(t *testing.T) {
	cases := []struct {
		name string
		size []int
		x    []int
		want []int
	}{
		{"7 to 3", []int{3}, []int{2, 2, 7, 7}, []int{2, 2, 3, 3}},
		{"5 to 2", []int{2}, []int{1, 3, 5, 5}, []int{1, 3, 2, 2}},
		{"6 to (2,3)", []int{2, 3}, []int{1, 2, 6, 6}, []int{1, 2, 2, 3}},
		{"None keeps W", []int{2, 0}, []int{1, 2, 5, 4}, []int{1, 2, 2, 4}},
		{"global", []int{1}, []int{2, 2, 3, 4}, []int{2, 2, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := distinct(c.x...)
			for _, l := range []nn.Layer{nn.NewAdaptiveAvgPool2D(c.size...), nn.NewAdaptiveMaxPool2D(c.size...)} {
				require.Equal(t, c.want, l.Forward(x).Shape(), nn.TypeName(l))
				require.Empty(t, l.Params())
				checkLayer(t, l, x, tensortest.GradCheckOptions{})
			}
			y, mask := nn.NewAdaptiveMaxPool2D(c.size...).ForwardWithMask(x)
			require.Equal(t, c.want, mask.Shape())
			tensortest.AllClose(t, y, x.AdaptiveMaxPool2D(c.want[2], c.want[3]), 0, 0)
		})
	}
	requireLayerPanic(t, "nn: AdaptiveAvgPool2D: output size []: want 1 or 2 values", func() { nn.NewAdaptiveAvgPool2D() })
	requireLayerPanic(t, "nn: AdaptiveMaxPool2D: output size [-1]: want sizes of at least 1 (0 keeps the input's)",
		func() { nn.NewAdaptiveMaxPool2D(-1) })
	requireLayerPanic(t, "nn: AdaptiveMaxPool2D: tensor: AdaptiveMaxPool2D: input [2 3] must be 4-D (NCHW)",
		func() { nn.NewAdaptiveMaxPool2D(2).ForwardWithMask(tensor.Zeros(2, 3)) })
}

func TestPool1DLayers(t *testing.T) {
	cases := []struct {
		name   string
		kernel int
		stride int
		opt    nn.Pool1DOptions // besides kernel and stride
		x      []int
		outLen int
	}{
		{"k2", 2, 0, nn.Pool1DOptions{}, []int{2, 3, 8}, 4},
		{"k3 s2 pad 1", 3, 2, nn.Pool1DOptions{Padding: []int{1}}, []int{1, 2, 9}, 5},
		{"k3 s2 pad 1 inclusive", 3, 2, nn.Pool1DOptions{Padding: []int{1}, Inclusive: true}, []int{1, 2, 9}, 5},
		{"k3 s2 pad (0, 2)", 3, 2, nn.Pool1DOptions{Padding: []int{0, 2}}, []int{1, 2, 7}, 4},
		{"k3 s2 ceil", 3, 2, nn.Pool1DOptions{CeilMode: true}, []int{1, 2, 8}, 4},
		{"k2 s2 same", 2, 2, nn.Pool1DOptions{PadMode: tensor.PadSame}, []int{1, 2, 7}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := distinct(c.x...)
			mp, ap := nn.NewMaxPool1D(c.kernel, c.stride), nn.NewAvgPool1D(c.kernel, c.stride)
			c.opt.Kernel, c.opt.Stride = c.kernel, c.stride
			mp.Options, ap.Options = c.opt, c.opt
			for _, l := range []nn.Layer{mp, ap} {
				require.Equal(t, []int{c.x[0], c.x[1], c.outLen}, l.Forward(x).Shape(), nn.TypeName(l))
				checkLayer(t, l, x, tensortest.GradCheckOptions{})
			}
		})
	}
}

// TestPool1DPaddleVsTorch computes by hand the cases where Paddle's pools and PyTorch's differ.
func TestPool1DPaddleVsTorch(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5}, 1, 1, 5)
	// Ceil mode, kernel 2, stride 2, padding 1: [pad, 1 | 2, 3 | 4, 5 | pad]. Paddle's output length
	// is (5 + 2 - 2 + 1)/2 + 1 = 4 and keeps the last window, which starts in the right padding;
	// PyTorch drops it (3 outputs).
	mp := nn.NewMaxPool1D(2, 2)
	mp.Options.Padding, mp.Options.CeilMode = []int{1}, true
	tensortest.AllClose(t, mp.Forward(x), tensor.New([]float32{1, 3, 5, 0}, 1, 1, 4), 0, 0) // oar gives 0 for a window of padding only (tensor.MaxPool2D)
	ap := nn.NewAvgPool1D(2, 2)
	ap.Options = mp.Options
	tensortest.AllClose(t, ap.Forward(x), tensor.New([]float32{1, 2.5, 4.5, 0}, 1, 1, 4), 1e-6, 0)

	// exclusive (Paddle's default) against inclusive (PyTorch's default): kernel 3, stride 2,
	// padding 1 over [pad, 1, 2, 3, 4, 5, pad]: windows [pad 1 2], [2 3 4], [4 5 pad].
	ap = nn.NewAvgPool1D(3, 2)
	ap.Options.Padding = []int{1}
	tensortest.AllClose(t, ap.Forward(x), tensor.New([]float32{1.5, 3, 4.5}, 1, 1, 3), 1e-6, 0)
	ap.Options.Inclusive = true
	tensortest.AllClose(t, ap.Forward(x), tensor.New([]float32{1, 3, 3}, 1, 1, 3), 1e-6, 0)

	// Inclusive with ceil mode: kernel 3, stride 2, no padding over [1 2 3 4]: windows [1 2 3] and
	// [3 4 -]. The overhanging window counts only its cells inside input and padding: 7/2, as
	// Paddle's CPU kernel (Pool2dFunctor clips the window at H + padding) and PyTorch (Paddle's GPU
	// kernel divides by the whole kernel, 7/3).
	ap = nn.NewAvgPool1D(3, 2)
	ap.Options.CeilMode, ap.Options.Inclusive = true, true
	tensortest.AllClose(t, ap.Forward(tensor.New([]float32{1, 2, 3, 4}, 1, 1, 4)), tensor.New([]float32{2, 3.5}, 1, 1, 2), 1e-6, 0)
	// With padding 1, windows [pad 1 2], [2 3 4] and [4 pad -]: the last counts its padding cell
	// but not the cell past it, 4/2.
	ap.Options.Padding = []int{1}
	tensortest.AllClose(t, ap.Forward(tensor.New([]float32{1, 2, 3, 4}, 1, 1, 4)), tensor.New([]float32{1, 3, 2}, 1, 1, 3), 1e-6, 0)
}

func TestPool1DPanics(t *testing.T) {
	requireLayerPanic(t, "nn: MaxPool1D: kernel 0, stride 0: kernel must be at least 1 and stride at least 0", func() { nn.NewMaxPool1D(0, 0) })
	requireLayerPanic(t, "nn: AvgPool1D: kernel 2, stride -1: kernel must be at least 1 and stride at least 0", func() { nn.NewAvgPool1D(2, -1) })
	mp := nn.NewMaxPool1D(2, 0)
	requireLayerPanic(t, "nn: MaxPool1D: input [2 3 4 5] must be 3-D (NCL)", func() { mp.Forward(tensor.Zeros(2, 3, 4, 5)) })
	mp.Options.Padding = []int{1, 2, 3}
	requireLayerPanic(t, "nn: MaxPool1D: kernel 2, stride 0, padding [1 2 3]: want kernel at least 1, stride at least 0 and 1 or 2 padding values",
		func() { mp.Forward(tensor.Zeros(2, 3, 4)) })
	mp.Options.Padding = []int{2}
	requireLayerPanic(t, "nn: MaxPool1D: tensor: MaxPool2D: padding [0 0 2 2] must be smaller than the kernel [1 2]",
		func() { mp.Forward(tensor.Zeros(2, 3, 4)) })
}
