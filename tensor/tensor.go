package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Tensor is an n-dimensional array of float32 in row-major order, with an optional gradient and the
// node of the graph that produced it. The zero value is not usable; build tensors with New, Zeros,
// Full, Scalar, FromRows, Randn or Uniform, or as the result of an op.
//
// A tensor does not require a gradient unless SetRequiresGrad(true) was called on it (Paddle's
// stop_gradient=True default) or it was computed from one that does.
type Tensor struct {
	data  []float32
	shape []int

	requiresGrad bool // a leaf asked for a gradient, or an input of the op that made it did
	noGrad       bool // NoGrad mark: ops computed from this tensor record no graph
	checkFinite  bool // CheckFinite mark: ops computed from this tensor panic on a non-finite output
	released     bool // its node was freed by a Backward without RetainGraph
	grad         *Tensor
	gradZero     bool       // grad holds zeros no one has been handed since (see ClearGrad)
	partial      *[]float32 // during Backward, the gradient summed so far of a non-leaf
	node         *node      // nil for leaves and for results that record no graph; else &nodeStore

	// Inline storage, so that a tensor of rank <= 4 that records a node is one allocation (plus
	// its data).
	nodeStore  node
	shapeStore [4]int
}

// newTensor returns a tensor holding data (not copied) with a copy of shape.
func newTensor(data []float32, shape []int) *Tensor {
	t := &Tensor{data: data}
	if len(shape) <= len(t.shapeStore) {
		t.shape = t.shapeStore[:len(shape):len(shape)]
		copy(t.shape, shape)
	} else {
		t.shape = slices.Clone(shape)
	}
	return t
}

// New returns a tensor of the given shape whose backing slice is data (not a copy). With no
// shape it is 0-d (shape []), like Scalar, and data must hold one element. It panics if a
// dimension is negative or the shape's element count differs from len(data).
func New(data []float32, shape ...int) *Tensor {
	if len(shape) == 0 && len(data) != 1 {
		panicf("New", "no shape given for %d elements: pass the shape (New(data, %d) for 1-D), or use Scalar for one value", len(data), len(data))
	}
	if n := numel("New", shape); n != len(data) {
		panicf("New", "shape %v needs %d elements, data has %d", shape, n, len(data))
	}
	return newTensor(data, shape)
}

// Zeros returns a tensor of the given shape filled with 0. No shape means a scalar (shape []).
// It panics if a dimension is negative.
func Zeros(shape ...int) *Tensor {
	return newTensor(make([]float32, numel("Zeros", shape)), shape)
}

// Ones returns a tensor of the given shape filled with 1. It panics if a dimension is negative.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor of the given shape filled with v. It panics if a dimension is negative.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// Scalar returns a 0-D tensor (shape []) holding v.
func Scalar(v float32) *Tensor { return newTensor([]float32{v}, nil) }

// FromRows copies a matrix given as rows into a tensor of shape [len(rows), len(rows[0])], like
// paddle.to_tensor on a nested list. It panics if the rows have different lengths.
func FromRows(rows [][]float32) *Tensor {
	if len(rows) == 0 {
		return Zeros(0, 0)
	}
	cols := len(rows[0])
	data := make([]float32, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			panicf("FromRows", "row %d has %d elements, row 0 has %d", i, len(r), cols)
		}
		data = append(data, r...)
	}
	return New(data, len(rows), cols)
}

// Randn returns a tensor of the given shape with standard normal entries drawn from rng.
// It panics if a dimension is negative.
func Randn(rng *rand.Rand, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = float32(rng.NormFloat64())
	}
	return t
}

// Uniform returns a tensor of the given shape with entries drawn uniformly from [lo, hi).
// It panics if a dimension is negative.
func Uniform(rng *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = lo + (hi-lo)*float32(rng.Float64())
	}
	return t
}

// Arange returns the 1-D tensor [0, 1, ..., n-1]. It panics if n is negative.
func Arange(n int) *Tensor {
	t := Zeros(n)
	for i := range t.data {
		t.data[i] = float32(i)
	}
	return t
}

// Shape returns a copy of the tensor's dimensions; a scalar has shape [].
func (t *Tensor) Shape() []int { return slices.Clone(t.shape) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of dimension axis; a negative axis counts from the end.
// It panics if axis is out of range.
func (t *Tensor) Dim(axis int) int { return t.shape[normAxis("Dim", axis, len(t.shape))] }

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Data returns the backing slice in row-major order. It is shared, not copied: writing to it
// changes the tensor (and any reshaped view of it). Do not write to a tensor that a recorded graph
// still needs for Backward.
func (t *Tensor) Data() []float32 { return t.data }

// Item returns the only element of a one-element tensor. It panics if Len() != 1.
func (t *Tensor) Item() float32 {
	if len(t.data) != 1 {
		panicf("Item", "tensor of shape %v has %d elements, want 1", t.shape, len(t.data))
	}
	return t.data[0]
}

// At returns the element at the given index, one coordinate per dimension (negative counts from
// the end). It panics if the number of coordinates differs from Rank or one is out of range.
func (t *Tensor) At(index ...int) float32 {
	if len(index) != len(t.shape) {
		panicf("At", "got %d indices for shape %v", len(index), t.shape)
	}
	off := 0
	for d, i := range index {
		if i < -t.shape[d] || i >= t.shape[d] {
			panicf("At", "index %d out of range for axis %d of shape %v", i, d, t.shape)
		}
		if i < 0 {
			i += t.shape[d]
		}
		off = off*t.shape[d] + i
	}
	return t.data[off]
}

// Clone returns a copy of t with its own data. It is differentiable: the gradient flows back to t.
func (t *Tensor) Clone() *Tensor {
	return newTensor(slices.Clone(t.data), t.shape).record("Clone", identity, t)
}

// AllFinite reports whether no element is NaN or ±Inf.
func (t *Tensor) AllFinite() bool {
	for _, v := range t.data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}
