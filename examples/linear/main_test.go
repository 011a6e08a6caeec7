package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
	"github.com/oarlab/oar/nn"
)

// TestRun runs the example on a tiny file in the tutorial's format and checks the lines of
// section 1 and the saved parameters.
func TestRun(t *testing.T) {
	c := tutorial.Regression{Epochs: 2, Batch: 10, LogEvery: 2, Index: 3, LR: 0.001,
		JSONPath: tutorialtest.JSONFile(t, 25), Out: t.TempDir(), Seed: 1}
	var out strings.Builder
	require.NoError(t, tutorial.RunRegression(context.Background(), &out, "linear", newNet, c))
	tutorialtest.RequireLines(t, out.String(),
		`loading mnist dataset from .*mnist.json \.\.\.\.\.\.`,
		`mnist dataset load done`,
		`train samples: 25`,
		`valid samples: 25`,
		`eval samples: 25`,
		`load_data\(train\): 25 samples in batches of 10`,
		`the first batch's shapes and types:`,
		`image shape: \[10 784\], label shape: \[10\], image type: \*tensor\.Tensor, label type: \*tensor\.Tensor`,
		`epoch: 0, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 2, loss is: \[[0-9.e+-]+\]`,
		`epoch: 1, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`load_data\(eval\): 25 samples in batches of 10`,
		`eval split: mean square error [0-9.]+, predictions rounding to the true digit [0-9.]+`,
		`saved .*mnist_linear.safetensors`,
		`eval image 3: predicted -?[0-9.]+ \(digit \d\), true digit 3`,
	)
	params := filepath.Join(c.Out, "mnist_linear.safetensors")
	require.FileExists(t, params)
	var names []string
	for _, p := range nn.StateDict(newNet()) {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"fc.weight", "fc.bias"}, names)
}
