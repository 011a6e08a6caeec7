// Command cifar trains Paddle's ResNet-18 (paddle.vision.models.resnet18(num_classes=10)) on
// CIFAR-10 with the high-level Model API and the usual augmentation, as a Paddle user would:
//
//  1. Cifar10(mode='train') and Cifar10(mode='test') from cifar-10-python.tar.gz, the archive
//     Paddle reads, with RandomCrop(32, padding=4) and RandomHorizontalFlip(0.5) on the training
//     images and Normalize with CIFAR-10's channel means and standard deviations on both (pixels
//     are 0..255, so the means are 125.3, 123.0, 113.9); the random transforms draw from each
//     item's own generator, so a run is the same for any -workers;
//  2. ResNet-18 with a 10-way fc (11,181,642 parameters; the ImageNet stem of Paddle's resnet18,
//     a 7x7 convolution of stride 2 and a max pool, so the 32x32 images are 8x8 at layer1 and 1x1
//     at layer4);
//  3. Prepare with Momentum(0.9), weight decay 5e-4 and a cosine learning rate from -lr over
//     the whole run (CosineAnnealingDecay stepped every batch), cross entropy and accuracy, then
//     Fit with an evaluation on the test set after each epoch;
//  4. Evaluate and save the parameters and optimizer state to <out>/cifar10_resnet18.safetensors
//     and <out>/cifar10_resnet18.opt.safetensors, ending with a line such as
//     "test accuracy: 0.8123".
//
// Nothing is downloaded. -data names the directory that holds cifar-10-python.tar.gz (from
// https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz or Paddle's mirror
// https://dataset.bj.bcebos.com/cifar/cifar-10-python.tar.gz, e.g. Paddle's cache
// ~/.cache/paddle/dataset/cifar); without it the archive is read from vision/datasets' cache,
// DataHome()/cifar, where its SHA-256 is checked. When the archive is missing the program says
// where it looked, where to get the file and its checksums. With -synthetic it writes a small
// archive of generated images in the same format (colour and stripe patterns, one per class) to
// <out>/synthetic-cifar-10-python.tar.gz and trains on that instead: a check of the whole path
// that needs no data.
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/cifar -data ~/.cache/paddle/dataset/cifar          # 10 epochs of the real data
//	go run ./examples/cifar -data /data -epochs 30 -workers 2
//	go run ./examples/cifar -synthetic -epochs 2                         # no data needed
//
// No accuracy on the real data set was measured here (the archive was not available). On a
// shared 2-core host ResNet-18 trains at about 1 s per batch of 50 (-synthetic -epochs 3
// -ntrain 1000 -ntest 200 -batch 50 -lr 0.05: 60 steps in 1m46s, test accuracy 1.0000 on the
// synthetic classes), so an epoch of the real training set, 391 batches of 128, takes roughly
// 15 minutes there.
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
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/models"
	"github.com/oarlab/oar/vision/transforms"
)

type config struct {
	epochs, batch, workers, logFreq int
	lr, weightDecay                 float64
	out, dataDir                    string
	synthetic                       bool
	nTrain, nTest                   int
	seed                            uint64
}

func main() {
	var c config
	flag.IntVar(&c.epochs, "epochs", 10, "training epochs")
	flag.IntVar(&c.batch, "batch", 128, "batch size")
	flag.Float64Var(&c.lr, "lr", 0.1, "initial learning rate of Momentum, decayed by a cosine to 0 over the run")
	flag.Float64Var(&c.weightDecay, "wd", 5e-4, "weight decay (L2) of Momentum")
	flag.IntVar(&c.workers, "workers", 2, "loader goroutines that build batches ahead of training (0: inline)")
	flag.IntVar(&c.logFreq, "logfreq", 10, "steps between progress updates (Paddle's log_freq)")
	flag.StringVar(&c.out, "out", "out", "directory for the checkpoint (and the synthetic archive)")
	flag.StringVar(&c.dataDir, "data", "", "directory holding cifar-10-python.tar.gz (default: vision/datasets' cache, DataHome()/cifar)")
	flag.BoolVar(&c.synthetic, "synthetic", false, "train on a generated archive of CIFAR-10's format instead of the real one")
	flag.IntVar(&c.nTrain, "ntrain", 2000, "training images of the -synthetic archive")
	flag.IntVar(&c.nTest, "ntest", 500, "test images of the -synthetic archive")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the initial weights, the shuffling, the augmentation and the synthetic images")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, c)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "cifar: interrupted, nothing saved")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "cifar:", err)
		os.Exit(1)
	}
}

// CIFAR-10's channel means and standard deviations over the training set, on 0..255 pixels.
var (
	cifarMean = []float32{125.307, 122.950, 113.865}
	cifarStd  = []float32{62.993, 62.089, 66.705}
)

func run(ctx context.Context, w io.Writer, c config) error {
	if c.epochs < 1 || c.batch < 1 || c.logFreq < 1 || c.workers < 0 || !(c.lr > 0) || c.weightDecay < 0 || c.nTrain < 1 || c.nTest < 1 {
		return fmt.Errorf("-epochs %d, -batch %d, -logfreq %d, -lr %v, -ntrain %d and -ntest %d must be positive, -workers %d and -wd %v not negative",
			c.epochs, c.batch, c.logFreq, c.lr, c.nTrain, c.nTest, c.workers, c.weightDecay)
	}
	start := time.Now()
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}

	// 1. The data.
	var file string
	switch {
	case c.synthetic:
		file = filepath.Join(c.out, "synthetic-"+datasets.Cifar10File)
		if err := writeSynthetic(file, c.nTrain, c.nTest, c.seed); err != nil {
			return err
		}
		fmt.Fprintf(w, "wrote %s: %d training and %d test images generated in CIFAR-10's format\n", file, c.nTrain, c.nTest)
	case c.dataDir != "":
		file = filepath.Join(c.dataDir, datasets.Cifar10File)
	}
	norm := transforms.Normalize(cifarMean, cifarStd)
	augment := transforms.Compose(
		transforms.RandomCrop([]int{32}, transforms.RandomCropOptions{Padding: []int{4}}),
		transforms.RandomHorizontalFlip(0.5),
		norm,
	)
	train, err := datasets.NewCifar10(datasets.CifarOptions{DataFile: file, Mode: "train", Transform: augment})
	if err != nil {
		return fmt.Errorf("%w\n(run with -synthetic to try the example on generated images)", err)
	}
	test, err := datasets.NewCifar10(datasets.CifarOptions{DataFile: file, Mode: "test", Transform: norm})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "train samples: %d, test samples: %d\n", train.Len(), test.Len())
	item := test.Get(0)
	fmt.Fprintf(w, "image: %v, label: %v (%s)\n", item[0].Shape(), item[1].Data(), classNames[test.Label(0)])

	// 2. The network.
	oar.Seed(c.seed)
	net, err := models.ResNet18(models.ResNetOptions{NumClasses: len(classNames)})
	if err != nil {
		return err
	}
	info := oar.SummaryTo(io.Discard, net, []int{1, 3, 32, 32})
	fmt.Fprintf(w, "ResNet-18: %d parameters\n", info.TotalParams)

	// 3. Prepare and fit: Momentum with weight decay and a cosine schedule stepped every batch
	// (Fit's LRScheduler callback).
	model := oar.NewModel(net)
	steps := c.epochs * ((train.Len() + c.batch - 1) / c.batch)
	opt := optim.NewMomentum(model.Params(), float32(c.lr))
	opt.WeightDecay = float32(c.weightDecay)
	opt.Scheduler = optim.NewCosineAnnealingDecay(float32(c.lr), steps, 0)
	model.Prepare(opt, losses.NewCrossEntropy(), metrics.NewAccuracy())
	if _, err := model.Fit(ctx, train, oar.FitOptions{
		Eval:      test,
		Epochs:    c.epochs,
		BatchSize: c.batch,
		LogFreq:   c.logFreq,
		Verbose:   1,
		Workers:   c.workers,
		Seed:      c.seed,
		Output:    w,
	}); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	trained := time.Since(start)

	// 4. Evaluate and save.
	result, err := model.Evaluate(ctx, test, oar.EvalOptions{BatchSize: c.batch, LogFreq: c.logFreq, Workers: c.workers, Output: w})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	ckpt := filepath.Join(c.out, "cifar10_resnet18")
	if err := model.Save(ckpt); err != nil {
		return err
	}
	fmt.Fprintf(w, "saved %s.safetensors and %s.opt.safetensors\n", ckpt, ckpt)
	fmt.Fprintf(w, "time: %v training, %v in all\n", trained.Round(time.Second), time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "test accuracy: %.4f\n", result["acc"])
	return nil
}

// classNames are CIFAR-10's classes, in the order of their ids (batches.meta's label_names).
var classNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
