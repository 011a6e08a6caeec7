package main

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
)

func TestNet(t *testing.T) {
	net := newNet()
	var names []string
	for _, p := range net.Params() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}, names)
	x := tensor.Randn(rand.New(rand.NewPCG(1, 2)), 3, 1, 28, 28)
	require.Equal(t, []int{3, 10}, net.Forward(x).Shape())
}
