package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestAdadeltaHandValues checks Adadelta against steps worked out by hand: p = 1, lr 0.3, ρ 0.5,
// ε 1 (inside both roots), gradients 4 then 1.
//
//	g=4: E[g²] = 0.5·16 = 8;          Δ = -sqrt(0+1)/sqrt(8+1)·4 = -4/3;   p = 1 - 0.3·4/3 = 0.6
//	     E[Δ²] = 0.5·16/9 = 8/9
//	g=1: E[g²] = 4 + 0.5 = 4.5;       Δ = -sqrt(8/9+1)/sqrt(5.5) = -1.3743685/2.3452079 = -0.5860327
//	     p = 0.6 - 0.3·0.5860327 = 0.4241902
//
// PyTorch's update is the same (its defaults differ); with ε outside the roots the first step
// would be -1/3·4 too but the second would differ.
func TestAdadeltaHandValues(t *testing.T) {
	p := param("p", 1)
	o := NewAdadelta([]nn.Param{p}, 0.3)
	o.Rho, o.Epsilon = 0.5, 1
	for step, tc := range []struct {
		g    float32
		want float64
	}{{4, 0.6}, {1, 0.4241902}} {
		setGrad(p.Tensor, tc.g)
		o.Step()
		require.InDelta(t, tc.want, p.Data()[0], 1e-6, "step %d", step+1)
	}
	st := o.State()
	require.Equal(t, "p.avg_squared_grad", st.Tensors[0].Name)
	require.InDelta(t, 4.5, st.Tensors[0].Data()[0], 1e-6)
	require.InDelta(t, 0.5*8.0/9+0.5*0.5860327*0.5860327, st.Tensors[1].Data()[0], 1e-6)

	d := NewAdadelta([]nn.Param{p}, 0.001)
	require.Equal(t, [2]float32{0.95, 1e-6}, [2]float32{d.Rho, d.Epsilon})
}

// TestAdadeltaSequence compares 20 steps with coupled weight decay and norm clipping against a
// plain float64 implementation of Paddle's adadelta kernel written here independently.
func TestAdadeltaSequence(t *testing.T) {
	const lr, rho, eps, wd, clipNorm = 0.5, 0.9, 1e-6, 0.02, 2.0
	p := seqParam()
	o := NewAdadelta([]nn.Param{p}, lr)
	o.Rho, o.WeightDecay, o.GradClip = rho, wd, ClipGradByNorm{ClipNorm: clipNorm}
	got := runSeq(o, p, 20)

	n := len(seqStart)
	x, eg, ed := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, v := range seqStart {
		x[i] = float64(v)
	}
	var want [][]float64
	for s := 1; s <= 20; s++ {
		norm := 0.0
		for i := range x {
			norm += float64(seqGrad(s, i)) * float64(seqGrad(s, i))
		}
		scale := math.Min(1, clipNorm/math.Sqrt(norm))
		for i := range x {
			g := float64(seqGrad(s, i))*scale + wd*x[i]
			eg[i] = rho*eg[i] + (1-rho)*g*g
			d := -math.Sqrt(ed[i]+eps) / math.Sqrt(eg[i]+eps) * g
			x[i] += lr * d
			ed[i] = rho*ed[i] + (1-rho)*d*d
		}
		want = append(want, append([]float64(nil), x...))
	}
	requireSeq(t, got, want, 2e-6)
}

func TestAdadeltaResume(t *testing.T) {
	requireResumeBitwise(t, func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewAdadelta(ps, 1)
		o.Rho, o.WeightDecay = 0.9, 0.01
		o.Scheduler = NewStepDecay(1, 3, 0.5)
		return o, o.Scheduler
	})
}

func TestAdadeltaPanics(t *testing.T) {
	p := []nn.Param{param("w", 1)}
	o := NewAdadelta(p, 0.1)
	o.Rho = 1
	require.PanicsWithError(t, "optim: Adadelta: Rho 1 outside [0, 1)", o.Step)
	o = NewAdadelta(p, 0.1)
	o.Epsilon = float32(math.NaN())
	require.PanicsWithError(t, "optim: Adadelta: Epsilon NaN must be finite and >= 0", o.Step)
}
