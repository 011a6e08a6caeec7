package transforms_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
	"github.com/oarlab/oar/vision/transforms"
)

// rgb returns a [3,1,n] image of the given pixels.
func rgb(px ...[3]float32) *tensor.Tensor {
	n := len(px)
	d := make([]float32, 3*n)
	for q, p := range px {
		d[q], d[n+q], d[2*n+q] = p[0], p[1], p[2]
	}
	return tensor.New(d, 3, 1, n)
}

func TestGrayscale(t *testing.T) {
	x := rgb([3]float32{1, 0, 0}, [3]float32{0, 1, 0}, [3]float32{0, 0, 1}, [3]float32{100, 50, 200})
	g := transforms.Grayscale(1).Apply(x)
	require.Equal(t, []int{1, 1, 4}, g.Shape())
	// 0.299 R + 0.587 G + 0.114 B; 29.9 + 29.35 + 22.8 = 82.05.
	tensortest.AllClose(t, g, tensor.New([]float32{0.299, 0.587, 0.114, 82.05}, 1, 1, 4), 1e-5, 0)
	g3 := transforms.Grayscale(3).Apply(x)
	require.Equal(t, []int{3, 1, 4}, g3.Shape())
	require.Equal(t, append(append(g.Data(), g.Data()...), g.Data()...), g3.Data())
	// A batch, and a 1-channel image (its own luma).
	b := transforms.Grayscale(1).Apply(tensor.Stack([]*tensor.Tensor{x, x}, 0))
	require.Equal(t, []int{2, 1, 1, 4}, b.Shape())
	require.Equal(t, append(g.Data(), g.Data()...), b.Data())
	one := tensor.New([]float32{3, 4}, 1, 1, 2)
	require.Equal(t, []float32{3, 4, 3, 4, 3, 4}, transforms.Grayscale(3).Apply(one).Data())
	require.PanicsWithError(t, "transforms: Grayscale: num_output_channels 2: want 1 or 3", func() { transforms.Grayscale(2) })
	require.PanicsWithError(t, "transforms: Grayscale: want 1 or 3 channels, got shape [2 1 2]", func() { transforms.Grayscale(1).Apply(tensor.Zeros(2, 1, 2)) })
}

func TestAdjustments(t *testing.T) {
	// Brightness: x·f clipped to [0, max].
	g := tensor.New([]float32{0.2, 0.8}, 1, 1, 2)
	tensortest.AllClose(t, transforms.AdjustBrightness(g, 1.5, 1), tensor.New([]float32{0.3, 1}, 1, 1, 2), 1e-6, 0)
	tensortest.AllClose(t, transforms.AdjustBrightness(g.Scale(255), 1.5, 255), tensor.New([]float32{76.5, 255}, 1, 1, 2), 1e-4, 0)
	require.Equal(t, []float32{0, 0}, transforms.AdjustBrightness(g, 0, 1).Data())

	// Contrast: the mean of [0 .2 .4 .6] is .3; f = 2 gives 2x - .3, clipped.
	c := tensor.New([]float32{0, 0.2, 0.4, 0.6}, 1, 2, 2)
	tensortest.AllClose(t, transforms.AdjustContrast(c, 2, 1), tensor.New([]float32{0, 0.1, 0.5, 0.9}, 1, 2, 2), 1e-6, 0)
	tensortest.AllClose(t, transforms.AdjustContrast(c, 0, 1), tensor.Full(0.3, 1, 2, 2), 1e-6, 0)
	// RGB: the mean of the luma. Pixels (1,0,0) and (0,0,1): luma .299 and .114, mean .2065.
	rc := transforms.AdjustContrast(rgb([3]float32{1, 0, 0}, [3]float32{0, 0, 1}), 0.5, 1)
	tensortest.AllClose(t, rc, rgb([3]float32{0.60325, 0.10325, 0.10325}, [3]float32{0.10325, 0.10325, 0.60325}), 1e-6, 0)
	// Each image of a batch has its own mean.
	bc := transforms.AdjustContrast(tensor.Stack([]*tensor.Tensor{c, c.Scale(0.5)}, 0), 0, 1)
	tensortest.AllClose(t, bc, tensor.New([]float32{.3, .3, .3, .3, .15, .15, .15, .15}, 2, 1, 2, 2), 1e-6, 0)

	// Saturation: blend with the pixel's luma. (0.8, 0.4, 0.2) has luma .2392+.2348+.0228 = .4968.
	p := rgb([3]float32{0.8, 0.4, 0.2})
	tensortest.AllClose(t, transforms.AdjustSaturation(p, 0, 1), rgb([3]float32{0.4968, 0.4968, 0.4968}), 1e-6, 0)
	tensortest.AllClose(t, transforms.AdjustSaturation(p, 2, 1), rgb([3]float32{1, 0.3032, 0}), 1e-6, 0)
	tensortest.AllClose(t, transforms.AdjustSaturation(p, 0.5, 1), rgb([3]float32{0.6484, 0.4484, 0.3484}), 1e-6, 0)
	require.Equal(t, c.Data(), transforms.AdjustSaturation(c, 3, 1).Data(), "1 channel: unchanged")

	// Hue: a third of a turn takes red to green, green to blue; half a turn takes (0.8, 0.4, 0.2)
	// (hue 20°) to its complement (0.2, 0.6, 0.8) (hue 200°), keeping S and V.
	h := transforms.AdjustHue(rgb([3]float32{1, 0, 0}, [3]float32{0, 1, 0}, [3]float32{0.8, 0.4, 0.2}), 1.0/3, 1)
	tensortest.AllClose(t, h, rgb([3]float32{0, 1, 0}, [3]float32{0, 0, 1}, [3]float32{0.2, 0.8, 0.4}), 1e-6, 0)
	h = transforms.AdjustHue(rgb([3]float32{0.8, 0.4, 0.2}, [3]float32{0.5, 0.5, 0.5}), -0.5, 1)
	tensortest.AllClose(t, h, rgb([3]float32{0.2, 0.6, 0.8}, [3]float32{0.5, 0.5, 0.5}), 1e-6, 0)
	// Scale-free: on 0..255 values with max 255.
	h = transforms.AdjustHue(rgb([3]float32{204, 102, 51}), 0.5, 255)
	tensortest.AllClose(t, h, rgb([3]float32{51, 153, 204}), 1e-4, 0)
	require.Equal(t, c.Data(), transforms.AdjustHue(c, 0.3, 1).Data())

	require.PanicsWithError(t, "transforms: AdjustHue: factor 0.6 outside [-0.5, 0.5]", func() { transforms.AdjustHue(p, 0.6, 1) })
	require.PanicsWithError(t, "transforms: AdjustBrightness: negative factor -1", func() { transforms.AdjustBrightness(p, -1, 1) })
	require.PanicsWithError(t, "transforms: AdjustContrast: want an image [C,H,W] or [N,C,H,W], got shape [2 2]", func() { transforms.AdjustContrast(tensor.Zeros(2, 2), 1, 1) })
}

func TestColorJitter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.Uniform(rng, 0, 1, 3, 4, 5)
	// All zero: the identity, no draw.
	r := rand.New(rand.NewPCG(1, 1))
	id := transforms.ColorJitter(0, 0, 0, 0)
	require.Equal(t, x.Data(), id.ApplyRandom(x, r).Data())
	// The shuffle draws 3 numbers (IntN(4), IntN(3), IntN(2)), nothing else.
	r2 := rand.New(rand.NewPCG(1, 1))
	r2.IntN(4)
	r2.IntN(3)
	r2.IntN(2)
	require.Equal(t, r2.Uint64(), r.Uint64())

	// One adjustment: its factor is uniform in [max(0, 1-v), 1+v], drawn after the shuffle.
	for seed := range uint64(10) {
		got := transforms.ColorJitter(0.4, 0, 0, 0).ApplyRandom(x, rand.New(rand.NewPCG(seed, 9)))
		r := rand.New(rand.NewPCG(seed, 9))
		r.IntN(4)
		r.IntN(3)
		r.IntN(2)
		f := 0.6 + 0.8*r.Float64()
		require.Equal(t, transforms.AdjustBrightness(x, f, 1).Data(), got.Data())
	}

	// All four: the order is a Fisher–Yates shuffle of brightness, contrast, saturation, hue,
	// each factor drawn when it is applied.
	cj := transforms.ColorJitter(0.4, 0.3, 0.2, 0.1)
	orders := map[[4]int]bool{}
	for seed := range uint64(60) {
		got := cj.ApplyRandom(x, rand.New(rand.NewPCG(seed, 1)))
		r := rand.New(rand.NewPCG(seed, 1))
		order := [4]int{0, 1, 2, 3}
		for i := 3; i > 0; i-- {
			j := r.IntN(i + 1)
			order[i], order[j] = order[j], order[i]
		}
		orders[order] = true
		want := x
		for _, k := range order {
			switch k {
			case 0:
				want = transforms.AdjustBrightness(want, 0.6+0.8*r.Float64(), 1)
			case 1:
				want = transforms.AdjustContrast(want, 0.7+0.6*r.Float64(), 1)
			case 2:
				want = transforms.AdjustSaturation(want, 0.8+0.4*r.Float64(), 1)
			case 3:
				want = transforms.AdjustHue(want, -0.1+0.2*r.Float64(), 1)
			}
		}
		require.Equal(t, want.Data(), got.Data())
		for _, v := range got.Data() {
			require.True(t, v >= 0 && v <= 1)
		}
	}
	require.Greater(t, len(orders), 12, "many of the 24 orders occur")

	// Max 255 for 0..255 values: brightness 2 clips at 255, not 1.
	b := transforms.BrightnessTransform(1, transforms.ColorJitterOptions{Max: 255}).ApplyRandom(tensor.Full(200, 1, 1, 1), rand.New(rand.NewPCG(0, 0)))
	require.True(t, b.Data()[0] > 1 && b.Data()[0] <= 255)
	require.PanicsWithError(t, "transforms: HueTransform: hue 0.7 outside [0, 0.5]", func() { transforms.ColorJitter(0, 0, 0, 0.7) })
	require.PanicsWithError(t, "transforms: ContrastTransform: value -1 must be non-negative", func() { transforms.ColorJitter(0, -1, 0, 0) })
}
