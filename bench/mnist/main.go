// Command mnist is oar's end-to-end MNIST benchmark, the twin of bench/torch_mnist.py:
// the same models, optimizers, batch sizes, normalisation and data, measured the same way, so
// that the two can be run back to back and compared as ratios (bench/compare.sh does that).
//
//	go run ./bench/mnist -model lenet -epochs 1
//	go run ./bench/mnist -model cnn -epochs 1
//
// Models:
//
//	lenet  Paddle's vision.models.LeNet: Conv(1,6,3,p1) ReLU MaxPool(2) Conv(6,16,5) ReLU MaxPool(2)
//	       Linear(400,120) Linear(120,84) Linear(84,10); Adam 1e-3, batch 64.
//	cnn    the tutorial's CNN: Conv(1,20,5,p2) ReLU MaxPool(2) Conv(20,20,5,p2) ReLU MaxPool(2)
//	       Linear(980,10); SGD 0.01, batch 100.
//
// Both models are fused with nn.Fuse (each Conv2D, ReLU, MaxPool2D run is one nn.ConvReLUPool,
// bit for bit the same values). The layers are initialised as PyTorch's are (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
// biases), so that both programs start from the same distribution; -paddle-init keeps oar's
// (Paddle's) defaults. Pixels are (x-127.5)/127.5. The data sets are read before timing and stay in memory as bytes
// (784 per image); each batch becomes float32 when it is built. Each epoch reshuffles. A training
// step is oar.Model.TrainBatch (forward, cross entropy, backward, optimizer step, gradient
// clearing), or with -fit oar.Model.Fit over the same loader; inference runs the 10k test images in
// batches of 1000 without a graph.
//
// Per epoch it prints, as torch_mnist.py does,
//
//	epoch 1: train N samples/s, infer N samples/s, test accuracy X
//
// and at the end "peak RSS N MiB" (the process's maximum resident set size). The Go runtime gets a
// soft memory limit of 256 MiB (-memlimit; GOMEMLIMIT overrides it): the garbage collector then
// runs often enough that inference's short-lived activations do not double the heap.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/models"
	"github.com/oarlab/oar/vision/transforms"
)

func main() {
	model := flag.String("model", "lenet", "lenet or cnn")
	epochs := flag.Int("epochs", 1, "training epochs")
	seed := flag.Uint64("seed", 1, "seed of the initial weights and of the shuffle")
	dir := flag.String("data", "", "directory of the MNIST IDX files (default: oar's cache, acquired if absent)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the training epochs to this file")
	paddleInit := flag.Bool("paddle-init", false, "initialise the layers as oar (Paddle) does instead of as PyTorch does")
	fit := flag.Bool("fit", false, "train through oar.Model.Fit (with its data loader) instead of a loop of TrainBatch")
	workers := flag.Int("workers", 0, "loader goroutines (0 builds each batch inline, as torch_mnist.py does)")
	memLimit := flag.Int("memlimit", 256, "soft memory limit for the Go runtime in MiB (debug.SetMemoryLimit), unless GOMEMLIMIT is set; 0 for none")
	flag.Parse()
	if *memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// Without a limit the heap grows to twice the live data between collections, and one
		// inference batch of 1000 allocates ~180 MB of activations (CNN) that die at once. The
		// collections the limit adds are cheap: the data are pointer-free.
		debug.SetMemoryLimit(int64(*memLimit) << 20)
	}
	if err := run(*model, *epochs, *seed, *dir, *cpuprofile, *fit, *workers, *paddleInit); err != nil {
		fmt.Fprintln(os.Stderr, "mnist:", err)
		os.Exit(1)
	}
}

// setup is one benchmark configuration.
type setup struct {
	net   nn.Layer
	opt   optim.Optimizer
	batch int
}

// build returns the model, optimizer and batch size of torch_mnist.py's build(model), with
// PyTorch's default initialisation (torchInit) unless paddleInit, which keeps oar's (Paddle's).
func build(model string, seed uint64, paddleInit bool) (setup, error) {
	oar.Seed(seed)
	var lin nn.LinearOptions
	var conv1, conv2 nn.Conv2DOptions
	if !paddleInit {
		lin = nn.LinearOptions{WeightInit: torchInit, BiasInit: torchInit}
		conv1 = nn.Conv2DOptions{WeightInit: torchInit, BiasInit: torchInit}
		conv2 = conv1
	}
	switch model {
	case "lenet":
		conv1.Padding = []int{1}
		net := &models.LeNetModel{
			Features: nn.NewSequential(
				nn.NewConv2D(1, 6, 3, conv1), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
				nn.NewConv2D(6, 16, 5, conv2), nn.NewReLU(), nn.NewMaxPool2D(2, 2)),
			FC: nn.NewSequential(nn.NewLinear(400, 120, lin), nn.NewLinear(120, 84, lin), nn.NewLinear(84, 10, lin)),
		}
		nn.Fuse(net) // each Conv2D, ReLU, MaxPool2D runs as one nn.ConvReLUPool
		return setup{net, optim.NewAdam(net.Params(), 1e-3), 64}, nil
	case "cnn":
		conv1.Padding, conv2.Padding = []int{2}, []int{2}
		net := nn.NewSequential(
			nn.NewConv2D(1, 20, 5, conv1), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
			nn.NewConv2D(20, 20, 5, conv2), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
			nn.NewFlatten(), nn.NewLinear(980, 10, lin))
		nn.Fuse(net)
		return setup{net, optim.NewSGD(net.Params(), 0.01), 100}, nil
	}
	return setup{}, fmt.Errorf("unknown model %q: want lenet or cnn", model)
}

// torchInit is PyTorch's default initialisation of Conv2d and Linear, for weights
// (kaiming_uniform_ with a = sqrt(5)) and biases alike: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). With it
// both programs start from the same distribution (Paddle's defaults differ, and after one epoch
// of SGD the tutorial CNN's accuracy depends on it by several points).
func torchInit(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
	a := float32(1 / math.Sqrt(float64(fanIn)))
	nn.Uniform(-a, a)(w, fanIn, fanOut, rng)
}

// loadMNIST reads a split, normalised to (x-127.5)/127.5.
func loadMNIST(mode, dir string) (*datasets.MNIST, error) {
	return datasets.NewMNIST(datasets.MNISTOptions{Mode: mode, Dir: dir,
		Transform: transforms.Normalize([]float32{127.5}, []float32{127.5})})
}

func run(model string, epochs int, seed uint64, dir, cpuprofile string, fit bool, workers int, paddleInit bool) error {
	s, err := build(model, seed, paddleInit)
	if err != nil {
		return err
	}
	train, err := loadMNIST("train", dir)
	if err != nil {
		return err
	}
	test, err := loadMNIST("test", dir)
	if err != nil {
		return err
	}
	m := oar.NewModel(s.net)
	m.Prepare(s.opt, losses.NewCrossEntropy())
	loader := &data.Loader{Dataset: train, BatchSize: s.batch, Shuffle: true, Seed: seed, Workers: workers}
	testLoader := &data.Loader{Dataset: test, BatchSize: 1000}
	limit := "none"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		limit = fmt.Sprintf("%d MiB", l>>20)
	}
	fmt.Printf("oar %s/%s, GOMAXPROCS %d, memory limit %s, model %s, batch %d\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), limit, model, s.batch)

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	for epoch := 1; epoch <= epochs; epoch++ {
		t0 := time.Now()
		if fit {
			loader.SetEpoch(epoch - 1)
			if _, err := m.Fit(ctx, loader, oar.FitOptions{}); err != nil {
				return err
			}
		} else {
			for b := range loader.All(ctx) {
				m.TrainBatch(b[0], b[1])
			}
		}
		trainS := time.Since(t0).Seconds()

		correct := 0
		t0 = time.Now()
		for b := range testLoader.All(ctx) {
			pred := m.PredictBatch(b[0]).ArgMax(1).Data()
			for i, y := range b[1].Data() {
				if pred[i] == y {
					correct++
				}
			}
		}
		inferS := time.Since(t0).Seconds()
		fmt.Printf("epoch %d: train %.0f samples/s, infer %.0f samples/s, test accuracy %.4f\n",
			epoch, float64(train.Len())/trainS, float64(test.Len())/inferS, float64(correct)/float64(test.Len()))
	}
	fmt.Printf("peak RSS %.0f MiB\n", peakRSSMiB())
	return nil
}
