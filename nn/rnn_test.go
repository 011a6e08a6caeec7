package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// seqFixture reads nn/testdata/seq/<name>.json, written by make_fixtures.py from PyTorch 1.13.
func seqFixture(t *testing.T, name string) map[string]*tensor.Tensor {
	t.Helper()
	var raw map[string]*fixtureTensor
	readJSONFixture(t, "seq", name+".json", &raw)
	out := make(map[string]*tensor.Tensor, len(raw))
	for k, v := range raw {
		out[k] = v.tensor()
	}
	return out
}

// seqLoadParams copies the fixture's values of every parameter of l, which must all be there with
// the same shapes.
func seqLoadParams(t *testing.T, l nn.Layer, fx map[string]*tensor.Tensor, prefix string) {
	t.Helper()
	for _, p := range l.Params() {
		v, ok := fx[prefix+p.Name]
		require.True(t, ok, "fixture has no %s", prefix+p.Name)
		require.Equal(t, v.Shape(), p.Shape(), p.Name)
		copy(p.Data(), v.Data())
	}
}

// seqWeightedSum is Σ_k Σ outs[k]·R_k with the fixture's R0, R1, ...
func seqWeightedSum(fx map[string]*tensor.Tensor, outs ...*tensor.Tensor) *tensor.Tensor {
	var s *tensor.Tensor
	for i, o := range outs {
		term := o.Mul(fx["R"+string(rune('0'+i))]).Sum()
		if s == nil {
			s = term
		} else {
			s = s.Add(term)
		}
	}
	return s
}

const seqAtol, seqRtol = 2e-5, 1e-4

type seqRunner interface {
	nn.Layer
	Run(x *tensor.Tensor, initial []*tensor.Tensor, seqLen []int) (*tensor.Tensor, []*tensor.Tensor)
}

// TestRNNTorch compares SimpleRNN, LSTM and GRU (outputs, final states and the gradients of the
// input, initial states and every weight) with torch.nn.RNN/LSTM/GRU on the same weights.
func TestRNNTorch(t *testing.T) {
	cases := []struct {
		name string
		l    seqRunner
	}{
		{"lstm_bi2", nn.NewLSTM(3, 4, nn.RNNOptions{NumLayers: 2, Direction: "bidirect"})},
		{"lstm_seqlen", nn.NewLSTM(3, 4, nn.RNNOptions{Direction: "bidirectional"})},
		{"gru_tm", nn.NewGRU(3, 4, nn.RNNOptions{NumLayers: 2, TimeMajor: true})},
		{"gru_seqlen", nn.NewGRU(3, 4)},
		{"rnn_tanh_bi", nn.NewSimpleRNN(3, 4, nn.RNNOptions{Direction: "bidirect"})},
		{"rnn_relu", nn.NewSimpleRNN(3, 4, nn.RNNOptions{NumLayers: 2, Activation: "relu"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := seqFixture(t, c.name)
			seqLoadParams(t, c.l, fx, "")
			x, h0 := fx["x"].SetRequiresGrad(true), fx["h0"].SetRequiresGrad(true)
			initial := []*tensor.Tensor{h0}
			if c0 := fx["c0"]; c0 != nil {
				initial = append(initial, c0.SetRequiresGrad(true))
			}
			var seqLen []int
			if l := fx["lengths"]; l != nil {
				for _, v := range l.Data() {
					seqLen = append(seqLen, int(v))
				}
			}
			out, final := c.l.Run(x, initial, seqLen)
			tensortest.AllClose(t, out, fx["out"], seqAtol, seqRtol)
			tensortest.AllClose(t, final[0], fx["h"], seqAtol, seqRtol)
			if len(final) > 1 {
				tensortest.AllClose(t, final[1], fx["c"], seqAtol, seqRtol)
			}
			seqWeightedSum(fx, append([]*tensor.Tensor{out}, final...)...).Backward()
			tensortest.AllClose(t, x.Grad(), fx["grad.x"], seqAtol, seqRtol)
			tensortest.AllClose(t, h0.Grad(), fx["grad.h0"], seqAtol, seqRtol)
			if len(initial) > 1 {
				tensortest.AllClose(t, initial[1].Grad(), fx["grad.c0"], seqAtol, seqRtol)
			}
			for _, p := range c.l.Params() {
				if err := tensortest.Close(p.Grad(), fx["grad."+p.Name], seqAtol, seqRtol); err != nil {
					t.Errorf("grad of %s: %v", p.Name, err)
				}
			}
		})
	}
}

func TestRNNParamsAndInit(t *testing.T) {
	l := nn.NewLSTM(3, 4, nn.RNNOptions{NumLayers: 2, Direction: "bidirect", Rand: newRNG()})
	var names []string
	for _, p := range l.Params() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{
		"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
		"weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
		"weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
		"weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
	}, names)
	require.Equal(t, []int{16, 3}, l.Params()[0].Shape())
	require.Equal(t, []int{16, 8}, l.Params()[8].Shape(), "layer 1 reads both directions")
	bound := float32(1 / math.Sqrt(4))
	for _, p := range l.Params() {
		for _, v := range p.Data() {
			require.True(t, v >= -bound && v <= bound, "%s: Uniform(-1/√hidden, 1/√hidden)", p.Name)
		}
	}
	require.Len(t, nn.NewGRU(2, 5).Params()[0].Data(), 15*2)
	require.Len(t, nn.NewSimpleRNN(2, 5).Params()[1].Data(), 5*5)
}

// TestRNNGrad grad-checks the layers with respect to their input and every weight, and Run with
// respect to the initial states, over the options.
func TestRNNGrad(t *testing.T) {
	rng := newRNG()
	o := func(opt nn.RNNOptions) nn.RNNOptions { opt.Rand = rng; return opt }
	opt := tensortest.GradCheckOptions{Atol: 2e-2}
	checkLayer(t, nn.NewLSTM(2, 3, o(nn.RNNOptions{NumLayers: 2, Direction: "bidirect"})), tensor.Randn(rng, 2, 3, 2), opt)
	checkLayer(t, nn.NewGRU(2, 3, o(nn.RNNOptions{TimeMajor: true, Direction: "bidirect"})), tensor.Randn(rng, 3, 2, 2), opt)
	checkLayer(t, nn.NewSimpleRNN(2, 3, o(nn.RNNOptions{NumLayers: 2})), tensor.Randn(rng, 2, 3, 2), opt)
	checkLayer(t, nn.NewSimpleRNN(2, 3, o(nn.RNNOptions{Activation: "relu"})), tensor.Randn(rng, 2, 3, 2), opt)
	for _, c := range []struct {
		l      seqRunner
		states int // number of state tensors
		slots  int // num_layers·D
	}{
		{nn.NewLSTM(2, 3, o(nn.RNNOptions{Direction: "bidirect"})), 2, 2},
		{nn.NewGRU(2, 3, o(nn.RNNOptions{NumLayers: 2})), 1, 2},
		{nn.NewSimpleRNN(2, 3, o(nn.RNNOptions{TimeMajor: true})), 1, 1},
	} {
		inputs := []*tensor.Tensor{tensor.Randn(rng, 3, 3, 2)}
		for range c.states {
			inputs = append(inputs, tensor.Randn(rng, c.slots, 3, 3))
		}
		for _, p := range c.l.Params() {
			inputs = append(inputs, p.Tensor)
		}
		tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
			out, final := c.l.Run(in[0], in[1:1+c.states], []int{3, 1, 2})
			parts := []*tensor.Tensor{out.Flatten(0, -1)}
			for _, f := range final {
				parts = append(parts, f.Flatten(0, -1))
			}
			return tensor.Concat(parts, 0)
		}, inputs, opt)
	}
}

// TestCells checks each cell's step against the layer it builds (one time step) and grad-checks
// it with respect to input, states and weights.
func TestCells(t *testing.T) {
	rng := newRNG()
	opt := tensortest.GradCheckOptions{Atol: 2e-2}
	x, h, c := tensor.Randn(rng, 2, 3), tensor.Randn(rng, 2, 4), tensor.Randn(rng, 2, 4)

	lc := nn.NewLSTMCell(3, 4, nn.RNNCellOptions{Rand: rng})
	ll := nn.NewLSTM(3, 4)
	seqCopyParams(ll, lc)
	hn, cn := lc.Step(x, h, c)
	out, final := ll.Run(x.Unsqueeze(1), []*tensor.Tensor{h.Unsqueeze(0), c.Unsqueeze(0)}, nil)
	tensortest.AllClose(t, hn, out.Squeeze(1), 0, 0)
	tensortest.AllClose(t, cn, final[1].Squeeze(0), 0, 0)
	require.Equal(t, []string{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}, seqParamNames(lc))
	require.Equal(t, []int{16, 3}, lc.WeightIH.Shape())
	checkLayer(t, lc, x, opt)
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
		a, b := lc.Step(in[0], in[1], in[2])
		return tensor.Concat([]*tensor.Tensor{a, b}, 1)
	}, []*tensor.Tensor{x, h, c}, opt)

	gc := nn.NewGRUCell(3, 4, nn.RNNCellOptions{Rand: rng})
	gl := nn.NewGRU(3, 4)
	seqCopyParams(gl, gc)
	out, _ = gl.Run(x.Unsqueeze(1), []*tensor.Tensor{h.Unsqueeze(0)}, nil)
	tensortest.AllClose(t, gc.Step(x, h), out.Squeeze(1), 0, 0)
	checkLayer(t, gc, x, opt)
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor { return gc.Step(in[0], in[1]) }, []*tensor.Tensor{x, h}, opt)

	sc := nn.NewSimpleRNNCell(3, 4, nn.RNNCellOptions{Activation: "relu", Rand: rng})
	want := x.MatMul(sc.WeightIH.Detach().T()).Add(sc.BiasIH.Detach()).Add(h.MatMul(sc.WeightHH.Detach().T())).Add(sc.BiasHH.Detach()).ReLU()
	tensortest.AllClose(t, sc.Step(x, h), want, 1e-6, 1e-6)
	checkLayer(t, sc, x, opt)
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor { return sc.Step(in[0], in[1]) }, []*tensor.Tensor{x, h}, opt)
}

func seqCopyParams(dst, src nn.Layer) {
	for i, p := range dst.Params() {
		copy(p.Data(), src.Params()[i].Data())
	}
}

// TestRNNDropout checks that dropout between layers acts in training only and that Eval turns it
// off.
func TestRNNDropout(t *testing.T) {
	rng := newRNG()
	l := nn.NewLSTM(2, 3, nn.RNNOptions{NumLayers: 2, Dropout: 0.5, Rand: rng})
	x := tensor.Randn(rng, 2, 4, 2)
	a, b := l.Forward(x), l.Forward(x)
	require.Error(t, tensortest.Close(a, b, 0, 0), "two training passes draw different masks")
	nn.Eval(l)
	a, b = l.Forward(x), l.Forward(x)
	tensortest.AllClose(t, a, b, 0, 0)
	one := nn.NewLSTM(2, 3, nn.RNNOptions{Dropout: 0.5})
	require.Empty(t, one.Sublayers(), "one layer: no dropout (Paddle applies it between layers)")
}

func TestRNNPanics(t *testing.T) {
	l := nn.NewLSTM(3, 4)
	for name, f := range map[string]func(){
		"input":     func() { l.Forward(tensor.Zeros(2, 5, 2)) },
		"rank":      func() { l.Forward(tensor.Zeros(2, 3)) },
		"states":    func() { l.Run(tensor.Zeros(2, 5, 3), []*tensor.Tensor{tensor.Zeros(1, 2, 4)}, nil) },
		"lengths":   func() { l.Run(tensor.Zeros(2, 5, 3), nil, []int{6, 1}) },
		"direction": func() { nn.NewGRU(3, 4, nn.RNNOptions{Direction: "backward"}) },
		"act":       func() { nn.NewSimpleRNN(3, 4, nn.RNNOptions{Activation: "sigmoid"}) },
		"cell":      func() { nn.NewLSTMCell(3, 4).Step(tensor.Zeros(2, 3), tensor.Zeros(3, 4), nil) },
	} {
		func() {
			defer func() {
				r := recover()
				require.NotNil(t, r, name)
				_, ok := r.(*nn.Error)
				require.True(t, ok, "%s: %v", name, r)
			}()
			f()
		}()
	}
}

func seqParamNames(l nn.Layer) []string {
	var s []string
	for _, p := range l.Params() {
		s = append(s, p.Name)
	}
	return s
}

// Options returns the settings a recurrent network was built with, defaults filled in.
func TestRNNOptions(t *testing.T) {
	require.Equal(t, nn.RNNOptions{NumLayers: 1, Direction: "forward", Activation: "tanh"}, nn.NewSimpleRNN(3, 4).Options())
	o := nn.RNNOptions{NumLayers: 2, Direction: "bidirect", TimeMajor: true, Dropout: 0.25, Activation: "relu"}
	require.Equal(t, o, nn.NewSimpleRNN(3, 4, nn.RNNOptions{NumLayers: 2, Direction: "bidirectional", TimeMajor: true, Dropout: 0.25, Activation: "relu"}).Options())
	require.Equal(t, nn.RNNOptions{NumLayers: 3, Direction: "forward"}, nn.NewLSTM(3, 4, nn.RNNOptions{NumLayers: 3}).Options())
	require.Equal(t, nn.RNNOptions{NumLayers: 1, Direction: "bidirect"}, nn.NewGRU(3, 4, nn.RNNOptions{Direction: "bidirect"}).Options())
}
