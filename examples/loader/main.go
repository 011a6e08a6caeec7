// Command loader shows the data part of the Paddle MNIST tutorial (its section 2, asynchronous
// reading): the same epoch is read twice, first synchronously, each batch built when the training
// loop asks for it (data.Loader with Workers 0, the tutorial's generator), then with worker
// goroutines that prefetch batches while the loop trains (the tutorial's DataLoader). Each item
// goes through a slow transform, and each batch through a simulated training step, so that the
// overlap shows. It prints both times, the speed-up, and whether both runs gave the same batches.
//
//	go run ./examples/loader
//	go run ./examples/loader -workers 8 -delay 500us -step 5ms -n 10000
//	go run ./examples/loader -busy   # a CPU-bound transform: the speed-up is bounded by the cores
//
// The data is the MNIST training set (found in the cache or acquired, see vision/datasets), or,
// with -synthetic or when MNIST cannot be had, random images as the tutorial's RandomDataset.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/datasets"
	"github.com/oarlab/oar/vision/transforms"
)

func main() {
	n := flag.Int("n", 2000, "number of items to read (0: the whole data set)")
	batch := flag.Int("batch", 100, "batch size, as the tutorial's BATCHSIZE")
	workers := flag.Int("workers", 4, "worker goroutines of the prefetching run")
	prefetch := flag.Int("prefetch", 0, "batches prefetched ahead (0: 2*workers)")
	delay := flag.Duration("delay", time.Millisecond, "time the slow transform takes per item")
	busy := flag.Bool("busy", false, "make the slow transform compute (CPU-bound) instead of wait (I/O-bound)")
	step := flag.Duration("step", 2*time.Millisecond, "simulated training time per batch")
	synthetic := flag.Bool("synthetic", false, "use random data instead of MNIST")
	seed := flag.Uint64("seed", 1, "shuffle seed")
	flag.Parse()

	ds, name := load(*synthetic, *n)
	if *n > 0 && *n < ds.Len() {
		ds = &data.Subset{Dataset: ds, Indices: first(*n)}
	}
	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
	slow := data.Map(ds, func(s data.Sample) data.Sample {
		wait(*delay, *busy)
		return data.Sample{norm.Apply(s[0]), s[1]}
	})

	kind := "waits"
	if *busy {
		kind = "computes"
	}
	fmt.Printf("data: %s, %d items in batches of %d; the transform %s %v per item; a training step takes %v\n",
		name, slow.Len(), *batch, kind, *delay, *step)

	sync := &data.Loader{Dataset: slow, BatchSize: *batch, Shuffle: true, Seed: *seed}
	tSync, sumSync, nb := epoch(sync, *step)
	fmt.Printf("synchronous  (Workers 0): %d batches in %v\n", nb, tSync.Round(time.Millisecond))

	async := &data.Loader{Dataset: slow, BatchSize: *batch, Shuffle: true, Seed: *seed, Workers: *workers, Prefetch: *prefetch}
	tAsync, sumAsync, nb := epoch(async, *step)
	p := *prefetch
	if p == 0 {
		p = 2 * *workers
	}
	fmt.Printf("prefetching  (Workers %d, Prefetch %d): %d batches in %v\n", *workers, p, nb, tAsync.Round(time.Millisecond))
	fmt.Printf("speed-up: %.2fx on %d CPUs; same batches in the same order: %v\n",
		tSync.Seconds()/tAsync.Seconds(), runtime.GOMAXPROCS(0), sumSync == sumAsync)
}

// load returns MNIST's training set, or random data like the tutorial's RandomDataset.
func load(synthetic bool, n int) (data.Dataset, string) {
	if !synthetic {
		train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train"})
		if err == nil {
			return train, "MNIST train"
		}
		fmt.Fprintf(os.Stderr, "loader: %v\nloader: using random data instead\n", err)
	}
	if n <= 0 {
		n = 10000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	images := tensor.Uniform(rng, 0, 255, n, 1, 28, 28)
	labels := make([]float32, n)
	for i := range labels {
		labels[i] = float32(rng.IntN(10))
	}
	return data.NewTensorDataset(images, tensor.New(labels, n, 1)), "random images"
}

func first(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// epoch reads one epoch, spending step on each batch as training would, and returns the time,
// a checksum of the batches in order, and their number.
func epoch(l *data.Loader, step time.Duration) (time.Duration, uint64, int) {
	var sum uint64
	start := time.Now()
	nb := 0
	for b := range l.All(context.Background()) {
		for _, t := range b {
			for _, v := range t.Data() {
				sum = sum*1099511628211 + uint64(math.Float32bits(v))
			}
		}
		time.Sleep(step) // the training step: forward, backward, optimizer
		nb++
	}
	if err := l.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "loader:", err)
		os.Exit(1)
	}
	return time.Since(start), sum, nb
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
