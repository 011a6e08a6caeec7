package main

import (
	"context"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
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

// TestRun runs the example for two epochs on a tiny file in the tutorial's format and checks
// section 4's lines and the saved parameters.
func TestRun(t *testing.T) {
	c := config{epochs: 2, batch: 10, workers: 1, logEvery: 2, lr: 0.01,
		jsonPath: tutorialtest.JSONFile(t, 25), out: t.TempDir(), seed: 1}
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out, c))
	tutorialtest.RequireLines(t, out.String(),
		`mnist dataset load done`,
		`train samples: 25, valid samples: 25, eval samples: 25`,
		`Total params: 20,350`,
		`epoch: 0, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 2, loss is: \[[0-9.e+-]+\]`,
		`epoch 0: train loss [0-9.]+, train acc [0-9.]+, valid acc [0-9.]+ \(.*\)`,
		`epoch: 1, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch 1: train loss [0-9.]+, train acc [0-9.]+, valid acc [0-9.]+ \(.*\)`,
		`saved .*mnist_cnn.safetensors`,
		`time: .*`,
		`test accuracy: [0-9.]+`,
	)
	require.FileExists(t, filepath.Join(c.out, "mnist_cnn.safetensors"))
}

// TestDefaultEpochs checks that the default is the tutorial's EPOCH_NUM, 10, and -epochs sets fewer.
func TestDefaultEpochs(t *testing.T) {
	fs := flag.NewFlagSet("cnn", flag.ContinueOnError)
	c := defineFlags(fs)
	require.NoError(t, fs.Parse(nil))
	require.Equal(t, 10, c.epochs)
	require.Equal(t, 100, c.batch)
	require.Equal(t, 0.01, c.lr)
	require.NoError(t, fs.Parse([]string{"-epochs", "2"}))
	require.Equal(t, 2, c.epochs)
}
