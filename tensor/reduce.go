package tensor

import (
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// Sum returns the sum over the given axes (negative counts from the end), which are removed from
// the shape; no axes means every axis, giving a scalar of shape []. It panics if an axis is out of
// range or repeated.
func (t *Tensor) Sum(axes ...int) *Tensor { return t.sum("Sum", axes, false, false) }

// SumKeepDim is Sum with keepdim=True: the reduced axes stay, with size 1.
func (t *Tensor) SumKeepDim(axes ...int) *Tensor { return t.sum("SumKeepDim", axes, true, false) }

// Mean returns the mean over the given axes, removed from the shape; no axes means every axis,
// giving a scalar. The mean of zero elements is NaN. It panics as Sum does.
func (t *Tensor) Mean(axes ...int) *Tensor { return t.sum("Mean", axes, false, true) }

// MeanKeepDim is Mean with keepdim=True.
func (t *Tensor) MeanKeepDim(axes ...int) *Tensor { return t.sum("MeanKeepDim", axes, true, true) }

func (t *Tensor) sum(op string, axes []int, keepDim, mean bool) *Tensor {
	ax := normAxes(op, axes, len(t.shape))
	kept := make([]int, len(t.shape)) // the shape with reduced axes set to 1
	copy(kept, t.shape)
	count := 1
	for _, a := range ax {
		count *= t.shape[a]
		kept[a] = 1
	}
	scale := float32(1)
	if mean {
		scale = 1 / float32(count)
	}
	data := make([]float32, numel(op, kept))
	if len(data) == 1 {
		// A full reduction: the kernel's sum is more accurate than a running float32 total.
		data[0] = kernel.Sum(t.data)
	} else {
		reduceTo(data, t.data, kept, t.shape)
	}
	if mean {
		kernel.Scale(scale, data) // 0 * (1/0) makes the mean of nothing NaN
	}
	shape := kept
	if !keepDim {
		shape = make([]int, 0, len(kept))
		for i, d := range t.shape {
			if !slices.Contains(ax, i) {
				shape = append(shape, d)
			}
		}
	}
	out := newTensor(data, shape)
	return out.record(op, func(g []float32, gin [][]float32) {
		expandTo(gin[0], g, kept, t.shape)
		if scale != 1 {
			kernel.Scale(scale, gin[0])
		}
	}, t)
}

// Max returns the maximum along axis, which is removed from the shape. The gradient flows to the
// first maximal element of each slice (ties: the lowest index); NaN counts as the maximum.
// It panics if axis is out of range or the axis has size 0.
func (t *Tensor) Max(axis int) *Tensor { return t.max("Max", axis, false) }

// MaxKeepDim is Max with keepdim=True.
func (t *Tensor) MaxKeepDim(axis int) *Tensor { return t.max("MaxKeepDim", axis, true) }

func (t *Tensor) max(op string, axis int, keepDim bool) *Tensor {
	ax, idx := t.argmax(op, axis)
	outer, mid, inner := splitAt(t.shape, ax)
	out := newTensor(make([]float32, len(idx)), reducedShape(t.shape, ax, keepDim))
	for o := range outer {
		for i := range inner {
			out.data[o*inner+i] = t.data[(o*mid+idx[o*inner+i])*inner+i]
		}
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		clear(gin[0])
		for o := range outer {
			for i := range inner {
				gin[0][(o*mid+idx[o*inner+i])*inner+i] = g[o*inner+i]
			}
		}
	}, t)
}

// ArgMax returns the index of the maximum along axis, as float32 ids (exact below 2^24), with the
// axis removed. Ties give the lowest index; NaN counts as the maximum. It has no gradient.
// It panics if axis is out of range or the axis has size 0.
func (t *Tensor) ArgMax(axis int) *Tensor { return t.argmaxTensor("ArgMax", axis, false) }

// ArgMaxKeepDim is ArgMax with keepdim=True.
func (t *Tensor) ArgMaxKeepDim(axis int) *Tensor { return t.argmaxTensor("ArgMaxKeepDim", axis, true) }

func (t *Tensor) argmaxTensor(op string, axis int, keepDim bool) *Tensor {
	ax, idx := t.argmax(op, axis)
	out := newTensor(make([]float32, len(idx)), reducedShape(t.shape, ax, keepDim))
	out.noGrad, out.checkFinite = t.noGrad, t.checkFinite
	for i, v := range idx {
		out.data[i] = float32(v)
	}
	return out
}

// argmax returns the normalised axis and, for each [outer, inner] position, the index of the
// maximum along it.
func (t *Tensor) argmax(op string, axis int) (int, []int) {
	ax := normAxis(op, axis, len(t.shape))
	outer, mid, inner := splitAt(t.shape, ax)
	if mid == 0 {
		panicf(op, "axis %d of shape %v is empty", axis, t.shape)
	}
	idx := make([]int, outer*inner)
	for o := range outer {
		for i := range inner {
			best, bi := t.data[o*mid*inner+i], 0
			for m := 1; m < mid && best == best; m++ { // best != best: a NaN already won
				if v := t.data[(o*mid+m)*inner+i]; v > best || v != v {
					best, bi = v, m
				}
			}
			idx[o*inner+i] = bi
		}
	}
	return ax, idx
}

// reducedShape is shape with axis removed, or set to 1 when keepDim.
func reducedShape(shape []int, axis int, keepDim bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case i != axis:
			out = append(out, d)
		case keepDim:
			out = append(out, 1)
		}
	}
	return out
}
