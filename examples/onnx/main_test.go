package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
	"github.com/oarlab/oar/onnx"
)

// TestRun runs the example on a small MNIST (300 training and 250 test images) and checks that
// the export and the import agree on every test image and that both files load.
func TestRun(t *testing.T) {
	c := config{epochs: 1, batch: 64, finetune: 3, lr: 0.001, finetuneLR: 0.0003,
		out: t.TempDir(), dataDir: tutorialtest.IDXDir(t, 300, 250), seed: 1}
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out, c))
	t.Log(out.String())
	tutorialtest.RequireLines(t, out.String(),
		`trained LeNet for 1 epoch\(s\) in .*: test accuracy 0\.\d{4}`,
		`exported .*lenet\.onnx \(\d+ bytes, opset 13, dynamic batch\)`,
		`imported .*lenet\.onnx: 61610 parameters in 10 tensors`,
		`oar and the imported model on 250 test images: max \|difference\| of the logits .*, same prediction for 250`,
		`fine-tuned the imported model for 3 steps: test accuracy 0\.\d{4} \(was 0\.\d{4}\)`,
		`exported .*lenet_finetuned\.onnx`,
		`to serve .*lenet\.onnx:`,
	)
	for _, name := range []string{"lenet.onnx", "lenet_finetuned.onnx"} {
		path := filepath.Join(c.out, name)
		_, err := os.Stat(path)
		require.NoError(t, err)
		_, err = onnx.Load(path)
		require.NoError(t, err, name)
	}
}
