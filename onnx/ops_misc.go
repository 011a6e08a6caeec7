package onnx

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/oarlab/oar/tensor"
)

// Less common operators: Mod, CastLike, Hardmax, ThresholdedRelu, Celu, Shrink, IsInf, IsNaN,
// DepthToSpace, SpaceToDepth, OneHot, TopK, EyeLike.

func init() {
	ops["Mod"] = &opSpec{since: 10, minIn: 2, maxIn: 2, maxOut: 1, check: checkMod, run: runMod, attrs: attrTypes{"fmod": aInt}}
	ops["CastLike"] = &opSpec{since: 15, minIn: 2, maxIn: 2, maxOut: 1, hyper: []int{1},
		check: func(_ *node, _ int, in []dtype) ([]dtype, error) { return []dtype{in[1]}, nil },
		run: func(x *exec, in []*value) []*value {
			to := in[1].dtype
			return castTo(x, in[0], to)
		}}
	ops["Hardmax"] = &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, run: runHardmax, attrs: attrTypes{"axis": aInt}}
	zero := tensor.Scalar(0)
	ops["ThresholdedRelu"] = &opSpec{since: 10, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrTypes{"alpha": aFloat},
		run: func(x *exec, in []*value) []*value {
			t := in[0].f
			return one(tensor.Where(t.Greater(tensor.Scalar(x.float("alpha", 1))), t, zero))
		}}
	ops["Celu"] = &opSpec{since: 12, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrTypes{"alpha": aFloat},
		run: func(x *exec, in []*value) []*value {
			t, alpha := in[0].f, x.float("alpha", 1)
			neg := t.Minimum(zero).Scale(1 / alpha).Exp().AddScalar(-1).Scale(alpha)
			return one(tensor.Where(t.Greater(zero), t, neg))
		}}
	ops["Shrink"] = &opSpec{since: 9, minIn: 1, maxIn: 1, maxOut: 1, check: floatOp, attrs: attrTypes{"lambd": aFloat, "bias": aFloat},
		run: func(x *exec, in []*value) []*value {
			t, l, b := in[0].f, x.float("lambd", 0.5), x.float("bias", 0)
			inner := tensor.Where(t.Greater(tensor.Scalar(l)), t.AddScalar(-b), zero)
			return one(tensor.Where(t.Less(tensor.Scalar(-l)), t.AddScalar(b), inner))
		}}
	test := func(since int, attrs attrTypes, f func(x *exec, v float64) bool) *opSpec {
		return &opSpec{since: since, minIn: 1, maxIn: 1, maxOut: 1, attrs: attrs,
			check: func(n *node, opset int, in []dtype) ([]dtype, error) {
				if _, err := floatOp(n, opset, in); err != nil {
					return nil, err
				}
				return []dtype{tBool}, nil
			},
			run: func(x *exec, in []*value) []*value {
				t := in[0].f
				d := make([]int64, t.Len())
				for k, v := range t.Data() {
					d[k] = boolInt(f(x, float64(v)))
				}
				return []*value{intValue(tBool, d, t.Shape())}
			}}
	}
	ops["IsNaN"] = test(9, nil, func(_ *exec, v float64) bool { return math.IsNaN(v) })
	ops["IsInf"] = test(10, attrTypes{"detect_negative": aInt, "detect_positive": aInt}, func(x *exec, v float64) bool {
		return math.IsInf(v, 1) && x.int("detect_positive", 1) != 0 || math.IsInf(v, -1) && x.int("detect_negative", 1) != 0
	})
	ops["DepthToSpace"] = &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: firstType, run: runDepthToSpace,
		attrs: attrTypes{"blocksize": aInt, "mode": aString}}
	ops["SpaceToDepth"] = &opSpec{since: 7, minIn: 1, maxIn: 1, maxOut: 1, check: firstType, run: runSpaceToDepth,
		attrs: attrTypes{"blocksize": aInt}}
	ops["OneHot"] = &opSpec{since: 9, minIn: 3, maxIn: 3, maxOut: 1, check: func(_ *node, _ int, in []dtype) ([]dtype, error) { return []dtype{in[2]}, nil },
		run: runOneHot, hyper: []int{0, 1, 2}, attrs: attrTypes{"axis": aInt}}
	ops["TopK"] = &opSpec{since: 10, minIn: 2, maxIn: 2, maxOut: 2, check: checkTopK, run: runTopK, hyper: []int{1},
		attrs: attrTypes{"axis": aInt, "largest": aInt, "sorted": aInt}}
	ops["EyeLike"] = &opSpec{since: 9, minIn: 1, maxIn: 1, maxOut: 1, check: checkEyeLike, run: runEyeLike, hyper: []int{0},
		attrs: attrTypes{"dtype": aInt, "k": aInt}}
}

func checkMod(n *node, opset int, in []dtype) ([]dtype, error) {
	if _, err := sameTypes(n, opset, in); err != nil {
		return nil, err
	}
	if a, ok := n.attrs["fmod"]; in[0] == tFloat && (!ok || a.GetI() != 1) {
		return nil, fmt.Errorf("Mod of floats needs fmod=1")
	}
	return []dtype{in[0]}, nil
}

// runMod is C's fmod (fmod=1: the sign of the dividend) or Python's % (the sign of the divisor).
// For floats, a - b·trunc(a/b) with trunc(a/b) held constant has Mod's gradient: 1 and -trunc(a/b).
func runMod(x *exec, in []*value) []*value {
	a, b := in[0], in[1]
	if a.isFloat() {
		q := a.f.Div(b.f).NoGrad()
		d := make([]float32, q.Len())
		for k, v := range q.Data() {
			d[k] = float32(math.Trunc(float64(v)))
		}
		return one(a.f.Sub(b.f.Mul(tensor.New(d, q.Shape()...))))
	}
	cmod := x.int("fmod", 0) != 0
	return []*value{intBinary(x, a, b, func(p, q int64) (int64, bool) {
		if q == 0 {
			return 0, false
		}
		r := p % q
		if !cmod && r != 0 && (r < 0) != (q < 0) {
			r += q
		}
		return r, true
	})}
}

// castTo converts v to type to, as Cast does.
func castTo(x *exec, v *value, to dtype) []*value {
	if !supportedType(to) {
		x.failf("cast to %s is not supported", typeName(to))
	}
	switch {
	case to == tFloat:
		return one(v.asFloat())
	case v.isFloat():
		d := make([]int64, v.len())
		for k, f := range v.f.Data() {
			if to == tBool {
				d[k] = boolInt(f != 0)
			} else if !math.IsNaN(float64(f)) && math.Abs(float64(f)) < 1<<63 {
				d[k] = wrap(to, int64(f))
			}
		}
		return []*value{intValue(to, d, v.f.Shape())}
	}
	d := make([]int64, len(v.i))
	for k, e := range v.i {
		d[k] = wrap(to, e)
	}
	return []*value{intValue(to, d, v.shape)}
}

// runHardmax sets the first maximum along axis to 1 and the rest to 0 (before opset 13, of the
// input coerced to 2-D at axis). It has no gradient.
func runHardmax(x *exec, in []*value) []*value {
	t := in[0].f.NoGrad()
	shape := t.Shape()
	var outer, n, inner int
	if x.g.opset >= 13 {
		ax := normAxis(x, x.int("axis", -1), len(shape), false)
		outer, n, inner = prod(shape[:ax]), shape[ax], prod(shape[ax+1:])
	} else {
		ax := normAxis(x, x.int("axis", 1), len(shape), true)
		outer, n, inner = prod(shape[:ax]), prod(shape[ax:]), 1
	}
	data := t.Data()
	out := make([]float32, len(data))
	for o := range outer {
		for i := range inner {
			best := 0
			for j := 1; j < n; j++ {
				if data[(o*n+j)*inner+i] > data[(o*n+best)*inner+i] {
					best = j
				}
			}
			if n > 0 {
				out[(o*n+best)*inner+i] = 1
			}
		}
	}
	return one(tensor.New(out, shape...))
}

func blockSize(x *exec, shape []int) int {
	bs := x.int("blocksize", 0)
	if len(shape) != 4 || bs < 1 || bs > maxElems {
		x.failf("input %v and blocksize %d: want NCHW and a blocksize of at least 1", shape, bs)
	}
	return bs
}

func runDepthToSpace(x *exec, in []*value) []*value {
	shape := in[0].dims()
	bs := blockSize(x, shape)
	b, c, h, w := shape[0], shape[1], shape[2], shape[3]
	if c%(bs*bs) != 0 {
		x.failf("channels %d of %v are not a multiple of blocksize² %d", c, shape, bs*bs)
	}
	split, perm := []int{b, bs, bs, c / (bs * bs), h, w}, []int{0, 3, 4, 1, 5, 2} // DCR
	if x.str("mode", "DCR") == "CRD" {
		split, perm = []int{b, c / (bs * bs), bs, bs, h, w}, []int{0, 1, 4, 2, 5, 3}
	} else if m := x.str("mode", "DCR"); m != "DCR" {
		x.failf("mode %q is not DCR or CRD", m)
	}
	return []*value{move(in[0], func(t *tensor.Tensor) *tensor.Tensor {
		return t.Reshape(split...).Permute(perm...).Reshape(b, c/(bs*bs), h*bs, w*bs)
	})}
}

func runSpaceToDepth(x *exec, in []*value) []*value {
	shape := in[0].dims()
	bs := blockSize(x, shape)
	b, c, h, w := shape[0], shape[1], shape[2], shape[3]
	if h%bs != 0 || w%bs != 0 {
		x.failf("height and width of %v are not multiples of blocksize %d", shape, bs)
	}
	return []*value{move(in[0], func(t *tensor.Tensor) *tensor.Tensor {
		return t.Reshape(b, c, h/bs, bs, w/bs, bs).Permute(0, 3, 5, 1, 2, 4).Reshape(b, c*bs*bs, h/bs, w/bs)
	})}
}

// runOneHot puts values[1] where the index along the new axis equals the indices' value (negative
// counts from depth) and values[0] elsewhere; an index out of range gives a row of values[0].
func runOneHot(x *exec, in []*value) []*value {
	ind, vals := in[0].floats(), in[2]
	depthF := x.scalarOf(in[1], "depth")
	if !(depthF >= 1 && depthF <= maxElems) {
		x.failf("depth %v out of range", depthF)
	}
	depth := int(depthF)
	if vals.len() != 2 {
		x.failf("values %v: want [off, on]", vals.dims())
	}
	shape := in[0].dims()
	ax := normAxis(x, x.int("axis", -1), len(shape)+1, false)
	out := slices.Insert(slices.Clone(shape), ax, depth)
	outer, inner := prod(shape[:ax]), prod(shape[ax:])
	n := mulCap(x, mulCap(x, outer, depth), max(inner, 1))
	on := make([]bool, n)
	for o := range outer {
		for i := range inner {
			v := int(math.Trunc(ind[o*inner+i]))
			if v < 0 {
				v += depth
			}
			if v >= 0 && v < depth {
				on[(o*depth+v)*inner+i] = true
			}
		}
	}
	vf := vals.floats()
	if vals.isFloat() {
		d := make([]float32, n)
		for k, b := range on {
			d[k] = float32(vf[boolInt(b)])
		}
		return one(tensor.New(d, out...))
	}
	d := make([]int64, n)
	for k, b := range on {
		d[k] = vals.i[boolInt(b)]
	}
	return []*value{intValue(vals.dtype, d, out)}
}

func checkTopK(n *node, opset int, in []dtype) ([]dtype, error) {
	if _, err := floatOp(n, opset, in); err != nil {
		return nil, err
	}
	return []dtype{tFloat, tInt64}, nil
}

// runTopK returns the k largest (or smallest) elements along axis and their indices; equal
// values keep the lower index first, as ONNX says. The values are gathered, so they carry the
// gradient.
func runTopK(x *exec, in []*value) []*value {
	t := in[0].f
	shape := t.Shape()
	ax := normAxis(x, x.int("axis", -1), len(shape), false)
	kk := x.intsOf(in[1], "K")
	if len(kk) != 1 || kk[0] < 0 || kk[0] > shape[ax] {
		x.failf("K %v for axis %d of %v", kk, ax, shape)
	}
	k := kk[0]
	largest := x.int("largest", 1) != 0
	outer, n, inner := prod(shape[:ax]), shape[ax], prod(shape[ax+1:])
	data := t.Data()
	out := slices.Clone(shape)
	out[ax] = k
	idx := make([]int, outer*k*inner)
	ind := make([]int64, len(idx))
	order := make([]int, n)
	for o := range outer {
		for i := range inner {
			for j := range order {
				order[j] = j
			}
			at := func(j int) float32 { return data[(o*n+j)*inner+i] }
			sort.SliceStable(order, func(p, q int) bool {
				if largest {
					return at(order[p]) > at(order[q])
				}
				return at(order[p]) < at(order[q])
			})
			for j := range k {
				p := (o*k+j)*inner + i
				idx[p], ind[p] = (o*n+order[j])*inner+i, int64(order[j])
			}
		}
	}
	return []*value{gatherFlat(x, in[0], idx, out, 0), intValue(tInt64, ind, out)}
}

func checkEyeLike(n *node, _ int, in []dtype) ([]dtype, error) {
	t := in[0]
	if a, ok := n.attrs["dtype"]; ok {
		t = dtype(a.GetI())
		if int64(t) != a.GetI() || !supportedType(t) {
			return nil, fmt.Errorf("dtype %s is not supported", typeName(t))
		}
	}
	return []dtype{t}, nil
}

func runEyeLike(x *exec, in []*value) []*value {
	shape := in[0].dims()
	if len(shape) != 2 {
		x.failf("input %v must be 2-D", shape)
	}
	t := in[0].dtype
	if a := x.attr("dtype"); a != nil {
		t = dtype(a.GetI())
	}
	k := x.int("k", 0)
	rows, cols := shape[0], shape[1]
	d := make([]int64, rows*cols)
	for i := range rows {
		if j := i + k; j >= 0 && j < cols {
			d[i*cols+j] = 1
		}
	}
	v := intValue(t, d, shape)
	if t == tFloat {
		v = floatValue(v.asFloat())
	}
	return []*value{v}
}
