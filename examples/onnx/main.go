// Command onnx takes a model out of oar and back in through ONNX: it trains Paddle's LeNet on
// MNIST for one epoch, exports it as an ONNX file (Paddle's model.save(path, training=False)),
// imports that file back as an oar layer, shows that the two agree on the test set, fine-tunes
// the imported model briefly with autograd and Adam, exports it again, and prints how to serve
// the file with ONNX Runtime or NVIDIA Triton.
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/onnx
//	go run ./examples/onnx -finetune 300 -out ./work
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/models"
	"github.com/oarlab/oar/vision/transforms"
)

type config struct {
	epochs, batch, finetune int
	lr, finetuneLR          float64
	out, dataDir            string
	seed                    uint64
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 1, "training epochs before the export")
	flag.IntVar(&c.batch, "batch", 64, "batch size")
	flag.IntVar(&c.finetune, "finetune", 200, "fine-tuning steps of the imported model")
	flag.Float64Var(&c.lr, "lr", 0.001, "Adam's learning rate for training")
	flag.Float64Var(&c.finetuneLR, "finetune-lr", 0.0003, "Adam's learning rate for fine-tuning")
	flag.StringVar(&c.out, "out", "out", "directory for the ONNX files")
	flag.StringVar(&c.dataDir, "data", "", "directory of the MNIST IDX files (default: oar's cache, acquired if absent)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the initial weights and of the shuffling")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "onnx:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, c config) error {
	if c.epochs < 1 || c.batch < 1 || c.finetune < 0 || !(c.lr > 0) || !(c.finetuneLR > 0) {
		return fmt.Errorf("-epochs %d, -batch %d, -lr %v and -finetune-lr %v must be positive, -finetune %d not negative",
			c.epochs, c.batch, c.lr, c.finetuneLR, c.finetune)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
	train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train", Dir: c.dataDir, Transform: norm})
	if err != nil {
		return err
	}
	test, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "test", Dir: c.dataDir, Transform: norm})
	if err != nil {
		return err
	}

	// 1. Train LeNet as the tutorial does.
	start := time.Now()
	oar.Seed(c.seed)
	net := models.LeNet(10)
	nn.Fuse(net) // exported as Conv, Relu, MaxPool all the same
	model := oar.NewModel(net)
	model.Prepare(optim.NewAdam(model.Params(), float32(c.lr)), losses.NewCrossEntropy(), metrics.NewAccuracy())
	if _, err := model.Fit(ctx, train, oar.FitOptions{Epochs: c.epochs, BatchSize: c.batch, Seed: c.seed}); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	acc, err := accuracy(ctx, model, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "trained LeNet for %d epoch(s) in %v: test accuracy %.4f\n", c.epochs, time.Since(start).Round(time.Second), acc)

	// 2. Export: Paddle's model.save(path, training=False) writes the inference model.
	path := filepath.Join(c.out, "lenet")
	model.InputShape = []int{1, 1, 28, 28} // Paddle's Model(net, inputs=InputSpec([None, 1, 28, 28]))
	if err := model.Save(path, oar.SaveOptions{Inference: true}); err != nil {
		return err
	}
	info, err := os.Stat(path + ".onnx")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "exported %s.onnx (%d bytes, opset 13, dynamic batch)\n", path, info.Size())

	// 3. Import it back: an nn.Layer running the ONNX graph on oar's kernels.
	graph, err := onnx.Load(path + ".onnx")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "imported %s.onnx: %d parameters in %d tensors\n", path, countParams(graph), len(graph.Params()))

	// 4. The two agree on the test set.
	diff, agree, err := compare(ctx, net, graph, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "oar and the imported model on %d test images: max |difference| of the logits %.2g, same prediction for %d\n",
		test.Len(), diff, agree)

	// 5. Fine-tune the imported model: its initializers are oar parameters.
	imported := oar.NewModel(graph)
	imported.Prepare(optim.NewAdam(imported.Params(), float32(c.finetuneLR)), losses.NewCrossEntropy(), metrics.NewAccuracy())
	if c.finetune > 0 {
		if _, err := imported.Fit(ctx, train, oar.FitOptions{BatchSize: c.batch, Seed: c.seed + 1, NumIters: c.finetune}); err != nil {
			return fmt.Errorf("fine-tune: %w", err)
		}
	}
	acc2, err := accuracy(ctx, imported, test)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "fine-tuned the imported model for %d steps: test accuracy %.4f (was %.4f)\n", c.finetune, acc2, acc)
	tuned := filepath.Join(c.out, "lenet_finetuned.onnx")
	if err := onnx.Save(tuned, graph, []int{1, 1, 28, 28}); err != nil {
		return err
	}
	fmt.Fprintf(w, "exported %s\n", tuned)

	// 6. Serving.
	fmt.Fprintf(w, `
to serve %[1]s.onnx:
  ONNX Runtime (Python):  sess = onnxruntime.InferenceSession("%[1]s.onnx")
                          logits = sess.run(None, {"input": images})[0]   # images: float32 [N,1,28,28] in [-1, 1]
  ONNX Runtime (node):    see bench/onnx/ort_infer.js
  NVIDIA Triton:          model_repository/lenet/1/model.onnx (this file) and
                          model_repository/lenet/config.pbtxt with platform: "onnxruntime_onnx",
                          max_batch_size: 1000 (the batch dimension is dynamic)
`, path)
	return nil
}

// accuracy is the test accuracy of m in batches of 1000.
func accuracy(ctx context.Context, m *oar.Model, test data.Dataset) (float64, error) {
	res, err := m.Evaluate(ctx, test, oar.EvalOptions{BatchSize: 1000})
	if err != nil {
		return 0, err
	}
	return res["acc"], nil
}

// compare runs a and b on the test images and returns the largest absolute difference of
// their outputs and how many predictions (arg max) they share.
func compare(ctx context.Context, a, b nn.Layer, test data.Dataset) (maxDiff float64, agree int, err error) {
	nn.Eval(a)
	nn.Eval(b)
	loader := &data.Loader{Dataset: test, BatchSize: 1000}
	for batch := range loader.All(ctx) {
		x := batch[0].NoGrad()
		ya, yb := a.Forward(x), b.Forward(x)
		for i, v := range ya.Data() {
			maxDiff = math.Max(maxDiff, math.Abs(float64(v-yb.Data()[i])))
		}
		pa, pb := ya.ArgMax(1).Data(), yb.ArgMax(1).Data()
		for i := range pa {
			if pa[i] == pb[i] {
				agree++
			}
		}
	}
	return maxDiff, agree, ctx.Err()
}

func countParams(l nn.Layer) int {
	n := 0
	for _, p := range l.Params() {
		n += p.Len()
	}
	return n
}
