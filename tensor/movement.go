package tensor

import (
	"fmt"
	"slices"
)

// Reshape returns t with a new shape holding the same elements in the same order; the data is
// shared, not copied. One dimension may be -1: it is inferred. It panics if the element counts
// differ, more than one dimension is -1, or a dimension is below -1.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	var buf [8]int
	shape = append(buf[:0], shape...)
	infer, known, zero := -1, 1, false
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panicf("Reshape", "bad dimension %d in %v (only one -1 is allowed)", d, slices.Clone(shape))
		case d == 0:
			zero = true
		default:
			known = mulDim("Reshape", known, d, shape)
		}
	}
	if zero {
		known = 0
	}
	if infer >= 0 {
		if known == 0 || len(t.data)%known != 0 {
			panicf("Reshape", "cannot reshape %v into %v", t.shape, slices.Clone(shape))
		}
		shape[infer] = len(t.data) / known
	}
	if numel("Reshape", shape) != len(t.data) {
		panicf("Reshape", "cannot reshape %v (%d elements) into %v", t.shape, len(t.data), slices.Clone(shape))
	}
	return newTensor(t.data, shape).record("Reshape", identity, t)
}

// Flatten merges the axes start..stop (inclusive; negative counts from the end) into one, as
// paddle.flatten(x, start_axis, stop_axis). A scalar becomes shape [1]. It panics if an axis is
// out of range or start > stop.
func (t *Tensor) Flatten(start, stop int) *Tensor {
	if len(t.shape) == 0 {
		return t.Reshape(1)
	}
	s, e := normAxis("Flatten", start, len(t.shape)), normAxis("Flatten", stop, len(t.shape))
	if s > e {
		panicf("Flatten", "start axis %d after stop axis %d for shape %v", start, stop, t.shape)
	}
	shape := slices.Clone(t.shape[:s])
	shape = append(shape, numel("Flatten", t.shape[s:e+1]))
	shape = append(shape, t.shape[e+1:]...)
	return t.Reshape(shape...)
}

// Unsqueeze inserts a dimension of size 1 at axis, which may range over [-rank-1, rank].
// It panics if axis is out of that range.
func (t *Tensor) Unsqueeze(axis int) *Tensor {
	a := normAxis("Unsqueeze", axis, len(t.shape)+1)
	shape := slices.Insert(slices.Clone(t.shape), a, 1)
	return t.Reshape(shape...)
}

// Squeeze removes the given axes, which must have size 1; no axes removes every size-1 axis.
// It panics if an axis is out of range or its size is not 1.
func (t *Tensor) Squeeze(axes ...int) *Tensor {
	var drop []int
	if len(axes) == 0 {
		for i, d := range t.shape {
			if d == 1 {
				drop = append(drop, i)
			}
		}
	} else {
		drop = normAxes("Squeeze", axes, len(t.shape))
		for _, a := range drop {
			if t.shape[a] != 1 {
				panicf("Squeeze", "axis %d of shape %v has size %d, not 1", a, t.shape, t.shape[a])
			}
		}
	}
	shape := make([]int, 0, len(t.shape))
	for i, d := range t.shape {
		if !slices.Contains(drop, i) {
			shape = append(shape, d)
		}
	}
	return t.Reshape(shape...)
}

// Permute reorders the axes: output axis i is input axis axes[i] (negative counts from the end).
// The result is a copy. It panics unless axes is a permutation of the tensor's axes.
func (t *Tensor) Permute(axes ...int) *Tensor {
	if len(axes) != len(t.shape) {
		panicf("Permute", "got %d axes %v for shape %v", len(axes), axes, t.shape)
	}
	perm := make([]int, len(axes))
	for i, a := range axes {
		perm[i] = normAxis("Permute", a, len(t.shape))
		if slices.Contains(perm[:i], perm[i]) {
			panicf("Permute", "axes %v are not a permutation for shape %v", axes, t.shape)
		}
	}
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = t.shape[p]
	}
	out := newTensor(make([]float32, len(t.data)), shape)
	permuteTo(out.data, t.data, t.shape, perm)
	return out.record("Permute", func(g []float32, gin [][]float32) { permuteTo(gin[0], g, shape, inv) }, t)
}

// T returns the transpose: the axes reversed (for a matrix, rows become columns), as Paddle's .T.
func (t *Tensor) T() *Tensor {
	axes := make([]int, len(t.shape))
	for i := range axes {
		axes[i] = len(axes) - 1 - i
	}
	return t.Permute(axes...)
}

// permuteTo writes src (of shape) with its axes reordered by perm into dst.
func permuteTo(dst, src []float32, shape, perm []int) {
	if len(src) == 0 {
		return
	}
	inStride := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		inStride[i] = s
		s *= shape[i]
	}
	outShape := make([]int, len(perm))
	st := make([]int, len(perm)) // input stride of each output axis
	for i, p := range perm {
		outShape[i], st[i] = shape[p], inStride[p]
	}
	if len(perm) == 0 {
		copy(dst, src)
		return
	}
	last := len(perm) - 1
	n, step := outShape[last], st[last]
	idx := make([]int, last)
	off := 0
	for o := 0; o < len(dst); o += n {
		for k := range n {
			dst[o+k] = src[off+k*step]
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < outShape[d] {
				break
			}
			off -= st[d] * outShape[d]
			idx[d] = 0
		}
	}
}

// Concat joins tensors along axis; all other dimensions must agree. It panics if ts is empty, the
// ranks or other dimensions differ, or axis is out of range.
func Concat(ts []*Tensor, axis int) *Tensor {
	if len(ts) == 0 {
		panicf("Concat", "no tensors")
	}
	ax := normAxis("Concat", axis, len(ts[0].shape))
	shape := slices.Clone(ts[0].shape)
	shape[ax] = 0
	for _, x := range ts {
		if len(x.shape) != len(shape) {
			panicf("Concat", "ranks differ: %v", shapesOf(ts))
		}
		for d := range shape {
			if d != ax && x.shape[d] != shape[d] {
				panicf("Concat", "shapes %v differ outside axis %d", shapesOf(ts), ax)
			}
		}
		shape[ax] += x.shape[ax]
	}
	outer, total, inner := splitAt(shape, ax)
	out := newTensor(make([]float32, numel("Concat", shape)), shape)
	eachConcatPart(ts, ax, outer, total, inner, func(k, dst, src, n int) {
		copy(out.data[dst:dst+n], ts[k].data[src:src+n])
	})
	return out.record("Concat", func(g []float32, gin [][]float32) {
		eachConcatPart(ts, ax, outer, total, inner, func(k, dst, src, n int) {
			if gin[k] != nil {
				copy(gin[k][src:src+n], g[dst:dst+n])
			}
		})
	}, ts...)
}

// eachConcatPart calls fn for each contiguous run that input k contributes to a concatenation
// along ax: n elements at offset dst in the output and src in the input.
func eachConcatPart(ts []*Tensor, ax, outer, total, inner int, fn func(k, dst, src, n int)) {
	for o := range outer {
		dst := o * total * inner
		for k, x := range ts {
			n := x.shape[ax] * inner
			fn(k, dst, o*n, n)
			dst += n
		}
	}
}

func shapesOf(ts []*Tensor) []string {
	s := make([]string, len(ts))
	for i, x := range ts {
		s[i] = fmt.Sprint(x.shape)
	}
	return s
}

// Stack joins tensors of equal shape along a new axis, which may range over [-rank-1, rank].
// It panics if ts is empty, the shapes differ, or axis is out of range.
func Stack(ts []*Tensor, axis int) *Tensor {
	if len(ts) == 0 {
		panicf("Stack", "no tensors")
	}
	for _, x := range ts[1:] {
		if !slices.Equal(x.shape, ts[0].shape) {
			panicf("Stack", "shapes differ: %v", shapesOf(ts))
		}
	}
	a := normAxis("Stack", axis, len(ts[0].shape)+1)
	parts := make([]*Tensor, len(ts))
	for i, x := range ts {
		parts[i] = x.Unsqueeze(a)
	}
	return Concat(parts, a)
}

// Slice returns the elements start..end-1 along axis, as Python's x[start:end] on that axis:
// negative indices count from the end and both ends are clamped to the axis, so the result may be
// empty. It panics if axis is out of range.
func (t *Tensor) Slice(axis, start, end int) *Tensor {
	ax := normAxis("Slice", axis, len(t.shape))
	n := t.shape[ax]
	clampIdx := func(i int) int {
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	s, e := clampIdx(start), clampIdx(end)
	e = max(e, s)
	outer, mid, inner := splitAt(t.shape, ax)
	shape := slices.Clone(t.shape)
	shape[ax] = e - s
	run := (e - s) * inner
	out := newTensor(make([]float32, outer*run), shape)
	for o := range outer {
		copy(out.data[o*run:(o+1)*run], t.data[(o*mid+s)*inner:])
	}
	return out.record("Slice", func(g []float32, gin [][]float32) {
		clear(gin[0])
		for o := range outer {
			src := (o*mid + s) * inner
			copy(gin[0][src:src+run], g[o*run:(o+1)*run])
		}
	}, t)
}

// Index returns the slice at position i along axis, with the axis removed (x[..., i, ...]).
// A negative i counts from the end. It panics if axis or i is out of range.
func (t *Tensor) Index(axis, i int) *Tensor {
	ax := normAxis("Index", axis, len(t.shape))
	if i < -t.shape[ax] || i >= t.shape[ax] {
		panicf("Index", "index %d out of range for axis %d of shape %v", i, axis, t.shape)
	}
	if i < 0 {
		i += t.shape[ax]
	}
	return t.Slice(ax, i, i+1).Squeeze(ax)
}

// classID checks that v, found at position pos of op's ids, is an integer in [0, n).
func classID(op string, v float32, pos, n int) int {
	return checkClassID(op, v, pos, n)
}

// Gather selects slices along axis by the integer ids in the 1-D tensor index, as
// paddle.gather(x, index, axis) (index_select): the result has len(index) at axis. The gradient
// is scattered back, adding where an id repeats. It panics if index is not 1-D, an id is not an
// integer in range, or axis is out of range.
func (t *Tensor) Gather(index *Tensor, axis int) *Tensor {
	ax := normAxis("Gather", axis, len(t.shape))
	if len(index.shape) != 1 {
		panicf("Gather", "index must be 1-D, got shape %v", index.shape)
	}
	outer, mid, inner := splitAt(t.shape, ax)
	sel := make([]int, len(index.data))
	for k, v := range index.data {
		sel[k] = classID("Gather", v, k, mid)
	}
	shape := slices.Clone(t.shape)
	shape[ax] = len(sel)
	out := newTensor(make([]float32, outer*len(sel)*inner), shape)
	for o := range outer {
		for k, id := range sel {
			copy(out.data[(o*len(sel)+k)*inner:(o*len(sel)+k+1)*inner], t.data[(o*mid+id)*inner:])
		}
	}
	return out.record("Gather", func(g []float32, gin [][]float32) {
		clear(gin[0])
		for o := range outer {
			for k, id := range sel {
				src := (o*mid + id) * inner
				addTo(gin[0][src:src+inner], g[(o*len(sel)+k)*inner:(o*len(sel)+k+1)*inner])
			}
		}
	}, t, index)
}

// TakeAlongAxis picks, for every position of ids, the element of t at that id along axis, as
// paddle.take_along_axis(t, ids, axis): ids has t's rank and t's dimensions except along axis,
// and the result has ids' shape. For losses, logits [N, C] with ids [N, 1] give each row's value
// at its class. It panics if the shapes do not fit or an id is not an integer in range.
func (t *Tensor) TakeAlongAxis(ids *Tensor, axis int) *Tensor {
	ax := normAxis("TakeAlongAxis", axis, len(t.shape))
	if len(ids.shape) != len(t.shape) {
		panicf("TakeAlongAxis", "ids shape %v must have the rank of %v", ids.shape, t.shape)
	}
	for d := range t.shape {
		if d != ax && ids.shape[d] != t.shape[d] {
			panicf("TakeAlongAxis", "ids shape %v does not match %v outside axis %d", ids.shape, t.shape, ax)
		}
	}
	outer, mid, inner := splitAt(t.shape, ax)
	_, k, _ := splitAt(ids.shape, ax)
	src := make([]int, len(ids.data)) // offset into t of each output element
	for o := range outer {
		for j := range k {
			for i := range inner {
				p := (o*k+j)*inner + i
				src[p] = (o*mid+classID("TakeAlongAxis", ids.data[p], p, mid))*inner + i
			}
		}
	}
	out := newTensor(make([]float32, len(src)), ids.shape)
	for p, s := range src {
		out.data[p] = t.data[s]
	}
	return out.record("TakeAlongAxis", func(g []float32, gin [][]float32) {
		clear(gin[0])
		for p, s := range src {
			gin[0][s] += g[p]
		}
	}, t, ids)
}
