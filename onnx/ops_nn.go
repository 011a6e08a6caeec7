package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/oarlab/oar/tensor"
)

func checkAutoPad(n *node) error {
	if a, ok := n.attrs["auto_pad"]; ok {
		switch s := string(a.GetS()); s {
		case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
		default:
			return fmt.Errorf("auto_pad %q is not supported", s)
		}
	}
	return nil
}

func checkConv(n *node, opset int, in []dtype) ([]dtype, error) {
	if err := checkAutoPad(n); err != nil {
		return nil, err
	}
	if a, ok := n.attrs["kernel_shape"]; ok && len(a.GetInts()) != 1 && len(a.GetInts()) != 2 {
		return nil, fmt.Errorf("%d-D convolution is not supported (1-D and 2-D are)", len(a.GetInts()))
	}
	for k := range min(2, len(n.inRanks)) {
		if r := n.inRanks[k]; r >= 0 && r != 3 && r != 4 {
			return nil, fmt.Errorf("input %d of rank %d: %d-D convolution is not supported (1-D and 2-D are)", k, r, r-2)
		}
	}
	if a, ok := n.attrs["group"]; ok && a.GetI() < 1 {
		return nil, fmt.Errorf("group %d < 1", a.GetI())
	}
	return floatOp(n, opset, in)
}

func checkPool(n *node, opset int, in []dtype) ([]dtype, error) {
	if err := checkAutoPad(n); err != nil {
		return nil, err
	}
	if _, ok := n.attrs["kernel_shape"]; !ok {
		return nil, fmt.Errorf("attribute kernel_shape is required")
	}
	if a, ok := n.attrs["storage_order"]; ok && a.GetI() != 0 && a.GetI() != 1 {
		return nil, fmt.Errorf("storage_order %d is not 0 or 1", a.GetI())
	}
	if len(n.out) > 1 && opset < 8 {
		return nil, fmt.Errorf("the Indices output needs opset 8")
	}
	switch in[0] {
	case tUndefined, tFloat:
	case tUint8, tInt8:
		if n.op != "MaxPool" {
			return nil, fmt.Errorf("input has data type %s, %s supports float32", typeName(in[0]), n.op)
		}
	default:
		return nil, fmt.Errorf("input has data type %s", typeName(in[0]))
	}
	return []dtype{in[0], tInt64}, nil
}

// window is one spatial axis of a convolution or pooling, resolved.
type window struct {
	in, k, s, d, lo, hi, out int
}

// windows resolves the strides, dilations, pads and auto_pad attributes for spatial input sizes
// insp and kernel ks. With ceil, output sizes round up as ONNX Runtime and PyTorch do: a last
// window must start inside the input or its left padding (ONNX's later spec says the same).
func (x *exec) windows(insp, ks []int, ceil bool) []window {
	r := len(insp)
	get := func(name string, def, n int) []int {
		v := x.ints(name)
		if v == nil {
			v = make([]int, n)
			for k := range v {
				v[k] = def
			}
		}
		if len(v) != n {
			x.failf("%s %v: want %d values for %d spatial axes", name, v, n, r)
		}
		return v
	}
	strides, dil, pads := get("strides", 1, r), get("dilations", 1, r), get("pads", 0, 2*r)
	mode := x.str("auto_pad", "NOTSET")
	ws := make([]window, r)
	for a := range ws {
		w := window{in: insp[a], k: ks[a], s: strides[a], d: dil[a]}
		for _, v := range []int{w.k, w.s, w.d} {
			if v < 1 || v > maxElems {
				x.failf("kernel %v, strides %v and dilations %v must be in [1, 2^28]", ks, strides, dil)
			}
		}
		ek := (w.k-1)*w.d + 1
		switch mode {
		case "SAME_UPPER", "SAME_LOWER":
			w.out = (w.in + w.s - 1) / w.s
			total := max((w.out-1)*w.s+ek-w.in, 0)
			w.lo = total / 2
			if mode == "SAME_LOWER" {
				w.lo = total - total/2
			}
			w.hi = total - w.lo
			ws[a] = w
			continue
		case "NOTSET":
			w.lo, w.hi = pads[a], pads[a+r]
			if w.lo < 0 || w.hi < 0 || w.lo > maxElems || w.hi > maxElems {
				x.failf("pads %v must be in [0, 2^28]", pads)
			}
		}
		span := w.in + w.lo + w.hi - ek
		if span < 0 {
			x.failf("kernel %v (dilations %v) larger than the padded input %v", ks, dil, insp)
		}
		if w.out = span/w.s + 1; ceil && span%w.s != 0 {
			if w.out++; (w.out-1)*w.s >= w.in+w.lo {
				w.out--
			}
		}
		ws[a] = w
	}
	return ws
}

func runConv(x *exec, in []*value) []*value {
	xt, w := in[0].f, in[1].f
	var b *tensor.Tensor
	if len(in) > 2 && in[2] != nil {
		b = in[2].f
	}
	r := xt.Rank()
	if r != 3 && r != 4 {
		x.failf("input %v: %d-D convolution is not supported (1-D and 2-D are)", xt.Shape(), r-2)
	}
	if w.Rank() != r {
		x.failf("weight %v must have the rank of the input %v", w.Shape(), xt.Shape())
	}
	ks := w.Shape()[2:]
	if k := x.ints("kernel_shape"); k != nil && !slices.Equal(k, ks) {
		x.failf("kernel_shape %v differs from the weight's %v", k, ks)
	}
	ws := x.windows(xt.Shape()[2:], ks, false)
	out := []int{xt.Dim(0), w.Dim(0)}
	for _, win := range ws {
		out = append(out, win.out)
	}
	capShape(x, out)
	if r == 3 { // 1-D: a 2-D convolution of height 1
		xt = xt.Unsqueeze(2)
		w = w.Unsqueeze(2)
		ws = append([]window{{in: 1, k: 1, s: 1, d: 1, out: 1}}, ws...)
	}
	y := xt.Conv2D(w, b, tensor.ConvOptions{
		Stride:   []int{ws[0].s, ws[1].s},
		Padding:  []int{ws[0].lo, ws[0].hi, ws[1].lo, ws[1].hi},
		Dilation: []int{ws[0].d, ws[1].d},
		Groups:   x.int("group", 1),
	})
	if r == 3 {
		y = y.Squeeze(2)
	}
	return one(y)
}

// runPool runs MaxPool and AveragePool: on oar's 2-D kernels where their window rule is ONNX's
// (floor mode, no dilation, padding smaller than the window, no Indices), else poolGeneral.
func runConvTranspose(x *exec, in []*value) []*value {
	xt, w := in[0].f, in[1].f
	var b *tensor.Tensor
	if len(in) > 2 && in[2] != nil {
		b = in[2].f
	}
	r := xt.Rank()
	if r != 3 && r != 4 {
		x.failf("input %v: %d-D transposed convolution is not supported (1-D and 2-D are)", xt.Shape(), r-2)
	}
	if w.Rank() != r {
		x.failf("weight %v must have the rank of the input %v", w.Shape(), xt.Shape())
	}
	sp := r - 2
	insp, ks := xt.Shape()[2:], w.Shape()[2:]
	if k := x.ints("kernel_shape"); k != nil && !slices.Equal(k, ks) {
		x.failf("kernel_shape %v differs from the weight's %v", k, ks)
	}
	get := func(name string, def int) []int {
		v := x.ints(name)
		if v == nil {
			v = slices.Repeat([]int{def}, sp)
		}
		if len(v) != sp {
			x.failf("%s %v: want %d values", name, v, sp)
		}
		for _, e := range v {
			if e < 0 || e > maxElems {
				x.failf("%s %v out of range", name, v)
			}
		}
		return v
	}
	strides, dil, outPad := get("strides", 1), get("dilations", 1), get("output_padding", 0)
	pads := x.ints("pads")
	if pads == nil {
		pads = make([]int, 2*sp)
	}
	if len(pads) != 2*sp {
		x.failf("pads %v: want %d values", pads, 2*sp)
	}
	mode := x.str("auto_pad", "NOTSET")
	outShape := x.ints("output_shape")
	if len(outShape) > sp {
		outShape = outShape[len(outShape)-sp:] // given as N, C, spatial...
	}
	if outShape == nil && (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
		for a := range sp {
			outShape = append(outShape, insp[a]*strides[a])
		}
	}
	if outShape != nil {
		// ONNX: total padding = stride·(in-1) + output_padding + (k-1)·dilation + 1 - output size,
		// the odd one at the end for SAME_UPPER, at the start otherwise.
		if len(outShape) != sp {
			x.failf("output_shape %v: want %d spatial sizes", x.ints("output_shape"), sp)
		}
		for a := range sp {
			total := strides[a]*(insp[a]-1) + outPad[a] + (ks[a]-1)*dil[a] + 1 - outShape[a]
			half := floorDiv(total, 2)
			if mode == "SAME_UPPER" {
				pads[a], pads[a+sp] = half, total-half
			} else {
				pads[a], pads[a+sp] = total-half, half
			}
			if pads[a+sp] < 0 { // a larger output than the kernel reaches: zeros at the end
				outPad[a] -= pads[a+sp]
				pads[a+sp] = 0
			}
			if pads[a] < 0 {
				x.failf("output_shape %v: the output would start before the first kernel position", outShape)
			}
		}
	}
	out := []int{xt.Dim(0), w.Dim(1) * max(x.int("group", 1), 1)}
	for a := range sp {
		out = append(out, max(strides[a]*(insp[a]-1)+outPad[a]+(ks[a]-1)*dil[a]+1-pads[a]-pads[a+sp], 0))
	}
	capShape(x, out)
	if sp == 1 { // 1-D: a 2-D transposed convolution of height 1
		xt, w = xt.Unsqueeze(2), w.Unsqueeze(2)
		strides, dil, outPad = append([]int{1}, strides...), append([]int{1}, dil...), append([]int{0}, outPad...)
		pads = []int{0, pads[0], 0, pads[1]}
	}
	y := xt.Conv2DTranspose(w, b, tensor.ConvTransposeOptions{
		Stride:        strides,
		Padding:       []int{pads[0], pads[2], pads[1], pads[3]},
		OutputPadding: outPad,
		Dilation:      dil,
		Groups:        x.int("group", 1),
	})
	if sp == 1 {
		y = y.Squeeze(2)
	}
	return one(y)
}

// floorDiv is a/b rounded toward -Inf (Python's //), as ONNX's formulas are written.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func runPool(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	isMax := x.n.op == "MaxPool"
	ks := x.ints("kernel_shape")
	if len(shape) < 3 || len(ks) != len(shape)-2 {
		x.failf("input %v and kernel_shape %v: want N x C x %d spatial axes", shape, ks, len(ks))
	}
	ceil := x.int("ceil_mode", 0) != 0
	ws := x.windows(shape[2:], ks, ceil)
	inclusive := x.int("count_include_pad", 0) != 0
	wantIdx := len(x.n.out) > 1 && x.n.out[1] != ""
	fast := len(ws) == 2 && v.isFloat() && !wantIdx
	for _, w := range ws {
		// oar's kernels compute floor-mode windows without dilation (ceil mode differs: Paddle
		// keeps a last window starting in the right padding); the general path does the rest.
		fast = fast && w.d == 1 && w.lo < w.k && w.hi < w.k && w.out == (w.in+w.lo+w.hi-w.k)/w.s+1
	}
	out := slices.Clone(shape[:2])
	for _, w := range ws {
		out = append(out, w.out)
	}
	capShape(x, out)
	if fast {
		opt := tensor.PoolOptions{Kernel: ks, Stride: []int{ws[0].s, ws[1].s},
			Padding: []int{ws[0].lo, ws[0].hi, ws[1].lo, ws[1].hi}, Inclusive: inclusive}
		if isMax {
			return one(v.f.MaxPool2D(opt))
		}
		return one(v.f.AvgPool2D(opt))
	}
	return poolGeneral(x, v, ws, isMax, inclusive, wantIdx)
}

// poolGeneral pools over any number of spatial axes, with dilations, any padding and ceil mode,
// as differentiable tensor ops: each output's window is gathered from the flattened planes (a
// position in the padding reads an extra column holding -Inf for max, 0 for average), then
// reduced with Max or Sum. Max's gradient goes to the window's maximum; Gather's scatters it back.
func poolGeneral(x *exec, v *value, ws []window, isMax, inclusive, wantIdx bool) []*value {
	shape := v.dims()
	planes := shape[0] * shape[1]
	var insp, outsp []int
	S, outS, K := 1, 1, 1
	for _, w := range ws {
		insp, outsp = append(insp, w.in), append(outsp, w.out)
		S, outS, K = S*w.in, mulCap(x, outS, w.out), mulCap(x, K, w.k)
	}
	mulCap(x, mulCap(x, outS, K), max(planes, 1))
	if S+1 >= 1<<24 {
		x.failf("input planes of %v elements are too large for this pooling (at most 2^24)", insp)
	}
	kernel := make([]int, len(ws))
	for a, w := range ws {
		kernel[a] = w.k
	}
	idx := make([]float32, outS*K)
	cnt := make([]float32, outS)
	r := len(ws)
	opos, kpos := make([]int, r), make([]int, r)
	for o := 0; o < outS; o++ {
		clear(kpos)
		inside, padded := 0, 0
		for k := 0; k < K; k++ {
			flat, in, inPad := 0, true, true
			for a, w := range ws {
				c := opos[a]*w.s - w.lo + kpos[a]*w.d
				in = in && c >= 0 && c < w.in
				inPad = inPad && c >= -w.lo && c < w.in+w.hi
				flat = flat*w.in + c
			}
			idx[o*K+k] = float32(S)
			if in {
				idx[o*K+k] = float32(flat)
				inside++
			}
			if inPad {
				padded++
			}
			odometer(kpos, kernel)
		}
		cnt[o] = float32(max(inside, 1))
		if inclusive {
			cnt[o] = float32(max(padded, 1))
		}
		odometer(opos, outsp)
	}
	pad := float32(0)
	if isMax {
		pad = float32(math.Inf(-1))
	}
	xf := v.asFloat().Reshape(planes, S)
	xp := tensor.Concat([]*tensor.Tensor{xf, tensor.Full(pad, planes, 1)}, 1)
	g := xp.Gather(tensor.New(idx, len(idx)), 1).Reshape(planes, outS, K)
	var y *tensor.Tensor
	if isMax {
		y = g.Max(2)
	} else {
		y = g.Sum(2).Div(tensor.New(cnt, outS))
	}
	y = y.Reshape(append([]int{shape[0], shape[1]}, outsp...)...)
	out := floatValue(y)
	if !v.isFloat() { // int8/uint8 max pooling: exact in float32
		out = intValue(v.dtype, (&value{f: y}).ints(), y.Shape())
	}
	if !wantIdx {
		return []*value{out}
	}
	// Indices: the flat position of each window's first maximum in the input, in row-major
	// (storage_order 0) or column-major (1) order of the spatial axes.
	colMajor := x.int("storage_order", 0) == 1
	gd := g.Data()
	ind := make([]int64, planes*outS)
	coord := make([]int, r)
	for p := range planes {
		for o := range outS {
			row := gd[(p*outS+o)*K : (p*outS+o+1)*K]
			best := 0
			for k, e := range row {
				if e > row[best] {
					best = k
				}
			}
			s := int(idx[o*K+best])
			if colMajor {
				for a := r - 1; a >= 0; a-- {
					coord[a], s = s%insp[a], s/insp[a]
				}
				s = 0
				for a := r - 1; a >= 0; a-- {
					s = s*insp[a] + coord[a]
				}
			}
			ind[p*outS+o] = int64(p*S + s)
		}
	}
	return []*value{out, intValue(tInt64, ind, y.Shape())}
}

// odometer advances the multi-index pos over dims (last axis fastest).
func odometer(pos, dims []int) {
	for a := len(pos) - 1; a >= 0; a-- {
		if pos[a]++; pos[a] < dims[a] {
			return
		}
		pos[a] = 0
	}
}

// mulCap returns a*b, failing when it exceeds maxElems.
func mulCap(x *exec, a, b int) int {
	if b != 0 && a > maxElems/b {
		x.failf("the result would have more than 2^28 elements")
	}
	return a * b
}

func checkDropout(n *node, opset int, in []dtype) ([]dtype, error) {
	if opset >= 12 {
		if _, ok := n.attrs["ratio"]; ok {
			return nil, fmt.Errorf("ratio is an input from opset 12, not an attribute")
		}
	} else if len(n.in) > 1 {
		return nil, fmt.Errorf("ratio and training_mode are inputs from opset 12")
	}
	if in[0] != tFloat && in[0] != tUndefined {
		return nil, fmt.Errorf("input has data type %s, Dropout supports float32", typeName(in[0]))
	}
	mask := tBool
	if opset < 10 {
		mask = in[0]
	}
	return []dtype{in[0], mask}, nil
}

// runDropout is the identity in evaluation (mask all true). In training (see Graph.nodeTraining)
// it zeroes elements with probability ratio and scales the rest
// by 1/(1-ratio).
func runDropout(x *exec, in []*value) []*value {
	t := in[0].f
	ratio := float64(x.float("ratio", 0.5))
	own := false
	if x.g.opset >= 12 {
		if len(in) > 1 && in[1] != nil {
			ratio = x.scalarOf(in[1], "ratio")
		}
		if len(in) > 2 && in[2] != nil {
			own = x.scalarOf(in[2], "training_mode") != 0
		}
	}
	training := x.g.nodeTraining(own)
	if !(ratio >= 0 && ratio <= 1) {
		x.failf("ratio %v outside [0, 1]", ratio)
	}
	maskType := tBool
	if x.g.opset < 10 {
		maskType = tFloat
	}
	keep := make([]int64, t.Len())
	if !training || ratio == 0 {
		for k := range keep {
			keep[k] = 1
		}
		return []*value{in[0], maskValue(maskType, keep, t.Shape())}
	}
	scale := make([]float32, t.Len())
	for k := range keep {
		if x.g.rng.Float64() >= ratio {
			keep[k], scale[k] = 1, float32(1/(1-ratio))
		}
	}
	return []*value{floatValue(t.Mul(tensor.New(scale, t.Shape()...))), maskValue(maskType, keep, t.Shape())}
}

func maskValue(t dtype, keep []int64, shape []int) *value {
	v := intValue(tBool, keep, shape)
	if t == tFloat {
		return floatValue(v.asFloat())
	}
	return v
}

func checkBatchNorm(n *node, opset int, in []dtype) ([]dtype, error) {
	if a, ok := n.attrs["spatial"]; ok && a.GetI() != 1 {
		return nil, fmt.Errorf("spatial=%d is not supported", a.GetI())
	}
	if _, ok := n.attrs["training_mode"]; ok && opset < 14 {
		return nil, fmt.Errorf("training_mode is an attribute from opset 14")
	}
	if opset < 14 && len(n.out) > 1 {
		return nil, fmt.Errorf("the training outputs (mean, var, saved_mean, saved_var) are supported from opset 14")
	}
	if opset >= 14 && len(n.out) > 3 {
		return nil, fmt.Errorf("%d outputs, BatchNormalization-14 has 3", len(n.out))
	}
	if _, err := floatOp(n, opset, in); err != nil {
		return nil, err
	}
	return []dtype{tFloat, tFloat, tFloat}, nil
}

func runBatchNorm(x *exec, in []*value) []*value {
	t, scale, bias, mean, vr := in[0].f, in[1].f, in[2].f, in[3].f, in[4].f
	shape := t.Shape()
	if len(shape) < 2 {
		x.failf("input %v must be N x C x ...", shape)
	}
	c := shape[1]
	for _, p := range []*tensor.Tensor{scale, bias, mean, vr} {
		if p.Rank() != 1 || p.Dim(0) != c {
			x.failf("scale %v, bias %v, mean %v and var %v must be [%d] for input %v", scale.Shape(), bias.Shape(), mean.Shape(), vr.Shape(), c, shape)
		}
	}
	eps := x.float("epsilon", 1e-5)
	bshape := make([]int, len(shape)) // [1, C, 1, ...]: broadcasts over the channel axis
	for k := range bshape {
		bshape[k] = 1
	}
	bshape[1] = c
	if !x.g.nodeTraining(x.int("training_mode", 0) != 0) {
		// y = x·a + b with a = scale/√(var+ε), b = bias - mean·a: two passes over x.
		a := scale.Div(vr.AddScalar(eps).Sqrt())
		b := bias.Sub(mean.Mul(a))
		return []*value{floatValue(t.Mul(a.Reshape(bshape...)).Add(b.Reshape(bshape...))), in[3], in[4]}
	}
	axes := []int{0}
	for k := 2; k < len(shape); k++ {
		axes = append(axes, k)
	}
	m := t.MeanKeepDim(axes...)
	d := t.Sub(m)
	v := d.Square().MeanKeepDim(axes...)
	y := d.Div(v.AddScalar(eps).Sqrt()).Mul(scale.Reshape(bshape...)).Add(bias.Reshape(bshape...))
	// Running statistics: running·momentum + batch·(1-momentum), with the biased batch variance
	// (ONNX's reference, and nn.BatchNorm2D's).
	mom := x.float("momentum", 0.9)
	rm, rv := make([]float32, c), make([]float32, c)
	for k := range c {
		rm[k] = mean.Data()[k]*mom + m.Data()[k]*(1-mom)
		rv[k] = vr.Data()[k]*mom + v.Data()[k]*(1-mom)
	}
	if x.g.modeSet && x.g.training { // being trained (nn.Train): update the buffers, as nn.BatchNorm2D does
		for _, b := range x.g.buffers {
			switch b.Tensor {
			case mean:
				copy(mean.Data(), rm)
			case vr:
				copy(vr.Data(), rv)
			}
		}
	}
	return []*value{floatValue(y), floatValue(tensor.New(rm, c)), floatValue(tensor.New(rv, c))}
}

func checkPad(n *node, opset int, in []dtype) ([]dtype, error) {
	if a, ok := n.attrs["mode"]; ok {
		switch s := string(a.GetS()); s {
		case "constant", "reflect", "edge":
		default:
			return nil, fmt.Errorf("mode %q is not supported", s)
		}
	}
	if opset < 11 {
		if _, ok := n.attrs["pads"]; !ok {
			return nil, fmt.Errorf("attribute pads is required before opset 11")
		}
		if len(n.in) > 1 {
			return nil, fmt.Errorf("pads is an attribute before opset 11")
		}
	} else {
		if _, ok := n.attrs["pads"]; ok {
			return nil, fmt.Errorf("pads is an input from opset 11")
		}
		if _, ok := n.attrs["value"]; ok {
			return nil, fmt.Errorf("value is an input from opset 11")
		}
		if len(n.in) < 2 || n.in[1] == "" {
			return nil, fmt.Errorf("input pads is required")
		}
	}
	if in[0] == tBool {
		return nil, fmt.Errorf("bool input is not supported")
	}
	return []dtype{in[0]}, nil
}

// runPad pads with a constant, the reflection (mirrored without the edge) or the edge. A
// negative pad removes elements. The output is a gather of the input by index, so the gradient
// flows back to every element it copies.
func runPad(x *exec, in []*value) []*value {
	v := in[0]
	shape := v.dims()
	r := len(shape)
	var pads []int
	cval := 0.0
	if x.g.opset < 11 {
		pads, cval = x.ints("pads"), float64(x.float("value", 0))
	} else {
		pads = x.intsOf(in[1], "pads")
		if len(in) > 2 && in[2] != nil {
			cval = x.scalarOf(in[2], "constant_value")
		}
	}
	if len(pads) != 2*r {
		x.failf("pads %v: want %d values for input %v", pads, 2*r, shape)
	}
	mode := x.str("mode", "constant")
	out := make([]int, r)
	maps := make([][]int, r) // per axis: the source index of each output index, -1 for the constant
	n := 1
	for a := range r {
		b, e := pads[a], pads[a+r]
		if b < -maxElems || b > maxElems || e < -maxElems || e > maxElems {
			x.failf("pads %v out of range", pads)
		}
		if out[a] = shape[a] + b + e; out[a] < 0 {
			x.failf("pads %v remove more than input %v has", pads, shape)
		}
		n = mulCap(x, n, out[a])
		if mode != "constant" && shape[a] == 0 && out[a] > 0 {
			x.failf("%s padding of an empty axis", mode)
		}
		maps[a] = make([]int, out[a])
		for o := range maps[a] {
			src := o - b
			in := shape[a]
			switch {
			case src >= 0 && src < in:
			case mode == "constant":
				src = -1
			case mode == "edge":
				src = min(max(src, 0), in-1)
			case in == 1:
				src = 0
			default: // reflect: fold into one period of the mirrored sequence
				period := 2 * (in - 1)
				if src = src % period; src < 0 {
					src += period
				}
				if src >= in {
					src = period - src
				}
			}
			maps[a][o] = src
		}
	}
	idx := make([]int, n)
	pos := make([]int, r)
	for k := range idx {
		flat := 0
		for a := range r {
			s := maps[a][pos[a]]
			if s < 0 {
				flat = -1
				break
			}
			flat = flat*shape[a] + s
		}
		idx[k] = flat
		odometer(pos, out)
	}
	return []*value{gatherFlat(x, v, idx, out, cval)}
}

// gatherFlat returns the value of shape out whose element k is v's element idx[k] (in row-major
// order), or fill where idx[k] is -1. For a float value it is a differentiable Gather from the
// flattened input with fill appended, so the gradient flows back to every element it copies.
func gatherFlat(x *exec, v *value, idx []int, out []int, fill float64) *value {
	size := v.len()
	if v.isFloat() {
		if size+1 >= 1<<24 {
			x.failf("input %v is too large (at most 2^24 elements)", v.dims())
		}
		ids := make([]float32, len(idx))
		for k, i := range idx {
			if i < 0 {
				i = size
			}
			ids[k] = float32(i)
		}
		flat := tensor.Concat([]*tensor.Tensor{v.f.Reshape(size), tensor.Full(float32(fill), 1)}, 0)
		return floatValue(flat.Gather(tensor.New(ids, len(ids)), 0).Reshape(out...))
	}
	d := make([]int64, len(idx))
	for k, i := range idx {
		if i < 0 {
			d[k] = wrap(v.dtype, int64(fill))
		} else {
			d[k] = v.i[i]
		}
	}
	return intValue(v.dtype, d, out)
}
