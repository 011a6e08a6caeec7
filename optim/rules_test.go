package optim

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// Helpers shared by the tests of Adagrad, Adadelta, Adamax and Lamb: a 20-step run on fixed
// gradients compared with an independent float64 implementation of Paddle's formula, and a
// bitwise save/resume check.

// seqStart is the parameter the 20-step sequences start from.
var seqStart = []float32{0.5, -1.2, 2, 0.3, -0.05}

// seqParam returns a parameter holding a copy of seqStart.
func seqParam() nn.Param { return param("p", slices.Clone(seqStart)...) }

// seqGrad is the gradient of element i at step s (from 1) of the sequences: fixed numbers, not
// the parameter's, so that the reference needs no model; rounded to float32 as the optimizer
// sees them.
func seqGrad(s, i int) float32 {
	return float32(math.Sin(1.3*float64(s)+0.7*float64(i)) * (1 + 0.5*float64(i)))
}

// runSeq steps o n times on seqGrad and returns the parameter after each step.
func runSeq(o Optimizer, p nn.Param, n int) [][]float32 {
	var out [][]float32
	g := make([]float32, p.Len())
	for s := 1; s <= n; s++ {
		for i := range g {
			g[i] = seqGrad(s, i)
		}
		setGrad(p.Tensor, g...)
		o.Step()
		out = append(out, append([]float32(nil), p.Data()...))
	}
	return out
}

// clip64 clamps like ClipGradByValue.
func clip64(g, lo, hi float64) float64 { return math.Min(math.Max(g, lo), hi) }

// requireSeq compares a run with the float64 reference, element by element, within rtol of the
// element's magnitude (at least 1).
func requireSeq(t *testing.T, got [][]float32, want [][]float64, rtol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for s := range want {
		for i := range want[s] {
			tol := rtol * math.Max(1, math.Abs(want[s][i]))
			require.InDelta(t, want[s][i], float64(got[s][i]), tol, "step %d element %d", s+1, i)
		}
	}
}

// requireResumeBitwise trains 10 steps, saves to a file, loads into a fresh optimizer made by mk
// over a copy of the parameters, trains 10 more, and checks that parameters and state equal those
// of 20 uninterrupted steps bit for bit.
func requireResumeBitwise(t *testing.T, mk func(ps []nn.Param) (Optimizer, Scheduler)) {
	t.Helper()
	const k, n = 10, 10
	base := newProblem()

	whole := base.clone()
	o, s := mk(whole.params)
	whole.train(o, s, k+n)

	first := base.clone()
	o1, s1 := mk(first.params)
	first.train(o1, s1, k)
	path := filepath.Join(t.TempDir(), "opt.safetensors")
	require.NoError(t, Save(path, o1))

	resumed := first.clone()
	o2, s2 := mk(resumed.params)
	require.NoError(t, Load(path, o2))
	require.Equal(t, o1.LR(), o2.LR())
	resumed.train(o2, s2, n)

	for i, p := range whole.params {
		require.Equal(t, p.Data(), resumed.params[i].Data(), p.Name)
	}
	st, st2 := o.State(), o2.State()
	require.Equal(t, st.Meta, st2.Meta)
	require.Equal(t, len(st.Tensors), len(st2.Tensors))
	for i := range st.Tensors {
		require.Equal(t, st.Tensors[i].Name, st2.Tensors[i].Name)
		require.Equal(t, st.Tensors[i].Data(), st2.Tensors[i].Data(), st.Tensors[i].Name)
	}
}

// TestMoreStepAllocs checks that the Steps of Adagrad, Adadelta, Adamax and Lamb allocate nothing
// after the first, with a clip and a scheduler of lr_more.go attached.
func TestMoreStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	params := []nn.Param{param("w", 0.5, -0.3, 0.2, 1.1), param("b", 0.1, -0.2)}
	setGrad(params[0].Tensor, 0.3, -0.1, 0.5, 0.2)
	setGrad(params[1].Tensor, -0.4, 0.6)
	clip := ClipGradByGlobalNorm{ClipNorm: 1}
	ada := NewAdagrad(params, 0.01)
	ada.GradClip, ada.Scheduler = clip, NewPolynomialDecay(0.01, 100)
	delta := NewAdadelta(params, 1)
	delta.WeightDecay, delta.Scheduler = 0.01, NewNoamDecay(8, 10, 1)
	amax := NewAdamax(params, 0.002)
	amax.GradClip, amax.Scheduler = ClipGradByValue{Min: -1, Max: 1}, NewOneCycleLR(0.01, 1000)
	lamb := NewLamb(params, 0.001)
	lamb.GradClip, lamb.Scheduler = clip, NewCyclicLR(0.001, 0.01, 5)
	lamb.ExcludeFromWeightDecay = func(name string) bool { return name == "b" }
	for _, o := range []Optimizer{ada, delta, amax, lamb} {
		o.Step()
		require.Zero(t, testing.AllocsPerRun(20, o.Step), "%T", o)
	}
}
