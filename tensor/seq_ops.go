package tensor

import (
	"math"
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// RNNMode selects the cell that Recurrence runs, with Paddle's mode names ("RNN_TANH",
// "RNN_RELU", "LSTM", "GRU") and Paddle's formulas and gate orders.
type RNNMode int

const (
	// RNNTanh is the Elman cell h = tanh(a), a = x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh (one gate).
	RNNTanh RNNMode = iota
	// RNNReLU is the Elman cell with h = relu(a).
	RNNReLU
	// RNNLSTM is Paddle's LSTMCell, four gates in the order i, f, g (the candidate c̃), o:
	// c = σ(a_f)·c_prev + σ(a_i)·tanh(a_g), h = σ(a_o)·tanh(c).
	RNNLSTM
	// RNNGRU is Paddle's GRUCell, three gates in the order r, z, c: r = σ(x_r + h_r),
	// z = σ(x_z + h_z), c̃ = tanh(x_c + r·h_c) with h_c = h_prev·W_hcᵀ + b_hc (the reset gate applies
	// after the matrix product, as in torch.nn.GRU), h = z·h_prev + (1-z)·c̃.
	RNNGRU
)

// gates returns the number of gate blocks of the mode's projections.
func (m RNNMode) gates() int {
	switch m {
	case RNNLSTM:
		return 4
	case RNNGRU:
		return 3
	}
	return 1
}

// String returns Paddle's name of the mode ("RNN_TANH", "RNN_RELU", "LSTM", "GRU").
func (m RNNMode) String() string {
	switch m {
	case RNNTanh:
		return "RNN_TANH"
	case RNNReLU:
		return "RNN_RELU"
	case RNNLSTM:
		return "LSTM"
	case RNNGRU:
		return "GRU"
	}
	return "RNNMode(?)"
}

// RecurrenceOptions are Recurrence's optional settings. The zero value runs forward in time over
// batch-major tensors with every sequence of full length.
type RecurrenceOptions struct {
	TimeMajor bool  // xw is [T, B, G·H] and the result [T+k, B, H] (Paddle's time_major)
	Reverse   bool  // run from the last time step to the first (the backward half of "bidirect")
	SeqLen    []int // length of each of the B sequences, in [0, T]; nil: all T (Paddle's sequence_length)
}

// Recurrence runs one direction of one recurrent layer over a whole sequence, as Paddle's rnn
// kernel does for each layer and direction: the caller projects the inputs of all time steps at
// once (xw = x·W_ihᵀ + b_ih, one MatMul), and each step then costs one GEMM (h_prev·W_hhᵀ) and one
// element-wise pass over the gates. The backward pass is backpropagation through time in the same
// shape: one GEMM per step for the state gradient, one GEMM over all steps for W_hh's.
//
// Shapes (B batch, T steps, H hidden, G gates: 1 for RNNTanh and RNNReLU, 4 for RNNLSTM, 3 for
// RNNGRU): xw [B, T, G·H] (or [T, B, G·H] with TimeMajor), h0 [B, H], c0 [B, H] for RNNLSTM and
// nil otherwise, whh [G·H, H] (Paddle's weight_hh layout), bhh [G·H] or nil. The result holds the
// outputs and the final states along the time axis: [B, T+k, H] (or [T+k, B, H]), where slots
// 0..T-1 are the outputs of each time step, slot T the final h and, for RNNLSTM, slot T+1 the
// final c (k = 2 for RNNLSTM, 1 otherwise).
//
// With SeqLen, a sequence b is active at time steps t < SeqLen[b]: past its length its states stop
// changing and its outputs are zero, as in Paddle's rnn kernel. A Reverse run starts at each
// sequence's last valid step from the initial state.
//
// It panics if a shape does not fit, T is 0, or a length is outside [0, T].
func Recurrence(mode RNNMode, xw, h0, c0, whh, bhh *Tensor, opt RecurrenceOptions) *Tensor {
	const op = "Recurrence"
	if mode < RNNTanh || mode > RNNGRU {
		panicf(op, "unknown mode %d", int(mode))
	}
	if len(xw.shape) != 3 || len(h0.shape) != 2 || len(whh.shape) != 2 {
		panicf(op, "xw %v, h0 %v, whh %v: want 3-D, 2-D, 2-D", xw.shape, h0.shape, whh.shape)
	}
	G := mode.gates()
	B, T := xw.shape[0], xw.shape[1]
	if opt.TimeMajor {
		B, T = T, B
	}
	H := h0.shape[1]
	GH := G * H
	if h0.shape[0] != B || xw.shape[2] != GH || whh.shape[0] != GH || whh.shape[1] != H || T < 1 || H < 1 {
		panicf(op, "%v: xw %v, h0 %v, whh %v do not fit (time major %v): want xw [B, T, %d·H] with T ≥ 1, h0 [B, H], whh [%d·H, H]",
			mode, xw.shape, h0.shape, whh.shape, opt.TimeMajor, G, G)
	}
	if bhh != nil && (len(bhh.shape) != 1 || bhh.shape[0] != GH) {
		panicf(op, "%v: bhh %v, want [%d]", mode, bhh.shape, GH)
	}
	lstm := mode == RNNLSTM
	if lstm != (c0 != nil) || c0 != nil && (len(c0.shape) != 2 || c0.shape[0] != B || c0.shape[1] != H) {
		panicf(op, "%v: c0 %v: want [%d %d] for LSTM and none otherwise", mode, seqShapeOf(c0), B, H)
	}
	if opt.SeqLen != nil {
		if len(opt.SeqLen) != B {
			panicf(op, "%d sequence lengths for a batch of %d", len(opt.SeqLen), B)
		}
		for b, n := range opt.SeqLen {
			if n < 0 || n > T {
				panicf(op, "sequence length %d at index %d outside [0, %d]", n, b, T)
			}
		}
	}
	k := 1
	if lstm {
		k = 2
	}
	S := T + k
	xOff := func(t, b int) int {
		if opt.TimeMajor {
			return (t*B + b) * GH
		}
		return (b*T + t) * GH
	}
	oOff := func(slot, b int) int {
		if opt.TimeMajor {
			return (slot*B + b) * H
		}
		return (b*S + slot) * H
	}
	timeOf := func(s int) int {
		if opt.Reverse {
			return T - 1 - s
		}
		return s
	}
	active := func(t, b int) bool { return opt.SeqLen == nil || t < opt.SeqLen[b] }

	BH := B * H
	hs := make([]float32, (T+1)*BH) // hs[s] is the state before processing step s
	copy(hs, h0.data)
	var cs []float32
	if lstm {
		cs = make([]float32, (T+1)*BH)
		copy(cs, c0.data)
	}
	acts := make([]float32, T*B*GH) // gate activations of each step (processing order)
	var hcs []float32               // GRU: h_prev·W_hcᵀ + b_hc of each step
	var tcs []float32               // LSTM: tanh(c) of each step
	if mode == RNNGRU {
		hcs = make([]float32, T*BH)
	}
	if lstm {
		tcs = make([]float32, T*BH)
	}
	out := newTensor(make([]float32, B*S*H), nil)
	if opt.TimeMajor {
		out.shape = []int{S, B, H}
	} else {
		out.shape = []int{B, S, H}
	}
	pre := make([]float32, B*GH)
	for s := range T {
		t := timeOf(s)
		hp, hn := hs[s*BH:(s+1)*BH], hs[(s+1)*BH:(s+2)*BH]
		beta := float32(0)
		if bhh != nil {
			for r := 0; r < B*GH; r += GH {
				copy(pre[r:r+GH], bhh.data)
			}
			beta = 1
		}
		kernel.Gemm(false, true, B, GH, H, 1, hp, H, whh.data, H, beta, pre, GH)
		kernel.ParallelFor(B, seqRowGrain(B, GH), func(lo, hi int) {
			for b := lo; b < hi; b++ {
				hpb, hnb := hp[b*H:(b+1)*H], hn[b*H:(b+1)*H]
				if !active(t, b) {
					copy(hnb, hpb)
					if lstm {
						copy(cs[(s+1)*BH+b*H:(s+1)*BH+(b+1)*H], cs[s*BH+b*H:s*BH+(b+1)*H])
					}
					continue // the output stays zero
				}
				x := xw.data[xOff(t, b) : xOff(t, b)+GH]
				p := pre[b*GH : (b+1)*GH]
				o := out.data[oOff(t, b) : oOff(t, b)+H]
				seqStepForward(mode, H, x, p, hpb, hnb, acts[(s*B+b)*GH:(s*B+b+1)*GH], cs, tcs, hcs, s*BH+b*H, (s+1)*BH+b*H, (s*B+b)*H)
				copy(o, hnb)
			}
		})
	}
	for b := range B {
		copy(out.data[oOff(T, b):oOff(T, b)+H], hs[T*BH+b*H:])
		if lstm {
			copy(out.data[oOff(T+1, b):oOff(T+1, b)+H], cs[T*BH+b*H:])
		}
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		dh := make([]float32, BH)
		var dc []float32
		for b := range B {
			copy(dh[b*H:(b+1)*H], g[oOff(T, b):])
		}
		if lstm {
			dc = make([]float32, BH)
			for b := range B {
				copy(dc[b*H:(b+1)*H], g[oOff(T+1, b):])
			}
		}
		dhh := make([]float32, T*B*GH) // gradient of each step's h_prev·W_hhᵀ + b_hh
		dx := dhh                      // gradient of each step's xw row; the same but for GRU
		if mode == RNNGRU {
			dx = make([]float32, T*B*GH)
		}
		direct := make([]float32, BH) // the part of dh_prev that does not go through W_hh
		for s := T - 1; s >= 0; s-- {
			t := timeOf(s)
			hp, hn := hs[s*BH:(s+1)*BH], hs[(s+1)*BH:(s+2)*BH]
			kernel.ParallelFor(B, seqRowGrain(B, GH), func(lo, hi int) {
				for b := lo; b < hi; b++ {
					r := s*B + b
					d := dhh[r*GH : (r+1)*GH]
					dhb, dirb := dh[b*H:(b+1)*H], direct[b*H:(b+1)*H]
					if !active(t, b) {
						clear(d)
						if mode == RNNGRU {
							clear(dx[r*GH : (r+1)*GH])
						}
						copy(dirb, dhb) // h = h_prev: the gradient passes through
						continue
					}
					var dcb []float32
					if lstm {
						dcb = dc[b*H : (b+1)*H]
					}
					seqStepBackward(mode, H, g[oOff(t, b):oOff(t, b)+H], acts[r*GH:(r+1)*GH], d, dx[r*GH:(r+1)*GH],
						dhb, dirb, dcb, hp[b*H:(b+1)*H], hn[b*H:(b+1)*H], cs, tcs, hcs, s*BH+b*H, r*H)
				}
			})
			// dh_prev = dhh_s · W_hh + direct
			copy(dh, direct)
			kernel.Gemm(false, false, B, H, GH, 1, dhh[s*B*GH:(s+1)*B*GH], GH, whh.data, H, 1, dh, H)
		}
		if gin[0] != nil {
			for s := range T {
				t := timeOf(s)
				for b := range B {
					copy(gin[0][xOff(t, b):xOff(t, b)+GH], dx[(s*B+b)*GH:])
				}
			}
		}
		if gin[1] != nil {
			copy(gin[1], dh)
		}
		if gin[2] != nil {
			copy(gin[2], dc)
		}
		if gin[3] != nil { // dW_hh = Σ_s dhh_sᵀ · h_prev_s
			kernel.Gemm(true, false, GH, H, T*B, 1, dhh, GH, hs[:T*BH], H, 0, gin[3], H)
		}
		if gin[4] != nil {
			sumRows(gin[4], dhh)
		}
	}, xw, h0, c0, whh, bhh)
}

func seqShapeOf(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.shape
}

// seqExp returns e^x in float32 arithmetic with a relative error of a few ulp (Cephes' expf:
// x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6 polynomial) for x in [-87, 88]; x is clamped to
// that range, which is all sigmoid and tanh need.
func seqExp(x float32) float32 {
	if x < -87 {
		x = -87
	}
	if x > 88 {
		x = 88
	}
	const round = 12582912 // 1.5·2²³: adding and subtracting it rounds to an integer
	n := (x*1.44269504088896341 + round) - round
	r := x - n*0.693359375 + n*2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// seqSigmoid is the logistic function in float32.
func seqSigmoid(x float32) float32 { return 1 / (1 + seqExp(-x)) }

// seqTanh is tanh in float32, as 2·σ(2x) - 1: one seqExp and one division, with an absolute error
// of about 1e-7.
func seqTanh(x float32) float32 { return 2/(1+seqExp(-2*x)) - 1 }

// seqRowGrain is the number of batch rows per chunk of a step's gate pass: about 16K gate values
// (smaller chunks measured slower: a step's pass is too short to share), at
// least one row.
func seqRowGrain(rows, width int) int { return max(1, min(rows, 16384/max(width, 1))) }

// seqStepForward computes one row of one time step: x is the row's input projection, p its
// h_prev·W_hhᵀ + b_hh, hp the previous state and hn the new one; a receives the gate activations.
// cs (LSTM) holds the cell states with the previous row at cp and the new at cn, tcs receives
// tanh(c) and hcs (GRU) h_prev·W_hcᵀ + b_hc, both at k.
func seqStepForward(mode RNNMode, H int, x, p, hp, hn, a, cs, tcs, hcs []float32, cp, cn, k int) {
	switch mode {
	case RNNTanh:
		for j := range H {
			hn[j] = seqTanh(x[j] + p[j])
		}
	case RNNReLU:
		for j := range H {
			hn[j] = max(x[j]+p[j], 0)
		}
	case RNNLSTM:
		cpr, cnr, tc := cs[cp:cp+H], cs[cn:cn+H], tcs[k:k+H]
		ai, af, ag, ao := a[:H], a[H:2*H], a[2*H:3*H], a[3*H:4*H]
		xi, xf, xg, xo := x[:H], x[H:2*H], x[2*H:3*H], x[3*H:4*H]
		pi, pf, pg, po := p[:H], p[H:2*H], p[2*H:3*H], p[3*H:4*H]
		for j := range H {
			i := seqSigmoid(xi[j] + pi[j])
			f := seqSigmoid(xf[j] + pf[j])
			g := seqTanh(xg[j] + pg[j])
			o := seqSigmoid(xo[j] + po[j])
			ai[j], af[j], ag[j], ao[j] = i, f, g, o
			c := f*cpr[j] + i*g
			cnr[j] = c
			t := seqTanh(c)
			tc[j] = t
			hn[j] = o * t
		}
	case RNNGRU:
		hc := hcs[k : k+H]
		for j := range H {
			r := seqSigmoid(x[j] + p[j])
			z := seqSigmoid(x[H+j] + p[H+j])
			hc[j] = p[2*H+j]
			c := seqTanh(x[2*H+j] + r*p[2*H+j])
			a[j], a[H+j], a[2*H+j] = r, z, c
			hn[j] = (hp[j]-c)*z + c
		}
	}
}

// seqStepBackward is seqStepForward's gradient for one active row: gout is the gradient of the row's
// output, dh that of its new state (the running BPTT gradient), dc (LSTM) that of its cell state,
// which it replaces by the gradient of the previous cell state. It writes d, the gradient of
// h_prev·W_hhᵀ + b_hh, dx (GRU; the same as d otherwise), the gradient of the input projection,
// and dir, the part of the previous state's gradient that does not go through W_hh.
func seqStepBackward(mode RNNMode, H int, gout, a, d, dx, dh, dir, dc, hp, hn, cs, tcs, hcs []float32, cp, k int) {
	switch mode {
	case RNNTanh:
		for j := range H {
			y := hn[j]
			d[j] = (dh[j] + gout[j]) * (1 - y*y)
		}
		clear(dir)
	case RNNReLU:
		for j := range H {
			if hn[j] > 0 {
				d[j] = dh[j] + gout[j]
			} else {
				d[j] = 0
			}
		}
		clear(dir)
	case RNNLSTM:
		cpr, tc := cs[cp:cp+H], tcs[k:k+H]
		ai, af, ag, ao := a[:H], a[H:2*H], a[2*H:3*H], a[3*H:4*H]
		di, df, dg, do := d[:H], d[H:2*H], d[2*H:3*H], d[3*H:4*H]
		for j := range H {
			i, f, g, o, t := ai[j], af[j], ag[j], ao[j], tc[j]
			dht := dh[j] + gout[j]
			dct := dc[j] + dht*o*(1-t*t)
			di[j] = dct * g * i * (1 - i)
			df[j] = dct * cpr[j] * f * (1 - f)
			dg[j] = dct * i * (1 - g*g)
			do[j] = dht * t * o * (1 - o)
			dc[j] = dct * f
		}
		clear(dir)
	case RNNGRU:
		hc := hcs[k : k+H]
		for j := range H {
			r, z, c := a[j], a[H+j], a[2*H+j]
			dht := dh[j] + gout[j]
			dan := dht * (1 - z) * (1 - c*c)
			dar := dan * hc[j] * r * (1 - r)
			daz := dht * (hp[j] - c) * z * (1 - z)
			dx[j], dx[H+j], dx[2*H+j] = dar, daz, dan
			d[j], d[H+j], d[2*H+j] = dar, daz, dan*r
			dir[j] = dht * z
		}
	}
}

// Attention is multi-head scaled dot-product attention as one op, the core of Paddle's
// MultiHeadAttention between the input and output projections: for each batch b and head h
// (features h·D to (h+1)·D of the last axis, D = E/heads),
//
//	P = softmax(scale·Q_bh·K_bhᵀ + mask_bh),  out_bh = (P ∘ drop_bh)·V_bh
//
// with q [B, L, E], k and v [B, S, E], mask nil or broadcastable to [B, heads, L, S] (added to
// the scores), drop nil or [B, heads, L, S] (multiplied into the weights: a dropout mask holding
// 0 and 1/(1-p)), and the result [B, L, E], the heads side by side as the input projections
// produced them. It reads the heads where they lie, so no transposes are made; it keeps P for the
// backward pass. The gradients of q, k, v and mask are analytic; drop gets none.
//
// It panics if the shapes do not fit, E is not a multiple of heads, or mask does not broadcast.
func Attention(q, k, v, mask, drop *Tensor, heads int, scale float32) *Tensor {
	const op = "Attention"
	if len(q.shape) != 3 || len(k.shape) != 3 || len(v.shape) != 3 || heads < 1 {
		panicf(op, "q %v, k %v, v %v, %d heads: want [B, L, E], [B, S, E], [B, S, E] and heads ≥ 1", q.shape, k.shape, v.shape, heads)
	}
	B, L, E, S := q.shape[0], q.shape[1], q.shape[2], k.shape[1]
	if k.shape[0] != B || v.shape[0] != B || k.shape[2] != E || v.shape[2] != E || v.shape[1] != S || E%heads != 0 {
		panicf(op, "q %v, k %v, v %v, %d heads: want [B, L, E], [B, S, E], [B, S, E] with E a multiple of heads", q.shape, k.shape, v.shape, heads)
	}
	H, D := heads, E/heads
	full := []int{B, H, L, S}
	var maskFull []float32
	if mask != nil {
		if s, ok := broadcast(mask.shape, full); !ok || !slices.Equal(s, full) {
			panicf(op, "mask %v does not broadcast to the scores %v", mask.shape, full)
		}
		maskFull = expand(mask.data, mask.shape, full)
	}
	if drop != nil && !slices.Equal(drop.shape, full) {
		panicf(op, "dropout mask %v, want %v", drop.shape, full)
	}
	LS := L * S
	P := make([]float32, B*H*LS)
	out := newTensor(make([]float32, B*L*E), []int{B, L, E})
	var pdBuf []float32 // P ∘ drop, when there is a dropout mask
	if drop != nil {
		pdBuf = make([]float32, B*H*LS)
	}
	kernel.ParallelFor(B*H, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/H, bh%H
			p := P[bh*LS : (bh+1)*LS]
			qo, ko := b*L*E+h*D, b*S*E+h*D
			kernel.GemmSerial(false, true, L, S, D, scale, q.data[qo:], E, k.data[ko:], E, 0, p, S)
			if maskFull != nil {
				kernel.AddTo(p, maskFull[bh*LS:(bh+1)*LS])
			}
			for r := 0; r < LS; r += S {
				seqSoftmaxRow(p[r : r+S])
			}
			pd := p
			if drop != nil {
				pd = pdBuf[bh*LS : (bh+1)*LS]
				kernel.Mul(pd, p, drop.data[bh*LS:(bh+1)*LS])
			}
			kernel.GemmSerial(false, false, L, D, S, 1, pd, S, v.data[ko:], E, 0, out.data[b*L*E+h*D:], E)
		}
	})
	return out.record(op, func(g []float32, gin [][]float32) {
		var dMaskFull []float32
		if gin[3] != nil {
			dMaskFull = make([]float32, B*H*LS)
		}
		kernel.ParallelFor(B*H, 1, func(lo, hi int) {
			dp := make([]float32, LS)
			for bh := lo; bh < hi; bh++ {
				b, h := bh/H, bh%H
				p := P[bh*LS : (bh+1)*LS]
				qo, ko, oo := b*L*E+h*D, b*S*E+h*D, b*L*E+h*D
				pd := p
				if drop != nil {
					pd = pdBuf[bh*LS : (bh+1)*LS]
				}
				if gin[2] != nil { // dV = (P∘drop)ᵀ·dOut
					kernel.GemmSerial(true, false, S, D, L, 1, pd, S, g[oo:], E, 0, gin[2][ko:], E)
				}
				if gin[0] == nil && gin[1] == nil && gin[3] == nil {
					continue
				}
				// dP = dOut·Vᵀ (∘ drop), then the softmax's rule: dZ = P∘(dP - Σ_row dP∘P)
				kernel.GemmSerial(false, true, L, S, D, 1, g[oo:], E, v.data[ko:], E, 0, dp, S)
				if drop != nil {
					kernel.Mul(dp, dp, drop.data[bh*LS:(bh+1)*LS])
				}
				for r := 0; r < LS; r += S {
					pr, dr := p[r:r+S], dp[r:r+S]
					s := kernel.Dot(pr, dr)
					for j := range dr {
						dr[j] = pr[j] * (dr[j] - s)
					}
				}
				if dMaskFull != nil {
					copy(dMaskFull[bh*LS:], dp)
				}
				if gin[0] != nil { // dQ = scale·dZ·K
					kernel.GemmSerial(false, false, L, D, S, scale, dp, S, k.data[ko:], E, 0, gin[0][qo:], E)
				}
				if gin[1] != nil { // dK = scale·dZᵀ·Q
					kernel.GemmSerial(true, false, S, D, L, scale, dp, S, q.data[qo:], E, 0, gin[1][ko:], E)
				}
			}
		})
		if gin[3] != nil {
			reduceTo(gin[3], dMaskFull, mask.shape, full)
		}
	}, q, k, v, mask, drop)
}

// seqSoftmaxRow replaces x by softmax(x), in float64 sums as Softmax does.
func seqSoftmaxRow(x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		s += e
	}
	inv := float32(1 / s)
	for i := range x {
		x[i] *= inv
	}
}
