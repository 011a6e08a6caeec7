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
// bit for bit the same values). The layers are initialised as PyTorch's are (U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) for weights and biases), so that both programs start from the same
// distribution; -paddle-init keeps oar's (Paddle's) defaults. Pixels are (x-127.5)/127.5.
//
// Training: the data sets are read before timing and the training set stays in memory as bytes
// (784 per image); each batch becomes float32 when it is built. Each epoch reshuffles. A training
// step is oar.Model.TrainBatch (forward, cross entropy, backward, optimizer step, gradient
// clearing), or with -fit oar.Model.Fit over the same loader.
//
// Inference follows torch_mnist.py's rules: the 10k test images are converted to normalised
// float32 once, before timing; then, at each batch size of 100, 250, 500 and 1000, one untimed
// warm-up pass and two timed passes of oar.Model.PredictBatch (eval mode, no graph) with the
// arg-max and the count of correct answers inside the timing; the best pass of all gives the
// samples/s and its batch size, and the last pass the test accuracy. Batch-1 latency is the median
// time of 1,000 single-image PredictBatch calls after 100 untimed ones.
//
// It first prints its configuration (GOMAXPROCS and the kernels' instruction set, ISA
// "avx512", "avx2" or "generic"), then per epoch, in torch_mnist.py's format,
//
//	epoch 1: train N samples/s, infer N samples/s, test accuracy X, (inference at batch B), batch-1 latency X ms
//
// and at the end "weights H" (an FNV-1a hash of the trained parameters' bits: runs that must be
// bitwise equal, such as the same seed at another GOMAXPROCS, print the same H) and "peak RSS N
// MiB" (the process's maximum resident set size). The Go runtime gets a
// soft memory limit of 256 MiB (-memlimit; GOMEMLIMIT overrides it): the garbage collector then
// runs often enough that inference's short-lived activations do not double the heap.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/internal/kernel"
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
	testX, testY := inMemory(test)
	limit := "none"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		limit = fmt.Sprintf("%d MiB", l>>20)
	}
	fmt.Printf("oar %s/%s, GOMAXPROCS %d, ISA %s, memory limit %s, model %s, batch %d\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), kernel.ISA(), limit, model, s.batch)

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

		infer, inferBatch, acc := inferBest(m, testX, testY, inferBatches)
		lat := latency1(m, testX, 1000)
		fmt.Printf("epoch %d: train %.0f samples/s, infer %.0f samples/s, test accuracy %.4f, (inference at batch %d), batch-1 latency %.3f ms\n",
			epoch, float64(train.Len())/trainS, infer, acc, inferBatch, lat.Seconds()*1e3)
	}
	fmt.Printf("weights %016x\n", weightsHash(s.net))
	fmt.Printf("peak RSS %.0f MiB\n", peakRSSMiB())
	return nil
}

// weightsHash is the FNV-1a hash of the bits of net's parameters, in Params order.
func weightsHash(net nn.Layer) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, p := range net.Params() {
		for _, v := range p.Tensor.Data() {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return h.Sum64()
}

// inferBatches are the batch sizes inference is timed at, as in torch_mnist.py.
var inferBatches = []int{100, 250, 500, 1000}

// imageSize is the number of values of one input image, [1, 28, 28].
const imageSize = 28 * 28

// inMemory returns the whole data set as normalised float32 images [N*784] and labels [N], the
// form torch_mnist.py holds its test set in before timing.
func inMemory(ds *datasets.MNIST) (x, y []float32) {
	idx := make([]int, ds.Len())
	for i := range idx {
		idx[i] = i
	}
	b := ds.GetBatch(idx)
	return b[0].Data(), b[1].Data()
}

// inferPass runs m over the images x in batches of batch and returns how many of the arg-maxes
// equal the labels y.
func inferPass(m *oar.Model, x, y []float32, batch int) int {
	n, correct := len(y), 0
	for s := 0; s < n; s += batch {
		k := min(batch, n-s)
		pred := m.PredictBatch(tensor.New(x[s*imageSize:(s+k)*imageSize], k, 1, 28, 28)).ArgMax(1).Data()
		for i, p := range pred {
			if p == y[s+i] {
				correct++
			}
		}
	}
	return correct
}

// inferBest times inference over the data set at each batch size: one untimed warm-up pass, then
// the best of two timed ones. It returns the best samples/s, its batch size, and the accuracy of
// the last pass.
func inferBest(m *oar.Model, x, y []float32, batches []int) (samplesPerS float64, batch int, acc float64) {
	best := math.Inf(1)
	correct := 0
	for _, b := range batches {
		inferPass(m, x, y, b)
		for range 2 {
			t0 := time.Now()
			correct = inferPass(m, x, y, b)
			if d := time.Since(t0).Seconds(); d < best {
				best, batch = d, b
			}
		}
	}
	n := float64(len(y))
	return n / best, batch, float64(correct) / n
}

// latency1 returns the median duration of calls single-image PredictBatch calls, over the first
// images of x in turn, after 100 untimed calls.
func latency1(m *oar.Model, x []float32, calls int) time.Duration {
	n := len(x) / imageSize
	one := func(i int) *tensor.Tensor {
		i %= n
		return tensor.New(x[i*imageSize:(i+1)*imageSize], 1, 1, 28, 28)
	}
	for i := range 100 {
		m.PredictBatch(one(i))
	}
	ds := make([]time.Duration, calls)
	for i := range ds {
		xi := one(i)
		t0 := time.Now()
		m.PredictBatch(xi)
		ds[i] = time.Since(t0)
	}
	slices.Sort(ds)
	return ds[calls/2]
}
