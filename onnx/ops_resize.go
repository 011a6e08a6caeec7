package onnx

import (
	"fmt"
	"math"
	"sort"

	"github.com/oarlab/oar/tensor"
)

// Resize and Upsample: nearest and (multi)linear interpolation, axis by axis, as differentiable
// gathers along each resized axis (linear: two gathers weighted and summed).

func init() {
	ops["Resize"] = &opSpec{since: 10, minIn: 1, maxIn: 4, maxOut: 1, check: checkResize, run: runResize, hyper: []int{1, 2, 3},
		attrs: attrTypes{"mode": aString, "coordinate_transformation_mode": aString, "nearest_mode": aString,
			"cubic_coeff_a": aFloat, "exclude_outside": aInt, "extrapolation_value": aFloat}}
	ops["Upsample"] = &opSpec{since: 7, minIn: 1, maxIn: 2, maxOut: 1, check: checkResize, run: runResize, hyper: []int{1},
		attrs: attrTypes{"mode": aString, "scales": aFloats}}
}

func checkResize(n *node, opset int, in []dtype) ([]dtype, error) {
	if n.op == "Upsample" && opset >= 10 {
		return nil, fmt.Errorf("Upsample is deprecated from opset 10 (Resize replaces it)")
	}
	attr := func(name, def string) string {
		if a, ok := n.attrs[name]; ok {
			return string(a.GetS())
		}
		return def
	}
	switch m := attr("mode", "nearest"); m {
	case "nearest", "linear":
	case "bilinear": // Upsample-7's name for linear
		if n.op != "Upsample" {
			return nil, fmt.Errorf("mode %q is not supported", m)
		}
	default:
		return nil, fmt.Errorf("mode %q is not supported (nearest and linear are)", m)
	}
	switch c := attr("coordinate_transformation_mode", "half_pixel"); c {
	case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn":
	default:
		return nil, fmt.Errorf("coordinate_transformation_mode %q is not supported", c)
	}
	switch r := attr("nearest_mode", "round_prefer_floor"); r {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return nil, fmt.Errorf("nearest_mode %q is not supported", r)
	}
	if a, ok := n.attrs["exclude_outside"]; ok && a.GetI() != 0 {
		return nil, fmt.Errorf("exclude_outside is not supported")
	}
	given := func(k int) bool { return k < len(n.in) && n.in[k] != "" }
	switch {
	case n.op == "Upsample" && opset >= 9 && !given(1):
		return nil, fmt.Errorf("input scales is required from opset 9")
	case n.op == "Upsample" && opset < 9 && n.attrs["scales"] == nil:
		return nil, fmt.Errorf("attribute scales is required before opset 9")
	case n.op == "Resize" && opset == 10 && !given(1):
		return nil, fmt.Errorf("input scales is required")
	case n.op == "Resize" && opset > 10 && !given(2) && !given(3):
		return nil, fmt.Errorf("input scales or sizes is required")
	}
	if in[0] != tFloat && in[0] != tUndefined {
		return nil, fmt.Errorf("input has data type %s, %s supports float32", typeName(in[0]), n.op)
	}
	return []dtype{tFloat}, nil
}

// resizeScales returns each axis's scale and output size from the scales or sizes.
func resizeScales(x *exec, in []*value, shape []int) (scales []float64, out []int) {
	r := len(shape)
	var sizes []int
	switch {
	case x.n.op == "Upsample" && x.g.opset < 9:
		for _, s := range x.attr("scales").GetFloats() {
			scales = append(scales, float64(s))
		}
	case x.n.op == "Upsample":
		scales = in[1].floats()
	case x.g.opset == 10:
		scales = in[1].floats()
	default: // X, roi, scales, sizes
		if len(in) > 3 && in[3] != nil && in[3].len() > 0 {
			sizes = x.intsOf(in[3], "sizes")
		} else if len(in) > 2 && in[2] != nil {
			scales = in[2].floats()
		}
	}
	if sizes != nil {
		if len(sizes) != r {
			x.failf("sizes %v for input %v", sizes, shape)
		}
		scales = make([]float64, r)
		for a, s := range sizes {
			if s < 0 || s > maxElems {
				x.failf("sizes %v out of range", sizes)
			}
			scales[a] = float64(s) / float64(shape[a])
		}
		return scales, sizes
	}
	if len(scales) != r {
		x.failf("scales %v for input %v: want one per axis", scales, shape)
	}
	out = make([]int, r)
	for a, s := range scales {
		o := math.Floor(float64(shape[a]) * s)
		if !(s > 0) || !(o <= maxElems) {
			x.failf("scales %v out of range", scales)
		}
		out[a] = int(o)
	}
	return scales, out
}

func runResize(x *exec, in []*value) []*value {
	t := in[0].f
	shape := t.Shape()
	scales, out := resizeScales(x, in, shape)
	n := 1
	for _, o := range out {
		n = mulCap(x, n, max(o, 1))
	}
	mode := x.str("mode", "nearest")
	coord := x.str("coordinate_transformation_mode", "half_pixel")
	if x.n.op == "Upsample" || x.g.opset == 10 {
		coord = "asymmetric" // Upsample and Resize-10 map output o to input o/scale
	}
	round := x.str("nearest_mode", "round_prefer_floor")
	if x.g.opset == 10 && x.n.op == "Resize" || x.n.op == "Upsample" {
		round = "floor" // Upsample's and Resize-10's nearest is floor(o/scale)
	}
	// Shrinking axes first keeps every intermediate no larger than the input or the output.
	axes := make([]int, len(shape))
	for a := range axes {
		axes[a] = a
	}
	sort.SliceStable(axes, func(i, j int) bool { return out[axes[i]] < shape[axes[i]] && out[axes[j]] >= shape[axes[j]] })
	for _, a := range axes {
		if out[a] == shape[a] && scales[a] == 1 {
			continue
		}
		if shape[a] == 0 {
			x.failf("cannot resize the empty axis %d of %v", a, shape)
		}
		// ONNX's reference takes the resized length as L·scale, unrounded (M when sizes are given).
		L, M, Mf := shape[a], out[a], float64(shape[a])*scales[a]
		i0, i1 := make([]float32, M), make([]float32, M)
		w1 := make([]float32, M)
		for o := range M {
			var c float64
			switch coord {
			case "half_pixel":
				c = (float64(o)+0.5)/scales[a] - 0.5
			case "pytorch_half_pixel":
				if Mf > 1 {
					c = (float64(o)+0.5)/scales[a] - 0.5
				}
			case "align_corners":
				if Mf > 1 {
					c = float64(o) * float64(L-1) / (Mf - 1)
				}
			case "asymmetric":
				c = float64(o) / scales[a]
			case "tf_half_pixel_for_nn":
				c = (float64(o) + 0.5) / scales[a]
			}
			clamp := func(i float64) float32 { return float32(min(max(i, 0), float64(L-1))) }
			if mode == "nearest" {
				var r float64
				switch round {
				case "round_prefer_floor":
					r = math.Ceil(c - 0.5)
				case "round_prefer_ceil":
					r = math.Floor(c + 0.5)
				case "floor":
					r = math.Floor(c)
				case "ceil":
					r = math.Ceil(c)
				}
				i0[o] = clamp(r)
				continue
			}
			f := math.Floor(c)
			i0[o], i1[o], w1[o] = clamp(f), clamp(f+1), float32(c-f)
		}
		wshape := make([]int, len(shape)) // weights along axis a, broadcast over the others
		for k := range wshape {
			wshape[k] = 1
		}
		wshape[a] = M
		lo := t.Gather(tensor.New(i0, M), a)
		if mode == "nearest" {
			t = lo
		} else {
			w0 := make([]float32, M)
			for o := range w0 {
				w0[o] = 1 - w1[o]
			}
			hi := t.Gather(tensor.New(i1, M), a)
			t = lo.Mul(tensor.New(w0, wshape...)).Add(hi.Mul(tensor.New(w1, wshape...)))
		}
		shape = t.Shape()
	}
	return one(t)
}
