package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// TestMultiHeadAttentionTorch compares output, per-head weights and every gradient with
// torch.nn.MultiheadAttention (batch_first, float mask, average_attn_weights=False).
func TestMultiHeadAttentionTorch(t *testing.T) {
	fx := seqFixture(t, "mha")
	m := nn.NewMultiHeadAttention(8, 2, nn.MultiHeadAttentionOptions{NeedWeights: true})
	seqLoadParams(t, m, fx, "")
	q, k, v := fx["query"].SetRequiresGrad(true), fx["key"].SetRequiresGrad(true), fx["value"].SetRequiresGrad(true)
	out, w := m.Attend(q, k, v, fx["mask"])
	tensortest.AllClose(t, out, fx["out"], seqAtol, seqRtol)
	tensortest.AllClose(t, w, fx["weights"], seqAtol, seqRtol)
	seqWeightedSum(fx, out, w).Backward()
	for name, x := range map[string]*tensor.Tensor{"query": q, "key": k, "value": v} {
		if err := tensortest.Close(x.Grad(), fx["grad."+name], seqAtol, seqRtol); err != nil {
			t.Errorf("grad of %s: %v", name, err)
		}
	}
	for _, p := range m.Params() {
		if err := tensortest.Close(p.Grad(), fx["grad."+p.Name], seqAtol, seqRtol); err != nil {
			t.Errorf("grad of %s: %v", p.Name, err)
		}
	}
}

// TestTransformerEncoderLayerTorch compares post-norm (relu) and pre-norm (gelu) layers with
// torch.nn.TransformerEncoderLayer (norm_first = Paddle's normalize_before), forward and gradients.
func TestTransformerEncoderLayerTorch(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  nn.TransformerEncoderLayerOptions
	}{
		{"encoder_post", nn.TransformerEncoderLayerOptions{NoDropout: true}},
		{"encoder_pre", nn.TransformerEncoderLayerOptions{NoDropout: true, NormalizeBefore: true, Activation: "gelu"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := seqFixture(t, c.name)
			l := nn.NewTransformerEncoderLayer(8, 2, 16, c.opt)
			seqLoadParams(t, l, fx, "")
			x := fx["x"].SetRequiresGrad(true)
			y := l.ForwardMask(x, fx["mask"])
			tensortest.AllClose(t, y, fx["out"], seqAtol, seqRtol)
			seqWeightedSum(fx, y).Backward()
			tensortest.AllClose(t, x.Grad(), fx["grad.x"], seqAtol, seqRtol)
			for _, p := range l.Params() {
				if err := tensortest.Close(p.Grad(), fx["grad."+p.Name], seqAtol, seqRtol); err != nil {
					t.Errorf("grad of %s: %v", p.Name, err)
				}
			}
		})
	}
}

func TestMultiHeadAttentionGrad(t *testing.T) {
	rng := newRNG()
	opt := tensortest.GradCheckOptions{Atol: 2e-2}
	m := nn.NewMultiHeadAttention(4, 2, nn.MultiHeadAttentionOptions{KDim: 3, VDim: 5, Rand: rng})
	require.Equal(t, []int{3, 4}, m.KProj.Weight.Shape())
	q, k, v := tensor.Randn(rng, 2, 3, 4), tensor.Randn(rng, 2, 2, 3), tensor.Randn(rng, 2, 2, 5)
	inputs := []*tensor.Tensor{q, k, v}
	for _, p := range m.Params() {
		inputs = append(inputs, p.Tensor)
	}
	for _, mask := range []*tensor.Tensor{nil, tensor.Randn(rng, 3, 2), tensor.Randn(rng, 2, 1, 3, 2)} {
		tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
			out, _ := m.Attend(in[0], in[1], in[2], mask)
			return out
		}, inputs, opt)
	}
	m.NeedWeights = true
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
		_, w := m.Attend(in[0], in[1], in[2], nil)
		return w
	}, inputs, opt)
	checkLayer(t, nn.NewMultiHeadAttention(6, 3, nn.MultiHeadAttentionOptions{Rand: rng}), tensor.Randn(rng, 2, 3, 6), opt)
}

// TestAttentionMask checks Paddle's keep/remove convention by hand: removing key positions with a
// 0 in the mask gives the attention over the remaining keys alone, and the weights there are 0.
func TestAttentionMask(t *testing.T) {
	rng := newRNG()
	m := nn.NewMultiHeadAttention(4, 2, nn.MultiHeadAttentionOptions{NeedWeights: true, Rand: rng})
	q, kv := tensor.Randn(rng, 1, 2, 4), tensor.Randn(rng, 1, 3, 4)
	keep := tensor.New([]float32{1, 0, 1}, 1, 3) // Paddle's [True, False, True]
	mask := nn.AttentionMask(keep)
	require.Equal(t, []float32{0, -1e9, 0}, mask.Data())
	out, w := m.Attend(q, kv, kv, mask)
	kept := tensor.Concat([]*tensor.Tensor{kv.Slice(1, 0, 1), kv.Slice(1, 2, 3)}, 1)
	want, _ := m.Attend(q, kept, kept, nil)
	tensortest.AllClose(t, out, want, 1e-6, 1e-5)
	for h := range 2 {
		for i := range 2 {
			require.Zero(t, w.At(0, h, i, 1))
			require.InDelta(t, 1, w.At(0, h, i, 0)+w.At(0, h, i, 2), 1e-6)
		}
	}
	// scaling by head_dim^-0.5: one head, identity projections, zero biases
	one := nn.NewMultiHeadAttention(2, 1, nn.MultiHeadAttentionOptions{NeedWeights: true})
	for _, l := range []*nn.Linear{one.QProj, one.KProj, one.VProj, one.OutProj} {
		copy(l.Weight.Data(), []float32{1, 0, 0, 1})
	}
	x := tensor.New([]float32{1, 0, 0, 2}, 1, 2, 2)
	_, w1 := one.Attend(x, x, x, nil)
	// scores row 0: [1, 0]/√2 → softmax
	require.InDelta(t, 1/(1+math.Exp(-1/math.Sqrt2)), w1.At(0, 0, 0, 0), 1e-6)
}

func TestTransformerEncoder(t *testing.T) {
	rng := newRNG()
	// gelu: relu's kink makes finite differences fragile (the relu post-norm layer is compared with
	// torch's gradients above and grad-checked with a small step below)
	layer := nn.NewTransformerEncoderLayer(4, 2, 8, nn.TransformerEncoderLayerOptions{Activation: "gelu", Rand: rng})
	require.InDelta(t, 0.1, layer.Dropout1.P, 1e-7, "Paddle's default dropout")
	require.InDelta(t, 0.1, layer.SelfAttn.Dropout.P, 1e-7, "attn_dropout defaults to dropout")
	enc := nn.NewTransformerEncoder(layer, 2, nn.NewLayerNorm([]int{4}))
	require.Same(t, layer, enc.Layers[0])
	require.NotEqual(t, enc.Layers[0].Linear1.Weight.Data(), enc.Layers[1].Linear1.Weight.Data(),
		"Paddle builds the other layers afresh from the config (torch deep-copies)")
	names := seqParamNames(enc)
	require.Equal(t, "layers.0.self_attn.q_proj.weight", names[0])
	require.Contains(t, names, "layers.1.norm2.bias")
	require.Equal(t, "norm.bias", names[len(names)-1])
	require.Len(t, names, 2*16+2)

	nn.Eval(enc) // dropout off for the gradient check
	opt := tensortest.GradCheckOptions{Atol: 2e-2}
	x := tensor.Randn(rng, 2, 3, 4)
	checkLayer(t, enc, x, opt)
	mask := nn.AttentionMask(tensor.New([]float32{1, 1, 0, 1, 1, 1, 1, 0, 1}, 3, 3))
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor { return enc.ForwardMask(in[0], mask) }, []*tensor.Tensor{x}, opt)
	pre := nn.NewTransformerEncoderLayer(4, 2, 8, nn.TransformerEncoderLayerOptions{NormalizeBefore: true, Activation: "gelu", Rand: rng})
	nn.Eval(pre)
	checkLayer(t, pre, x, opt)
	post := nn.NewTransformerEncoderLayer(4, 2, 8, nn.TransformerEncoderLayerOptions{NoDropout: true, Rand: rng})
	checkLayer(t, post, x, tensortest.GradCheckOptions{Eps: 1e-3, Atol: 3e-2})

	// in training, dropout changes the output; in evaluation it does not
	nn.Train(enc)
	a, b := enc.Forward(x), enc.Forward(x)
	require.Error(t, tensortest.Close(a, b, 0, 0))
}

func TestAttentionPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"heads": func() { nn.NewMultiHeadAttention(6, 4) },
		"shape": func() { nn.NewMultiHeadAttention(4, 2).Forward(tensor.Zeros(2, 3, 5)) },
		"mask":  func() { nn.NewMultiHeadAttention(4, 2).Attend(tensor.Zeros(2, 3, 4), nil, nil, tensor.Zeros(4, 3)) },
		"act":   func() { nn.NewTransformerEncoderLayer(4, 2, 8, nn.TransformerEncoderLayerOptions{Activation: "tanh"}) },
		"src":   func() { nn.NewTransformerEncoderLayer(4, 2, 8).Forward(tensor.Zeros(3, 4)) },
	} {
		func() {
			defer func() {
				r := recover()
				require.NotNil(t, r, name)
				_, ok := r.(*nn.Error)
				require.True(t, ok, "%s: %T %v", name, r, r)
			}()
			f()
		}()
	}
}

// TestMultiHeadAttentionPaths checks that the fused path (one tensor.Attention op, used without
// NeedWeights) and the op-by-op path (with NeedWeights) give the same outputs and gradients, with
// a mask and with dropout in training drawing the same mask from the same seed.
func TestMultiHeadAttentionPaths(t *testing.T) {
	rng := newRNG()
	m := nn.NewMultiHeadAttention(8, 2, nn.MultiHeadAttentionOptions{Dropout: 0.3, Rand: rng})
	q, kv := tensor.Randn(rng, 2, 3, 8), tensor.Randn(rng, 2, 5, 8)
	mask := tensor.Randn(rng, 2, 1, 1, 5)
	run := func(need bool) (*tensor.Tensor, []*tensor.Tensor) {
		m.NeedWeights = need
		m.Dropout.SetSeed(7)
		x, y := q.Detach().SetRequiresGrad(true), kv.Detach().SetRequiresGrad(true)
		for _, p := range m.Params() {
			p.ClearGrad()
		}
		out, _ := m.Attend(x, y, y, mask)
		out.Square().Sum().Backward()
		grads := []*tensor.Tensor{x.Grad(), y.Grad()}
		for _, p := range m.Params() {
			grads = append(grads, p.Grad().Clone())
		}
		return out, grads
	}
	for _, training := range []bool{true, false} {
		if training {
			nn.Train(m)
		} else {
			nn.Eval(m)
		}
		a, ga := run(false)
		b, gb := run(true)
		tensortest.AllClose(t, a, b, 1e-5, 1e-5)
		for i := range ga {
			tensortest.AllClose(t, ga[i], gb[i], 1e-5, 1e-4)
		}
	}
}
