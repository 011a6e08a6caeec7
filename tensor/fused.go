package tensor

import (
	"math"

	"github.com/oarlab/oar/internal/kernel"
)

// Linear returns t·w + b, Paddle's F.linear(x, weight, bias): t [..., in], w [in, out] (Paddle's
// layout), b [out] or nil for no bias, result [..., out]. It is one op, with one GEMM that adds the
// bias as it writes the result, and gives bitwise the values and gradients of
// t.MatMul(w).Add(b). It panics if w is not 2-D, t's last axis is not w's first, or b is not
// [out].
func (t *Tensor) Linear(w, b *Tensor) *Tensor {
	const op = "Linear"
	if len(t.shape) == 0 || len(w.shape) != 2 || t.shape[len(t.shape)-1] != w.shape[0] {
		panicf(op, "shape mismatch %v x %v: want [..., in] and [in, out]", t.shape, w.shape)
	}
	in, n := w.shape[0], w.shape[1]
	if b != nil && (len(b.shape) != 1 || b.shape[0] != n) {
		panicf(op, "bias %v, want [%d] for weight %v", b.shape, n, w.shape)
	}
	m := len(t.data) / max(in, 1)
	if in == 0 {
		m = numel(op, t.shape[:len(t.shape)-1])
	}
	var sbuf [8]int
	shape := append(append(sbuf[:0], t.shape[:len(t.shape)-1]...), n)
	out := newTensor(make([]float32, m*n), shape)
	beta := float32(0)
	if b != nil {
		for r := 0; r < m*n; r += n {
			copy(out.data[r:r+n], b.data)
		}
		beta = 1 // C = t·w + 1·b rounds as (t·w) + b does
	}
	kernel.Gemm(false, false, m, n, in, 1, t.data, in, w.data, n, beta, out.data, n)
	return out.record(op, func(g []float32, gin [][]float32) {
		dx := func() { // dX = g · Wᵀ
			kernel.Gemm(false, true, m, in, n, 1, g, n, w.data, n, 0, gin[0], in)
		}
		dwb := func() {
			if gin[1] != nil { // dW = Xᵀ · g
				kernel.Gemm(true, false, in, n, m, 1, t.data, in, g, n, 0, gin[1], n)
			}
			if len(gin) > 2 && gin[2] != nil { // db = Σ rows of g, in row order
				sumRows(gin[2], g)
			}
		}
		if gin[0] == nil {
			dwb()
			return
		}
		// The two products are independent: side by side they keep both cores busy where each
		// alone is too small to split (a batch of 64 through 400×120).
		kernel.ParallelFor(2, 1, func(lo, _ int) {
			if lo == 0 {
				dx()
			} else {
				dwb()
			}
		})
	}, t, w, b)
}

// SoftmaxCrossEntropy returns the cross entropy of each row of the logits t [N, C] with a hard
// label, -log softmax(t)[label], as a tensor [N]: Paddle's F.softmax_with_cross_entropy with
// soft_label=False (without its trailing axis of 1). label holds N integer class ids, shaped [N]
// or [N, 1]; a row whose label equals ignoreIndex (Paddle's default is -100; NoIgnoreIndex
// ignores none) gets 0 and no gradient. It is one fused op: each row takes one stable pass
// (x - max - log Σ exp(x - max)), with LogSoftmax's arithmetic, so the values equal
// -(t.LogSoftmax(1) at the label) bit for bit; the gradient of a row is softmax(t) -
// onehot(label), times the row's output gradient. label gets no gradient.
//
// It panics if t is not 2-D with at least one class, label has another number of elements, or a
// label is not an integer in [0, C) and not ignoreIndex (see ClassIDs, which checks the labels).
func (t *Tensor) SoftmaxCrossEntropy(label *Tensor, ignoreIndex int) *Tensor {
	const op = "SoftmaxCrossEntropy"
	if len(t.shape) != 2 || t.shape[1] == 0 {
		panicf(op, "logits %v: want [N, C] with at least one class", t.shape)
	}
	rows, nc := t.shape[0], t.shape[1]
	if len(label.data) != rows || !(len(label.shape) == 1 || len(label.shape) == 2 && label.shape[1] == 1) {
		panicf(op, "label %v for logits %v: want [%d] or [%d, 1]", label.shape, t.shape, rows, rows)
	}
	ids := ClassIDs(op, label, nc, ignoreIndex)
	out := newTensor(make([]float32, rows), []int{rows})
	lse := make([]float32, rows) // log Σ exp of each row, for the gradient
	for r := range rows {
		x := t.data[r*nc : (r+1)*nc]
		m := laneMax(x, 0, 1, nc)
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v - m))
		}
		lse[r] = m + float32(math.Log(s))
		if ids[r] >= 0 {
			out.data[r] = -(x[ids[r]] - lse[r])
		}
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		dx := gin[0]
		if dx == nil {
			return
		}
		for r := range rows {
			d := dx[r*nc : (r+1)*nc]
			x := t.data[r*nc : (r+1)*nc]
			if ids[r] < 0 {
				clear(d)
				continue
			}
			for c, v := range x {
				p := float32(math.Exp(float64(v - lse[r])))
				if int32(c) == ids[r] {
					p--
				}
				d[c] = g[r] * p
			}
		}
	}, t, label)
}
