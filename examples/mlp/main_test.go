package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
)

func TestNet(t *testing.T) {
	net := newNet()
	n := 0
	for _, p := range net.Params() {
		n += p.Len()
	}
	require.Equal(t, 784*10+10+10*10+10+10*1+1, n)
	x := tensor.Zeros(4, 784)
	require.Equal(t, []int{4, 1}, net.Forward(x).Shape())
}
