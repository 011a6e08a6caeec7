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
	"github.com/oarlab/oar/tensor"
)

func TestNet(t *testing.T) {
	net := newNet()
	var names []string
	n := 0
	for _, p := range nn.StateDict(net) {
		names = append(names, p.Name)
		n += p.Len()
	}
	require.Equal(t, []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"}, names,
		"the tutorial's self.fc1, self.fc2, self.fc3")
	require.Equal(t, 784*10+10+10*10+10+10*1+1, n)
	x := tensor.Zeros(4, 784)
	require.Equal(t, []int{4, 1}, net.Forward(x).Shape())
}

// TestRun runs the example on a tiny file in the tutorial's format and checks the lines of
// section 1 and the saved parameters.
func TestRun(t *testing.T) {
	c := tutorial.Regression{Epochs: 1, Batch: 10, LogEvery: 1, Index: 7, LR: 0.001,
		JSONPath: tutorialtest.JSONFile(t, 25), Out: t.TempDir(), Seed: 1}
	var out strings.Builder
	require.NoError(t, tutorial.RunRegression(context.Background(), &out, "mlp", newNet, c))
	tutorialtest.RequireLines(t, out.String(),
		`mnist dataset load done`,
		`train samples: 25`,
		`valid samples: 25`,
		`eval samples: 25`,
		`load_data\(train\): 25 samples in batches of 10`,
		`image shape: \[10 784\], label shape: \[10\], image type: \*tensor\.Tensor, label type: \*tensor\.Tensor`,
		`epoch: 0, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 1, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 2, loss is: \[[0-9.e+-]+\]`,
		`saved .*mnist_mlp.safetensors`,
		`eval image 7: predicted -?[0-9.]+ \(digit \d\), true digit 7`,
	)
	_, err := nn.Load(filepath.Join(c.Out, "mnist_mlp.safetensors"), newNet())
	require.NoError(t, err, "the saved file has the tutorial's keys")
}
