package onnx

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// Element gathers (GatherElements, Trilu) and the losses of training graphs
// (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), as differentiable gathers. A loss's
// class weights are a hyper-parameter, not a trained parameter.

func init() {
	ops["GatherElements"] = &opSpec{since: 11, minIn: 2, maxIn: 2, maxOut: 1, check: checkGather, run: runGatherElements,
		hyper: []int{1}, attrs: attrTypes{"axis": aInt}}
	ops["Trilu"] = &opSpec{since: 14, minIn: 1, maxIn: 2, maxOut: 1, check: firstType, run: runTrilu, hyper: []int{1},
		attrs: attrTypes{"upper": aInt}}
	ops["NegativeLogLikelihoodLoss"] = &opSpec{since: 12, minIn: 2, maxIn: 3, maxOut: 1, check: checkLoss, run: runNLL,
		hyper: []int{1, 2}, attrs: attrTypes{"ignore_index": aInt, "reduction": aString}}
	ops["SoftmaxCrossEntropyLoss"] = &opSpec{since: 12, minIn: 2, maxIn: 3, maxOut: 2, check: checkLoss, run: runSCE,
		hyper: []int{1, 2}, attrs: attrTypes{"ignore_index": aInt, "reduction": aString}}
}

// unravel returns the coordinates of flat index k in shape.
func unravel(k int, shape, coord []int) {
	for a := len(shape) - 1; a >= 0; a-- {
		coord[a], k = k%shape[a], k/shape[a]
	}
}

func runGatherElements(x *exec, in []*value) []*value {
	data, ind := in[0], in[1]
	shape, ishape := data.dims(), ind.dims()
	if len(shape) != len(ishape) {
		x.failf("indices %v must have the rank of data %v", ishape, shape)
	}
	ax := normAxis(x, x.int("axis", 0), len(shape), false)
	ids := ind.ints()
	idx := make([]int, len(ids))
	coord := make([]int, len(shape))
	for k, id := range ids {
		unravel(k, ishape, coord)
		n := int64(shape[ax])
		if id < -n || id >= n {
			x.failf("index %d out of range for axis %d of %v", id, ax, shape)
		}
		if id < 0 {
			id += n
		}
		coord[ax] = int(id)
		flat := 0
		for a, c := range coord {
			if c >= shape[a] {
				x.failf("indices %v reach outside data %v on axis %d", ishape, shape, a)
			}
			flat = flat*shape[a] + c
		}
		idx[k] = flat
	}
	return []*value{gatherFlat(x, data, idx, ishape, 0)}
}

// runTrilu keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes and
// zeroes the rest.
func runTrilu(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	r := len(shape)
	if r < 2 {
		x.failf("input %v must have at least 2 axes", shape)
	}
	k := 0
	if len(in) > 1 && in[1] != nil {
		k = int(x.scalarOf(in[1], "k"))
	}
	upper := x.int("upper", 1) != 0
	rows, cols := shape[r-2], shape[r-1]
	idx := make([]int, v.len())
	for p := range idx {
		i, j := p/cols%rows, p%cols
		keep := j-i <= k
		if upper {
			keep = j-i >= k
		}
		idx[p] = -1
		if keep {
			idx[p] = p
		}
	}
	return []*value{gatherFlat(x, v, idx, shape, 0)}
}

func checkLoss(n *node, _ int, in []dtype) ([]dtype, error) {
	if a, ok := n.attrs["reduction"]; ok {
		switch r := string(a.GetS()); r {
		case "none", "sum", "mean":
		default:
			return nil, fmt.Errorf("reduction %q is not supported", r)
		}
	}
	if in[1] != tUndefined && in[1] != tInt64 && in[1] != tInt32 {
		return nil, fmt.Errorf("target has data type %s, want INT32 or INT64", typeName(in[1]))
	}
	for _, k := range []int{0, 2} {
		if k < len(in) && in[k] != tUndefined && in[k] != tFloat {
			return nil, fmt.Errorf("input %d has data type %s, %s supports float32", k, typeName(in[k]), n.op)
		}
	}
	return []dtype{tFloat, tFloat}, nil
}

// nll is ONNX's NegativeLogLikelihoodLoss of input [N, C, d...] (log-probabilities) and target
// [N, d...]: -input[n, target, d]·weight[target], 0 where target is ignore_index; reduced by
// sum, or by mean (divided by the weights summed over the targets not ignored).
func nll(x *exec, input *tensor.Tensor, target *value, weight *tensor.Tensor) *tensor.Tensor {
	shape, tshape := input.Shape(), target.dims()
	if len(shape) < 2 || len(tshape) != len(shape)-1 || tshape[0] != shape[0] {
		x.failf("input %v and target %v: want [N, C, d...] and [N, d...]", shape, tshape)
	}
	c := shape[1]
	for a := 1; a < len(tshape); a++ {
		if tshape[a] != shape[a+1] {
			x.failf("input %v and target %v: want [N, C, d...] and [N, d...]", shape, tshape)
		}
	}
	if weight != nil && (weight.Rank() != 1 || weight.Dim(0) != c) {
		x.failf("weight %v, want [%d]", weight.Shape(), c)
	}
	d := prod(shape[2:])
	ignore, hasIgnore := int64(x.int("ignore_index", 0)), x.attr("ignore_index") != nil
	ts := target.ints()
	pick, class := make([]int, len(ts)), make([]int, len(ts))
	for k, t := range ts {
		if hasIgnore && t == ignore {
			pick[k], class[k] = -1, -1
			continue
		}
		if t < 0 || t >= int64(c) {
			x.failf("target %d at %d is not a class in [0, %d)", t, k, c)
		}
		n, i := k/d, k%d
		pick[k], class[k] = (n*c+int(t))*d+i, int(t)
	}
	w := tensor.Ones(c)
	if weight != nil {
		w = weight
	}
	picked := gatherFlat(x, floatValue(input), pick, tshape, 0).f
	wt := gatherFlat(x, floatValue(w), class, tshape, 0).f // 0 where ignored
	loss := picked.Mul(wt).Neg()
	switch x.str("reduction", "mean") {
	case "sum":
		return loss.Sum()
	case "mean":
		return loss.Sum().Div(wt.Sum())
	}
	return loss
}

func runNLL(x *exec, in []*value) []*value {
	var w *tensor.Tensor
	if len(in) > 2 && in[2] != nil {
		w = in[2].f
	}
	return one(nll(x, in[0].f, in[1], w))
}

// runSCE is SoftmaxCrossEntropyLoss: nll of LogSoftmax over the class axis, which is the second
// output.
func runSCE(x *exec, in []*value) []*value {
	var w *tensor.Tensor
	if len(in) > 2 && in[2] != nil {
		w = in[2].f
	}
	scores := in[0].f
	if scores.Rank() < 2 {
		x.failf("scores %v: want [N, C, d...]", scores.Shape())
	}
	logp := scores.LogSoftmax(1)
	return []*value{floatValue(nll(x, logp, in[1], w)), floatValue(logp)}
}
