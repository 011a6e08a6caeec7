package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// opSpec describes one ONNX operator: what Import accepts and how it runs.
type opSpec struct {
	since        int // first opset of the default domain where the op is as implemented here
	minIn, maxIn int
	maxOut       int
	attrs        map[string]onnxpb.AttributeProto_AttributeType
	check        func(n *node, opset int, in []dtype) ([]dtype, error) // attribute values, input types → output types
	run          func(x *exec, in []*value) []*value
	hyper, stats []int // inputs that are hyper-parameters (never trained), and running statistics (buffers)
}

const (
	aFloat  = onnxpb.AttributeProto_FLOAT
	aInt    = onnxpb.AttributeProto_INT
	aString = onnxpb.AttributeProto_STRING
	aTensor = onnxpb.AttributeProto_TENSOR
	aFloats = onnxpb.AttributeProto_FLOATS
	aInts   = onnxpb.AttributeProto_INTS
)

type attrTypes = map[string]onnxpb.AttributeProto_AttributeType

// ops is the table of supported operators.
var ops map[string]*opSpec

func init() {
	unary := func(f func(t *tensor.Tensor, x *exec) *tensor.Tensor, attrs attrTypes) *opSpec {
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, attrs: attrs, check: floatOp,
			run: func(x *exec, in []*value) []*value { return one(f(in[0].f, x)) }}
	}
	binary := func(f func(a, b *tensor.Tensor) *tensor.Tensor, fi func(a, b int64) (int64, bool)) *opSpec {
		return &opSpec{since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: sameTypes,
			run: func(x *exec, in []*value) []*value {
				a, b := in[0], in[1]
				broadcastDims(x, a.dims(), b.dims())
				if a.isFloat() {
					return one(f(a.f, b.asFloat()))
				}
				return []*value{intBinary(x, a, b, fi)}
			}}
	}
	ops = map[string]*opSpec{
		"Relu":    unary(func(t *tensor.Tensor, _ *exec) *tensor.Tensor { return t.ReLU() }, nil),
		"Sigmoid": unary(func(t *tensor.Tensor, _ *exec) *tensor.Tensor { return t.Sigmoid() }, nil),
		"Tanh":    unary(func(t *tensor.Tensor, _ *exec) *tensor.Tensor { return t.Tanh() }, nil),
		"Sqrt":    unary(func(t *tensor.Tensor, _ *exec) *tensor.Tensor { return t.Sqrt() }, nil),
		"Erf":     unary(func(t *tensor.Tensor, _ *exec) *tensor.Tensor { return t.Erf() }, nil),
		"LeakyRelu": unary(func(t *tensor.Tensor, x *exec) *tensor.Tensor {
			return t.LeakyReLU(x.float("alpha", 0.01))
		}, attrTypes{"alpha": aFloat}),
		"Add": binary((*tensor.Tensor).Add, func(a, b int64) (int64, bool) { return a + b, true }),
		"Sub": binary((*tensor.Tensor).Sub, func(a, b int64) (int64, bool) { return a - b, true }),
		"Mul": binary((*tensor.Tensor).Mul, func(a, b int64) (int64, bool) { return a * b, true }),
		"Div": binary((*tensor.Tensor).Div, func(a, b int64) (int64, bool) {
			if b == 0 {
				return 0, false
			}
			return a / b, true
		}),
		"Pow":      {since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: firstType, run: runPow, hyper: []int{1}},
		"Identity": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: firstType, run: func(_ *exec, in []*value) []*value { return in }},
		"Gemm": {since: 7, minIn: 2, maxIn: 3, maxOut: 1, check: floatOp, run: runGemm,
			attrs: attrTypes{"alpha": aFloat, "beta": aFloat, "transA": aInt, "transB": aInt}},
		"MatMul": {since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: floatOp, run: runMatMul},
		"Conv": {since: 7, minIn: 2, maxIn: 3, maxOut: 1, check: checkConv, run: runConv,
			attrs: attrTypes{"auto_pad": aString, "dilations": aInts, "group": aInt, "kernel_shape": aInts, "pads": aInts, "strides": aInts}},
		"ConvTranspose": {since: 7, minIn: 2, maxIn: 3, maxOut: 1, check: checkConv, run: runConvTranspose,
			attrs: attrTypes{"auto_pad": aString, "dilations": aInts, "group": aInt, "kernel_shape": aInts, "output_padding": aInts,
				"output_shape": aInts, "pads": aInts, "strides": aInts}},
		"MaxPool": {since: 7, minIn: 1, maxIn: 1, maxOut: 2, check: checkPool, run: runPool,
			attrs: attrTypes{"auto_pad": aString, "ceil_mode": aInt, "dilations": aInts, "kernel_shape": aInts, "pads": aInts, "storage_order": aInt, "strides": aInts}},
		"AveragePool": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: checkPool, run: runPool,
			attrs: attrTypes{"auto_pad": aString, "ceil_mode": aInt, "count_include_pad": aInt, "kernel_shape": aInts, "pads": aInts, "strides": aInts}},
		"GlobalAveragePool": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: func(x *exec, in []*value) []*value {
			return one(in[0].f.MeanKeepDim(spatialAxes(x, in[0].f)...))
		}},
		"GlobalMaxPool": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: func(x *exec, in []*value) []*value {
			return one(in[0].f.MaxKeepDim(spatialAxes(x, in[0].f)...))
		}},
		"Softmax":    {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: runSoftmax(false), attrs: attrTypes{"axis": aInt}},
		"LogSoftmax": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: runSoftmax(true), attrs: attrTypes{"axis": aInt}},
		"Flatten":    {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: firstType, run: runFlatten, attrs: attrTypes{"axis": aInt}},
		"Reshape": {since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: checkReshape, run: runReshape, hyper: []int{1},
			attrs: attrTypes{"allowzero": aInt}},
		"Transpose": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: firstType, run: runTranspose, attrs: attrTypes{"perm": aInts}},
		"Concat":    {since: 7, minIn: 1, maxIn: math.MaxInt, maxOut: 1, check: checkConcat, run: runConcat, attrs: attrTypes{"axis": aInt}},
		"Constant": {since: 7, minIn: 0, maxIn: 0, maxOut: 1, check: checkConstant, run: runConstant,
			attrs: attrTypes{"value": aTensor, "value_float": aFloat, "value_floats": aFloats, "value_int": aInt, "value_ints": aInts}},
		"Dropout": {since: 7, minIn: 1, maxIn: 3, maxOut: 2, check: checkDropout, run: runDropout, hyper: []int{1, 2},
			attrs: attrTypes{"ratio": aFloat, "seed": aInt}},
		"BatchNormalization": {since: 7, minIn: 5, maxIn: 5, maxOut: 5, check: checkBatchNorm, run: runBatchNorm, stats: []int{3, 4},
			attrs: attrTypes{"epsilon": aFloat, "momentum": aFloat, "spatial": aInt, "training_mode": aInt}},
		"Clip": {since: 7, minIn: 1, maxIn: 3, maxOut: 1, check: firstType, run: runClip, hyper: []int{1, 2},
			attrs: attrTypes{"min": aFloat, "max": aFloat}},
		"Shape":  {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: checkShape, run: runShape, attrs: attrTypes{"start": aInt, "end": aInt}},
		"Gather": {since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: checkGather, run: runGather, hyper: []int{1}, attrs: attrTypes{"axis": aInt}},
		"Unsqueeze": {since: 7, minIn: 1, maxIn: 2, maxOut: 1, check: checkAxesOp(true), run: runUnsqueeze, hyper: []int{1},
			attrs: attrTypes{"axes": aInts}},
		"Squeeze": {since: 7, minIn: 1, maxIn: 2, maxOut: 1, check: checkAxesOp(false), run: runSqueeze, hyper: []int{1},
			attrs: attrTypes{"axes": aInts}},
		"ReduceMean": {since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: runReduceMean,
			attrs: attrTypes{"axes": aInts, "keepdims": aInt}},
		"Pad": {since: 7, minIn: 1, maxIn: 3, maxOut: 1, check: checkPad, run: runPad, hyper: []int{1, 2},
			attrs: attrTypes{"mode": aString, "pads": aInts, "value": aFloat}},
	}
	ops["Erf"].since = 9
	ops["GlobalAveragePool"].since = 1 // unchanged since version 1
	ops["GlobalMaxPool"].since = 1
}

func one(t *tensor.Tensor) []*value { return []*value{floatValue(t)} }

// Attribute readers; Import has checked the types.

func (x *exec) attr(name string) *onnxpb.AttributeProto { return x.n.attrs[name] }

func (x *exec) int(name string, def int) int {
	if a := x.attr(name); a != nil {
		return int(a.GetI())
	}
	return def
}

func (x *exec) float(name string, def float32) float32 {
	if a := x.attr(name); a != nil {
		return a.GetF()
	}
	return def
}

func (x *exec) str(name, def string) string {
	if a := x.attr(name); a != nil {
		return string(a.GetS())
	}
	return def
}

// ints returns an INTS attribute, or nil when absent.
func (x *exec) ints(name string) []int {
	a := x.attr(name)
	if a == nil {
		return nil
	}
	out := make([]int, len(a.GetInts()))
	for k, v := range a.GetInts() {
		out[k] = int(v)
	}
	return out
}

// intsOf returns an integer input (axes, pads, a shape) as ints, checking that it is 0- or 1-D.
func (x *exec) intsOf(v *value, what string) []int {
	if len(v.dims()) > 1 {
		x.failf("%s must be 1-D, got shape %v", what, v.dims())
	}
	out := make([]int, v.len())
	for k, e := range v.ints() {
		out[k] = int(e)
	}
	return out
}

// scalarOf returns a one-element input as float64.
func (x *exec) scalarOf(v *value, what string) float64 {
	if v.len() != 1 {
		x.failf("%s must hold one value, got shape %v", what, v.dims())
	}
	return v.floats()[0]
}

// Checks of input types.

func floatOp(n *node, _ int, in []dtype) ([]dtype, error) {
	for k, t := range in {
		if t != tUndefined && t != tFloat && !slices.Contains(n.spec.hyper, k) {
			return nil, fmt.Errorf("input %d has data type %s, %s supports float32", k, typeName(t), n.op)
		}
	}
	return []dtype{tFloat}, nil
}

func firstType(_ *node, _ int, in []dtype) ([]dtype, error) { return []dtype{in[0]}, nil }

func sameTypes(n *node, _ int, in []dtype) ([]dtype, error) {
	for _, t := range in[1:] {
		if t != in[0] && t != tUndefined && in[0] != tUndefined {
			return nil, fmt.Errorf("inputs of types %s and %s", typeName(in[0]), typeName(t))
		}
	}
	if in[0] == tBool {
		return nil, fmt.Errorf("bool inputs are not supported by %s", n.op)
	}
	return []dtype{in[0]}, nil
}

// broadcastDims returns the NumPy broadcast of shapes, failing, before anything is allocated,
// when they do not broadcast or the result would hold more than maxElems elements.
func broadcastDims(x *exec, shapes ...[]int) []int {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := slices.Repeat([]int{1}, r)
	for _, s := range shapes {
		for k, d := range s {
			a := r - len(s) + k
			switch {
			case out[a] == 1:
				out[a] = d
			case d != 1 && d != out[a]:
				x.failf("shapes %v do not broadcast", shapes)
			}
		}
	}
	capShape(x, out)
	return out
}

// capShape fails when shape holds more than maxElems elements.
func capShape(x *exec, shape []int) {
	n := 1
	for _, d := range shape {
		n = mulCap(x, n, d)
	}
}

// intBinary computes f on integer values broadcast together, wrapped to their type.
func intBinary(x *exec, a, b *value, f func(a, b int64) (int64, bool)) *value {
	shape, idx := broadcastIndices(x, a, b)
	d := make([]int64, len(idx[0]))
	for k := range d {
		r, ok := f(a.i[idx[0][k]], b.i[idx[1][k]])
		if !ok {
			x.failf("integer division by zero")
		}
		d[k] = wrap(a.dtype, r)
	}
	return intValue(a.dtype, d, shape)
}

// runPow computes a^b. A float base with a one-element constant exponent of no higher rank (x²
// in exported GELU and LayerNorm graphs) uses Pow, whose result has the base's shape; other
// exponents use PowTensor, which also differentiates by the exponent. An integer base gives
// math.Pow truncated to its type, as numpy's astype.
func runPow(x *exec, in []*value) []*value {
	a, b := in[0], in[1]
	if !a.isFloat() {
		shape, idx := broadcastIndices(x, a, b)
		bf := b.floats()
		d := make([]int64, len(idx[0]))
		for k := range d {
			d[k] = wrap(a.dtype, int64(math.Pow(float64(a.i[idx[0][k]]), bf[idx[1][k]])))
		}
		return []*value{intValue(a.dtype, d, shape)}
	}
	if e := b.asFloat(); e.Len() == 1 && !e.RequiresGrad() && e.Rank() <= a.f.Rank() {
		return one(a.f.Pow(e.Data()[0]))
	}
	broadcastDims(x, a.dims(), b.dims())
	return one(a.f.PowTensor(b.asFloat()))
}

// runMatMul is numpy's matmul; the product's size is checked before it is allocated.
func runMatMul(x *exec, in []*value) []*value {
	a, b := in[0].f.Shape(), in[1].f.Shape()
	if len(a) >= 1 && len(b) >= 1 {
		m, n := 1, 1
		if len(a) >= 2 {
			m = a[len(a)-2]
		}
		if len(b) >= 2 {
			n = b[len(b)-1]
		}
		batch := broadcastDims(x, a[:max(len(a)-2, 0)], b[:max(len(b)-2, 0)])
		capShape(x, append(batch, m, n))
	}
	return one(in[0].f.MatMul(in[1].f))
}

func runGemm(x *exec, in []*value) []*value {
	a, b := in[0].f, in[1].f
	if a.Rank() != 2 || b.Rank() != 2 {
		x.failf("A %v and B %v must be 2-D", a.Shape(), b.Shape())
	}
	m, n := a.Dim(0), b.Dim(1)
	if x.int("transA", 0) != 0 {
		m = a.Dim(1)
	}
	if x.int("transB", 0) != 0 {
		n = b.Dim(0)
	}
	capShape(x, []int{m, n})
	y := a.MatMul(b, tensor.MatMulOptions{TransposeX: x.int("transA", 0) != 0, TransposeY: x.int("transB", 0) != 0})
	if alpha := x.float("alpha", 1); alpha != 1 {
		y = y.Scale(alpha)
	}
	if len(in) > 2 && in[2] != nil {
		if beta := x.float("beta", 1); beta != 0 {
			c := in[2].f
			if beta != 1 {
				c = c.Scale(beta)
			}
			shape := y.Shape()
			if y = y.Add(c); !slices.Equal(y.Shape(), shape) {
				x.failf("C %v does not broadcast to the product %v", c.Shape(), shape)
			}
		}
	}
	return one(y)
}

func spatialAxes(x *exec, t *tensor.Tensor) []int {
	if t.Rank() < 3 {
		x.failf("input %v must be N x C x spatial...", t.Shape())
	}
	axes := make([]int, t.Rank()-2)
	for k := range axes {
		axes[k] = k + 2
	}
	return axes
}

func runSoftmax(log bool) func(x *exec, in []*value) []*value {
	return func(x *exec, in []*value) []*value {
		t := in[0].f
		f := t.Softmax
		if log {
			f = t.LogSoftmax
		}
		if x.g.opset >= 13 {
			return one(f(x.int("axis", -1)))
		}
		// Before opset 13 the input is coerced to 2-D at axis and normalized over the second axis.
		shape := t.Shape()
		ax := normAxis(x, x.int("axis", 1), len(shape), true)
		pre := prod(shape[:ax])
		y := t.Reshape(pre, prod(shape[ax:]))
		if log {
			y = y.LogSoftmax(1)
		} else {
			y = y.Softmax(1)
		}
		return one(y.Reshape(shape...))
	}
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// normAxis maps an axis in [-rank, rank) (or [-rank, rank] with end) to [0, rank).
func normAxis(x *exec, axis, rank int, end bool) int {
	hi := rank
	if end {
		hi++
	}
	if axis < -rank || axis >= hi {
		x.failf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis
}

// reshape returns v with a new shape of the same element count (data shared).
func reshape(v *value, shape []int) *value {
	if v.isFloat() {
		return floatValue(v.f.Reshape(shape...))
	}
	return intValue(v.dtype, v.i, shape)
}

func runFlatten(x *exec, in []*value) []*value {
	shape := in[0].dims()
	ax := normAxis(x, x.int("axis", 1), len(shape), true)
	return []*value{reshape(in[0], []int{prod(shape[:ax]), prod(shape[ax:])})}
}

func checkReshape(n *node, opset int, in []dtype) ([]dtype, error) {
	if in[1] != tUndefined && in[1] != tInt64 {
		return nil, fmt.Errorf("shape input has data type %s, want INT64", typeName(in[1]))
	}
	return []dtype{in[0]}, nil
}

func runReshape(x *exec, in []*value) []*value {
	v := in[0]
	target := x.intsOf(in[1], "shape")
	shape := v.dims()
	allowZero := x.int("allowzero", 0) != 0
	out := make([]int, len(target))
	infer, known := -1, 1
	for k, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				x.failf("shape %v has more than one -1", target)
			}
			infer = k
			continue
		case d == 0 && !allowZero:
			if k >= len(shape) {
				x.failf("shape %v copies dimension %d of %v, which has none", target, k, shape)
			}
			d = shape[k]
		case d < 0:
			x.failf("shape %v has a negative dimension", target)
		}
		if d > maxElems {
			x.failf("shape %v is too large", target)
		}
		out[k] = d
		known *= d
		if known > maxElems {
			x.failf("shape %v is too large", target)
		}
	}
	n := v.len()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			x.failf("cannot reshape %v (%d elements) to %v", shape, n, target)
		}
		out[infer] = n / known
	} else if known != n {
		x.failf("cannot reshape %v (%d elements) to %v", shape, n, target)
	}
	return []*value{reshape(v, out)}
}

func runTranspose(x *exec, in []*value) []*value {
	rank := len(in[0].dims())
	perm := x.ints("perm")
	if perm == nil {
		for k := rank - 1; k >= 0; k-- {
			perm = append(perm, k)
		}
	}
	if len(perm) != rank {
		x.failf("perm %v for rank %d", perm, rank)
	}
	return []*value{move(in[0], func(t *tensor.Tensor) *tensor.Tensor { return t.Permute(perm...) })}
}

func checkConcat(n *node, _ int, in []dtype) ([]dtype, error) {
	if _, ok := n.attrs["axis"]; !ok {
		return nil, fmt.Errorf("attribute axis is required")
	}
	for k, name := range n.in {
		if name == "" {
			return nil, fmt.Errorf("input %d is empty", k)
		}
	}
	return sameTypes(&node{op: "Concat"}, 0, in)
}

func runConcat(x *exec, in []*value) []*value {
	ax := x.int("axis", 0)
	if in[0].isFloat() {
		ts := make([]*tensor.Tensor, len(in))
		for k, v := range in {
			ts[k] = v.f
		}
		return one(tensor.Concat(ts, ax))
	}
	// Integers: concatenate the element indices (offset per input), then pick.
	idx := make([]*tensor.Tensor, len(in))
	var all []int64
	for k, v := range in {
		idx[k] = indexTensor(v.shape).AddScalar(float32(len(all)))
		all = append(all, v.i...)
	}
	return []*value{pick(in[0].dtype, all, tensor.Concat(idx, ax))}
}

// constantOf decodes a Constant node's value.
func constantOf(n *node) (*value, error) {
	if len(n.attrs) != 1 {
		return nil, fmt.Errorf("want exactly one value attribute, got %d", len(n.attrs))
	}
	for name, a := range n.attrs {
		switch name {
		case "value":
			if a.GetT().GetDataType() == tDouble && n.doubleOK {
				return decodeDouble(a.GetT())
			}
			return decodeTensor(a.GetT())
		case "value_float":
			return floatValue(tensor.Scalar(a.GetF())), nil
		case "value_floats":
			return floatValue(tensor.New(slices.Clone(a.GetFloats()), len(a.GetFloats()))), nil
		case "value_int":
			return intValue(tInt64, []int64{a.GetI()}, nil), nil
		case "value_ints":
			return intValue(tInt64, slices.Clone(a.GetInts()), []int{len(a.GetInts())}), nil
		}
	}
	return nil, fmt.Errorf("no value")
}

func checkConstant(n *node, _ int, _ []dtype) ([]dtype, error) {
	v, err := constantOf(n)
	if err != nil {
		return nil, err
	}
	n.konst = v
	return []dtype{v.dtype}, nil
}

func runConstant(x *exec, _ []*value) []*value { return []*value{x.n.konst} }

func checkShape(_ *node, _ int, _ []dtype) ([]dtype, error) { return []dtype{tInt64}, nil }

func runShape(x *exec, in []*value) []*value {
	shape := in[0].dims()
	r := len(shape)
	clamp := func(i int) int {
		if i < 0 {
			i += r
		}
		return min(max(i, 0), r)
	}
	start, end := clamp(x.int("start", 0)), clamp(x.int("end", r))
	var d []int64
	for k := start; k < end; k++ {
		d = append(d, int64(shape[k]))
	}
	return []*value{intValue(tInt64, d, []int{len(d)})}
}

func checkGather(_ *node, _ int, in []dtype) ([]dtype, error) {
	if in[1] != tUndefined && in[1] != tInt64 && in[1] != tInt32 {
		return nil, fmt.Errorf("indices have data type %s, want INT32 or INT64", typeName(in[1]))
	}
	return []dtype{in[0]}, nil
}

func runGather(x *exec, in []*value) []*value {
	data, ind := in[0], in[1]
	shape := data.dims()
	ax := normAxis(x, x.int("axis", 0), len(shape), false)
	n := shape[ax]
	ids := make([]float32, ind.len())
	for k, i := range ind.ints() {
		if i < -int64(n) || i >= int64(n) {
			x.failf("index %d out of range for axis %d of shape %v", i, ax, shape)
		}
		if i < 0 {
			i += int64(n)
		}
		ids[k] = float32(i)
	}
	out := slices.Concat(shape[:ax], ind.dims(), shape[ax+1:])
	idx := tensor.New(ids, len(ids))
	return []*value{move(data, func(t *tensor.Tensor) *tensor.Tensor { return t.Gather(idx, ax).Reshape(out...) })}
}

// checkAxesOp checks Unsqueeze (required axes) and Squeeze: axes attribute before opset 13,
// input from 13.
func checkAxesOp(required bool) func(n *node, opset int, in []dtype) ([]dtype, error) {
	return func(n *node, opset int, in []dtype) ([]dtype, error) {
		_, hasAttr := n.attrs["axes"]
		hasInput := len(n.in) > 1 && n.in[1] != ""
		if opset >= 13 && hasAttr {
			return nil, fmt.Errorf("axes is an input from opset 13, not an attribute")
		}
		if opset < 13 && hasInput {
			return nil, fmt.Errorf("axes is an attribute before opset 13, not an input")
		}
		if required && !hasAttr && !hasInput {
			return nil, fmt.Errorf("axes are required")
		}
		if len(in) > 1 && in[1] != tUndefined && in[1] != tInt64 {
			return nil, fmt.Errorf("axes have data type %s, want INT64", typeName(in[1]))
		}
		return []dtype{in[0]}, nil
	}
}

// axes returns the axes attribute or input, and whether there was one.
func (x *exec) axes(in []*value) ([]int, bool) {
	if len(in) > 1 && in[1] != nil {
		return x.intsOf(in[1], "axes"), true
	}
	a := x.ints("axes")
	return a, a != nil
}

func runUnsqueeze(x *exec, in []*value) []*value {
	shape := in[0].dims()
	axes, _ := x.axes(in)
	rank := len(shape) + len(axes)
	add := make([]bool, rank)
	for _, a := range axes {
		a = normAxis(x, a, rank, false)
		if add[a] {
			x.failf("axes %v repeat an axis", axes)
		}
		add[a] = true
	}
	out := make([]int, 0, rank)
	k := 0
	for _, isNew := range add {
		if isNew {
			out = append(out, 1)
		} else {
			out = append(out, shape[k])
			k++
		}
	}
	return []*value{reshape(in[0], out)}
}

func runSqueeze(x *exec, in []*value) []*value {
	shape := in[0].dims()
	axes, given := x.axes(in)
	drop := make([]bool, len(shape))
	if !given {
		for k, d := range shape {
			drop[k] = d == 1
		}
	}
	for _, a := range axes {
		a = normAxis(x, a, len(shape), false)
		if shape[a] != 1 {
			x.failf("cannot squeeze axis %d of shape %v: its size is not 1", a, shape)
		}
		drop[a] = true
	}
	var out []int
	for k, d := range shape {
		if !drop[k] {
			out = append(out, d)
		}
	}
	return []*value{reshape(in[0], out)}
}

func runReduceMean(x *exec, in []*value) []*value {
	t := in[0].f
	axes := x.ints("axes")
	if x.int("keepdims", 1) != 0 {
		return one(t.MeanKeepDim(axes...))
	}
	return one(t.Mean(axes...))
}

func runClip(x *exec, in []*value) []*value {
	lo, hi := math.Inf(-1), math.Inf(1)
	if x.g.opset < 11 {
		lo, hi = float64(x.float("min", float32(lo))), float64(x.float("max", float32(hi)))
	} else {
		if len(in) > 1 && in[1] != nil {
			lo = x.scalarOf(in[1], "min")
		}
		if len(in) > 2 && in[2] != nil {
			hi = x.scalarOf(in[2], "max")
		}
	}
	lo = min(lo, hi) // min > max: every element becomes max, as numpy.clip
	v := in[0]
	if v.isFloat() {
		return one(v.f.Clip(float32(lo), float32(hi)))
	}
	d := make([]int64, len(v.i))
	for k, e := range v.i {
		d[k] = int64(min(max(float64(e), lo), hi))
	}
	return []*value{intValue(v.dtype, d, v.shape)}
}
