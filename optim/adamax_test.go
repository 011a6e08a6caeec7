package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestAdamaxHandValues checks Adamax against steps worked out by hand: p = 1, lr 0.1, β1 = β2 =
// 0.5, ε 0.1.
//
//	g=2:    m = 0.5·2 = 1;            u = max(2, 0.5·0 + 0.1) = 2;     lr_t = 0.1/(1-0.5) = 0.2
//	        p = 1 - 0.2·1/2 = 0.9
//	g=-0.5: m = 0.5 - 0.25 = 0.25;    u = max(0.5, 0.5·2 + 0.1) = 1.1; lr_t = 0.1/(1-0.25) = 0.1333333
//	        p = 0.9 - 0.1333333·0.25/1.1 = 0.8696970
//
// PyTorch adds ε to |g| instead: u = max(0, 2.1) = 2.1 at step 1, p = 1 - 0.2/2.1 = 0.9047619.
func TestAdamaxHandValues(t *testing.T) {
	p := param("p", 1)
	o := NewAdamax([]nn.Param{p}, 0.1)
	o.Beta1, o.Beta2, o.Epsilon = 0.5, 0.5, 0.1
	for step, tc := range []struct {
		g    float32
		want float64
	}{{2, 0.9}, {-0.5, 0.8696970}} {
		setGrad(p.Tensor, tc.g)
		o.Step()
		require.InDelta(t, tc.want, p.Data()[0], 1e-6, "step %d", step+1)
	}
	st := o.State()
	require.Equal(t, []string{"p.moment", "p.inf_norm"}, []string{st.Tensors[0].Name, st.Tensors[1].Name})
	require.InDelta(t, 1.1, st.Tensors[1].Data()[0], 1e-7)
	require.Equal(t, "2", st.Meta["p.step"])

	d := NewAdamax([]nn.Param{p}, 0.001)
	require.Equal(t, [3]float32{0.9, 0.999, 1e-8}, [3]float32{d.Beta1, d.Beta2, d.Epsilon})
}

// TestAdamaxSequence compares 20 steps with coupled weight decay against a plain float64
// implementation of Paddle's adamax kernel written here independently.
func TestAdamaxSequence(t *testing.T) {
	const lr, b1, b2, eps, wd = 0.02, 0.9, 0.999, 1e-8, 0.05
	p := seqParam()
	o := NewAdamax([]nn.Param{p}, lr)
	o.WeightDecay = wd
	got := runSeq(o, p, 20)

	n := len(seqStart)
	x, m, u := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, v := range seqStart {
		x[i] = float64(v)
	}
	var want [][]float64
	for s := 1; s <= 20; s++ {
		lrT := lr / (1 - math.Pow(b1, float64(s)))
		for i := range x {
			g := float64(seqGrad(s, i)) + wd*x[i]
			m[i] = b1*m[i] + (1-b1)*g
			u[i] = math.Max(math.Abs(g), b2*u[i]+eps)
			x[i] -= lrT * m[i] / u[i]
		}
		want = append(want, append([]float64(nil), x...))
	}
	requireSeq(t, got, want, 2e-6)
}

func TestAdamaxResume(t *testing.T) {
	requireResumeBitwise(t, func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewAdamax(ps, 0.05)
		o.WeightDecay, o.GradClip = 0.01, ClipGradByGlobalNorm{ClipNorm: 1}
		o.Scheduler = NewCosineAnnealingDecay(0.05, 8, 0.001)
		return o, o.Scheduler
	})
}

func TestAdamaxPanics(t *testing.T) {
	p := []nn.Param{param("w", 1)}
	for _, tc := range []struct {
		set func(*Adamax)
		msg string
	}{
		{func(o *Adamax) { o.Beta1 = 1 }, "optim: Adamax: Beta1 1 outside [0, 1)"},
		{func(o *Adamax) { o.Beta2 = -0.1 }, "optim: Adamax: Beta2 -0.1 outside [0, 1)"},
		{func(o *Adamax) { o.Epsilon = -1 }, "optim: Adamax: Epsilon -1 must be finite and >= 0"},
	} {
		o := NewAdamax(p, 0.1)
		tc.set(o)
		require.PanicsWithError(t, tc.msg, o.Step)
	}
}
