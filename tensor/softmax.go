package tensor

import "math"

// Softmax returns exp(t) normalised to sum to 1 along axis (Paddle's default axis is -1). It
// subtracts each slice's maximum first, so large logits do not overflow: Softmax of [1000, 0] is
// [1, 0]. It panics if axis is out of range.
func (t *Tensor) Softmax(axis int) *Tensor {
	ax := normAxis("Softmax", axis, len(t.shape))
	outer, mid, inner := splitAt(t.shape, ax)
	out := newTensor(make([]float32, len(t.data)), t.shape)
	eachLane(outer, mid, inner, func(base, stride int) {
		m := laneMax(t.data, base, stride, mid)
		var s float64
		for j := range mid {
			e := math.Exp(float64(t.data[base+j*stride] - m))
			out.data[base+j*stride] = float32(e)
			s += e
		}
		inv := float32(1 / s)
		for j := range mid {
			out.data[base+j*stride] *= inv
		}
	})
	return out.record("Softmax", func(g []float32, gin [][]float32) {
		// dx = y * (g - Σ g*y)
		eachLane(outer, mid, inner, func(base, stride int) {
			var dot float64
			for j := range mid {
				p := base + j*stride
				dot += float64(g[p] * out.data[p])
			}
			for j := range mid {
				p := base + j*stride
				gin[0][p] = out.data[p] * (g[p] - float32(dot))
			}
		})
	}, t)
}

// LogSoftmax returns log(Softmax(t)) along axis, computed in one fused, stable step
// (x - max - log Σ exp(x - max)), so it is finite wherever t is. It panics if axis is out of range.
func (t *Tensor) LogSoftmax(axis int) *Tensor {
	ax := normAxis("LogSoftmax", axis, len(t.shape))
	outer, mid, inner := splitAt(t.shape, ax)
	out := newTensor(make([]float32, len(t.data)), t.shape)
	eachLane(outer, mid, inner, func(base, stride int) {
		m := laneMax(t.data, base, stride, mid)
		var s float64
		for j := range mid {
			s += math.Exp(float64(t.data[base+j*stride] - m))
		}
		lse := m + float32(math.Log(s))
		for j := range mid {
			out.data[base+j*stride] = t.data[base+j*stride] - lse
		}
	})
	return out.record("LogSoftmax", func(g []float32, gin [][]float32) {
		// dx = g - softmax * Σ g
		eachLane(outer, mid, inner, func(base, stride int) {
			var sum float64
			for j := range mid {
				sum += float64(g[base+j*stride])
			}
			for j := range mid {
				p := base + j*stride
				gin[0][p] = g[p] - float32(math.Exp(float64(out.data[p])))*float32(sum)
			}
		})
	}, t)
}

// eachLane calls fn for every 1-D lane along the middle axis of an [outer, mid, inner] view, with
// the lane's first offset and its stride.
func eachLane(outer, mid, inner int, fn func(base, stride int)) {
	for o := range outer {
		for i := range inner {
			fn(o*mid*inner+i, inner)
		}
	}
}

// laneMax returns the largest of n values at base, base+stride, ...; -Inf for an empty lane.
func laneMax(x []float32, base, stride, n int) float32 {
	m := float32(math.Inf(-1))
	for j := range n {
		m = max(m, x[base+j*stride])
	}
	return m
}
