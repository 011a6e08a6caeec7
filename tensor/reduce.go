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
	out := newTensor(data, reducedShape(t.shape, ax, keepDim))
	return out.record(op, func(g []float32, gin [][]float32) {
		expandTo(gin[0], g, kept, t.shape)
		if scale != 1 {
			kernel.Scale(scale, gin[0])
		}
	}, t)
}

// Max returns the maximum over the given axes (negative counts from the end), which are removed
// from the shape; no axes means every axis, giving a scalar. NaN counts as the maximum. The
// gradient flows to the first maximal element of each reduced slice, in row-major order (as
// PyTorch's max along a dim and ArgMax here); Paddle's max gives every tied element the whole
// gradient instead. It panics if an axis is out of range or repeated, or a reduced slice is empty.
func (t *Tensor) Max(axes ...int) *Tensor { return t.extreme("Max", axes, false, greater) }

// MaxKeepDim is Max with keepdim=True: the reduced axes stay, with size 1.
func (t *Tensor) MaxKeepDim(axes ...int) *Tensor { return t.extreme("MaxKeepDim", axes, true, greater) }

// Min returns the minimum over the given axes, as Max does the maximum: NaN counts as the minimum
// and the gradient flows to the first minimal element of each reduced slice. It panics as Max does.
func (t *Tensor) Min(axes ...int) *Tensor { return t.extreme("Min", axes, false, less) }

// MinKeepDim is Min with keepdim=True.
func (t *Tensor) MinKeepDim(axes ...int) *Tensor { return t.extreme("MinKeepDim", axes, true, less) }

func greater(a, b float32) bool { return a > b }
func less(a, b float32) bool    { return a < b }

func (t *Tensor) extreme(op string, axes []int, keepDim bool, better func(a, b float32) bool) *Tensor {
	ax, win := t.winners(op, axes, better)
	out := newTensor(make([]float32, len(win)), reducedShape(t.shape, ax, keepDim))
	for j, w := range win {
		out.data[j] = t.data[w]
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		clear(gin[0])
		for j, w := range win {
			gin[0][w] = g[j]
		}
	}, t)
}

// ArgMax returns the index of the maximum over the given axes, as float32 ids (exact below 2^24),
// with the axes removed. Over one axis it is the index along it; over several, the row-major flat
// index within the reduced axes (for axes 1 and 2 of [N, H, W], h*W + w); over none, the flat
// index into t (Paddle's axis=None). Ties give the lowest index; NaN counts as the maximum. It has
// no gradient. It panics as Max does.
func (t *Tensor) ArgMax(axes ...int) *Tensor { return t.arg("ArgMax", axes, false, greater) }

// ArgMaxKeepDim is ArgMax with keepdim=True.
func (t *Tensor) ArgMaxKeepDim(axes ...int) *Tensor {
	return t.arg("ArgMaxKeepDim", axes, true, greater)
}

// ArgMin is ArgMax for the minimum.
func (t *Tensor) ArgMin(axes ...int) *Tensor { return t.arg("ArgMin", axes, false, less) }

// ArgMinKeepDim is ArgMin with keepdim=True.
func (t *Tensor) ArgMinKeepDim(axes ...int) *Tensor { return t.arg("ArgMinKeepDim", axes, true, less) }

func (t *Tensor) arg(op string, axes []int, keepDim bool, better func(a, b float32) bool) *Tensor {
	ax, win := t.winners(op, axes, better)
	out := newTensor(make([]float32, len(win)), reducedShape(t.shape, ax, keepDim))
	out.noGrad, out.checkFinite = t.noGrad, t.checkFinite
	for j, w := range win {
		idx, stride := 0, 1 // w's coordinates along the reduced axes, as one row-major index
		for a := len(t.shape) - 1; a >= 0; a-- {
			if slices.Contains(ax, a) {
				idx += w % t.shape[a] * stride
				stride *= t.shape[a]
			}
			w /= t.shape[a]
		}
		out.data[j] = float32(idx)
	}
	return out
}

// winners returns the reduced axes of t (normalised, sorted) and, for each element of the
// reduction, the offset in t of the first element of its slice in row-major order that no other
// beats (better(a, b): a beats b); NaN beats everything.
func (t *Tensor) winners(op string, axes []int, better func(a, b float32) bool) (ax, win []int) {
	ax = normAxes(op, axes, len(t.shape))
	kept := slices.Clone(t.shape) // the shape with reduced axes set to 1
	for _, a := range ax {
		if t.shape[a] == 0 {
			panicf(op, "axis %d of shape %v is empty", a, t.shape)
		}
		kept[a] = 1
	}
	win = make([]int, numel(op, kept))
	for j := range win {
		win[j] = -1
	}
	walkBroadcast(kept, t.shape, func(o, i, n, step int) {
		for k, v := range t.data[o : o+n] {
			j := i + k*step
			if w := win[j]; w < 0 || t.data[w] == t.data[w] && (v != v || better(v, t.data[w])) {
				win[j] = o + k
			}
		}
	})
	return ax, win
}

// reducedShape is shape without the axes ax, or with them set to 1 when keepDim.
func reducedShape(shape, ax []int, keepDim bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case !slices.Contains(ax, i):
			out = append(out, d)
		case keepDim:
			out = append(out, 1)
		}
	}
	return out
}
