// Command lenet trains Paddle's LeNet on MNIST with the high-level Model API: the steps of
// section 3.3 of the tutorial (卷积神经网络的简单运用, the quick start of paddle.Model), from the
// data set to the saved model, printing what the tutorial prints and drawing its figures.
//
//  1. MNIST train and test sets with Normalize(127.5, 127.5), pixels in [-1, 1]
//     (paddle.vision.datasets.MNIST(mode=..., transform=T.Normalize(...))), and their sizes,
//     "train samples: 60000, test samples: 10000"; the real data set is acquired and cached on
//     first use (see vision/datasets), or read from -data;
//  2. the data view: the type and shape of train_dataset[0]'s image and its label, as the
//     tutorial prints them ("image:", "*tensor.Tensor", "[1 28 28]", "label:", "*tensor.Tensor",
//     "[5]"), and the image drawn as plt.imshow draws it, <out>/train_image_0.png;
//  3. models.LeNet(10) and its summary table (paddle.summary(network, (1, 1, 28, 28))), then
//     nn.Fuse, which runs each Conv2D, ReLU, MaxPool2D as one layer (same values, faster; not in
//     Paddle);
//  4. Prepare with Adam(0.001), cross entropy and accuracy, then Fit for 5 epochs of batches of
//     64, evaluating on the test set after each epoch (model.prepare, model.fit);
//  5. result = model.evaluate(eval_dataset, verbose=1) with Paddle's default batch size of 1 (a
//     bar of 10,000 steps; -evalbatch changes it), and print(result): "{'loss': [3.9100647e-05],
//     'acc': 0.9715}". oar's result is a map holding the loss (the last batch's, as Paddle's) as a
//     number, res["loss"]; Paddle's holds it in a list, one value per loss output, and printing
//     oar's shows Paddle's format (see oar.EvalResult);
//  6. result = model.predict(eval_dataset), also with batch size 1, so that result[0][idx] is
//     test image idx's output, and the tutorial's sample, test images 2, 15, 38 and 211, each
//     titled "predict: N" (np.argmax(result[0][idx])): printed ("test image 2: predict: 1 (label
//     1)") and drawn side by side in <out>/tutorial_predictions.png; then, beyond the tutorial,
//     <out>/predictions.png, a grid of test digits titled with the predicted and true labels (the
//     misclassified ones in red, framed), and <out>/curves.png, the loss and accuracy per epoch;
//  7. save the parameters and optimizer state to <out>/mnist.safetensors and
//     <out>/mnist.opt.safetensors (model.save('finetuning/mnist'));
//
// and it ends with the times and a line such as "test accuracy: 0.9858". Ctrl-C stops training
// at the next batch and exits with status 130. On a terminal the progress bars are redrawn in
// place; piped, each update is a line (the evaluation at batch size 1 then prints 1,000 lines,
// one every -logfreq steps, and the prediction 5,000, one every 2 steps as Paddle's predict).
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/lenet                 # 5 epochs: test accuracy 0.9858, under 2 minutes on 2 cores
//	go run ./examples/lenet -epochs 1       # one epoch: 0.9715
//	go run ./examples/lenet -data ~/.cache/paddle/dataset/mnist -out /tmp/lenet -seed 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	epochs, batch, evalBatch, workers, logFreq int
	lr                                         float64
	out, dataDir                               string
	seed                                       uint64
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 5, "training epochs")
	flag.IntVar(&c.batch, "batch", 64, "batch size of training and of the evaluations during training")
	flag.IntVar(&c.evalBatch, "evalbatch", 1, "batch size of the final evaluation (model.evaluate's default, 1)")
	flag.Float64Var(&c.lr, "lr", 0.001, "Adam's learning rate")
	flag.IntVar(&c.workers, "workers", 1, "loader goroutines that build batches ahead of training (0: inline)")
	flag.IntVar(&c.logFreq, "logfreq", 10, "steps between progress updates (Paddle's log_freq)")
	flag.StringVar(&c.out, "out", "out", "directory for the checkpoint and the PNGs")
	flag.StringVar(&c.dataDir, "data", "", "directory holding the MNIST IDX files (default: the cache, acquired if absent)")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the initial weights and of the shuffling")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, c)
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

func run(ctx context.Context, w io.Writer, c config) error {
	if c.epochs < 1 || c.batch < 1 || c.evalBatch < 1 || c.logFreq < 1 || c.workers < 0 || !(c.lr > 0) {
		return fmt.Errorf("-epochs %d, -batch %d, -evalbatch %d, -logfreq %d and -lr %v must be positive, -workers %d not negative",
			c.epochs, c.batch, c.evalBatch, c.logFreq, c.lr, c.workers)
	}
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
	fmt.Fprintf(w, "train samples: %d, test samples: %d\n", train.Len(), test.Len())
	for _, idx := range tutorialIndices {
		if idx >= test.Len() {
			return fmt.Errorf("the test set has %d images; the tutorial shows image %d", test.Len(), idx)
		}
	}

	// The data view: train_dataset[0]'s image and label, and the image drawn (plt.imshow).
	item := train.Get(0)
	fmt.Fprintln(w, "image:")
	fmt.Fprintf(w, "%T\n", item[0])
	fmt.Fprintln(w, item[0].Shape())
	fmt.Fprintln(w, "label:")
	fmt.Fprintf(w, "%T\n", item[1])
	fmt.Fprintln(w, item[1].Data())
	image0 := filepath.Join(c.out, "train_image_0.png")
	if err := drawImage(image0, train.Image(0)); err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", image0)

	// 2. The network.
	oar.Seed(c.seed)
	net := models.LeNet(10)
	oar.SummaryTo(w, net, []int{1, 1, 28, 28})
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
		Output:    w,
	})
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	trained := time.Since(start)

	// 4. Evaluate: result = model.evaluate(eval_dataset, verbose=1); print(result). Paddle's
	// batch size is 1: a bar of 10,000 steps. The map holds the loss (the last batch's) as a
	// number; printed, it is Paddle's one-element list.
	evalStart := time.Now()
	result, err := model.Evaluate(ctx, test, oar.EvalOptions{BatchSize: c.evalBatch, LogFreq: c.logFreq, Verbose: 1, Workers: c.workers, Output: w})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	fmt.Fprintln(w, result)
	evalTime := time.Since(evalStart)

	// 5. Predict: result = model.predict(eval_dataset), batch size 1 as Paddle's default, so that
	// result[0][idx] (output 0, batch idx) is test image idx's output [1, 10].
	predStart := time.Now()
	pred, err := model.Predict(ctx, test, oar.PredictOptions{Verbose: 1, Workers: c.workers, Output: w})
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	predTime := time.Since(predStart)
	digits := make([]digit, test.Len())
	wrong := 0
	for i := range digits {
		digits[i] = digit{index: i, pixels: test.Image(i), pred: int(pred[0][i].ArgMax().Item()), label: test.Label(i)}
		if digits[i].pred != digits[i].label {
			wrong++
		}
	}
	// The tutorial's sample: show_img(eval_dataset[idx][0], np.argmax(result[0][idx])).
	var shown []digit
	for _, idx := range tutorialIndices {
		d := digit{index: idx, pixels: test.Image(idx), pred: int(pred[0][idx].ArgMax().Item()), label: test.Label(idx)}
		fmt.Fprintf(w, "test image %d: predict: %d (label %d)\n", idx, d.pred, d.label)
		shown = append(shown, d)
	}
	pngs := []string{filepath.Join(c.out, "tutorial_predictions.png"), filepath.Join(c.out, "predictions.png"), filepath.Join(c.out, "curves.png")}
	if err := drawTutorialPredictions(pngs[0], shown); err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", pngs[0])
	fmt.Fprintf(w, "predicted %d test digits: %d wrong\n", len(digits), wrong)
	if err := drawPredictions(pngs[1], pickDigits(digits, 4*6, 8), 4, 6); err != nil {
		return err
	}
	if err := drawCurves(pngs[2], hist, means); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s and %s\n", pngs[1], pngs[2])

	// 6. Save.
	ckpt := filepath.Join(c.out, "mnist")
	if err := model.Save(ckpt); err != nil {
		return err
	}
	fmt.Fprintf(w, "saved %s.safetensors and %s.opt.safetensors\n", ckpt, ckpt)
	fmt.Fprintf(w, "time: %v training and evaluating during training, %v evaluating (batch %d), %v predicting (batch 1), %v in all\n",
		trained.Round(time.Second), evalTime.Round(100*time.Millisecond), c.evalBatch, predTime.Round(100*time.Millisecond),
		time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "test accuracy: %.4f\n", result["acc"])
	return nil
}

// tutorialIndices are the test images the tutorial shows with their predictions (indexs).
var tutorialIndices = []int{2, 15, 38, 211}

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
