// Command resnet times training steps of ResNet-18, for bench/resnet/compare.sh to set against
// bench/resnet/torch_resnet.py: forward, cross-entropy, backward and a Momentum update (lr 0.01,
// momentum 0.9) of models.ResNet18 with 10 classes (Paddle's resnet18(num_classes=10)) in
// training mode, on a fixed random batch of 32 images 3×32×32 with random labels. It prints one
// line "resnet18: <ms> ms/step (median of <n>), <samples/s> samples/s, <cpu> CPU ms/step, last loss
// <loss>" (CPU ms: user+system time of all threads over the timed steps, divided by the steps).
//
//	go run ./bench/resnet                                   # 10 timed steps after 2 warm-up steps
//	go run ./bench/resnet -steps 20 -cpuprofile cpu.out     # then: go tool pprof -top cpu.out
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

const batch, size, numClasses = 32, 32, 10

func main() {
	steps := flag.Int("steps", 10, "timed training steps")
	warmup := flag.Int("warmup", 2, "untimed steps first")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	flag.Parse()
	if err := run(*steps, *warmup, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "resnet:", err)
		os.Exit(1)
	}
}

func run(steps, warmup int, cpuprofile string) error {
	nn.Seed(1)
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := models.ResNet18(models.ResNetOptions{NumClasses: numClasses})
	if err != nil {
		return err
	}
	nn.Train(net)
	x := tensor.Randn(rng, batch, 3, size, size)
	labels := make([]float32, batch)
	for i := range labels {
		labels[i] = float32(rng.IntN(numClasses))
	}
	y := tensor.New(labels, batch)
	loss := losses.NewCrossEntropy()
	opt := optim.NewMomentum(net.Params(), 0.01)
	var last float32
	step := func() {
		l := loss.Forward(net.Forward(x), y)
		l.Backward()
		opt.Step()
		opt.ClearGrad()
		last = l.Item()
	}
	for range warmup {
		step()
	}
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
	times := make([]float64, steps)
	cpu0 := cpuTime()
	for i := range times {
		t0 := time.Now()
		step()
		times[i] = time.Since(t0).Seconds()
	}
	cpu := (cpuTime() - cpu0).Seconds() / float64(steps)
	slices.Sort(times)
	med := times[len(times)/2]
	fmt.Printf("resnet18: %.2f ms/step (median of %d), %.0f samples/s, %.2f CPU ms/step, last loss %.4f\n",
		med*1e3, len(times), batch/med, cpu*1e3, last)
	return nil
}
