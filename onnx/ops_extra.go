package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// Activations, normalizations and tensor plumbing beyond the core set, each built from oar's
// differentiable ops.

func init() {
	act := func(since int, attrs attrTypes, f func(x *exec, t *tensor.Tensor) *tensor.Tensor) *opSpec {
		return &opSpec{since: since, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrs,
			run: func(x *exec, in []*value) []*value { return one(f(x, in[0].f)) }}
	}
	zero := tensor.Scalar(0)
	// elu is x for x > 0 and alpha·(e^x - 1) elsewhere; e^min(x, 0) keeps the unused branch finite,
	// so that its zero gradient is not 0·Inf.
	elu := func(t *tensor.Tensor, alpha float32) *tensor.Tensor {
		return tensor.Where(t.Greater(zero), t, t.Minimum(zero).Exp().AddScalar(-1).Scale(alpha))
	}
	ops["Elu"] = act(7, attrTypes{"alpha": aFloat}, func(x *exec, t *tensor.Tensor) *tensor.Tensor { return elu(t, x.float("alpha", 1)) })
	ops["Selu"] = act(7, attrTypes{"alpha": aFloat, "gamma": aFloat}, func(x *exec, t *tensor.Tensor) *tensor.Tensor {
		return elu(t, x.float("alpha", 1.67326319217681884765625)).Scale(x.float("gamma", 1.05070102214813232421875))
	})
	ops["HardSigmoid"] = act(7, attrTypes{"alpha": aFloat, "beta": aFloat}, func(x *exec, t *tensor.Tensor) *tensor.Tensor {
		return t.Scale(x.float("alpha", 0.2)).AddScalar(x.float("beta", 0.5)).Clip(0, 1)
	})
	ops["HardSwish"] = act(14, nil, func(_ *exec, t *tensor.Tensor) *tensor.Tensor {
		return t.Mul(t.Scale(1.0/6).AddScalar(0.5).Clip(0, 1))
	})
	ops["Softplus"] = act(7, nil, func(_ *exec, t *tensor.Tensor) *tensor.Tensor {
		// log(1 + e^x), which is x itself to float32 precision above 20 (and e^x would overflow)
		big := tensor.Scalar(20)
		return tensor.Where(t.Greater(big), t, t.Minimum(big).Exp().AddScalar(1).Log())
	})
	ops["Softsign"] = act(7, nil, func(_ *exec, t *tensor.Tensor) *tensor.Tensor { return t.Div(t.Abs().AddScalar(1)) })
	ops["PRelu"] = &opSpec{since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: floatOp, run: func(x *exec, in []*value) []*value {
		t := in[0].f
		broadcastDims(x, t.Shape(), in[1].dims())
		return one(tensor.Where(t.Greater(zero), t, t.Mul(in[1].f)))
	}}
	noGrad := func(f func(float64) float64) *opSpec { // piecewise constant: no gradient
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: func(_ *exec, in []*value) []*value {
			t := in[0].f
			d := make([]float32, t.Len())
			for k, v := range t.Data() {
				d[k] = float32(f(float64(v)))
			}
			return one(tensor.New(d, t.Shape()...))
		}}
	}
	ops["Floor"] = noGrad(math.Floor)
	ops["Ceil"] = noGrad(math.Ceil)
	ops["Round"] = noGrad(math.RoundToEven)
	ops["Sign"] = noGrad(func(v float64) float64 {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return v // 0, or NaN
	})
	ops["Round"].since, ops["Sign"].since = 11, 9
	// Unchanged since these versions: models of opsets 1 to 6 that use them are read too.
	ops["Elu"].since, ops["Selu"].since, ops["HardSigmoid"].since = 6, 6, 6
	ops["Softplus"].since, ops["Softsign"].since = 1, 1

	reduce := func(f func(t *tensor.Tensor, axes []int, keep bool) *tensor.Tensor) *opSpec {
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrTypes{"axes": aInts, "keepdims": aInt},
			run: func(x *exec, in []*value) []*value {
				return one(f(in[0].f, x.ints("axes"), x.int("keepdims", 1) != 0))
			}}
	}
	sum := func(t *tensor.Tensor, axes []int, keep bool) *tensor.Tensor {
		if keep {
			return t.SumKeepDim(axes...)
		}
		return t.Sum(axes...)
	}
	ops["ReduceL1"] = reduce(func(t *tensor.Tensor, a []int, k bool) *tensor.Tensor { return sum(t.Abs(), a, k) })
	ops["ReduceL2"] = reduce(func(t *tensor.Tensor, a []int, k bool) *tensor.Tensor { return sum(t.Square(), a, k).Sqrt() })
	ops["ReduceSumSquare"] = reduce(func(t *tensor.Tensor, a []int, k bool) *tensor.Tensor { return sum(t.Square(), a, k) })
	ops["ReduceLogSum"] = reduce(func(t *tensor.Tensor, a []int, k bool) *tensor.Tensor { return sum(t, a, k).Log() })
	ops["ReduceLogSumExp"] = reduce(func(t *tensor.Tensor, a []int, k bool) *tensor.Tensor {
		m := t.MaxKeepDim(a...).Detach() // shift by the maximum: no overflow, same value and gradient
		y := t.Sub(m).Exp().SumKeepDim(a...).Log().Add(m)
		if !k {
			y = y.Reshape(t.Sum(a...).Shape()...)
		}
		return y
	})

	ops["LayerNormalization"] = &opSpec{since: 17, minIn: 2, maxIn: 3, maxOut: 3, check: checkLayerNorm, run: runLayerNorm,
		attrs: attrTypes{"axis": aInt, "epsilon": aFloat, "stash_type": aInt}}
	ops["InstanceNormalization"] = &opSpec{since: 6, minIn: 3, maxIn: 3, maxOut: 1, check: floatOp, run: runInstanceNorm,
		attrs: attrTypes{"epsilon": aFloat}}
	ops["Split"] = &opSpec{since: 7, minIn: 1, maxIn: 2, maxOut: math.MaxInt, check: checkSplit, run: runSplit, hyper: []int{1},
		attrs: attrTypes{"axis": aInt, "split": aInts}}
	ops["Tile"] = &opSpec{since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: firstType, run: runTile, hyper: []int{1}}
	ops["Range"] = &opSpec{since: 11, minIn: 3, maxIn: 3, maxOut: 1, check: sameTypes, run: runRange, hyper: []int{0, 1, 2}}
	ops["Size"] = &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: checkShape, run: func(_ *exec, in []*value) []*value {
		return []*value{intValue(tInt64, []int64{int64(in[0].len())}, nil)}
	}}
	arg := func(better func(a, b float32) bool) *opSpec {
		return &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, attrs: attrTypes{"axis": aInt, "keepdims": aInt, "select_last_index": aInt},
			check: func(n *node, opset int, in []dtype) ([]dtype, error) {
				if _, err := floatOp(n, opset, in); err != nil {
					return nil, err
				}
				return []dtype{tInt64}, nil
			},
			run: func(x *exec, in []*value) []*value { return []*value{runArg(x, in[0].f, better)} }}
	}
	ops["ArgMax"] = arg(func(a, b float32) bool { return a > b })
	ops["ArgMin"] = arg(func(a, b float32) bool { return a < b })
	logic := func(f func(a, b bool) bool) *opSpec {
		return &opSpec{since: 7, minIn: 2, maxIn: 2, maxOut: 1, check: checkBool, run: func(x *exec, in []*value) []*value {
			shape, idx := broadcastIndices(x, in...)
			d := make([]int64, len(idx[0]))
			for k := range d {
				d[k] = boolInt(f(in[0].i[idx[0][k]] != 0, in[1].i[idx[1][k]] != 0))
			}
			return []*value{intValue(tBool, d, shape)}
		}}
	}
	ops["And"] = logic(func(a, b bool) bool { return a && b })
	ops["Or"] = logic(func(a, b bool) bool { return a || b })
	ops["Xor"] = logic(func(a, b bool) bool { return a != b })
	ops["Not"] = &opSpec{since: 1, minIn: 1, maxIn: 1, maxOut: 1, check: checkBool, run: func(_ *exec, in []*value) []*value {
		d := make([]int64, len(in[0].i))
		for k, v := range in[0].i {
			d[k] = 1 - v
		}
		return []*value{intValue(tBool, d, in[0].shape)}
	}}
}

func checkBool(n *node, _ int, in []dtype) ([]dtype, error) {
	for k, t := range in {
		if t != tBool && t != tUndefined {
			return nil, fmt.Errorf("input %d has data type %s, %s takes BOOL", k, typeName(t), n.op)
		}
	}
	return []dtype{tBool}, nil
}

func checkLayerNorm(n *node, opset int, in []dtype) ([]dtype, error) {
	if a, ok := n.attrs["stash_type"]; ok && a.GetI() != 1 {
		return nil, fmt.Errorf("stash_type %d is not supported (1, float32, is)", a.GetI())
	}
	if _, err := floatOp(n, opset, in); err != nil {
		return nil, err
	}
	return []dtype{tFloat, tFloat, tFloat}, nil
}

// runLayerNorm normalizes over the axes from axis to the last: y = (x-mean)/√(var+ε)·scale + B,
// the biased variance; the optional outputs are the mean and 1/√(var+ε). With only y wanted and
// scale and B of the normalized shape, it is oar's fused LayerNorm.
func runLayerNorm(x *exec, in []*value) []*value {
	t := in[0].f
	r := t.Rank()
	ax := normAxis(x, x.int("axis", -1), r, false)
	var axes []int
	for a := ax; a < r; a++ {
		axes = append(axes, a)
	}
	eps := x.float("epsilon", 1e-5)
	scale := in[1].f
	var bias *tensor.Tensor
	if len(in) > 2 && in[2] != nil {
		bias = in[2].f
	}
	norm := t.Shape()[ax:]
	exact := func(p *tensor.Tensor) bool { return p == nil || slices.Equal(p.Shape(), norm) }
	if len(x.n.out) == 1 && exact(scale) && exact(bias) {
		return one(t.LayerNorm(norm, scale, bias, eps)) // oar's fused kernel
	}
	m := t.MeanKeepDim(axes...)
	d := t.Sub(m)
	inv := tensor.Scalar(1).Div(d.Square().MeanKeepDim(axes...).AddScalar(eps).Sqrt())
	y := d.Mul(inv).Mul(scale)
	if bias != nil {
		y = y.Add(bias)
	}
	if !slices.Equal(y.Shape(), t.Shape()) {
		x.failf("scale %v or bias does not broadcast to the normalized shape of %v", in[1].f.Shape(), t.Shape())
	}
	return []*value{floatValue(y), floatValue(m), floatValue(inv)}
}

func runInstanceNorm(x *exec, in []*value) []*value {
	t, scale, bias := in[0].f, in[1].f, in[2].f
	axes := spatialAxes(x, t)
	c := t.Dim(1)
	if scale.Rank() != 1 || scale.Dim(0) != c || bias.Rank() != 1 || bias.Dim(0) != c {
		x.failf("scale %v and bias %v must be [%d] for input %v", scale.Shape(), bias.Shape(), c, t.Shape())
	}
	bshape := slices.Repeat([]int{1}, t.Rank())
	bshape[1] = c
	m := t.MeanKeepDim(axes...)
	d := t.Sub(m)
	y := d.Div(d.Square().MeanKeepDim(axes...).AddScalar(x.float("epsilon", 1e-5)).Sqrt())
	return one(y.Mul(scale.Reshape(bshape...)).Add(bias.Reshape(bshape...)))
}

func checkSplit(n *node, opset int, in []dtype) ([]dtype, error) {
	if _, ok := n.attrs["split"]; ok && opset >= 13 {
		return nil, fmt.Errorf("split is an input from opset 13, not an attribute")
	}
	if len(n.in) > 1 && n.in[1] != "" && opset < 13 {
		return nil, fmt.Errorf("split is an attribute before opset 13")
	}
	out := make([]dtype, len(n.out))
	for k := range out {
		out[k] = in[0]
	}
	return out, nil
}

func runSplit(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	ax := normAxis(x, x.int("axis", 0), len(shape), false)
	parts := x.ints("split")
	if len(in) > 1 && in[1] != nil {
		parts = x.intsOf(in[1], "split")
	}
	nOut := len(x.n.out)
	if parts == nil {
		if shape[ax]%nOut != 0 {
			x.failf("axis %d of %v does not split into %d equal parts", ax, shape, nOut)
		}
		parts = slices.Repeat([]int{shape[ax] / nOut}, nOut)
	}
	total := 0
	for _, p := range parts {
		if p < 0 {
			x.failf("negative split %v", parts)
		}
		total += p
	}
	if len(parts) != nOut || total != shape[ax] {
		x.failf("split %v into %d outputs does not add up to axis %d of %v", parts, nOut, ax, shape)
	}
	outs := make([]*value, nOut)
	start := 0
	for k, p := range parts {
		s := start
		outs[k] = move(v, func(t *tensor.Tensor) *tensor.Tensor { return t.Slice(ax, s, s+p) })
		start += p
	}
	return outs
}

func runTile(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	reps := x.intsOf(in[1], "repeats")
	if len(reps) != len(shape) {
		x.failf("repeats %v for input %v", reps, shape)
	}
	maps := make([][]int, len(shape))
	for a, d := range shape {
		if reps[a] < 0 {
			x.failf("negative repeats %v", reps)
		}
		n := mulCap(x, d, reps[a])
		maps[a] = make([]int, n)
		for i := range n {
			maps[a][i] = i % d
		}
	}
	return []*value{gatherMaps(x, v, maps)}
}

func runRange(x *exec, in []*value) []*value {
	start, limit, delta := x.scalarOf(in[0], "start"), x.scalarOf(in[1], "limit"), x.scalarOf(in[2], "delta")
	if delta == 0 {
		x.failf("delta 0")
	}
	n := max(math.Ceil((limit-start)/delta), 0)
	if !(n <= maxElems) {
		x.failf("range of %v elements is too large", n)
	}
	if in[0].isFloat() {
		d := make([]float32, int(n))
		for k := range d {
			d[k] = float32(start + float64(k)*delta)
		}
		return one(tensor.New(d, len(d)))
	}
	s, dl := in[0].ints()[0], in[2].ints()[0]
	d := make([]int64, int(n))
	for k := range d {
		d[k] = wrap(in[0].dtype, s+int64(k)*dl)
	}
	return []*value{intValue(in[0].dtype, d, []int{len(d)})}
}

// runArg returns the index along axis of the first (or, with select_last_index, the last) best
// element, as int64.
func runArg(x *exec, t *tensor.Tensor, better func(a, b float32) bool) *value {
	shape := t.Shape()
	ax := normAxis(x, x.int("axis", 0), len(shape), false)
	last := x.int("select_last_index", 0) != 0
	outer, n, inner := prod(shape[:ax]), shape[ax], prod(shape[ax+1:])
	if n == 0 {
		x.failf("arg of an empty axis %d of %v", ax, shape)
	}
	data := t.Data()
	d := make([]int64, outer*inner)
	for o := range outer {
		for i := range inner {
			best := 0
			for j := 1; j < n; j++ {
				a, b := data[(o*n+j)*inner+i], data[(o*n+best)*inner+i]
				if better(a, b) || last && a == b {
					best = j
				}
			}
			d[o*inner+i] = int64(best)
		}
	}
	out := slices.Clone(shape)
	if x.int("keepdims", 1) != 0 {
		out[ax] = 1
	} else {
		out = slices.Delete(out, ax, ax+1)
	}
	return intValue(tInt64, d, out)
}
