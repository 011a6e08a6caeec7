package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestConv1DHandComputed(t *testing.T) {
	// Paddle's docstring example: x [1, 3, 4], w [2, 3, 3] gives [[133, 238], [160, 211]].
	l := nn.NewConv1D(3, 2, 3, nn.Conv1DOptions{NoBias: true})
	copy(l.Weight.Data(), []float32{9, 3, 4, 0, 0, 7, 2, 5, 6, 0, 3, 4, 2, 9, 7, 5, 6, 8})
	x := tensor.New([]float32{4, 8, 1, 9, 7, 2, 0, 9, 6, 9, 2, 6}, 1, 3, 4)
	tensortest.AllClose(t, l.Forward(x), tensor.New([]float32{133, 238, 160, 211}, 1, 2, 2), 0, 0)

	// "same" with stride 2 follows Paddle: L = 5, k = 3: ceil(5/2) = 3 outputs, padding
	// max((3-1)*2 + 3 - 5, 0) = 2, one each side. A kernel [1, 10, 100] over [0, 1, 2, 3, 4, 5, 0]
	// at positions 0, 2, 4.
	l = nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{PadMode: tensor.PadSame, Stride: 2, NoBias: true})
	copy(l.Weight.Data(), []float32{1, 10, 100})
	x = tensor.New([]float32{1, 2, 3, 4, 5}, 1, 1, 5)
	tensortest.AllClose(t, l.Forward(x), tensor.New([]float32{210, 432, 54}, 1, 1, 3), 0, 0)
	// L = 6: 3 outputs, padding max(4 + 3 - 6, 0) = 1, at the end: positions 0, 2, 4 of
	// [1, 2, 3, 4, 5, 6, 0].
	x = tensor.New([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 6)
	tensortest.AllClose(t, l.Forward(x), tensor.New([]float32{321, 543, 65}, 1, 1, 3), 0, 0)
	// "same" ignores the dilation, as Paddle's UpdatePaddingAndDilation (PyTorch's "same" keeps
	// it, stride 1 only): with dilation 2 the result is the undilated one.
	l.Dilation = 2
	tensortest.AllClose(t, l.Forward(x), tensor.New([]float32{321, 543, 65}, 1, 1, 3), 0, 0)

	// [before, after] padding: [2, 0] on [1, 2, 3] with kernel [1, 10, 100]: [0, 0, 1, 2, 3].
	l = nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{Padding: []int{2, 0}, NoBias: true})
	copy(l.Weight.Data(), []float32{1, 10, 100})
	tensortest.AllClose(t, l.Forward(tensor.New([]float32{1, 2, 3}, 1, 1, 3)), tensor.New([]float32{100, 210, 321}, 1, 1, 3), 0, 0)
}

func TestConv1DPaddingModes(t *testing.T) {
	// A kernel [0, 1, 0, 0, 0] (k = 5, padding 2) reads x at i-1: the padded sequence shifted by
	// one, which shows the two values padded before x.
	x := tensor.New([]float32{1, 2, 3, 4}, 1, 1, 4)
	for _, c := range []struct {
		mode string
		want []float32
	}{
		{"zeros", []float32{0, 1, 2, 3}},
		{"reflect", []float32{2, 1, 2, 3}},   // 3 2 | 1 2 3 4 | 3 2
		{"replicate", []float32{1, 1, 2, 3}}, // 1 1 | 1 2 3 4 | 4 4
		{"circular", []float32{4, 1, 2, 3}},  // 3 4 | 1 2 3 4 | 1 2
	} {
		l := nn.NewConv1D(1, 1, 5, nn.Conv1DOptions{Padding: []int{2}, PaddingMode: c.mode, NoBias: true})
		copy(l.Weight.Data(), []float32{0, 1, 0, 0, 0})
		tensortest.AllClose(t, l.Forward(x), tensor.New(c.want, 1, 1, 4), 0, 0)
		// and the last kernel tap reads x at i+2: the values padded after x.
		copy(l.Weight.Data(), []float32{0, 0, 0, 0, 1})
		after := map[string][]float32{"zeros": {3, 4, 0, 0}, "reflect": {3, 4, 3, 2}, "replicate": {3, 4, 4, 4}, "circular": {3, 4, 1, 2}}[c.mode]
		tensortest.AllClose(t, l.Forward(x), tensor.New(after, 1, 1, 4), 0, 0)
		l = nn.NewConv1D(2, 3, 3, nn.Conv1DOptions{Padding: []int{2}, PaddingMode: c.mode, Stride: 2, Rand: newRNG()})
		checkLayer(t, l, tensor.Randn(newRNG(), 2, 2, 5), tensortest.GradCheckOptions{})
	}
}

func TestConv1DLayer(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name       string
		in, out, k int
		opts       nn.Conv1DOptions
		x          []int
		outLen     int
	}{
		{"basic", 2, 3, 3, nn.Conv1DOptions{}, []int{2, 2, 7}, 5},
		{"stride 2 pad 1", 2, 3, 3, nn.Conv1DOptions{Stride: 2, Padding: []int{1}}, []int{2, 2, 8}, 4},
		{"pad before/after", 2, 2, 4, nn.Conv1DOptions{Padding: []int{0, 2}}, []int{1, 2, 6}, 5},
		{"dilation 2", 2, 2, 3, nn.Conv1DOptions{Dilation: 2, Padding: []int{2}}, []int{1, 2, 7}, 7},
		{"groups 2, no bias", 4, 6, 3, nn.Conv1DOptions{Groups: 2, NoBias: true}, []int{2, 4, 6}, 4},
		{"same stride 2", 2, 2, 3, nn.Conv1DOptions{PadMode: tensor.PadSame, Stride: 2}, []int{1, 2, 9}, 5},
		{"same stride 3 dilation 2", 1, 2, 4, nn.Conv1DOptions{PadMode: tensor.PadSame, Stride: 3, Dilation: 2}, []int{1, 1, 10}, 4},
		{"valid stride 2", 2, 1, 3, nn.Conv1DOptions{PadMode: tensor.PadValid, Stride: 2}, []int{1, 2, 8}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Rand = rng
			l := nn.NewConv1D(c.in, c.out, c.k, c.opts)
			require.Equal(t, []int{c.out, c.in / max(c.opts.Groups, 1), c.k}, l.Weight.Shape(), "Paddle's [out, in/groups, k]")
			if l.Bias != nil {
				copy(l.Bias.Data(), tensor.Randn(rng, c.out).Data()) // a non-zero bias
			}
			x := tensor.Randn(rng, c.x...)
			require.Equal(t, []int{c.x[0], c.out, c.outLen}, l.Forward(x).Shape())
			checkLayer(t, l, x, tensortest.GradCheckOptions{})
		})
	}
}

func TestConv1DDefaultsAndPanics(t *testing.T) {
	l := nn.NewConv1D(16, 64, 5, nn.Conv1DOptions{Rand: newRNG(), Groups: 4})
	require.Equal(t, []int{64, 4, 5}, l.Weight.Shape())
	require.Equal(t, make([]float32, 64), l.Bias.Data())
	require.Equal(t, []string{"weight", "bias"}, []string{l.Params()[0].Name, l.Params()[1].Name})
	var ss float64
	for _, v := range l.Weight.Data() {
		ss += float64(v) * float64(v)
	}
	// Paddle's default: N(0, 2/(in*k)) with all in channels, not in/groups.
	require.InDelta(t, math.Sqrt(2.0/(16*5)), math.Sqrt(ss/float64(l.Weight.Len())), 0.01)

	requireLayerPanic(t, "nn: Conv1D: input [2 3 8], weight [64 4 5], groups 4: want [N, 16, L]", func() { l.Forward(tensor.Zeros(2, 3, 8)) })
	requireLayerPanic(t, "nn: Conv1D: input [2 16 8 1], weight [64 4 5], groups 4: want [N, 16, L]", func() { l.Forward(tensor.Zeros(2, 16, 8, 1)) })
	requireLayerPanic(t, "nn: Conv1D: kernel 5 (dilated 5) larger than padded input length 4 (padding 0, 0)",
		func() { l.Forward(tensor.Zeros(1, 16, 4)) })
	requireLayerPanic(t, "nn: Conv1D: in 3, out 2, kernel 3, groups 2, stride 0, dilation 0: sizes must be at least 1 and channels divisible by groups",
		func() { nn.NewConv1D(3, 2, 3, nn.Conv1DOptions{Groups: 2}) })
	requireLayerPanic(t, `nn: Conv1D: PaddingMode "reflect" takes one Padding value and no PadMode, got Padding [1 2], PadMode 0`,
		func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{PaddingMode: "reflect", Padding: []int{1, 2}}) })
	requireLayerPanic(t, `nn: Conv1D: PaddingMode "mirror": want "zeros", "reflect", "replicate" or "circular"`,
		func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{PaddingMode: "mirror"}) })
	r := nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{PaddingMode: "reflect", Padding: []int{3}})
	requireLayerPanic(t, "nn: Conv1D: padding 3 too large for reflect padding of length 3", func() { r.Forward(tensor.Zeros(1, 1, 3)) })
	requireLayerPanic(t, "nn: Conv1D: Padding [1 2 3]: want 1 or 2 values (before, after)",
		func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{Padding: []int{1, 2, 3}}) })
	requireLayerPanic(t, "nn: Conv1D: negative Padding [-1]", func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{Padding: []int{-1}}) })
	requireLayerPanic(t, "nn: Conv1D: Padding [1] given with PadMode 1; use one or the other",
		func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{Padding: []int{1}, PadMode: tensor.PadSame}) })
	requireLayerPanic(t, "nn: Conv1D: 2 options structs given, want at most one",
		func() { nn.NewConv1D(1, 1, 3, nn.Conv1DOptions{}, nn.Conv1DOptions{}) })
}
