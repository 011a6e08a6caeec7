package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
)

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
	for _, f := range []string{"predictions.png", "curves.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Greater(t, st.Size(), int64(1000))
	}
}
