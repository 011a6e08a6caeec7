// Command lenet trains Paddle's LeNet on MNIST with the high-level Model API: the steps of
// section 3.3 of the tutorial (卷积神经网络的简单运用, the quick start of
// paddle.Model), from the data set to the saved model.
//
//  1. MNIST train and test sets with Normalize(127.5, 127.5), pixels in [-1, 1]
//     (paddle.vision.datasets.MNIST(mode=..., transform=T.Normalize(...))); the real data set is
//     acquired and cached on first use (see vision/datasets), or read from -data;
//  2. models.LeNet(10) and its summary table (paddle.summary(network, (1, 1, 28, 28))), then
//     nn.Fuse, which runs each Conv2D, ReLU, MaxPool2D as one layer (same values, faster; not in
//     Paddle);
//  3. Prepare with Adam(0.001), cross entropy and accuracy, then Fit for 5 epochs of batches of
//     64, evaluating on the test set after each epoch (model.prepare, model.fit);
//  4. Evaluate on the test set (model.evaluate);
//  5. Save the parameters and optimizer state to <out>/mnist.safetensors and
//     <out>/mnist.opt.safetensors (model.save('finetuning/mnist'));
//  6. Predict the test set (model.predict) and draw <out>/predictions.png, a grid of test digits
//     titled with the predicted and true labels (the misclassified ones in red, framed), and
//     <out>/curves.png, the loss and accuracy per epoch;
//
// and it ends with a line such as "test accuracy: 0.9859". Ctrl-C stops training at the next batch
// and exits with status 130.
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/lenet                 # 5 epochs: test accuracy 0.9859, under 2 minutes on 2 cores
//	go run ./examples/lenet -epochs 1       # one epoch: 0.9715
//	go run ./examples/lenet -data ~/.cache/paddle/dataset/mnist -out /tmp/lenet -seed 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/models"
	"github.com/oarlab/oar/vision/transforms"
)

type config struct {
	epochs, batch, workers, logFreq int
	lr                              float64
	out, dataDir                    string
	seed                            uint64
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 5, "training epochs")
	flag.IntVar(&c.batch, "batch", 64, "batch size")
	flag.Float64Var(&c.lr, "lr", 0.001, "Adam's learning rate")
	flag.IntVar(&c.workers, "workers", 1, "loader goroutines that build batches ahead of training (0: inline)")
	flag.IntVar(&c.logFreq, "logfreq", 10, "steps between progress updates (Paddle's log_freq)")
	flag.StringVar(&c.out, "out", "out", "directory for the checkpoint and the PNGs")
	flag.StringVar(&c.dataDir, "data", "", "directory holding the MNIST IDX files (default: the cache, acquired if absent)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the initial weights and of the shuffling")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "lenet: interrupted, nothing saved")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "lenet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	start := time.Now()
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}

	// 1. The data: pixels normalized to [-1, 1].
	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
	train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train", Dir: c.dataDir, Transform: norm})
	if err != nil {
		return err
	}
	test, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "test", Dir: c.dataDir, Transform: norm})
	if err != nil {
		return err
	}
	fmt.Printf("train samples: %d, test samples: %d\n", train.Len(), test.Len())

	// 2. The network.
	oar.Seed(c.seed)
	net := models.LeNet(10)
	oar.Summary(net, []int{1, 1, 28, 28})
	// Run each Conv2D, ReLU, MaxPool2D as one nn.ConvReLUPool: the same values and gradients bit
	// for bit and the same parameter names (the checkpoint is Paddle's LeNet's), faster. Without
	// this line the layers run one by one, as the table above shows them.
	nn.Fuse(net)

	// 3. Prepare and fit.
	model := oar.NewModel(net)
	model.Prepare(optim.NewAdam(model.Params(), float32(c.lr)), losses.NewCrossEntropy(), metrics.NewAccuracy())
	means := &lossMeans{}
	hist, err := model.Fit(ctx, train, oar.FitOptions{
		Eval:      test,
		Epochs:    c.epochs,
		BatchSize: c.batch,
		LogFreq:   c.logFreq,
		Verbose:   1,
		Workers:   c.workers,
		Seed:      c.seed,
		Callbacks: []oar.Callback{means},
	})
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	trained := time.Since(start)

	// 4. Evaluate.
	res, err := model.Evaluate(ctx, test, oar.EvalOptions{BatchSize: c.batch, LogFreq: c.logFreq, Verbose: 1, Workers: c.workers})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	fmt.Printf("eval: loss %.4g (last batch, as Paddle reports it), acc %.4f\n", res["loss"], res["acc"])

	// 5. Save.
	ckpt := filepath.Join(c.out, "mnist")
	if err := model.Save(ckpt); err != nil {
		return err
	}
	fmt.Printf("saved %s.safetensors and %s.opt.safetensors\n", ckpt, ckpt)

	// 6. Predict and draw.
	outs, err := model.Predict(ctx, test, oar.PredictOptions{BatchSize: 256, Stack: true, Workers: c.workers})
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	ids := outs[0][0].ArgMax(1).Data()
	digits := make([]digit, test.Len())
	wrong := 0
	for i := range digits {
		digits[i] = digit{index: i, pixels: test.Image(i), pred: int(ids[i]), label: test.Label(i)}
		if digits[i].pred != digits[i].label {
			wrong++
		}
	}
	fmt.Printf("predicted %d test digits: %d wrong\n", len(digits), wrong)
	pngs := []string{filepath.Join(c.out, "predictions.png"), filepath.Join(c.out, "curves.png")}
	if err := drawPredictions(pngs[0], pickDigits(digits, 4*6, 8), 4, 6); err != nil {
		return err
	}
	if err := drawCurves(pngs[1], hist, means); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", pngs[0], pngs[1])
	fmt.Printf("time: %v training and evaluating during training, %v in all\n",
		trained.Round(time.Second), time.Since(start).Round(time.Second))
	fmt.Printf("test accuracy: %.4f\n", res["acc"])
	return nil
}

// lossMeans records the mean loss of every training epoch and of every evaluation, weighted by
// the batch sizes. Fit's History holds the loss of each epoch's last batch, as Paddle logs it,
// which is noisy; the curves show both.
type lossMeans struct {
	oar.BaseCallback
	Train, Eval []float64
	sum         float64
	n           int
}

func (l *lossMeans) add(logs oar.Logs) {
	if v, ok := logs.Get("loss"); ok {
		l.sum += v * float64(logs.BatchSize)
		l.n += logs.BatchSize
	}
}

func (l *lossMeans) mean() float64 {
	m := l.sum / float64(max(l.n, 1))
	l.sum, l.n = 0, 0
	return m
}

func (l *lossMeans) OnEpochBegin(int, oar.Logs)        { l.sum, l.n = 0, 0 }
func (l *lossMeans) OnTrainBatchEnd(_ int, g oar.Logs) { l.add(g) }
func (l *lossMeans) OnEpochEnd(int, oar.Logs)          { l.Train = append(l.Train, l.mean()) }
func (l *lossMeans) OnEvalBegin(oar.Logs)              { l.sum, l.n = 0, 0 }
func (l *lossMeans) OnEvalBatchEnd(_ int, g oar.Logs)  { l.add(g) }
func (l *lossMeans) OnEvalEnd(oar.Logs)                { l.Eval = append(l.Eval, l.mean()) }
