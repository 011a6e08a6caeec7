package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
	"github.com/oarlab/oar/vision/datasets"
)

// TestRunSynthetic runs the example on a small generated archive (200 training and 100 test
// images) for one epoch and checks its lines and files.
func TestRunSynthetic(t *testing.T) {
	c := config{epochs: 1, batch: 50, workers: 2, logFreq: 2, lr: 0.05, weightDecay: 5e-4, out: t.TempDir(),
		synthetic: true, nTrain: 200, nTest: 100, seed: 1}
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out, c))
	value := `\d\.\d{4}(e[+-]\d\d)?`
	tutorialtest.RequireLines(t, out.String(),
		`wrote .*synthetic-cifar-10-python\.tar\.gz: 200 training and 100 test images generated in CIFAR-10's format`,
		`train samples: 200, test samples: 100`,
		`image: \[3 32 32\], label: \[0\] \(airplane\)`,
		`ResNet-18: 11181642 parameters`,
		`Epoch 1/1`,
		`step 4/4 \[=+\] - loss: `+value+` - acc: `+value+` - .*/step`,
		`Eval begin\.\.\.`,
		`Eval samples: 100`,
		`saved .*cifar10_resnet18\.safetensors and .*cifar10_resnet18\.opt\.safetensors`,
		`time: .* in all`,
		`test accuracy: `+value,
	)
	for _, f := range []string{"synthetic-cifar-10-python.tar.gz", "cifar10_resnet18.safetensors", "cifar10_resnet18.opt.safetensors"} {
		_, err := os.Stat(filepath.Join(c.out, f))
		require.NoError(t, err)
	}

	// The synthetic archive is read as the real one: five training batches in order.
	ds, err := datasets.NewCifar10(datasets.CifarOptions{DataFile: filepath.Join(c.out, "synthetic-cifar-10-python.tar.gz")})
	require.NoError(t, err)
	for i := range ds.Len() {
		require.Equal(t, i%10, ds.Label(i))
	}
}

// TestRunMissingData checks the message when the archive is not where -data says.
func TestRunMissingData(t *testing.T) {
	dir := t.TempDir()
	c := config{epochs: 1, batch: 8, logFreq: 1, lr: 0.1, out: t.TempDir(), dataDir: dir, nTrain: 1, nTest: 1, seed: 1}
	err := run(context.Background(), &strings.Builder{}, c)
	require.Error(t, err)
	for _, want := range []string{
		filepath.Join(dir, "cifar-10-python.tar.gz"), "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
		"6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", "-synthetic",
	} {
		require.ErrorContains(t, err, want)
	}
	c.epochs = 0
	require.ErrorContains(t, run(context.Background(), &strings.Builder{}, c), "-epochs 0")
}
