package tensor

import (
	"math"
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// binary evaluates the element-wise op f on t and u broadcast together (NumPy rules). grads is
// called at backward time with each output element's operands a, b and value y and returns
// dy/da and dy/db; a nil grads means the op has no gradient (comparisons).
func (t *Tensor) binary(op string, u *Tensor, f func(a, b float32) float32,
	grads func(a, b, y float32) (float32, float32)) *Tensor {
	shape := broadcastShapes(op, t.shape, u.shape)
	a, b := expand(t.data, t.shape, shape), expand(u.data, u.shape, shape)
	out := newTensor(make([]float32, len(a)), shape)
	for i := range a {
		out.data[i] = f(a[i], b[i])
	}
	if grads == nil { // comparisons: piecewise constant, no gradient
		out.noGrad = t.noGrad || u.noGrad
		out.checkFinite = t.checkFinite || u.checkFinite
		return out
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		ga, gb := gin[0], gin[1] // written in place when not broadcast
		if ga != nil && len(ga) != len(g) {
			ga = make([]float32, len(g))
		}
		if gb != nil && len(gb) != len(g) {
			gb = make([]float32, len(g))
		}
		for i := range g {
			da, db := grads(a[i], b[i], out.data[i])
			if ga != nil {
				ga[i] = g[i] * da
			}
			if gb != nil {
				gb[i] = g[i] * db
			}
		}
		if ga != nil && len(ga) != len(gin[0]) {
			reduceTo(gin[0], ga, t.shape, shape)
		}
		if gb != nil && len(gb) != len(gin[1]) {
			reduceTo(gin[1], gb, u.shape, shape)
		}
	}, t, u)
}

// Add returns t+u, broadcasting (NumPy rules). It panics if the shapes do not broadcast.
func (t *Tensor) Add(u *Tensor) *Tensor {
	if slices.Equal(t.shape, u.shape) { // the common case, without the per-element closure
		out := newTensor(make([]float32, len(t.data)), t.shape)
		kernel.Add(out.data, t.data, u.data)
		return out.record("Add", func(g []float32, gin [][]float32) {
			for _, d := range gin {
				copy(d, g) // a no-op for nil
			}
		}, t, u)
	}
	if rowBroadcast(t.shape, u.shape) { // [..., M] + [M], as a bias: no expanded copy of u
		return t.addRows("Add", u, 1)
	}
	if rowBroadcast(u.shape, t.shape) {
		return u.addRows("Add", t, 0)
	}
	shape := broadcastShapes("Add", t.shape, u.shape)
	a, b := expand(t.data, t.shape, shape), expand(u.data, u.shape, shape)
	out := newTensor(make([]float32, len(a)), shape)
	kernel.Add(out.data, a, b)
	return out.record("Add", func(g []float32, gin [][]float32) {
		if gin[0] != nil {
			reduceTo(gin[0], g, t.shape, shape)
		}
		if gin[1] != nil {
			reduceTo(gin[1], g, u.shape, shape)
		}
	}, t, u)
}

// rowBroadcast reports whether row broadcasts to the shape of t by repeating it along t's leading
// axes: row's shape, without leading 1s, is a proper suffix of t's, and row has fewer dimensions
// than t or the same with leading 1s.
func rowBroadcast(t, row []int) bool {
	r := row
	for len(r) > 0 && r[0] == 1 {
		r = r[1:]
	}
	if len(r) == 0 || len(row) > len(t) || len(r) >= len(t) {
		return false
	}
	return slices.Equal(r, t[len(t)-len(r):])
}

// addRows returns t + row with row repeated along t's leading axes (rowBroadcast(t.shape,
// row.shape)); the result's shape is t's. rowIdx is the position of row among the op's inputs
// (0 or 1), so that the recorded inputs keep the caller's order. The gradient of row is the sum of
// g's rows, added in row order (as reduceInto adds them).
func (t *Tensor) addRows(op string, row *Tensor, rowIdx int) *Tensor {
	m := len(row.data)
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for r := 0; r < len(t.data); r += m {
		kernel.Add(out.data[r:r+m], t.data[r:r+m], row.data)
	}
	ti := 1 - rowIdx
	inputs := [2]*Tensor{}
	inputs[ti], inputs[rowIdx] = t, row
	return out.record(op, func(g []float32, gin [][]float32) {
		copy(gin[ti], g)
		if gin[rowIdx] != nil {
			sumRows(gin[rowIdx], g)
		}
	}, inputs[0], inputs[1])
}

// Sub returns t-u, broadcasting. It panics if the shapes do not broadcast.
func (t *Tensor) Sub(u *Tensor) *Tensor {
	return t.binary("Sub", u, func(a, b float32) float32 { return a - b },
		func(_, _, _ float32) (float32, float32) { return 1, -1 })
}

// Mul returns t*u element-wise, broadcasting. It panics if the shapes do not broadcast.
func (t *Tensor) Mul(u *Tensor) *Tensor {
	return t.binary("Mul", u, func(a, b float32) float32 { return a * b },
		func(a, b, _ float32) (float32, float32) { return b, a })
}

// Div returns t/u element-wise, broadcasting (IEEE division: x/0 is ±Inf or NaN). It panics if
// the shapes do not broadcast.
func (t *Tensor) Div(u *Tensor) *Tensor {
	return t.binary("Div", u, func(a, b float32) float32 { return a / b },
		func(_, b, y float32) (float32, float32) { return 1 / b, -y / b })
}

// Maximum returns the element-wise maximum of t and u, broadcasting. As Paddle's maximum, the
// gradient goes to t where t > u and to u elsewhere (ties go to u). It panics if the shapes do not
// broadcast.
func (t *Tensor) Maximum(u *Tensor) *Tensor {
	return t.binary("Maximum", u, func(a, b float32) float32 { return max(a, b) },
		func(a, b, _ float32) (float32, float32) {
			if a > b {
				return 1, 0
			}
			return 0, 1
		})
}

// Minimum returns the element-wise minimum of t and u, broadcasting. The gradient goes to t where
// t < u and to u elsewhere (ties go to u). It panics if the shapes do not broadcast.
func (t *Tensor) Minimum(u *Tensor) *Tensor {
	return t.binary("Minimum", u, func(a, b float32) float32 { return min(a, b) },
		func(a, b, _ float32) (float32, float32) {
			if a < b {
				return 1, 0
			}
			return 0, 1
		})
}

// Equal returns 1 where t == u and 0 elsewhere, broadcasting; it has no gradient.
// It panics if the shapes do not broadcast.
func (t *Tensor) Equal(u *Tensor) *Tensor {
	return t.binary("Equal", u, func(a, b float32) float32 { return boolf(a == b) }, nil)
}

// Greater returns 1 where t > u and 0 elsewhere, broadcasting; it has no gradient.
// It panics if the shapes do not broadcast.
func (t *Tensor) Greater(u *Tensor) *Tensor {
	return t.binary("Greater", u, func(a, b float32) float32 { return boolf(a > b) }, nil)
}

// Less returns 1 where t < u and 0 elsewhere, broadcasting; it has no gradient.
// It panics if the shapes do not broadcast.
func (t *Tensor) Less(u *Tensor) *Tensor {
	return t.binary("Less", u, func(a, b float32) float32 { return boolf(a < b) }, nil)
}

func boolf(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// Where returns a where cond is non-zero and b elsewhere, all three broadcast together
// (paddle.where). The gradient flows to a and b through the elements each supplied; cond gets
// none. It panics if the shapes do not broadcast.
func Where(cond, a, b *Tensor) *Tensor {
	shape := broadcastShapes("Where", cond.shape, a.shape, b.shape)
	c := expand(cond.data, cond.shape, shape)
	x, y := expand(a.data, a.shape, shape), expand(b.data, b.shape, shape)
	out := newTensor(make([]float32, len(c)), shape)
	for i := range c {
		if c[i] != 0 {
			out.data[i] = x[i]
		} else {
			out.data[i] = y[i]
		}
	}
	// cond is recorded as an input only so that its NoGrad mark carries over; it gets no gradient.
	return out.record("Where", func(g []float32, gin [][]float32) {
		for k, in := range []*Tensor{a, b} {
			dst := gin[k+1]
			if dst == nil {
				continue
			}
			gk := dst
			if len(gk) != len(g) {
				gk = make([]float32, len(g))
			}
			for i := range g {
				gk[i] = 0
				if (c[i] != 0) == (k == 0) {
					gk[i] = g[i]
				}
			}
			if len(gk) != len(dst) {
				reduceTo(dst, gk, in.shape, shape)
			}
		}
	}, cond, a, b)
}

// PowTensor returns t^u element-wise with a tensor exponent, broadcasting (paddle.pow with a
// tensor y); Pow takes a constant exponent. The gradient is u·t^(u-1) for t and t^u·ln t for u
// (NaN for t < 0, as the power itself for a non-integer u). It panics if the shapes do not
// broadcast.
func (t *Tensor) PowTensor(u *Tensor) *Tensor {
	return t.binary("PowTensor", u, func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) },
		func(a, b, y float32) (float32, float32) {
			da := b * float32(math.Pow(float64(a), float64(b)-1))
			var db float32
			if y != 0 { // 0^u: no change with u (and ln 0 would make 0·-Inf = NaN)
				db = y * float32(math.Log(float64(a)))
			}
			return da, db
		})
}
