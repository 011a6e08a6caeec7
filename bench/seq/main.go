// Command seq times training steps of the recurrent and attention layers, for bench/seq/compare.sh
// to set against bench/seq/torch_seq.py: forward, backward and an Adam update of
//
//   - lstm: nn.LSTM(128, 128), batch 32, 64 time steps (batch-major);
//   - transformer: nn.TransformerEncoderLayer(128, 4, 512) with Paddle's dropout 0.1 in training,
//     batch 32, 64 positions;
//
// each on a random input with the loss mean(y²). It prints, per model, one line
// "<model>: <ms> ms/step (median of <n>), <samples/s> samples/s".
//
//	go run ./bench/seq                       # both models, 20 timed steps after 3 warm-up steps
//	go run ./bench/seq -model lstm -steps 50
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

const batch, seq, width = 32, 64, 128

func main() {
	model := flag.String("model", "all", "lstm, transformer or all")
	steps := flag.Int("steps", 20, "timed training steps")
	warmup := flag.Int("warmup", 3, "untimed steps first")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "seq:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "seq:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	nn.Seed(1)
	rng := rand.New(rand.NewPCG(1, 2))
	models := []string{"lstm", "transformer"}
	if *model != "all" {
		models = []string{*model}
	}
	for _, m := range models {
		var l nn.Layer
		switch m {
		case "lstm":
			l = nn.NewLSTM(width, width)
		case "transformer":
			l = nn.NewTransformerEncoderLayer(width, 4, 4*width)
		default:
			fmt.Fprintf(os.Stderr, "seq: unknown model %q (want lstm, transformer or all)\n", m)
			os.Exit(2)
		}
		x := tensor.Randn(rng, batch, seq, width)
		opt := optim.NewAdam(l.Params(), 1e-3)
		step := func() {
			y := l.Forward(x)
			y.Square().Mean().Backward()
			opt.Step()
			opt.ClearGrad()
		}
		for range *warmup {
			step()
		}
		times := make([]float64, *steps)
		for i := range times {
			t0 := time.Now()
			step()
			times[i] = time.Since(t0).Seconds()
		}
		slices.Sort(times)
		med := times[len(times)/2]
		fmt.Printf("%s: %.2f ms/step (median of %d), %.0f samples/s\n", m, med*1e3, len(times), batch/med)
	}
}
