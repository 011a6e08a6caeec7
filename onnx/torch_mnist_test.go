//go:build !race

// Fine-tuning on the real MNIST takes minutes under the race detector; as the root package's
// end-to-end test, it runs in the plain `go test` and is left out of -race runs.

package onnx_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/transforms"
)

// TestTorchLeNetFineTune trains the PyTorch-exported LeNet (random torch weights, opset 13), as
// imported, for one epoch on the real MNIST with the quick start's settings (Adam 0.001, batch
// 64, Normalize(127.5, 127.5)): the gradients flow through the imported graph into its
// initializers, and it must reach 97% test accuracy. It skips when MNIST cannot be had, unless
// OAR_REQUIRE_MNIST is set (CI sets it).
func TestTorchLeNetFineTune(t *testing.T) {
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
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.Load(filepath.Join(torchDir, "lenet_opset13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	oar.Seed(1)
	m := oar.NewModel(g)
	m.Prepare(optim.NewAdam(m.Params(), 0.001), losses.NewCrossEntropy(), metrics.NewAccuracy())
	start := time.Now()
	if _, err := m.Fit(context.Background(), train, oar.FitOptions{Epochs: 1, BatchSize: 64, Workers: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	res, err := m.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one epoch in %v: test accuracy %.4f, loss %.4f", time.Since(start).Round(time.Second), res["acc"], res["loss"])
	if res["acc"] < 0.97 {
		t.Errorf("test accuracy %.4f < 0.97", res["acc"])
	}
}
