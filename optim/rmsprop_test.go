package optim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestRMSPropHandValues checks RMSProp against steps worked out by hand with exact decimals: one
// parameter starting at 1, lr 0.09, gradients independent of p (setGrad).
func TestRMSPropHandValues(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rho, eps float32
		mu       float32
		centered bool
		grads    []float32
		want     []float64
	}{
		// ρ 0.5, ε 0.31 (inside the square root), μ 0:
		// g=1:    ms = 0.5·0 + 0.5·1 = 0.5;     sqrt(0.5+0.31) = 0.9; mom = 0.09·1/0.9 = 0.1;        p = 0.9
		// g=2:    ms = 0.25 + 0.5·4 = 2.25;     sqrt(2.56) = 1.6;     mom = 0.09·2/1.6 = 0.1125;     p = 0.7875
		// g=-1.5: ms = 1.125 + 0.5·2.25 = 2.25; sqrt(2.56) = 1.6;     mom = -0.135/1.6 = -0.084375;  p = 0.871875
		// (ε outside the root, as PyTorch, would give 0.09/(sqrt(0.5)+0.31) = 0.0885 at step 1.)
		{"plain", 0.5, 0.31, 0, false, []float32{1, 2, -1.5}, []float64{0.9, 0.7875, 0.871875}},
		// the same with μ 0.5: mom = 0.1, p = 0.9; mom = 0.05 + 0.1125 = 0.1625, p = 0.7375;
		// mom = 0.08125 - 0.084375 = -0.003125, p = 0.740625
		{"momentum", 0.5, 0.31, 0.5, false, []float32{1, 2, -1.5}, []float64{0.9, 0.7375, 0.740625}},
		// Centered, ρ 0.75 (1-ρ = 0.25), ε 0.24, μ 0:
		// g=4:    ms = 0.25·16 = 4;                    mg = 0.25·4 = 1;             sqrt(4 - 1 + 0.24) = 1.8;
		//         mom = 0.09·4/1.8 = 0.2;   p = 0.8
		// g=3:    ms = 0.75·4 + 0.25·9 = 5.25;         mg = 0.75 + 0.75 = 1.5;      sqrt(5.25 - 2.25 + 0.24) = 1.8;
		//         mom = 0.09·3/1.8 = 0.15;  p = 0.65
		// g=-0.5: ms = 0.75·5.25 + 0.25·0.25 = 4;      mg = 1.125 - 0.125 = 1;      sqrt(4 - 1 + 0.24) = 1.8;
		//         mom = -0.045/1.8 = -0.025; p = 0.675
		{"centered", 0.75, 0.24, 0, true, []float32{4, 3, -0.5}, []float64{0.8, 0.65, 0.675}},
		// centered with μ 0.5: mom = 0.2, p = 0.8; mom = 0.1 + 0.15 = 0.25, p = 0.55;
		// mom = 0.125 - 0.025 = 0.1, p = 0.45
		{"centered momentum", 0.75, 0.24, 0.5, true, []float32{4, 3, -0.5}, []float64{0.8, 0.55, 0.45}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := param("p", 1)
			o := NewRMSProp([]nn.Param{p}, 0.09)
			o.Rho, o.Epsilon, o.Momentum, o.Centered = tc.rho, tc.eps, tc.mu, tc.centered
			for step, g := range tc.grads {
				setGrad(p.Tensor, g)
				o.Step()
				require.InDelta(t, tc.want[step], p.Data()[0], 1e-6, "step %d", step+1)
			}
		})
	}
}

func TestRMSPropDefaults(t *testing.T) {
	p := param("p", 1)
	o := NewRMSProp([]nn.Param{p}, 0.1)
	require.Equal(t, [3]float32{0.95, 1e-6, 0}, [3]float32{o.Rho, o.Epsilon, o.Momentum})
	require.False(t, o.Centered)
	// g = 0.5: ms = 0.05·0.25 = 0.0125; sqrt(0.0125 + 0.000001) = sqrt(0.012501) = 0.1118078;
	// mom = 0.05/0.1118078 = 0.4471960; p = 0.5528040. (ε outside: 0.05/0.1118044 = 0.4472096.)
	setGrad(p.Tensor, 0.5)
	o.Step()
	require.InDelta(t, 0.5528040, p.Data()[0], 1e-6)
}

func TestRMSPropClipAndDecay(t *testing.T) {
	// The rule sees the clipped gradient plus the L2 term: clamp(3) + 0.5·1 = 1, then as step 1
	// of "plain" above: p = 0.9.
	p := param("p", 1)
	o := NewRMSProp([]nn.Param{p}, 0.09)
	o.Rho, o.Epsilon = 0.5, 0.31
	o.GradClip, o.WeightDecay = ClipGradByValue{Min: -0.5, Max: 0.5}, 0.5
	setGrad(p.Tensor, 3)
	o.Step()
	require.InDelta(t, 0.9, p.Data()[0], 1e-6)
}

func TestRMSPropState(t *testing.T) {
	pr := newProblem()
	o := NewRMSProp(pr.params, 0.01)
	o.Centered, o.Momentum = true, 0.9
	o.Scheduler = NewExponentialDecay(0.01, 0.9)
	pr.train(o, o.Scheduler, 3)
	var names []string
	for _, p := range o.State().Tensors {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"fc.weight.momentum", "fc.weight.mean_square", "fc.weight.mean_grad",
		"fc.bias.momentum", "fc.bias.mean_square", "fc.bias.mean_grad"}, names)

	var buf bytes.Buffer
	require.NoError(t, Write(&buf, o))
	o2 := NewRMSProp(pr.params, 0.01)
	o2.Scheduler = NewExponentialDecay(0.01, 0.9)
	require.NoError(t, Read(&buf, o2))
	require.Equal(t, o.State(), o2.State())
	require.Equal(t, o.LR(), o2.LR())

	err := Read(bytes.NewReader(adamFile(t)), o2)
	require.ErrorContains(t, err, `RMSProp state: optimizer "Adam", want "RMSProp"`)
	require.ErrorContains(t, err, `missing tensor "fc.weight.mean_square"`)
}

func TestRMSPropPanics(t *testing.T) {
	p := []nn.Param{param("w", 1)}
	for _, tc := range []struct {
		set func(*RMSProp)
		msg string
	}{
		{func(o *RMSProp) { o.Rho = 1 }, "optim: RMSProp: Rho 1 outside [0, 1)"},
		{func(o *RMSProp) { o.Epsilon = -1 }, "optim: RMSProp: Epsilon -1 must be finite and >= 0"},
		{func(o *RMSProp) { o.Momentum = -0.5 }, "optim: RMSProp: Momentum -0.5 outside [0, 1)"},
	} {
		o := NewRMSProp(p, 0.1)
		tc.set(o)
		require.PanicsWithError(t, tc.msg, o.Step)
	}
}
