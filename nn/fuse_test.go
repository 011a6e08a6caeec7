package nn_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// convNet is a Conv2D, ReLU, MaxPool2D run followed by a head, with a second run nested in a
// named Sequential.
func convNet() *nn.Sequential {
	nn.Seed(5)
	return nn.NewSequential(
		nn.NewConv2D(2, 3, 3, nn.Conv2DOptions{Padding: []int{1}}), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewSequentialNamed(
			nn.Named{Name: "conv", Layer: nn.NewConv2D(3, 4, 3, nn.Conv2DOptions{Padding: []int{1}, Stride: []int{1}})},
			nn.Named{Name: "relu", Layer: nn.NewReLU()},
			nn.Named{Name: "pool", Layer: nn.NewMaxPool2D(2, 2)},
		),
		nn.NewFlatten(), nn.NewLinear(4*2*2, 5))
}

// runNet returns y's values and every parameter's gradient after y.BackwardWith(dy).
func runNet(net nn.Layer, x, dy *tensor.Tensor) [][]float32 {
	for _, p := range net.Params() {
		p.Tensor.ClearGrad()
	}
	y := net.Forward(x)
	y.BackwardWith(dy)
	out := [][]float32{append([]float32(nil), y.Data()...)}
	for _, p := range net.Params() {
		out = append(out, append([]float32(nil), p.Tensor.Grad().Data()...))
	}
	return out
}

// Fuse replaces each Conv2D, ReLU, MaxPool2D run by one ConvReLUPool whose values and gradients
// are the three layers' bit for bit, with the same state-dict keys.
func TestFuse(t *testing.T) {
	rng := newRNG()
	x := tensor.Randn(rng, 4, 2, 8, 8)
	dy := tensor.Randn(rng, 4, 5)
	plain, fused := convNet(), convNet()
	keys := names(nn.StateDict(plain))
	require.Equal(t, 2, nn.Fuse(fused))
	require.Equal(t, 0, nn.Fuse(fused), "a fused network has nothing left to fuse")

	require.IsType(t, &nn.ConvReLUPool{}, fused.At(0))
	require.Equal(t, 4, fused.Len())
	require.Equal(t, "Conv2DReLUMaxPool", fused.At(0).Forward(x).Op(), "the fused layer runs the fused op")
	require.Equal(t, "Conv2D", plain.At(0).Forward(x).Op(), "nothing fuses unless Fuse is called")
	require.Equal(t, keys, names(nn.StateDict(fused)))
	require.Equal(t, []string{"0.weight", "0.bias", "3.conv.weight", "3.conv.bias", "5.weight", "5.bias"}, keys)
	require.Equal(t, runNet(plain, x, dy), runNet(fused, x, dy), "outputs and gradients bit for bit")

	checkLayer(t, fused.At(0), tensor.Randn(rng, 2, 2, 6, 6), tensortest.GradCheckOptions{Eps: 1e-3, Atol: 2e-2})

	// A checkpoint of either loads into the other.
	for _, c := range []struct{ from, to *nn.Sequential }{{plain, convNet()}, {fused, convNet()}} {
		if c.from == plain {
			nn.Fuse(c.to)
		}
		var buf bytes.Buffer
		require.NoError(t, nn.Write(&buf, c.from))
		_, err := nn.Read(&buf, c.to)
		require.NoError(t, err)
		for i, p := range nn.StateDict(c.to) {
			require.Equal(t, nn.StateDict(c.from)[i].Data(), p.Data(), p.Name)
		}
	}

	// Unfused, errors name the layer at fault; fused, the layer that runs.
	requireLayerPanic(t, "nn: 0 (Conv2D): input [4 3 8 8], weight [3 2 3 3]: want [N, 2, H, W]", func() {
		plain.Forward(tensor.Zeros(4, 3, 8, 8))
	})
	requireLayerPanic(t, "nn: 2 (MaxPool2D): tensor: MaxPool2D: kernel 3x3 larger than padded input 2x2 (input [1 3 2 2])", func() {
		nn.NewSequential(plain.At(0), nn.NewReLU(), nn.NewMaxPool2D(3, 3)).Forward(tensor.Zeros(1, 2, 2, 2))
	})
	requireLayerPanic(t, "nn: 0 (ConvReLUPool): input [4 3 8 8], weight [3 2 3 3]: want [N, 2, H, W]", func() {
		fused.Forward(tensor.Zeros(4, 3, 8, 8))
	})
	small := nn.NewSequential(nn.NewConv2D(2, 3, 3, nn.Conv2DOptions{Padding: []int{1}}), nn.NewReLU(), nn.NewMaxPool2D(3, 3))
	nn.Fuse(small)
	requireLayerPanic(t, "nn: 0 (ConvReLUPool): tensor: MaxPool2D: kernel 3x3 larger than padded input 2x2 (input [1 3 2 2])", func() {
		small.Forward(tensor.Zeros(1, 2, 2, 2))
	})

	// A layer with a hook is not fused away.
	hooked := convNet()
	hooked.At(1).(*nn.ReLU).RegisterForwardPostHook(func(nn.Layer, *tensor.Tensor, *tensor.Tensor) *tensor.Tensor { return nil })
	require.Equal(t, 1, nn.Fuse(hooked))
	require.IsType(t, &nn.Conv2D{}, hooked.At(0))
}

// Append after Fuse names the new layer past the largest name, not by its index, which Fuse
// left taken.
func TestAppendAfterFuse(t *testing.T) {
	net := nn.NewSequential(
		nn.NewConv2D(1, 2, 3), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(2, 2, 3), nn.NewReLU(), nn.NewMaxPool2D(2, 2))
	require.Equal(t, 2, nn.Fuse(net))
	net.Append(nn.NewFlatten())
	net.Append(nn.NewLinear(2, 3))
	var names []string
	for _, c := range net.Sublayers() {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"0", "3", "4", "5"}, names)
}
