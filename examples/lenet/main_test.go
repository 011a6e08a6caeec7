package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
)

// TestRun runs the example on a small MNIST in the IDX format (300 training and 250 test
// images) for one epoch and checks section 3.3's lines and the files.
func TestRun(t *testing.T) {
	c := config{epochs: 1, batch: 64, evalBatch: 1, workers: 1, logFreq: 10, lr: 0.001,
		out: t.TempDir(), dataDir: tutorialtest.IDXDir(t, 300, 250), seed: 1}
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out, c))
	value := `\d\.\d{4}(e[+-]\d\d)?`
	py := `[0-9.e+-]+`
	tutorialtest.RequireLines(t, out.String(),
		`train samples: 300, test samples: 250`,
		`image:`,
		`\*tensor\.Tensor`,
		`\[1 28 28\]`,
		`label:`,
		`\*tensor\.Tensor`,
		`\[0\]`,
		`wrote .*train_image_0\.png`,
		` Layer \(type\) +Input Shape +Output Shape +Param # +`,
		`Total params: 61,610`,
		`The loss value printed in the log is the current step, and the metric is the average value of previous steps\.`,
		`Epoch 1/1`,
		`step 5/5 \[=+\] - loss: `+value+` - acc: `+value+` - .*/step`,
		`Eval begin\.\.\.`,
		`Eval samples: 250`,
		// model.evaluate(eval_dataset, verbose=1): batch size 1, 250 steps.
		`Eval begin\.\.\.`,
		`step  10/250 \[=?>?\.+\] - loss: `+value+` - acc: `+value+` - ETA: .*`,
		`step 250/250 \[=+\] - loss: `+value+` - acc: `+value+` - .*/step`,
		`Eval samples: 250`,
		`\{'loss': \[`+py+`\], 'acc': `+py+`\}`,
		`Predict begin\.\.\.`,
		`step 250/250 \[=+\] - .*/step`,
		`Predict samples: 250`,
		`test image 2: predict: \d \(label 2\)`,
		`test image 15: predict: \d \(label 5\)`,
		`test image 38: predict: \d \(label 8\)`,
		`test image 211: predict: \d \(label 1\)`,
		`wrote .*tutorial_predictions\.png`,
		`predicted 250 test digits: \d+ wrong`,
		`wrote .*predictions\.png and .*curves\.png`,
		`saved .*mnist\.safetensors and .*mnist\.opt\.safetensors`,
		`time: .* in all`,
		`test accuracy: `+value,
	)
	for _, f := range []string{"train_image_0.png", "tutorial_predictions.png", "predictions.png", "curves.png", "mnist.safetensors", "mnist.opt.safetensors"} {
		st, err := os.Stat(filepath.Join(c.out, f))
		require.NoError(t, err)
		require.Greater(t, st.Size(), int64(100), f)
	}

	c.dataDir = tutorialtest.IDXDir(t, 300, 200)
	require.ErrorContains(t, run(context.Background(), &out, c), "the test set has 200 images; the tutorial shows image 211")
}

func fakeDigits(n int) []digit {
	ds := make([]digit, n)
	for i := range ds {
		px := make([]byte, 28*28)
		for y := 6; y < 22; y++ {
			px[y*28+10+i%8] = 255 // a stroke
		}
		ds[i] = digit{index: i, pixels: px, pred: i % 10, label: i % 10}
		if i%7 == 3 {
			ds[i].pred = (i + 1) % 10
		}
	}
	return ds
}

func TestPickDigits(t *testing.T) {
	all := fakeDigits(100)
	got := pickDigits(all, 24, 8)
	require.Len(t, got, 24)
	wrong := 0
	for i, d := range got {
		if d.pred != d.label {
			wrong++
		}
		if i > 0 {
			require.Less(t, got[i-1].index, d.index)
		}
	}
	require.Equal(t, 8, wrong)
	require.Len(t, pickDigits(all[:5], 24, 8), 5)
}

func TestDrawPNGs(t *testing.T) {
	dir := os.Getenv("LENET_PNG_DIR") // set to look at the pictures
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, drawPredictions(filepath.Join(dir, "predictions.png"), pickDigits(fakeDigits(100), 24, 8), 4, 6))
	logs := func(loss, acc float64) oar.Logs {
		return oar.Logs{Names: []string{"loss", "acc"}, Values: []float64{loss, acc}}
	}
	hist := &oar.History{
		Train: []oar.Logs{logs(0.2, 0.93), logs(0.05, 0.97), logs(0.08, 0.98)},
		Eval:  []oar.Logs{logs(0.01, 0.97), logs(0.002, 0.98), logs(0.03, 0.985)},
	}
	means := &lossMeans{Train: []float64{0.25, 0.07, 0.05}, Eval: []float64{0.09, 0.06, 0.05}}
	require.NoError(t, drawCurves(filepath.Join(dir, "curves.png"), hist, means))
	require.NoError(t, drawTutorialPredictions(filepath.Join(dir, "tutorial_predictions.png"), fakeDigits(4)))
	require.NoError(t, drawImage(filepath.Join(dir, "train_image_0.png"), fakeDigits(1)[0].pixels))
	for _, f := range []string{"predictions.png", "curves.png", "tutorial_predictions.png", "train_image_0.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Greater(t, st.Size(), int64(500))
	}
}
