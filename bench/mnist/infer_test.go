package main

import (
	"testing"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/nn"
)

// TestInferBest checks the inference timing's bookkeeping against a direct count: the accuracy
// is that of the network's arg-maxes at every batch size, including a ragged last batch, and
// the batch size reported is one of those timed.
func TestInferBest(t *testing.T) {
	s, err := build("lenet", 3, false)
	if err != nil {
		t.Fatal(err)
	}
	m := oar.NewModel(s.net)
	const n = 730 // not a multiple of 100, 250 or 500
	xt, _ := syntheticBatch(n, 5)
	x := xt.Data()
	pred := m.PredictBatch(xt).ArgMax(1).Data()
	// Labels: the network's own answer for every third image, a wrong one elsewhere.
	y := make([]float32, n)
	want := 0
	for i := range y {
		if i%3 == 0 {
			y[i] = pred[i]
			want++
		} else {
			y[i] = float32((int(pred[i]) + 1) % 10)
		}
	}
	for _, b := range []int{1, 100, 250, 500, 1000} {
		if got := inferPass(m, x, y, b); got != want {
			t.Errorf("inferPass at batch %d: %d correct, want %d", b, got, want)
		}
	}
	sps, batch, acc := inferBest(m, x, y, []int{250, 100})
	if acc != float64(want)/n {
		t.Errorf("inferBest accuracy %v, want %v", acc, float64(want)/n)
	}
	if batch != 100 && batch != 250 || !(sps > 0) {
		t.Errorf("inferBest: %v samples/s at batch %d", sps, batch)
	}
	if d := latency1(m, x, 11); d <= 0 {
		t.Errorf("latency1 = %v", d)
	}
}

// BenchmarkLatency1 is one single-image inference call two ways: oar.Model.PredictBatch, which
// bench/mnist's batch-1 latency times, and the network's Forward on a NoGrad tensor in eval mode.
// They should cost the same: PredictBatch adds only its concurrency check and the eval switch.
func BenchmarkLatency1(b *testing.B) {
	for _, model := range []string{"lenet", "cnn"} {
		s, err := build(model, 1, false)
		if err != nil {
			b.Fatal(err)
		}
		m := oar.NewModel(s.net)
		x, _ := syntheticBatch(1, 2)
		b.Run(model+"/PredictBatch", func(b *testing.B) {
			m.PredictBatch(x)
			for b.Loop() {
				m.PredictBatch(x)
			}
		})
		b.Run(model+"/Forward", func(b *testing.B) {
			nn.Eval(s.net)
			xn := x.NoGrad()
			s.net.Forward(xn)
			for b.Loop() {
				s.net.Forward(xn)
			}
		})
	}
}
