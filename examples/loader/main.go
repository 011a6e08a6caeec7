// Command loader is section 2 of the tutorial (异步数据读取, asynchronous reading), in its order:
//
//  1. a data set as a type (class RandomDataset(paddle.io.Dataset)): RandomDataset(10), whose
//     items are a random image [784] and a random label [1], printed one by one
//     (for i in range(len(dataset)): print(dataset[i]));
//  2. the tutorial's MnistDataset(mode='train') over mnist.json.gz, items {image [784], label []}
//     (np.array(label) is a number), in a data.Loader (paddle.io.DataLoader(train_dataset,
//     batch_size=100, shuffle=True)), printing the shapes of the first three batches:
//     "0 [100 784] [100]", "1 [100 784] [100]", "2 [100 784] [100]";
//  3. the one-layer regression of section 1 (Linear(784, 1), square error, SGD 0.001) trained for
//     3 epochs from that Loader with worker goroutines (the tutorial's asynchronous reading),
//     printing the loss every 200 batches ("epoch: 0, batch: 200, loss is: [...]") and saving the
//     parameters; then the same training with synchronous reading (Workers 0, each batch built
//     when the loop asks for it, as the tutorial's generator), and the tutorial's remark that the
//     result is the same: "the result equals the synchronous one (the same training with Workers
//     0): true, every printed loss and every parameter bit for bit". The batches depend on the Loader's seed and the epoch alone,
//     not on how many goroutines build them, so the two trainings are identical;
//  4. the tutorial's point that asynchronous reading is faster when reading is slow: one epoch
//     of the first -n items, each through a slow transform, and a simulated training step per
//     batch, read synchronously and with prefetching workers, timed, with the speed-up.
//
// The labels of the regression are [100] (one per image, as the tutorial's); the loss compares
// the predictions [100 1] with them reshaped to [100 1] (Paddle would broadcast [100 1] against
// [100] to [100 100], and oar's SquareErrorCost refuses different shapes).
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/loader
//	go run ./examples/loader -workers 8 -delay 500us -step 5ms -n 10000
//	go run ./examples/loader -busy   # a CPU-bound transform: the speed-up is bounded by the cores
//
// The tutorial's mnist.json.gz is not shipped: unless -json names one, the program writes it once
// from the real MNIST IDX files (acquired and cached by vision/datasets, or read from -data) to
// DataHome()/mnist/mnist.json.gz (see examples/linear).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/datasets"
)

type config struct {
	samples, batch, epochs, logEvery, workers, prefetch, n int
	lr                                                     float64
	delay, step                                            time.Duration
	busy                                                   bool
	jsonPath, dataDir, out                                 string
	seed                                                   uint64
}

func main() {
	var c config
	flag.IntVar(&c.samples, "samples", 10, "items of the RandomDataset to print (the tutorial's RandomDataset(10))")
	flag.IntVar(&c.batch, "batch", 100, "batch size, as the tutorial's DataLoader(batch_size=100)")
	flag.IntVar(&c.epochs, "epochs", 3, "training epochs from the DataLoader (the tutorial's EPOCH_NUM)")
	flag.Float64Var(&c.lr, "lr", 0.001, "SGD's learning rate")
	flag.IntVar(&c.logEvery, "log", 200, "print the loss every this many batches")
	flag.IntVar(&c.workers, "workers", 4, "worker goroutines of the asynchronous reading")
	flag.IntVar(&c.prefetch, "prefetch", 0, "batches prefetched ahead (0: 2*workers)")
	flag.IntVar(&c.n, "n", 2000, "items read in the timed comparison (0: the whole train split)")
	flag.DurationVar(&c.delay, "delay", time.Millisecond, "time the slow transform of the timed comparison takes per item")
	flag.BoolVar(&c.busy, "busy", false, "make the slow transform compute (CPU-bound) instead of wait (I/O-bound)")
	flag.DurationVar(&c.step, "step", 2*time.Millisecond, "simulated training time per batch in the timed comparison")
	flag.StringVar(&c.jsonPath, "json", "", "the tutorial's mnist.json.gz (default: created once in the data cache)")
	flag.StringVar(&c.dataDir, "data", "", "directory holding the MNIST IDX files, to create the json.gz from (default: the cache, acquired if absent)")
	flag.StringVar(&c.out, "out", "out", "directory for the saved parameters")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the random data, the initial weights and the shuffling")
	flag.Parse()

	tutorial.Main("loader", func(ctx context.Context) error { return run(ctx, os.Stdout, c) })
}

func run(ctx context.Context, w io.Writer, c config) error {
	if c.samples < 0 || c.batch < 1 || c.epochs < 1 || c.logEvery < 1 || c.workers < 1 || c.prefetch < 0 || c.n < 0 || !(c.lr > 0) {
		return fmt.Errorf("-batch %d, -epochs %d, -log %d, -workers %d and -lr %v must be positive, -samples %d, -prefetch %d and -n %d not negative",
			c.batch, c.epochs, c.logEvery, c.workers, c.lr, c.samples, c.prefetch, c.n)
	}

	// 1. The RandomDataset, item by item.
	random := &RandomDataset{NumSamples: c.samples, Seed: c.seed}
	fmt.Fprintf(w, "RandomDataset(%d):\n", random.Len())
	for i := range random.Len() {
		s := random.Get(i)
		fmt.Fprintf(w, "%d (image %v %s, label %v %s)\n", i, s[0].Shape(), brief(s[0]), s[1].Shape(), brief(s[1]))
	}

	// 2. MnistDataset(mode='train') in a DataLoader: the first three batches' shapes.
	path, err := tutorial.JSONFile(w, c.jsonPath, c.dataDir)
	if err != nil {
		return err
	}
	splits, err := tutorial.ReadData(w, path)
	if err != nil {
		return err
	}
	train := &MnistDataset{Split: splits[0]}
	fmt.Fprintf(w, "MnistDataset(mode='train'): %d samples; DataLoader(batch_size=%d, shuffle=True):\n", train.Len(), c.batch)
	shapes := &data.Loader{Dataset: train, BatchSize: c.batch, Shuffle: true, Seed: c.seed, Workers: c.workers}
	i := 0
	for b := range shapes.All(ctx) {
		images, labels := b[0], b[1]
		fmt.Fprintln(w, i, images.Shape(), labels.Shape())
		if i >= 2 {
			break
		}
		i++
	}
	if err := shapes.Err(); err != nil {
		return err
	}

	// 3. The regression trained from the DataLoader, asynchronously, then synchronously.
	fmt.Fprintf(w, "training from the DataLoader, asynchronous reading (Workers %d):\n", c.workers)
	async := &data.Loader{Dataset: train, BatchSize: c.batch, Shuffle: true, Seed: c.seed, Workers: c.workers, Prefetch: c.prefetch}
	model, asyncLosses, err := trainRegression(ctx, w, async, c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	params := filepath.Join(c.out, "mnist_loader.safetensors")
	if err := nn.Save(params, model); err != nil {
		return err
	}
	fmt.Fprintln(w, "saved", params)
	sync := &data.Loader{Dataset: train, BatchSize: c.batch, Shuffle: true, Seed: c.seed}
	syncModel, syncLosses, err := trainRegression(ctx, io.Discard, sync, c)
	if err != nil {
		return err
	}
	same := slices.Equal(asyncLosses, syncLosses) && sameParams(model, syncModel)
	fmt.Fprintf(w, "the result equals the synchronous one (the same training with Workers 0): %v, every printed loss and every parameter bit for bit\n", same)

	// 4. Why read asynchronously: the time of one epoch with a slow transform, both ways.
	return timeEpochs(ctx, w, train, c)
}

// RandomDataset is the tutorial's RandomDataset(paddle.io.Dataset): NumSamples items, each a
// random image [784] uniform in [0, 1) (np.random.random([784])) and a random label [1] in 0..8
// (np.random.randint(0, 9, (1,)); 9 is excluded, as in the tutorial). Unlike NumPy's global
// generator, item i is drawn from its own generator seeded by (Seed, i), so that Get(i) returns
// the same item every time and from any goroutine, as a data.Loader's workers need.
type RandomDataset struct {
	NumSamples int
	Seed       uint64
}

// Len returns NumSamples (__len__).
func (d *RandomDataset) Len() int { return d.NumSamples }

// Get returns item idx (__getitem__).
func (d *RandomDataset) Get(idx int) data.Sample {
	rng := rand.New(rand.NewPCG(d.Seed, uint64(idx)))
	image := tensor.Uniform(rng, 0, 1, 784)
	label := tensor.New([]float32{float32(rng.IntN(9))}, 1)
	return data.Sample{image, label}
}

// MnistDataset is the tutorial's MnistDataset(paddle.io.Dataset) over one split of
// mnist.json.gz: item i is {image [784], label []}, the label a number, as the tutorial's
// np.array(self.labels[idx]) is, so that a batch's labels are [B]. It is a data.Batcher.
type MnistDataset struct {
	Split *datasets.JSONSplit
}

// Len returns the number of items (__len__).
func (d *MnistDataset) Len() int { return d.Split.Len() }

// Get returns item idx (__getitem__).
func (d *MnistDataset) Get(idx int) data.Sample {
	s := d.Split.Get(idx)
	return data.Sample{s[0], s[1].Reshape()}
}

// GetBatch returns the batch {images [B,784], labels [B]} of indices.
func (d *MnistDataset) GetBatch(indices []int) data.Batch {
	b := d.Split.GetBatch(indices)
	return data.Batch{b[0], b[1].Reshape(-1)}
}

// newNet returns section 1's network, one Linear layer named as the tutorial's self.fc.
func newNet() nn.Layer {
	return nn.NewSequentialNamed(nn.Named{Name: "fc", Layer: nn.NewLinear(784, 1)})
}

// trainRegression is the tutorial's train(model) over a DataLoader: a new network seeded by
// c.Seed, c.epochs epochs of loader with SGD on the mean square error, the loss printed on w every
// c.logEvery batches. It returns the network and the printed losses.
func trainRegression(ctx context.Context, w io.Writer, loader *data.Loader, c config) (nn.Layer, []float32, error) {
	oar.Seed(c.seed)
	model := newNet()
	nn.Train(model)
	opt := optim.NewSGD(model.Params(), float32(c.lr))
	var logged []float32
	for epoch := range c.epochs {
		batchID := 0
		for b := range loader.All(ctx) {
			images, labels := b[0], b[1]
			predicts := model.Forward(images)
			avgLoss := losses.SquareErrorCost(predicts, labels.Reshape(-1, 1)).Mean()
			if batchID%c.logEvery == 0 {
				fmt.Fprintf(w, "epoch: %d, batch: %d, loss is: %v\n", epoch, batchID, []float32{avgLoss.Item()})
				logged = append(logged, avgLoss.Item())
			}
			avgLoss.Backward()
			opt.Step()
			opt.ClearGrad()
			batchID++
		}
		if err := loader.Err(); err != nil {
			return nil, nil, err
		}
	}
	return model, logged, nil
}

// sameParams reports whether a and b have the same parameters, bit for bit.
func sameParams(a, b nn.Layer) bool {
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		x, y := pa[i].Data(), pb[i].Data()
		if pa[i].Name != pb[i].Name || len(x) != len(y) {
			return false
		}
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
				return false
			}
		}
	}
	return true
}

// brief formats t's values on one line, the first and last three of more than six.
func brief(t *tensor.Tensor) string {
	f := func(vs []float32) []string {
		var s []string
		for _, v := range vs {
			s = append(s, fmt.Sprintf("%.4g", v))
		}
		return s
	}
	d := t.Data()
	if len(d) <= 6 {
		return "[" + strings.Join(f(d), " ") + "]"
	}
	return "[" + strings.Join(f(d[:3]), " ") + " ... " + strings.Join(f(d[len(d)-3:]), " ") + "]"
}

// timeEpochs reads one epoch of the first c.n items of ds through a slow transform, spending
// c.step on each batch as training would, synchronously and then with c.workers goroutines, and
// prints both times, the speed-up and whether both gave the same batches.
func timeEpochs(ctx context.Context, w io.Writer, ds data.Dataset, c config) error {
	if c.n > 0 && c.n < ds.Len() {
		idx := make([]int, c.n)
		for i := range idx {
			idx[i] = i
		}
		ds = &data.Subset{Dataset: ds, Indices: idx}
	}
	slow := data.Map(ds, func(s data.Sample) data.Sample {
		wait(c.delay, c.busy)
		return s
	})
	kind := "waits"
	if c.busy {
		kind = "computes"
	}
	fmt.Fprintf(w, "timing one epoch of %d items in batches of %d; the transform %s %v per item; a training step takes %v\n",
		slow.Len(), c.batch, kind, c.delay, c.step)
	sync := &data.Loader{Dataset: slow, BatchSize: c.batch, Shuffle: true, Seed: c.seed}
	tSync, sumSync, nb, err := epoch(ctx, sync, c.step)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "synchronous  (Workers 0): %d batches in %v\n", nb, tSync.Round(time.Millisecond))
	async := &data.Loader{Dataset: slow, BatchSize: c.batch, Shuffle: true, Seed: c.seed, Workers: c.workers, Prefetch: c.prefetch}
	tAsync, sumAsync, nb, err := epoch(ctx, async, c.step)
	if err != nil {
		return err
	}
	p := c.prefetch
	if p == 0 {
		p = 2 * c.workers
	}
	fmt.Fprintf(w, "prefetching  (Workers %d, Prefetch %d): %d batches in %v\n", c.workers, p, nb, tAsync.Round(time.Millisecond))
	fmt.Fprintf(w, "speed-up: %.2fx on %d CPUs; same batches in the same order: %v\n",
		tSync.Seconds()/tAsync.Seconds(), runtime.GOMAXPROCS(0), sumSync == sumAsync)
	return nil
}

// epoch reads one epoch, spending step on each batch as training would, and returns the time,
// a checksum of the batches in order, and their number.
func epoch(ctx context.Context, l *data.Loader, step time.Duration) (time.Duration, uint64, int, error) {
	var sum uint64
	start := time.Now()
	nb := 0
	for b := range l.All(ctx) {
		for _, t := range b {
			for _, v := range t.Data() {
				sum = sum*1099511628211 + uint64(math.Float32bits(v))
			}
		}
		time.Sleep(step) // the training step: forward, backward, optimizer
		nb++
	}
	return time.Since(start), sum, nb, l.Err()
}

// wait takes d, sleeping (like reading from a disk or the network) or computing.
func wait(d time.Duration, busy bool) {
	if !busy {
		time.Sleep(d)
		return
	}
	x := 1.0
	for start := time.Now(); time.Since(start) < d; {
		for range 100 {
			x = math.Sqrt(x + 1)
		}
	}
	_ = x
}
