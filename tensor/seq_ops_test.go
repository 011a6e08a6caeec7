package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// TestRecurrenceGrad checks Recurrence's gradients (all five inputs) by central differences for
// every mode, both layouts, both directions and with and without sequence lengths.
func TestRecurrenceGrad(t *testing.T) {
	for _, mode := range []tensor.RNNMode{tensor.RNNTanh, tensor.RNNReLU, tensor.RNNLSTM, tensor.RNNGRU} {
		for _, opt := range []tensor.RecurrenceOptions{
			{},
			{TimeMajor: true},
			{Reverse: true},
			{SeqLen: []int{3, 1}},
			{SeqLen: []int{0, 2}, Reverse: true, TimeMajor: true},
		} {
			t.Run(fmt.Sprintf("%v/%+v", mode, opt), func(t *testing.T) {
				rng := newRNG()
				const B, T, H = 2, 3, 3
				G := map[tensor.RNNMode]int{tensor.RNNTanh: 1, tensor.RNNReLU: 1, tensor.RNNLSTM: 4, tensor.RNNGRU: 3}[mode]
				xs := []int{B, T, G * H}
				if opt.TimeMajor {
					xs = []int{T, B, G * H}
				}
				in := []*tensor.Tensor{
					tensor.Randn(rng, xs...), tensor.Randn(rng, B, H).Scale(0.5),
					tensor.Randn(rng, G*H, H).Scale(0.5), tensor.Randn(rng, G*H).Scale(0.3),
				}
				if mode == tensor.RNNLSTM {
					in = append(in, tensor.Randn(rng, B, H))
				}
				f := func(x ...*tensor.Tensor) *tensor.Tensor {
					var c0 *tensor.Tensor
					if len(x) > 4 {
						c0 = x[4]
					}
					return tensor.Recurrence(mode, x[0], x[1], c0, x[2], x[3], opt)
				}
				tensortest.GradCheck(t, f, in, tensortest.GradCheckOptions{Eps: 1e-2, Atol: 2e-2})
			})
		}
	}
}

// TestRecurrenceLSTMStep checks one LSTM step against the formula written out by hand with Paddle's
// gate order i, f, g, o.
func TestRecurrenceLSTMStep(t *testing.T) {
	xw := tensor.New([]float32{0.1, -0.2, 0.3, 0.4}, 1, 1, 4)
	h0 := tensor.New([]float32{0.5}, 1, 1)
	c0 := tensor.New([]float32{-0.7}, 1, 1)
	whh := tensor.New([]float32{0.2, -0.1, 0.3, 0.05}, 4, 1)
	bhh := tensor.New([]float32{0.01, 0.02, 0.03, 0.04}, 4)
	y := tensor.Recurrence(tensor.RNNLSTM, xw, h0, c0, whh, bhh, tensor.RecurrenceOptions{})
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	a := []float64{0.1 + 0.5*0.2 + 0.01, -0.2 - 0.5*0.1 + 0.02, 0.3 + 0.5*0.3 + 0.03, 0.4 + 0.5*0.05 + 0.04}
	c := sig(a[1])*-0.7 + sig(a[0])*math.Tanh(a[2])
	h := sig(a[3]) * math.Tanh(c)
	want := tensor.New([]float32{float32(h), float32(h), float32(c)}, 1, 3, 1)
	tensortest.AllClose(t, y, want, 1e-6, 1e-6)
}

// TestRecurrenceGRUStep checks one GRU step by hand: Paddle's r, z, c order, the reset gate
// applied to h_prev·W_hcᵀ + b_hc, and h = z·h_prev + (1-z)·c̃.
func TestRecurrenceGRUStep(t *testing.T) {
	xw := tensor.New([]float32{0.1, -0.2, 0.3}, 1, 1, 3)
	h0 := tensor.New([]float32{0.5}, 1, 1)
	whh := tensor.New([]float32{0.2, -0.1, 0.3}, 3, 1)
	bhh := tensor.New([]float32{0.01, 0.02, 0.03}, 3)
	y := tensor.Recurrence(tensor.RNNGRU, xw, h0, nil, whh, bhh, tensor.RecurrenceOptions{})
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	r := sig(0.1 + 0.5*0.2 + 0.01)
	z := sig(-0.2 - 0.5*0.1 + 0.02)
	c := math.Tanh(0.3 + r*(0.5*0.3+0.03))
	h := z*0.5 + (1-z)*c
	tensortest.AllClose(t, y, tensor.New([]float32{float32(h), float32(h)}, 1, 2, 1), 1e-6, 1e-6)
}

// TestRecurrenceSeqLen checks the masking: past a sequence's length the outputs are zero and the
// final state is the state at its length; a reverse run starts at its last valid step.
func TestRecurrenceSeqLen(t *testing.T) {
	rng := newRNG()
	const T, H = 4, 2
	xw := tensor.Randn(rng, 2, T, H)
	h0 := tensor.Randn(rng, 2, H)
	whh := tensor.Randn(rng, H, H)
	for _, rev := range []bool{false, true} {
		y := tensor.Recurrence(tensor.RNNTanh, xw, h0, nil, whh, nil, tensor.RecurrenceOptions{SeqLen: []int{2, T}, Reverse: rev})
		// sequence 0 alone, cut to its length
		y0 := tensor.Recurrence(tensor.RNNTanh, xw.Index(0, 0).Slice(0, 0, 2).Unsqueeze(0), h0.Slice(0, 0, 1), nil, whh, nil, tensor.RecurrenceOptions{Reverse: rev})
		for s := range 2 {
			tensortest.AllClose(t, y.Index(0, 0).Index(0, s), y0.Index(0, 0).Index(0, s), 0, 0)
		}
		for s := 2; s < T; s++ {
			tensortest.AllClose(t, y.Index(0, 0).Index(0, s), tensor.Zeros(H), 0, 0)
		}
		tensortest.AllClose(t, y.Index(0, 0).Index(0, T), y0.Index(0, 0).Index(0, 2), 0, 0)
	}
}

func TestRecurrencePanics(t *testing.T) {
	rng := newRNG()
	for name, f := range map[string]func(){
		"gates": func() {
			tensor.Recurrence(tensor.RNNLSTM, tensor.Randn(rng, 2, 3, 6), tensor.Zeros(2, 2), tensor.Zeros(2, 2), tensor.Zeros(8, 2), nil, tensor.RecurrenceOptions{})
		},
		"no c0": func() {
			tensor.Recurrence(tensor.RNNLSTM, tensor.Randn(rng, 2, 3, 8), tensor.Zeros(2, 2), nil, tensor.Zeros(8, 2), nil, tensor.RecurrenceOptions{})
		},
		"seqlen": func() {
			tensor.Recurrence(tensor.RNNTanh, tensor.Randn(rng, 2, 3, 2), tensor.Zeros(2, 2), nil, tensor.Zeros(2, 2), nil, tensor.RecurrenceOptions{SeqLen: []int{4, 1}})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestRecurrenceActivations checks the float32 tanh and sigmoid of the gate pass against math's
// over a range that includes saturation: with W_hh = 0 one tanh step is tanh(xw), and an LSTM
// step from c = 0 with the g gate saturated at 1 gives h = σ(a_o)·tanh(σ(a_i)).
func TestRecurrenceActivations(t *testing.T) {
	const n = 2001
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i-n/2) * 0.02 // [-20, 20]
	}
	y := tensor.Recurrence(tensor.RNNTanh, tensor.New(xs, n, 1, 1), tensor.Zeros(n, 1), nil, tensor.Zeros(1, 1), nil, tensor.RecurrenceOptions{})
	for i, x := range xs {
		if got, want := y.At(i, 0, 0), math.Tanh(float64(x)); math.Abs(float64(got)-want) > 2e-7 {
			t.Fatalf("tanh(%v) = %v, want %v", x, got, want)
		}
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	xw := make([]float32, 4*n)
	for i, x := range xs {
		xw[4*i], xw[4*i+2], xw[4*i+3] = x, 30, -x/2 // i, g (saturated), o; f is irrelevant (c0 = 0)
	}
	y = tensor.Recurrence(tensor.RNNLSTM, tensor.New(xw, n, 1, 4), tensor.Zeros(n, 1), tensor.Zeros(n, 1), tensor.Zeros(4, 1), nil, tensor.RecurrenceOptions{})
	for i, x := range xs {
		want := sig(float64(-x/2)) * math.Tanh(sig(float64(x)))
		if got := y.At(i, 0, 0); math.Abs(float64(got)-want) > 3e-7 {
			t.Fatalf("LSTM step at %v = %v, want %v", x, got, want)
		}
	}
}

// TestRecurrenceParallelRows runs a batch large enough for the gate passes to split over
// goroutines and checks rows against the same sequences run alone, forward and backward (run it
// with -race too).
func TestRecurrenceParallelRows(t *testing.T) {
	rng := newRNG()
	const B, T, H = 40, 3, 128
	xw := tensor.Randn(rng, B, T, 4*H).Scale(0.5)
	h0, c0 := tensor.Randn(rng, B, H).Scale(0.5), tensor.Randn(rng, B, H).Scale(0.5)
	whh, bhh := tensor.Randn(rng, 4*H, H).Scale(0.05), tensor.Randn(rng, 4*H).Scale(0.1)
	seqLen := make([]int, B)
	for b := range seqLen {
		seqLen[b] = b % (T + 1)
	}
	xw.SetRequiresGrad(true)
	y := tensor.Recurrence(tensor.RNNLSTM, xw, h0, c0, whh, bhh, tensor.RecurrenceOptions{SeqLen: seqLen})
	y.Sum().Backward()
	for _, b := range []int{0, 3, 21, 39} {
		xb := xw.Detach().Slice(0, b, b+1).SetRequiresGrad(true)
		yb := tensor.Recurrence(tensor.RNNLSTM, xb, h0.Slice(0, b, b+1), c0.Slice(0, b, b+1), whh, bhh,
			tensor.RecurrenceOptions{SeqLen: []int{seqLen[b]}})
		yb.Sum().Backward()
		tensortest.AllClose(t, y.Slice(0, b, b+1), yb, 1e-6, 1e-5)
		tensortest.AllClose(t, xw.Grad().Slice(0, b, b+1), xb.Grad(), 1e-6, 1e-5)
	}
}

// seqAttentionRef is Attention composed of separate ops: heads split by Reshape and Permute,
// MatMul, Add, Softmax, Mul, MatMul, heads joined.
func seqAttentionRef(q, k, v, mask, drop *tensor.Tensor, heads int, scale float32) *tensor.Tensor {
	B, L, E, S := q.Dim(0), q.Dim(1), q.Dim(2), k.Dim(1)
	D := E / heads
	split := func(x *tensor.Tensor, n int) *tensor.Tensor { return x.Reshape(B, n, heads, D).Permute(0, 2, 1, 3) }
	s := split(q, L).Scale(scale).MatMul(split(k, S), tensor.MatMulOptions{TransposeY: true})
	if mask != nil {
		s = s.Add(mask)
	}
	p := s.Softmax(-1)
	if drop != nil {
		p = p.Mul(drop)
	}
	return p.MatMul(split(v, S)).Permute(0, 2, 1, 3).Reshape(B, L, E)
}

func TestAttention(t *testing.T) {
	rng := newRNG()
	const B, L, S, E, H = 2, 3, 4, 6, 2
	dropMask := func() *tensor.Tensor {
		d := tensor.Zeros(B, H, L, S)
		for i := range d.Data() {
			if rng.Float32() >= 0.3 {
				d.Data()[i] = 1 / 0.7
			}
		}
		return d
	}
	for _, c := range []struct {
		name       string
		mask, drop *tensor.Tensor
	}{
		{"plain", nil, nil},
		{"mask [L S]", tensor.Randn(rng, L, S), nil},
		{"mask [B 1 1 S]", tensor.Randn(rng, B, 1, 1, S), nil},
		{"mask [B H L S] and dropout", tensor.Randn(rng, B, H, L, S), dropMask()},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, k, v := tensor.Randn(rng, B, L, E), tensor.Randn(rng, B, S, E), tensor.Randn(rng, B, S, E)
			scale := float32(0.7)
			got := tensor.Attention(q, k, v, c.mask, c.drop, H, scale)
			tensortest.AllClose(t, got, seqAttentionRef(q, k, v, c.mask, c.drop, H, scale), 1e-6, 1e-5)
			inputs := []*tensor.Tensor{q, k, v}
			if c.mask != nil {
				inputs = append(inputs, c.mask)
			}
			tensortest.GradCheck(t, func(x ...*tensor.Tensor) *tensor.Tensor {
				var m *tensor.Tensor
				if len(x) > 3 {
					m = x[3]
				}
				return tensor.Attention(x[0], x[1], x[2], m, c.drop, H, scale)
			}, inputs, tensortest.GradCheckOptions{})
		})
	}
	for name, f := range map[string]func(){
		"heads": func() {
			tensor.Attention(tensor.Zeros(1, 2, 6), tensor.Zeros(1, 3, 6), tensor.Zeros(1, 3, 6), nil, nil, 4, 1)
		},
		"kv": func() {
			tensor.Attention(tensor.Zeros(1, 2, 6), tensor.Zeros(1, 3, 6), tensor.Zeros(1, 2, 6), nil, nil, 2, 1)
		},
		"mask": func() {
			tensor.Attention(tensor.Zeros(1, 2, 6), tensor.Zeros(1, 3, 6), tensor.Zeros(1, 3, 6), tensor.Zeros(3, 2), nil, 2, 1)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
