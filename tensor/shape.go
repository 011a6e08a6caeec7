package tensor

import (
	"math"
	"math/bits"
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// numel returns the element count of shape, panicking in op's name on a negative dimension or
// when the dimensions other than 0 multiply past the largest int (a shape such as
// [0, 2^62, 4] holds no elements but is refused all the same).
func numel(op string, shape []int) int {
	n, zero := 1, false
	for _, d := range shape {
		switch {
		case d < 0:
			panicf(op, "negative dimension in shape %v", slices.Clone(shape))
		case d == 0:
			zero = true
		default:
			n = mulDim(op, n, d, shape)
		}
	}
	if zero {
		return 0
	}
	return n
}

// mulDim returns n*d for d > 0, panicking in op's name when that overflows int.
func mulDim(op string, n, d int, shape []int) int {
	hi, lo := bits.Mul64(uint64(n), uint64(d))
	if hi != 0 || lo > math.MaxInt {
		panicf(op, "shape %v: its dimensions other than 0 multiply past the largest int", slices.Clone(shape))
	}
	return int(lo)
}

// normAxis maps a possibly negative axis into [0, rank), panicking in op's name when out of range.
func normAxis(op string, axis, rank int) int {
	if axis < -rank || axis >= rank {
		panicf(op, "axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis
}

// normAxes normalises a list of axes; an empty list means every axis. It panics on repeats.
func normAxes(op string, axes []int, rank int) []int {
	if len(axes) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all
	}
	out := make([]int, len(axes))
	for i, a := range axes {
		out[i] = normAxis(op, a, rank)
		if slices.Contains(out[:i], out[i]) {
			panicf(op, "axis %d repeated in %v", a, axes)
		}
	}
	slices.Sort(out)
	return out
}

// broadcastShapes returns the NumPy broadcast of the shapes, panicking in op's name if they do not
// broadcast.
func broadcastShapes(op string, shapes ...[]int) []int {
	out, ok := broadcast(shapes...)
	if !ok {
		panicf(op, "shapes %v do not broadcast", shapes)
	}
	return out
}

// broadcast returns the NumPy broadcast of the shapes and whether they broadcast.
func broadcast(shapes ...[]int) ([]int, bool) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == 1:
				out[off+i] = d
			case d != 1 && d != out[off+i]:
				return nil, false
			}
		}
	}
	return out, true
}

// bcastStrides returns the strides of a tensor of shape in read as shape out (in broadcast to
// out): aligned to out's rank, 0 on broadcast dimensions.
func bcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(in)
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		if in[i] != 1 {
			st[off+i] = s
		}
		s *= in[i]
	}
	return st
}

// walkBroadcast visits every element of shape out with the offset of the element of in it reads
// (in broadcast to out). It calls run(o, i, n, step) for runs of n output elements starting at
// o, reading in from i with stride step (0 or 1), so the inner work is a tight loop.
func walkBroadcast(in, out []int, run func(o, i, n, step int)) {
	total := numel("broadcast", out)
	if total == 0 {
		return
	}
	if len(out) == 0 {
		run(0, 0, 1, 0)
		return
	}
	st := bcastStrides(in, out)
	last := len(out) - 1
	n, step := out[last], st[last]
	idx := make([]int, last) // odometer over the outer dimensions
	i := 0
	for o := 0; o < total; o += n {
		run(o, i, n, step)
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			i += st[d]
			if idx[d] < out[d] {
				break
			}
			i -= st[d] * out[d]
			idx[d] = 0
		}
	}
}

// expand returns src (of shape in) broadcast to shape out as a new slice, or src itself when the
// shapes hold the same number of elements (broadcasting then only adds leading 1s).
func expand(src []float32, in, out []int) []float32 {
	if len(src) == numel("broadcast", out) {
		return src
	}
	dst := make([]float32, numel("broadcast", out))
	expandTo(dst, src, in, out)
	return dst
}

// expandTo writes src (of shape in) broadcast to shape out into dst.
func expandTo(dst, src []float32, in, out []int) {
	if len(src) == len(dst) {
		copy(dst, src)
		return
	}
	walkBroadcast(in, out, func(o, i, n, step int) {
		if step == 1 {
			copy(dst[o:o+n], src[i:i+n])
			return
		}
		v := src[i]
		for k := range dst[o : o+n] {
			dst[o+k] = v
		}
	})
}

// reduceTo writes into dst (of shape in, which broadcasts to out) the sum of g (of shape out)
// over the broadcast dimensions: the adjoint of expand, and the one unbroadcast of every gradient.
func reduceTo(dst, g []float32, in, out []int) {
	if len(dst) == len(g) {
		copy(dst, g)
		return
	}
	clear(dst)
	walkBroadcast(in, out, func(o, i, n, step int) {
		if step == 1 {
			addTo(dst[i:i+n], g[o:o+n])
			return
		}
		s := float32(0)
		for _, v := range g[o : o+n] {
			s += v
		}
		dst[i] += s
	})
}

// sumRows writes into dst the sum of the rows of g (len(dst) elements each), in row order.
func sumRows(dst, g []float32) {
	if len(g) < len(dst) { // no rows
		clear(dst)
		return
	}
	copy(dst, g)
	for r := len(dst); r < len(g); r += len(dst) {
		addTo(dst, g[r:r+len(dst)])
	}
}

// addTo adds x into dst element-wise.
func addTo(dst, x []float32) { kernel.AddTo(dst, x) }

// splitAt views shape as [outer, shape[axis], inner] around axis.
func splitAt(shape []int, axis int) (outer, mid, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner
}
