package tensor

import (
	"math"
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// LayerNorm normalises t over its trailing axes normalizedShape, as Paddle's
// F.layer_norm(x, normalized_shape, weight, bias, epsilon): each slice of D =
// prod(normalizedShape) elements becomes (x - mean)/sqrt(var + epsilon)*weight + bias, with the
// slice's mean and biased variance. weight and bias are nil (no scale, no shift) or hold D
// elements, shaped [D] (Paddle's parameter layout, flattened) or normalizedShape (PyTorch's).
// Paddle's default epsilon is 1e-5.
//
// It is one op: each slice's statistics (accumulated in float64) and output are computed while
// the slice is in cache, and the rule computes the input, weight and bias gradients analytically
// from the saved mean and 1/std. Slices run in parallel; the result does not depend on the number
// of threads.
//
// It panics if normalizedShape is empty or is not t's trailing shape, or if weight or bias has
// another number of elements or shape.
func (t *Tensor) LayerNorm(normalizedShape []int, weight, bias *Tensor, epsilon float32) *Tensor {
	const op = "LayerNorm"
	r, k := len(t.shape), len(normalizedShape)
	if k == 0 || k > r || !slices.Equal(t.shape[r-k:], normalizedShape) {
		panicf(op, "normalized shape %v is not the trailing shape of input %v", normalizedShape, t.shape)
	}
	d := numel(op, normalizedShape)
	for _, p := range []struct {
		name string
		t    *Tensor
	}{{"weight", weight}, {"bias", bias}} {
		if p.t != nil && !(len(p.t.shape) == 1 && p.t.shape[0] == d || slices.Equal(p.t.shape, normalizedShape)) {
			panicf(op, "%s %v for normalized shape %v: want [%d] or %v", p.name, p.t.shape, normalizedShape, d, normalizedShape)
		}
	}
	rows := 0
	if d > 0 {
		rows = len(t.data) / d
	}
	return normOp(op, t, weight, bias, normGeom{rows: rows, d: d, span: 1, groups: 1}, epsilon)
}

// GroupNorm normalises t [N, C, *] (NCHW and the like: channels on axis 1, any number of
// trailing spatial axes, none included) over groups of channels, as Paddle's F.group_norm with
// data_format "NCHW": the C channels are split into numGroups groups of C/numGroups, each
// sample's group (its channels and all their positions) becomes (x - mean)/sqrt(var + epsilon)
// with its own mean and biased variance, and then each channel c is scaled by weight[c] and
// shifted by bias[c] (nil: none). numGroups = C is instance normalisation (Paddle's
// F.instance_norm without running statistics), numGroups = 1 normalises each sample as a whole.
// Paddle's default epsilon is 1e-5.
//
// It is one op with an analytic rule, as LayerNorm. It panics if t has rank below 2, numGroups
// does not divide C (or is below 1), or weight or bias is not [C].
func (t *Tensor) GroupNorm(numGroups int, weight, bias *Tensor, epsilon float32) *Tensor {
	const op = "GroupNorm"
	if len(t.shape) < 2 {
		panicf(op, "input %v: want [N, C, *]", t.shape)
	}
	c := t.shape[1]
	if numGroups < 1 || c%numGroups != 0 {
		panicf(op, "%d groups do not divide the %d channels of input %v", numGroups, c, t.shape)
	}
	for _, p := range []struct {
		name string
		t    *Tensor
	}{{"weight", weight}, {"bias", bias}} {
		if p.t != nil && !(len(p.t.shape) == 1 && p.t.shape[0] == c) {
			panicf(op, "%s %v for input %v: want [%d]", p.name, p.t.shape, t.shape, c)
		}
	}
	span := numel(op, t.shape[2:])
	rows := t.shape[0] * numGroups
	return normOp(op, t, weight, bias, normGeom{rows: rows, d: c / numGroups * span, span: span, groups: numGroups}, epsilon)
}

// normGeom describes a normalisation: rows independent slices of d contiguous elements each;
// runs of span consecutive elements share one weight and bias value, and row r uses the values
// from (r % groups)*(d/span) on. LayerNorm has span 1 and groups 1 (one value per element of a
// row); GroupNorm has span = H*W and groups = G.
type normGeom struct {
	rows, d, span, groups int
}

// channel returns the index of the weight of element k of row r.
func (g normGeom) channel(r, k int) int { return (r%g.groups)*(g.d/g.span) + k/g.span }

// normGrain is the number of rows per parallel chunk: about 16K elements.
func (g normGeom) grain() int { return max(1, (1<<14)/max(g.d, 1)) }

// normOp is LayerNorm and GroupNorm: it normalises the rows of t, scales and shifts them, and
// records the rule.
func normOp(op string, t, weight, bias *Tensor, g normGeom, eps float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	stats := make([]float32, 2*g.rows) // mean and 1/sqrt(var+eps) of each row
	var w, b []float32
	if weight != nil {
		w = weight.data
	}
	if bias != nil {
		b = bias.data
	}
	kernel.ParallelFor(g.rows, g.grain(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x := t.data[r*g.d : (r+1)*g.d]
			y := out.data[r*g.d : (r+1)*g.d]
			var s float64
			for _, v := range x {
				s += float64(v)
			}
			mean := s / float64(g.d)
			var ss float64
			for _, v := range x {
				dv := float64(v) - mean
				ss += dv * dv
			}
			rstd := float32(1 / math.Sqrt(ss/float64(g.d)+float64(eps)))
			m := float32(mean)
			stats[2*r], stats[2*r+1] = m, rstd
			if g.span == 1 && g.groups == 1 {
				switch {
				case w != nil && b != nil:
					for k, v := range x {
						y[k] = (v-m)*rstd*w[k] + b[k]
					}
				case w != nil:
					for k, v := range x {
						y[k] = (v - m) * rstd * w[k]
					}
				case b != nil:
					for k, v := range x {
						y[k] = (v-m)*rstd + b[k]
					}
				default:
					for k, v := range x {
						y[k] = (v - m) * rstd
					}
				}
				continue
			}
			for k0 := 0; k0 < g.d; k0 += g.span {
				sc, sh := rstd, -m*rstd
				if w != nil {
					c := g.channel(r, k0)
					sc, sh = rstd*w[c], -m*rstd*w[c]
				}
				if b != nil {
					sh += b[g.channel(r, k0)]
				}
				for k := k0; k < k0+g.span; k++ {
					y[k] = x[k]*sc + sh
				}
			}
		}
	})
	return out.record(op, func(gy []float32, gin [][]float32) {
		normBackward(g, t.data, w, stats, gy, gin)
	}, t, weight, bias)
}

// normBackward writes the gradients of a normalisation: for each row, with x̂ the normalised
// input and ĝ = gy*weight, dx = rstd*(ĝ - mean(ĝ) - x̂*mean(ĝ*x̂)); dweight[c] = Σ gy*x̂ and
// dbias[c] = Σ gy over the elements of channel c. Chunks of rows sum their weight and bias
// gradients apart, and the partial sums are added in chunk order, so the result does not depend
// on the number of threads.
func normBackward(g normGeom, x, w, stats, gy []float32, gin [][]float32) {
	dx := gin[0]
	var dw, db []float32
	if len(gin) > 1 {
		dw = gin[1]
	}
	if len(gin) > 2 {
		db = gin[2]
	}
	nch := g.groups * (g.d / max(g.span, 1))
	if g.d == 0 {
		nch = 0
	}
	grain := g.grain()
	chunks := (g.rows + grain - 1) / grain
	var partial []float32 // per chunk: nch weight sums, then nch bias sums
	if dw != nil || db != nil {
		partial = make([]float32, chunks*2*nch)
	}
	kernel.ParallelFor(g.rows, grain, func(lo, hi int) {
		var pw, pb []float32
		if partial != nil {
			p := partial[lo/grain*2*nch:]
			pw, pb = p[:nch], p[nch:2*nch]
		}
		for r := lo; r < hi; r++ {
			xr, gr := x[r*g.d:(r+1)*g.d], gy[r*g.d:(r+1)*g.d]
			m, rstd := stats[2*r], stats[2*r+1]
			if g.span == 1 && g.groups == 1 { // LayerNorm: one weight per element
				layerNormRowBackward(xr, gr, w, m, rstd, dx, pw, pb, r*g.d)
				continue
			}
			if partial != nil {
				for k0 := 0; k0 < g.d; k0 += g.span {
					c := g.channel(r, k0)
					var sw, sb float32
					for k := k0; k < k0+g.span; k++ {
						sw += gr[k] * (xr[k] - m) * rstd
						sb += gr[k]
					}
					pw[c] += sw
					pb[c] += sb
				}
			}
			if dx == nil {
				continue
			}
			var sg, sgx float64 // Σ ĝ and Σ ĝ*x̂
			for k0 := 0; k0 < g.d; k0 += g.span {
				wc := float32(1)
				if w != nil {
					wc = w[g.channel(r, k0)]
				}
				for k := k0; k < k0+g.span; k++ {
					gh := gr[k] * wc
					sg += float64(gh)
					sgx += float64(gh * (xr[k] - m) * rstd)
				}
			}
			a, b := float32(sg/float64(g.d)), float32(sgx/float64(g.d))
			dr := dx[r*g.d : (r+1)*g.d]
			for k0 := 0; k0 < g.d; k0 += g.span {
				wc := float32(1)
				if w != nil {
					wc = w[g.channel(r, k0)]
				}
				for k := k0; k < k0+g.span; k++ {
					xh := (xr[k] - m) * rstd
					dr[k] = rstd * (gr[k]*wc - a - xh*b)
				}
			}
		}
	})
	if partial == nil {
		return
	}
	if dw != nil {
		clear(dw)
	}
	if db != nil {
		clear(db)
	}
	for ch := range chunks {
		p := partial[ch*2*nch:]
		if dw != nil {
			addTo(dw, p[:nch])
		}
		if db != nil {
			addTo(db, p[nch:2*nch])
		}
	}
}

// layerNormRowBackward is normBackward for one row of LayerNorm, starting at offset off of dx:
// it writes dx (when not nil) and adds into pw and pb (when not nil).
func layerNormRowBackward(xr, gr, w []float32, m, rstd float32, dx, pw, pb []float32, off int) {
	if pw != nil {
		for k, gv := range gr {
			xh := (xr[k] - m) * rstd
			pw[k] += gv * xh
			pb[k] += gv
		}
	}
	if dx == nil {
		return
	}
	var sg, sgx float64
	if w != nil {
		for k, gv := range gr {
			gh := gv * w[k]
			sg += float64(gh)
			sgx += float64(gh * (xr[k] - m) * rstd)
		}
	} else {
		for k, gv := range gr {
			sg += float64(gv)
			sgx += float64(gv * (xr[k] - m) * rstd)
		}
	}
	n := float64(len(gr))
	a, b := float32(sg/n), float32(sgx/n)
	dr := dx[off : off+len(gr)]
	if w != nil {
		for k, gv := range gr {
			dr[k] = rstd * (gv*w[k] - a - (xr[k]-m)*rstd*b)
		}
	} else {
		for k, gv := range gr {
			dr[k] = rstd * (gv - a - (xr[k]-m)*rstd*b)
		}
	}
}
