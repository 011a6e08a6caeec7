package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestAdagradHandValues checks Adagrad against steps worked out by hand: one parameter starting
// at 1, lr 0.1, gradients independent of p.
func TestAdagradHandValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		eps, init float32
		grads     []float32
		want      []float64
	}{
		// ε 0: g=3: moment = 9, p = 1 - 0.1·3/3 = 0.9; g=4: moment = 25, p = 0.9 - 0.1·4/5 = 0.82
		{"plain", 0, 0, []float32{3, 4}, []float64{0.9, 0.82}},
		// ε 1 outside the root: g=3: p = 1 - 0.3/(3+1) = 0.925; g=4: p = 0.925 - 0.4/(5+1) = 0.858333
		{"epsilon", 1, 0, []float32{3, 4}, []float64{0.925, 0.8583333}},
		// initial accumulator 16: g=3: moment = 25, p = 1 - 0.3/5 = 0.94; g=0: p stays
		{"initial accumulator", 0, 16, []float32{3, 0}, []float64{0.94, 0.94}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := param("p", 1)
			o := NewAdagrad([]nn.Param{p}, 0.1)
			o.Epsilon, o.InitialAccumulatorValue = tc.eps, tc.init
			for step, g := range tc.grads {
				setGrad(p.Tensor, g)
				o.Step()
				require.InDelta(t, tc.want[step], p.Data()[0], 1e-6, "step %d", step+1)
			}
		})
	}
	o := NewAdagrad([]nn.Param{param("p", 1)}, 0.1)
	require.Equal(t, [2]float32{1e-6, 0}, [2]float32{o.Epsilon, o.InitialAccumulatorValue})
}

// TestAdagradSequence compares 20 steps, with coupled weight decay, value clipping and an initial
// accumulator, with a plain float64 implementation of Paddle's adagrad kernel written here
// independently of the code under test.
func TestAdagradSequence(t *testing.T) {
	const lr, eps, wd, init, lo, hi = 0.05, 1e-6, 0.01, 0.1, -1.2, 1.2
	p := seqParam()
	o := NewAdagrad([]nn.Param{p}, lr)
	o.WeightDecay, o.InitialAccumulatorValue, o.GradClip = wd, init, ClipGradByValue{Min: lo, Max: hi}
	got := runSeq(o, p, 20)

	x := make([]float64, len(seqStart))
	mom := make([]float64, len(seqStart))
	for i, v := range seqStart {
		x[i], mom[i] = float64(v), init
	}
	var want [][]float64
	for s := 1; s <= 20; s++ {
		for i := range x {
			g := clip64(float64(seqGrad(s, i)), lo, hi) + wd*x[i]
			mom[i] += g * g
			x[i] -= lr * g / (math.Sqrt(mom[i]) + eps)
		}
		want = append(want, append([]float64(nil), x...))
	}
	requireSeq(t, got, want, 2e-6)
}

func TestAdagradResume(t *testing.T) {
	requireResumeBitwise(t, func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewAdagrad(ps, 0.1)
		o.InitialAccumulatorValue, o.WeightDecay = 0.5, 0.01
		o.Scheduler = NewExponentialDecay(0.1, 0.9)
		return o, o.Scheduler
	})
	// a state saved before the first update leaves the initial accumulator to be filled in
	pr := newProblem()
	o := NewAdagrad(pr.params, 0.1)
	o2 := NewAdagrad(pr.clone().params, 0.1)
	require.NoError(t, o2.SetState(o.State()))
	o2.InitialAccumulatorValue = 3
	setGrad(o2.params[1].Tensor, 0, 0)
	o2.Step()
	require.Equal(t, []float32{3, 3}, o2.State().Tensors[1].Data())
}

func TestAdagradPanics(t *testing.T) {
	p := []nn.Param{param("w", 1)}
	o := NewAdagrad(p, 0.1)
	o.Epsilon = -1
	require.PanicsWithError(t, "optim: Adagrad: Epsilon -1 must be finite and >= 0", o.Step)
	o = NewAdagrad(p, 0.1)
	o.InitialAccumulatorValue = float32(math.Inf(1))
	require.PanicsWithError(t, "optim: Adagrad: InitialAccumulatorValue +Inf must be finite and >= 0", o.Step)
}
