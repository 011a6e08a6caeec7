package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestConv2DTransposeLayer(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name       string
		in, out, k int
		opts       nn.Conv2DTransposeOptions
		x, want    []int
	}{
		{"basic", 2, 3, 3, nn.Conv2DTransposeOptions{}, []int{2, 2, 3, 3}, []int{2, 3, 5, 5}},
		{"stride 2 pad 1", 2, 2, 3, nn.Conv2DTransposeOptions{Stride: []int{2}, Padding: []int{1}}, []int{1, 2, 3, 4}, []int{1, 2, 5, 7}},
		{"stride 2 output_padding 1", 2, 2, 3, nn.Conv2DTransposeOptions{Stride: []int{2}, Padding: []int{1}, OutputPadding: []int{1}},
			[]int{1, 2, 3, 3}, []int{1, 2, 6, 6}},
		{"dilation 2", 1, 2, 2, nn.Conv2DTransposeOptions{Dilation: []int{2}}, []int{1, 1, 3, 3}, []int{1, 2, 5, 5}},
		{"groups 2, no bias", 4, 2, 3, nn.Conv2DTransposeOptions{Groups: 2, Stride: []int{2}, NoBias: true}, []int{1, 4, 2, 3}, []int{1, 2, 5, 7}},
		{"2x3 kernel, 4-sided pad", 2, 1, 0, nn.Conv2DTransposeOptions{KernelSize: [2]int{2, 3}, Padding: []int{1, 0, 0, 2}},
			[]int{1, 2, 3, 3}, []int{1, 1, 3, 3}},
		{"same stride 2", 1, 2, 3, nn.Conv2DTransposeOptions{PadMode: tensor.PadSame, Stride: []int{2}}, []int{1, 1, 3, 4}, []int{1, 2, 5, 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Rand = rng
			l := nn.NewConv2DTranspose(c.in, c.out, c.k, c.opts)
			kh, kw := c.k, c.k
			if c.opts.KernelSize != [2]int{} {
				kh, kw = c.opts.KernelSize[0], c.opts.KernelSize[1]
			}
			require.Equal(t, []int{c.in, c.out / max(c.opts.Groups, 1), kh, kw}, l.Weight.Shape(), "Paddle's [in, out/groups, kh, kw]")
			if l.Bias != nil {
				copy(l.Bias.Data(), tensor.Randn(rng, c.out).Data())
			}
			x := tensor.Randn(rng, c.x...)
			require.Equal(t, c.want, l.Forward(x).Shape())
			checkLayer(t, l, x, tensortest.GradCheckOptions{})
		})
	}
}

func TestConv2DTransposeOutputSize(t *testing.T) {
	rng := newRNG()
	l := nn.NewConv2DTranspose(2, 3, 3, nn.Conv2DTransposeOptions{Stride: []int{2}, Padding: []int{1}, Rand: rng})
	x := tensor.Randn(rng, 1, 2, 4, 4)
	require.Equal(t, []int{1, 3, 7, 7}, l.Forward(x).Shape())
	// Paddle's forward(x, output_size): any size in [7, 9).
	y := l.ForwardSize(x, 8, 7)
	require.Equal(t, []int{1, 3, 8, 7}, y.Shape())
	// The extra row is output padding: the first 7 rows are Forward's.
	tensortest.AllClose(t, y.Slice(2, 0, 7), l.Forward(x), 0, 0)
	require.Equal(t, []int{1, 3, 8, 8}, l.ForwardSize(x, 8).Shape())
	require.Equal(t, []int{1, 3, 7, 7}, l.ForwardSize(x).Shape(), "no size is Forward")
	l.Options.OutputSize = []int{8, 8} // fixed, for use in a Sequential
	require.Equal(t, []int{1, 3, 8, 8}, l.Forward(x).Shape())
	checkLayer(t, l, x, tensortest.GradCheckOptions{})
	requireLayerPanic(t, "nn: Conv2DTranspose: tensor: Conv2DTranspose: OutputSize [9]: want each size in [computed, computed+stride) = [7, 9) x [7, 9)",
		func() { l.ForwardSize(x, 9) })
	l.Options.OutputPadding = []int{1}
	requireLayerPanic(t, "nn: Conv2DTranspose: tensor: Conv2DTranspose: OutputPadding [1] and OutputSize [8 8] are mutually exclusive",
		func() { l.Forward(x) })
}

func TestConv2DTransposeDefaultsAndPanics(t *testing.T) {
	l := nn.NewConv2DTranspose(32, 16, 3, nn.Conv2DTransposeOptions{Rand: newRNG(), Groups: 2})
	require.Equal(t, []int{32, 8, 3, 3}, l.Weight.Shape())
	require.Equal(t, make([]float32, 16), l.Bias.Data())
	// Paddle's default: Xavier-uniform with fan_in = out/groups*kh*kw = 72, fan_out = in*kh*kw = 288.
	limit := math.Sqrt(6.0 / (72 + 288))
	var ss float64
	for _, v := range l.Weight.Data() {
		require.LessOrEqual(t, math.Abs(float64(v)), limit)
		ss += float64(v) * float64(v)
	}
	require.InDelta(t, limit/math.Sqrt(3), math.Sqrt(ss/float64(l.Weight.Len())), 0.01) // U(-a, a) has std a/√3
	requireLayerPanic(t, "nn: Conv2DTranspose: input [1 16 4 4], weight [32 8 3 3]: want [N, 32, H, W]",
		func() { l.Forward(tensor.Zeros(1, 16, 4, 4)) })
	requireLayerPanic(t, "nn: Conv2DTranspose: in 3, out 4, kernel 3x3, groups 2: sizes must be at least 1 and channels divisible by groups",
		func() { nn.NewConv2DTranspose(3, 4, 3, nn.Conv2DTransposeOptions{Groups: 2}) })
	requireLayerPanic(t, "nn: Conv2DTranspose: in 3, out 4, kernel 0x0, groups 0: sizes must be at least 1 and channels divisible by groups",
		func() { nn.NewConv2DTranspose(3, 4, 0) })
}
