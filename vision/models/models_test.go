package models_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func TestLeNetIsPaddles(t *testing.T) {
	net := models.LeNet(10)
	var names []string
	var shapes [][]int
	for _, p := range net.Params() {
		names = append(names, p.Name)
		shapes = append(shapes, p.Shape())
	}
	require.Equal(t, []string{
		"features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
		"fc.0.weight", "fc.0.bias", "fc.1.weight", "fc.1.bias", "fc.2.weight", "fc.2.bias",
	}, names)
	require.Equal(t, [][]int{{6, 1, 3, 3}, {6}, {16, 6, 5, 5}, {16}, {400, 120}, {120}, {120, 84}, {84}, {84, 10}, {10}}, shapes)
	// no activation between the Linear layers
	for i := range net.FC.Len() {
		require.IsType(t, &nn.Linear{}, net.FC.At(i))
	}
	require.Equal(t, []int{2, 16, 5, 5}, models.LeNet(0).Forward(tensor.Zeros(2, 1, 28, 28)).Shape())
	defer func() {
		require.EqualError(t, recover().(error), "nn: features.0 (Conv2D): input [2 3 28 28], weight [6 1 3 3]: want [N, 1, H, W]")
	}()
	net.Forward(tensor.Zeros(2, 3, 28, 28))
}

// Fusing LeNet keeps Paddle's keys, and a checkpoint of either form loads into the other.
func TestLeNetFusedKeepsPaddlesKeys(t *testing.T) {
	keys := func(l nn.Layer) []string {
		var out []string
		for _, p := range nn.StateDict(l) {
			out = append(out, p.Name)
		}
		return out
	}
	plain, fused := models.LeNet(10), models.LeNet(10)
	require.Equal(t, 2, nn.Fuse(fused))
	require.Equal(t, 2, fused.Features.Len())
	require.Equal(t, keys(plain), keys(fused))
	require.Equal(t, []string{"features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias"}, keys(plain)[:4])
	dir := t.TempDir()
	for i, c := range []struct{ from, to nn.Layer }{{plain, fused}, {fused, models.LeNet(10)}} {
		path := filepath.Join(dir, fmt.Sprint(i, ".safetensors"))
		require.NoError(t, nn.Save(path, c.from))
		_, err := nn.Load(path, c.to)
		require.NoError(t, err)
		for j, p := range nn.StateDict(c.to) {
			require.Equal(t, nn.StateDict(c.from)[j].Data(), p.Data(), p.Name)
		}
	}
	x := tensor.Randn(rand.New(rand.NewPCG(1, 2)), 3, 1, 28, 28)
	require.Equal(t, plain.Forward(x).Data(), fused.Forward(x).Data(), "bit for bit")
	defer func() {
		require.EqualError(t, recover().(error), "nn: features.0 (ConvReLUPool): input [2 3 28 28], weight [6 1 3 3]: want [N, 1, H, W]")
	}()
	fused.Forward(tensor.Zeros(2, 3, 28, 28))
}

func TestMLP(t *testing.T) {
	net := models.MLP([]int{784, 10, 10, 1}, func() nn.Layer { return nn.NewSigmoid() })
	require.Equal(t, 5, net.Len())
	require.IsType(t, &nn.Sigmoid{}, net.At(1))
	require.IsType(t, &nn.Linear{}, net.At(-1))
	require.Equal(t, []int{3, 1}, net.Forward(tensor.Zeros(3, 784)).Shape())
	require.Equal(t, 1, models.MLP([]int{4, 2}, nil).Len())
	require.Panics(t, func() { models.MLP([]int{4}, nil) })
}
