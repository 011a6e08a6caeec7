package main

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/internal/kernel"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/tensor"
)

// syntheticBatch returns n images in MNIST's normalised range and their labels, so the
// benchmarks need no data files.
func syntheticBatch(n int, seed uint64) (x, y *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := make([]float32, n*28*28)
	for i := range img {
		img[i] = float32(rng.IntN(256))/127.5 - 1
	}
	lab := make([]float32, n)
	for i := range lab {
		lab[i] = float32(rng.IntN(10))
	}
	return tensor.New(img, n, 1, 28, 28), tensor.New(lab, n, 1)
}

// trainer returns the model and its batch size, built from seed and prepared as run prepares it
// (its optimizer, cross entropy), for the benchmarks and tests that call TrainBatch themselves.
func trainer(tb testing.TB, model string, seed uint64) (*oar.Model, int) {
	s, err := build(model, seed, false)
	if err != nil {
		tb.Fatal(err)
	}
	m := oar.NewModel(s.net)
	m.Prepare(s.opt, losses.NewCrossEntropy())
	return m, s.batch
}

func benchTrainStep(b *testing.B, model string) {
	m, batch := trainer(b, model, 1)
	x, y := syntheticBatch(batch, 1)
	for range 3 { // warm the buffers
		m.TrainBatch(x, y)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		m.TrainBatch(x, y)
	}
	reportCPU(b, c0)
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since c0: on a shared machine it varies less than the
// wall time, and with GOMAXPROCS=1 it is the work of one step.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}

func benchInfer(b *testing.B, model string) {
	s, err := build(model, 1, false)
	if err != nil {
		b.Fatal(err)
	}
	m := oar.NewModel(s.net)
	x, _ := syntheticBatch(1000, 2)
	m.PredictBatch(x)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		m.PredictBatch(x)
	}
	reportCPU(b, c0)
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkTrainStep is one steady-state training step (oar.Model.TrainBatch) of each model at
// its batch size: LeNet with Adam at 64, the tutorial CNN with SGD at 100.
func BenchmarkTrainStep(b *testing.B) {
	b.Run("lenet", func(b *testing.B) { benchTrainStep(b, "lenet") })
	b.Run("cnn", func(b *testing.B) { benchTrainStep(b, "cnn") })
}

// BenchmarkStepScaling times each model's training step (a synthetic batch, no data loading) on
// one core and on two alternately, in blocks of steps within one process (each b.N iteration is
// one block on each side), and reports the median step of each side and their ratio, the speed-up
// from a second core: go test -run - -bench StepScaling -benchtime 15x ./bench/mnist. On a shared
// virtual machine that ratio moves with the host's load as the epochs' does (LeNet 1.34-1.78 on
// one day, unchanged code), so compare changes only within one sitting, alternating.
func BenchmarkStepScaling(b *testing.B) {
	for _, model := range []string{"lenet", "cnn"} {
		b.Run(model, func(b *testing.B) { benchStepScaling(b, model) })
	}
}

func benchStepScaling(b *testing.B, model string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	m, batch := trainer(b, model, 1)
	x, y := syntheticBatch(batch, 1)
	steps := 60 // blocks of about 0.1 s on one core
	if model == "cnn" {
		steps = 12
	}
	block := func(procs int) float64 {
		runtime.GOMAXPROCS(procs)
		m.TrainBatch(x, y) // the first step after a switch starts the helpers
		t0 := time.Now()
		for range steps {
			m.TrainBatch(x, y)
		}
		return float64(time.Since(t0).Microseconds()) / float64(steps)
	}
	var one, two []float64
	for b.Loop() {
		one = append(one, block(1))
		two = append(two, block(2))
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	m1, m2 := median(one), median(two)
	b.ReportMetric(m1, "µs/step-1core")
	b.ReportMetric(m2, "µs/step-2cores")
	b.ReportMetric(m1/m2, "speedup")
}

// BenchmarkStepCeiling compares what a second core gives the model's training step with what it
// gives two independent copies of the model, each training on half the batch on its own goroutine
// with every kernel on that goroutine alone (kernel.SetMaxThreads(1)). Each b.N iteration times,
// in blocks of steps, the model on one core, the model on two (as BenchmarkStepScaling does) and
// the two copies side by side. The copies share no data and never wait for each other inside a
// step, so their speed-up, "ceiling" (one core's full-batch step over their concurrent step), is
// about the most that splitting one step's work over two cores of this process can reach on this
// machine; "speedup" is the model's. The model can land a little above the ceiling (by 4% once),
// as the copies run the one-core kernels on half batches. Medians of the blocks:
// go test -run - -bench StepCeiling -benchtime 15x ./bench/mnist.
func BenchmarkStepCeiling(b *testing.B) {
	for _, model := range []string{"lenet", "cnn"} {
		b.Run(model, func(b *testing.B) { benchStepCeiling(b, model) })
	}
}

func benchStepCeiling(b *testing.B, model string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer kernel.SetMaxThreads(kernel.SetMaxThreads(0))
	whole, batch := trainer(b, model, 1)
	halfA, _ := trainer(b, model, 1) // two copies of the same model
	halfB, _ := trainer(b, model, 1)
	x, y := syntheticBatch(batch, 1)
	xa, ya := syntheticBatch(batch/2, 2)
	xb, yb := syntheticBatch(batch-batch/2, 3)
	steps := 60
	if model == "cnn" {
		steps = 12
	}
	var wg sync.WaitGroup
	halves := func() {
		wg.Add(2)
		go func() { halfA.TrainBatch(xa, ya); wg.Done() }()
		go func() { halfB.TrainBatch(xb, yb); wg.Done() }()
		wg.Wait()
	}
	block := func(procs, threads int, step func()) float64 {
		runtime.GOMAXPROCS(procs)
		kernel.SetMaxThreads(threads)
		step() // the first step after a switch starts the helpers
		t0 := time.Now()
		for range steps {
			step()
		}
		return float64(time.Since(t0).Microseconds()) / float64(steps)
	}
	var one, two, apart []float64
	for b.Loop() {
		one = append(one, block(1, 0, func() { whole.TrainBatch(x, y) }))
		two = append(two, block(2, 0, func() { whole.TrainBatch(x, y) }))
		apart = append(apart, block(2, 1, halves))
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	m1, m2, mh := median(one), median(two), median(apart)
	b.ReportMetric(m1, "µs/step-1core")
	b.ReportMetric(m2, "µs/step-2cores")
	b.ReportMetric(mh, "µs/step-2halves")
	b.ReportMetric(m1/m2, "speedup")
	b.ReportMetric(m1/mh, "ceiling")
}

// BenchmarkInfer is one inference batch of 1000 images without a graph.
func BenchmarkInfer(b *testing.B) {
	b.Run("lenet", func(b *testing.B) { benchInfer(b, "lenet") })
	b.Run("cnn", func(b *testing.B) { benchInfer(b, "cnn") })
}

// TestDeterministic trains each model a few steps at GOMAXPROCS 1, 2 and 4, and at 2 with the
// kernels held to one goroutine (kernel.SetMaxThreads(1), as BenchmarkStepCeiling runs them), from
// the same seed and checks that the parameters come out bitwise the same.
func TestDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer kernel.SetMaxThreads(kernel.SetMaxThreads(0))
	for _, model := range []string{"lenet", "cnn"} {
		run := func(procs int) [][]float32 {
			runtime.GOMAXPROCS(procs)
			kernel.SetMaxThreads(0)
			if procs < 0 { // two processors, one goroutine per kernel call
				runtime.GOMAXPROCS(2)
				kernel.SetMaxThreads(1)
			}
			m, batch := trainer(t, model, 7)
			for step := range 3 {
				x, y := syntheticBatch(batch, uint64(step))
				m.TrainBatch(x, y)
			}
			var out [][]float32
			for _, p := range m.Params() {
				out = append(out, append([]float32(nil), p.Data()...))
			}
			return out
		}
		want := run(1)
		for _, procs := range []int{2, 4, -1} {
			got := run(procs)
			for i := range want {
				for j := range want[i] {
					if math.Float32bits(want[i][j]) != math.Float32bits(got[i][j]) {
						t.Fatalf("%s: GOMAXPROCS %d (-1: 2, kernels on one goroutine): parameter %d element %d: %v, with 1: %v", model, procs, i, j, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}
