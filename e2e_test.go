//go:build !race

// The end-to-end test trains on the real MNIST, which takes minutes under the race detector; it
// runs in the plain `go test ./...` (the README's command) and is left out of -race runs.

package oar_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/models"
	"github.com/oarlab/oar/vision/transforms"
)

// TestLeNetMNISTOneEpoch is the quick start for one epoch: Paddle's LeNet, Adam 0.001, batch 64,
// Normalize(127.5, 127.5), on the real MNIST; it must reach 97% test accuracy. It skips when MNIST
// cannot be had, unless OAR_REQUIRE_MNIST is set (CI sets it).
func TestLeNetMNISTOneEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST for an epoch")
	}
	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
	train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train", Transform: norm})
	if err != nil {
		if os.Getenv("OAR_REQUIRE_MNIST") == "" {
			t.Skipf("real MNIST unavailable (set OAR_REQUIRE_MNIST=1 to fail instead): %v", err)
		}
		t.Fatal(err)
	}
	test, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "test", Transform: norm})
	require.NoError(t, err)

	oar.Seed(1)
	net := models.LeNet(10)
	nn.Fuse(net)
	m := oar.NewModel(net)
	m.Prepare(optim.NewAdam(m.Params(), 0.001), losses.NewCrossEntropy(), metrics.NewAccuracy())
	start := time.Now()
	_, err = m.Fit(context.Background(), train, oar.FitOptions{Epochs: 1, BatchSize: 64, Workers: 1, Seed: 1})
	require.NoError(t, err)
	res, err := m.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 1000})
	require.NoError(t, err)
	t.Logf("one epoch in %v: test accuracy %.4f, loss %.4f", time.Since(start).Round(time.Second), res["acc"], res["loss"])
	require.GreaterOrEqual(t, res["acc"], 0.97)
}
