package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// More operators found in exported models: element-wise math, reductions, comparisons and the
// shape plumbing of dynamic exports (Cast, Slice, Expand, ConstantOfShape, Where).

func init() {
	unary := func(f func(t *tensor.Tensor) *tensor.Tensor) *opSpec {
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp,
			run: func(_ *exec, in []*value) []*value { return one(f(in[0].f)) }}
	}
	ops["Exp"] = unary((*tensor.Tensor).Exp)
	ops["Log"] = unary((*tensor.Tensor).Log)
	signed := func(f func(t *tensor.Tensor) *tensor.Tensor, fi func(int64) int64) *opSpec { // also on integers
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: sameTypes, run: func(_ *exec, in []*value) []*value {
			v := in[0]
			if v.isFloat() {
				return one(f(v.f))
			}
			d := make([]int64, len(v.i))
			for k, e := range v.i {
				d[k] = wrap(v.dtype, fi(e))
			}
			return []*value{intValue(v.dtype, d, v.shape)}
		}}
	}
	ops["Neg"] = signed((*tensor.Tensor).Neg, func(e int64) int64 { return -e })
	ops["Abs"] = signed((*tensor.Tensor).Abs, func(e int64) int64 { return max(e, -e) })
	ops["Reciprocal"] = unary(func(t *tensor.Tensor) *tensor.Tensor { return tensor.Scalar(1).Div(t) })
	reduce := func(keep, drop func(t *tensor.Tensor, axes ...int) *tensor.Tensor) *opSpec {
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrTypes{"axes": aInts, "keepdims": aInt},
			run: func(x *exec, in []*value) []*value { return one(reduceBy(x, in[0].f, x.ints("axes"), keep, drop)) }}
	}
	ops["ReduceMax"] = reduce((*tensor.Tensor).MaxKeepDim, (*tensor.Tensor).Max)
	ops["ReduceMin"] = reduce((*tensor.Tensor).MinKeepDim, (*tensor.Tensor).Min)
	ops["ReduceSum"] = &opSpec{since: 7, minIn: 1, maxIn: 2, maxOut: 1, check: checkReduceSum, hyper: []int{1},
		attrs: attrTypes{"axes": aInts, "keepdims": aInt, "noop_with_empty_axes": aInt}, run: runReduceSum}
	variadic := func(f func(a, b *tensor.Tensor) *tensor.Tensor, mean bool) *opSpec {
		return &opSpec{since: 8, minIn: 1, maxIn: math.MaxInt, maxOut: 1, check: floatOp, run: func(x *exec, in []*value) []*value {
			shapes := make([][]int, len(in))
			for k, v := range in {
				shapes[k] = v.dims()
			}
			broadcastDims(x, shapes...)
			y := in[0].f
			for _, v := range in[1:] {
				y = f(y, v.f)
			}
			if mean {
				y = y.Scale(1 / float32(len(in)))
			}
			return one(y)
		}}
	}
	ops["Sum"] = variadic((*tensor.Tensor).Add, false)
	ops["Mean"] = variadic((*tensor.Tensor).Add, true)
	ops["Max"] = variadic((*tensor.Tensor).Maximum, false)
	ops["Min"] = variadic((*tensor.Tensor).Minimum, false)
	compare := func(f func(a, b float64) bool, fi func(a, b int64) bool) *opSpec {
		return &opSpec{since: 7, minIn: 2, maxIn: 2, maxOut: 1, run: func(x *exec, in []*value) []*value {
			shape, idx := broadcastIndices(x, in...)
			d := make([]int64, len(idx[0]))
			fa, fb := in[0].floats(), in[1].floats()
			for k := range d {
				i, j := idx[0][k], idx[1][k]
				var r bool
				if in[0].isFloat() {
					r = f(fa[i], fb[j])
				} else {
					r = fi(in[0].i[i], in[1].i[j])
				}
				d[k] = wrap(tBool, boolInt(r))
			}
			return []*value{intValue(tBool, d, shape)}
		}, check: func(n *node, opset int, in []dtype) ([]dtype, error) {
			if _, err := sameTypes(&node{op: n.op}, opset, in); err != nil && in[0] != tBool {
				return nil, err
			}
			return []dtype{tBool}, nil
		}}
	}
	ops["Equal"] = compare(func(a, b float64) bool { return a == b }, func(a, b int64) bool { return a == b })
	ops["Less"] = compare(func(a, b float64) bool { return a < b }, func(a, b int64) bool { return a < b })
	ops["Greater"] = compare(func(a, b float64) bool { return a > b }, func(a, b int64) bool { return a > b })
	ops["LessOrEqual"] = compare(func(a, b float64) bool { return a <= b }, func(a, b int64) bool { return a <= b })
	ops["GreaterOrEqual"] = compare(func(a, b float64) bool { return a >= b }, func(a, b int64) bool { return a >= b })
	ops["LessOrEqual"].since, ops["GreaterOrEqual"].since = 12, 12
	ops["Where"] = &opSpec{since: 9, minIn: 3, maxIn: 3, maxOut: 1, check: checkWhere, run: runWhere, hyper: []int{0}}
	ops["Cast"] = &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: checkCast, run: runCast, attrs: attrTypes{"to": aInt}}
	ops["Slice"] = &opSpec{since: 7, minIn: 1, maxIn: 5, maxOut: 1, check: checkSlice, run: runSlice, hyper: []int{1, 2, 3, 4},
		attrs: attrTypes{"starts": aInts, "ends": aInts, "axes": aInts}}
	ops["Expand"] = &opSpec{since: 8, minIn: 2, maxIn: 2, maxOut: 1, check: firstType, run: runExpand, hyper: []int{1}}
	ops["ConstantOfShape"] = &opSpec{since: 9, minIn: 1, maxIn: 1, maxOut: 1, check: checkConstantOfShape, run: runConstantOfShape,
		hyper: []int{0}, attrs: attrTypes{"value": aTensor}}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func reduceBy(x *exec, t *tensor.Tensor, axes []int, keep, drop func(t *tensor.Tensor, axes ...int) *tensor.Tensor) *tensor.Tensor {
	if x.int("keepdims", 1) != 0 {
		return keep(t, axes...)
	}
	return drop(t, axes...)
}

func checkReduceSum(n *node, opset int, in []dtype) ([]dtype, error) {
	if _, ok := n.attrs["axes"]; ok && opset >= 13 {
		return nil, fmt.Errorf("axes is an input from opset 13, not an attribute")
	}
	if len(n.in) > 1 && opset < 13 {
		return nil, fmt.Errorf("axes is an attribute before opset 13")
	}
	return floatOp(n, opset, in)
}

func runReduceSum(x *exec, in []*value) []*value {
	axes, given := x.axes(in)
	t := in[0].f
	if given && len(axes) == 0 && x.int("noop_with_empty_axes", 0) != 0 || !given && x.int("noop_with_empty_axes", 0) != 0 {
		return in[:1]
	}
	return one(reduceBy(x, t, axes, (*tensor.Tensor).SumKeepDim, (*tensor.Tensor).Sum))
}

// broadcastIndices returns the NumPy broadcast shape of vals and, for each value, the index of
// its element at every position of that shape.
func broadcastIndices(x *exec, vals ...*value) ([]int, [][]int) {
	shapes := make([][]int, len(vals))
	for k, v := range vals {
		shapes[k] = v.dims()
	}
	broadcastDims(x, shapes...)
	zero := tensor.Zeros()
	for _, v := range vals {
		zero = zero.Add(tensor.Zeros(v.dims()...))
	}
	idx := make([][]int, len(vals))
	for k, v := range vals {
		e := indexTensor(v.dims()).Add(zero).Data()
		idx[k] = make([]int, len(e))
		for i, f := range e {
			idx[k][i] = int(f)
		}
	}
	return zero.Shape(), idx
}

func checkWhere(_ *node, _ int, in []dtype) ([]dtype, error) {
	if in[0] != tBool && in[0] != tUndefined {
		return nil, fmt.Errorf("condition has data type %s, want BOOL", typeName(in[0]))
	}
	if in[1] != in[2] && in[1] != tUndefined && in[2] != tUndefined {
		return nil, fmt.Errorf("inputs of types %s and %s", typeName(in[1]), typeName(in[2]))
	}
	return []dtype{in[1]}, nil
}

func runWhere(x *exec, in []*value) []*value {
	c, a, b := in[0], in[1], in[2]
	if a.isFloat() {
		broadcastDims(x, c.dims(), a.dims(), b.dims())
		return one(tensor.Where(c.asFloat(), a.f, b.asFloat()))
	}
	shape, idx := broadcastIndices(x, c, a, b)
	d := make([]int64, len(idx[0]))
	ci := c.ints()
	for k := range d {
		if ci[idx[0][k]] != 0 {
			d[k] = a.i[idx[1][k]]
		} else {
			d[k] = b.i[idx[2][k]]
		}
	}
	return []*value{intValue(a.dtype, d, shape)}
}

func checkCast(n *node, _ int, in []dtype) ([]dtype, error) {
	a, ok := n.attrs["to"]
	if !ok {
		return nil, fmt.Errorf("attribute to is required")
	}
	to := dtype(a.GetI())
	if int64(to) != a.GetI() || !supportedType(to) {
		return nil, fmt.Errorf("cast to %s is not supported", typeName(to))
	}
	return []dtype{to}, nil
}

// runCast converts as numpy's astype: float to integer truncates toward zero, then wraps to the
// type; anything to bool is x != 0. Float to float keeps the gradient.
func runCast(x *exec, in []*value) []*value { return castTo(x, in[0], dtype(x.int("to", 0))) }

func checkSlice(n *node, opset int, in []dtype) ([]dtype, error) {
	_, hasStarts := n.attrs["starts"]
	if opset < 10 && (!hasStarts || len(n.in) > 1) {
		return nil, fmt.Errorf("starts, ends and axes are attributes before opset 10")
	}
	if opset >= 10 && (len(n.attrs) > 0 || len(n.in) < 3) {
		return nil, fmt.Errorf("starts, ends, axes and steps are inputs from opset 10")
	}
	return []dtype{in[0]}, nil
}

func runSlice(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	r := len(shape)
	var starts, ends, axes, steps []int
	if x.g.opset < 10 {
		starts, ends, axes = x.ints("starts"), x.ints("ends"), x.ints("axes")
	} else {
		starts, ends = x.intsOf(in[1], "starts"), x.intsOf(in[2], "ends")
		if len(in) > 3 && in[3] != nil {
			axes = x.intsOf(in[3], "axes")
		}
		if len(in) > 4 && in[4] != nil {
			steps = x.intsOf(in[4], "steps")
		}
	}
	if axes == nil {
		for a := range starts {
			axes = append(axes, a)
		}
	}
	if steps == nil {
		steps = slices.Repeat([]int{1}, len(starts))
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		x.failf("starts %v, ends %v, axes %v and steps %v differ in length", starts, ends, axes, steps)
	}
	maps := make([][]int, r)
	for a, d := range shape {
		maps[a] = make([]int, d)
		for i := range d {
			maps[a][i] = i
		}
	}
	seen := make([]bool, r)
	for k, a := range axes {
		a = normAxis(x, a, r, false)
		if seen[a] {
			x.failf("axes %v repeat an axis", axes)
		}
		seen[a] = true
		d, s, st, e := shape[a], starts[k], steps[k], ends[k]
		if st == 0 {
			x.failf("step 0")
		}
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var sel []int
		if st > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			for i := s; i < e; i += st {
				sel = append(sel, i)
			}
		} else {
			s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
			for i := s; i > e; i += st {
				sel = append(sel, i)
			}
		}
		maps[a] = sel
	}
	return []*value{gatherMaps(x, v, maps)}
}

// gatherMaps returns the value whose element at index (i0, i1, ...) is v's element at
// (maps[0][i0], maps[1][i1], ...).
func gatherMaps(x *exec, v *value, maps [][]int) *value {
	shape := v.dims()
	out := make([]int, len(maps))
	n := 1
	for a, m := range maps {
		out[a] = len(m)
		n = mulCap(x, n, len(m))
	}
	idx := make([]int, n)
	pos := make([]int, len(maps))
	for k := range idx {
		flat := 0
		for a := range maps {
			flat = flat*shape[a] + maps[a][pos[a]]
		}
		idx[k] = flat
		odometer(pos, out)
	}
	return gatherFlat(x, v, idx, out, 0)
}

func runExpand(x *exec, in []*value) []*value {
	v := in[0]
	shape := x.intsOf(in[1], "shape")
	n := 1
	for _, d := range shape {
		if d < 0 {
			x.failf("shape %v has a negative dimension", shape)
		}
		n = mulCap(x, n, max(d, 1))
	}
	mulCap(x, n, max(v.len(), 1))
	target := tensor.Zeros(shape...)
	if v.isFloat() {
		return one(v.f.Add(target))
	}
	return []*value{pick(v.dtype, v.i, indexTensor(v.shape).Add(target))}
}

func checkConstantOfShape(n *node, _ int, in []dtype) ([]dtype, error) {
	if in[0] != tUndefined && in[0] != tInt64 {
		return nil, fmt.Errorf("shape has data type %s, want INT64", typeName(in[0]))
	}
	if a, ok := n.attrs["value"]; ok {
		v, err := decodeTensor(a.GetT())
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		if v.len() != 1 {
			return nil, fmt.Errorf("value holds %d elements, want 1", v.len())
		}
		n.konst = v
		return []dtype{v.dtype}, nil
	}
	n.konst = floatValue(tensor.Scalar(0))
	return []dtype{tFloat}, nil
}

func runConstantOfShape(x *exec, in []*value) []*value {
	shape := x.intsOf(in[0], "shape")
	n := 1
	for _, d := range shape {
		if d < 0 {
			x.failf("shape %v has a negative dimension", shape)
		}
		n = mulCap(x, n, d)
	}
	c := x.n.konst
	if c.isFloat() {
		return one(tensor.Full(c.f.Data()[0], shape...))
	}
	d := make([]int64, n)
	for k := range d {
		d[k] = c.i[0]
	}
	return []*value{intValue(c.dtype, d, shape)}
}
