package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestLambHandValues checks the first Lamb step by hand: p = [3, 4] (‖p‖ = 5), g = [1, -2],
// lr 0.1, ε 0. At step 1 the bias-corrected moments are g and g², so r = sign(g) + λ·p.
func TestLambHandValues(t *testing.T) {
	s2 := math.Sqrt2
	for _, tc := range []struct {
		name  string
		wd    float32
		adapt bool
		name2 string
		want  []float64
	}{
		// λ 1: r = [1+3, -1+4] = [4, 3], ‖r‖ = 5, ratio 1: p = [3-0.4, 4-0.3]
		{"decay", 1, false, "w", []float64{2.6, 3.7}},
		// λ 0.5: r = [2.5, 1], ‖r‖ = sqrt(7.25), ratio 5/2.6925824 = 1.8569534:
		// p = [3 - 0.1·1.8569534·2.5, 4 - 0.1·1.8569534] = [2.5357617, 3.8143047]
		{"ratio", 0.5, false, "w", []float64{2.5357617, 3.8143047}},
		// λ 0 skips the trust ratio: r = [1, -1], p = [2.9, 4.1]
		{"no decay", 0, false, "w", []float64{2.9, 4.1}},
		// excluded by name: as λ 0
		{"excluded", 1, false, "bias", []float64{2.9, 4.1}},
		// λ 0 with AlwaysAdapt: ratio 5/√2: p = [3 - 0.5/√2, 4 + 0.5/√2]
		{"always adapt", 0, true, "w", []float64{3 - 0.5/s2, 4 + 0.5/s2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := param(tc.name2, 3, 4)
			o := NewLamb([]nn.Param{p}, 0.1)
			o.Epsilon, o.WeightDecay, o.AlwaysAdapt = 0, tc.wd, tc.adapt
			o.ExcludeFromWeightDecay = func(name string) bool { return strings.HasSuffix(name, "bias") }
			setGrad(p.Tensor, 1, -2)
			o.Step()
			require.InDelta(t, tc.want[0], p.Data()[0], 1e-6)
			require.InDelta(t, tc.want[1], p.Data()[1], 1e-6)
		})
	}
	o := NewLamb([]nn.Param{param("w", 1)}, 0.001)
	require.Equal(t, [4]float32{0.01, 0.9, 0.999, 1e-6}, [4]float32{o.WeightDecay, o.Beta1, o.Beta2, o.Epsilon})
	require.False(t, o.AlwaysAdapt)
}

// TestLambSequence compares 20 steps of two parameters (one decayed, one excluded) with value
// clipping against a plain float64 implementation of Paddle's lamb kernel written here
// independently.
func TestLambSequence(t *testing.T) {
	const lr, b1, b2, eps, wd, lo, hi = 0.01, 0.9, 0.999, 1e-6, 0.01, -1.5, 1.5
	p := seqParam()
	q := param("q.bias", 0.2, -0.4)
	o := NewLamb([]nn.Param{p, q}, lr)
	o.GradClip = ClipGradByValue{Min: lo, Max: hi}
	o.ExcludeFromWeightDecay = func(name string) bool { return strings.HasSuffix(name, ".bias") }
	var got [][]float32
	for s := 1; s <= 20; s++ {
		g := make([]float32, p.Len())
		for i := range g {
			g[i] = seqGrad(s, i)
		}
		setGrad(p.Tensor, g...)
		setGrad(q.Tensor, seqGrad(s, 7), seqGrad(s, 8))
		o.Step()
		got = append(got, append(append([]float32(nil), p.Data()...), q.Data()...))
	}

	type state struct{ x, m, v []float64 }
	mk := func(x0 []float32) *state {
		st := &state{m: make([]float64, len(x0)), v: make([]float64, len(x0))}
		for _, v := range x0 {
			st.x = append(st.x, float64(v))
		}
		return st
	}
	step := func(st *state, s int, grads []float64, lambda float64, adapt bool) {
		r := make([]float64, len(st.x))
		var pn, rn float64
		for i, x := range st.x {
			g := clip64(grads[i], lo, hi)
			st.m[i] = b1*st.m[i] + (1-b1)*g
			st.v[i] = b2*st.v[i] + (1-b2)*g*g
			mh := st.m[i] / (1 - math.Pow(b1, float64(s)))
			vh := st.v[i] / (1 - math.Pow(b2, float64(s)))
			r[i] = mh/(math.Sqrt(vh)+eps) + lambda*x
			pn += x * x
			rn += r[i] * r[i]
		}
		ratio := 1.0
		if (lambda > 0 || adapt) && pn > 0 && rn > 0 {
			ratio = math.Sqrt(pn) / math.Sqrt(rn)
		}
		for i := range st.x {
			st.x[i] -= lr * ratio * r[i]
		}
	}
	ps, qs := mk(seqStart), mk([]float32{0.2, -0.4})
	var want [][]float64
	for s := 1; s <= 20; s++ {
		gp := make([]float64, len(seqStart))
		for i := range gp {
			gp[i] = float64(seqGrad(s, i))
		}
		step(ps, s, gp, wd, false)
		step(qs, s, []float64{float64(seqGrad(s, 7)), float64(seqGrad(s, 8))}, 0, false)
		want = append(want, append(append([]float64(nil), ps.x...), qs.x...))
	}
	requireSeq(t, got, want, 2e-6)
}

func TestLambResume(t *testing.T) {
	requireResumeBitwise(t, func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewLamb(ps, 0.05)
		o.ExcludeFromWeightDecay = func(name string) bool { return name == "fc.bias" }
		o.GradClip = ClipGradByGlobalNorm{ClipNorm: 1}
		o.Scheduler = NewExponentialDecay(0.05, 0.95)
		return o, o.Scheduler
	})
}

func TestLambPanics(t *testing.T) {
	p := []nn.Param{param("w", 1)}
	for _, tc := range []struct {
		set func(*Lamb)
		msg string
	}{
		{func(o *Lamb) { o.Beta1 = 1 }, "optim: Lamb: Beta1 1 outside [0, 1)"},
		{func(o *Lamb) { o.Beta2 = 2 }, "optim: Lamb: Beta2 2 outside [0, 1)"},
		{func(o *Lamb) { o.Epsilon = -1 }, "optim: Lamb: Epsilon -1 must be finite and >= 0"},
		{func(o *Lamb) { o.WeightDecay = -1 }, "optim: Lamb: WeightDecay -1 must be finite and >= 0"},
	} {
		o := NewLamb(p, 0.1)
		tc.set(o)
		require.PanicsWithError(t, tc.msg, o.Step)
	}
}
