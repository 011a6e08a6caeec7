package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// The ONNX mapping of the layers beyond the first set (issue 14): normalisations, Embedding, the
// activation layers, Conv1D, Conv2DTranspose, the adaptive and 1-D pools, the recurrent networks
// and MultiHeadAttention. Identity returns its input (no node) and Func is traced through, as a
// struct layer.

// exBlockLayer reports whether Export writes l's type with exporter.block.
func exBlockLayer(l nn.Layer) bool {
	switch l.(type) {
	case *nn.LayerNorm, *nn.GroupNorm, *nn.InstanceNorm2D, *nn.BatchNorm1D, *nn.Embedding,
		*nn.GELU, *nn.SiLU, *nn.ELU, *nn.SELU, *nn.Softplus, *nn.Softsign, *nn.Hardswish,
		*nn.Hardsigmoid, *nn.Hardtanh, *nn.ReLU6, *nn.LogSigmoid, *nn.Mish, *nn.Tanhshrink,
		*nn.PReLU, *nn.LogSoftmax, *nn.Conv1D, *nn.Conv2DTranspose, *nn.AdaptiveAvgPool2D,
		*nn.AdaptiveMaxPool2D, *nn.AvgPool1D, *nn.MaxPool1D, *nn.SimpleRNN, *nn.LSTM, *nn.GRU,
		*nn.MultiHeadAttention:
		return true
	}
	return false
}

// exWholeLayers drops, from the calls that returned one tensor (innermost first), those inside a
// MultiHeadAttention: its output is its out_proj's, and it is written whole (its out_proj with it).
func exWholeLayers(calls []*exCall) []*exCall {
	for i := len(calls) - 1; i > 0; i-- {
		if _, ok := calls[i].layer.(*nn.MultiHeadAttention); ok {
			return calls[i:]
		}
	}
	return calls
}

// exDetachedInputs returns the inputs of the calls (that returned one tensor) of Embedding, whose
// output depends on its ids through a Gather that records them detached: Export's written graph
// reaches the input through them.
func exDetachedInputs(calls []*exCall) []*tensor.Tensor {
	var ins []*tensor.Tensor
	for _, c := range calls {
		if _, ok := c.layer.(*nn.Embedding); ok {
			ins = append(ins, c.in)
		}
	}
	return ins
}

// block writes the call here[len(here)-1] of a layer that exBlockLayer accepts, whose input is
// the ONNX value x, and returns the value of its output.
func (e *exporter) block(here []*exCall, x string) (string, error) {
	c := here[len(here)-1]
	path, st := c.path, e.state[x]
	switch l := c.layer.(type) {
	case *nn.GELU:
		return e.activation(path, x, "GELU", l.Approximate), nil
	case *nn.SiLU, *nn.Softsign, *nn.Hardswish, *nn.ReLU6, *nn.LogSigmoid, *nn.Mish, *nn.Tanhshrink:
		return e.activation(path, x, nn.TypeName(l), false), nil
	case *nn.ELU:
		return e.node(path, "Elu", st, []string{x}, exAttrFloat("alpha", l.Alpha)), nil
	case *nn.SELU:
		return e.node(path, "Selu", st, []string{x}, exAttrFloat("alpha", l.Alpha), exAttrFloat("gamma", l.Scale)), nil
	case *nn.Softplus:
		return e.softplus(path, x, l.Beta, l.Threshold), nil
	case *nn.Hardsigmoid:
		return e.node(path, "HardSigmoid", st, []string{x}, exAttrFloat("alpha", l.Slope), exAttrFloat("beta", l.Offset)), nil
	case *nn.Hardtanh:
		return e.node(path, "Clip", st, []string{x, e.scalar(l.Min), e.scalar(l.Max)}), nil
	case *nn.PReLU:
		return e.prelu(here, x, l)
	case *nn.LogSoftmax:
		axis, err := exSoftmaxAxis(c.in, c.out, true)
		if err != nil {
			return "", e.errAt(here, "%v", err)
		}
		return e.node(path, "LogSoftmax", st, []string{x}, exAttrInt("axis", axis)), nil
	case *nn.LayerNorm:
		return e.layerNorm(here, x, l)
	case *nn.GroupNorm:
		return e.groupNorm(here, x, l.NumGroups, l.Weight, l.Bias, l.Epsilon), nil
	case *nn.InstanceNorm2D:
		ch := c.in.Dim(1)
		scale, bias := e.paramOr(l.Scale, 1, ch), e.paramOr(l.Bias, 0, ch)
		return e.node(path, "InstanceNormalization", st, []string{x, scale, bias}, exAttrFloat("epsilon", l.Epsilon)), nil
	case *nn.BatchNorm1D:
		return e.batchNorm1D(here, x, l)
	case *nn.Embedding:
		return e.embedding(here, x, l), nil
	case *nn.Conv1D:
		return e.conv1D(here, x, l)
	case *nn.Conv2DTranspose:
		return e.convTranspose(here, x, l)
	case *nn.AdaptiveAvgPool2D:
		return e.adaptivePool(here, x, false)
	case *nn.AdaptiveMaxPool2D:
		return e.adaptivePool(here, x, true)
	case *nn.MaxPool1D:
		return e.pool1D(here, x, true, l.Options)
	case *nn.AvgPool1D:
		return e.pool1D(here, x, false, l.Options)
	case *nn.MultiHeadAttention:
		return e.attention(here, x, l)
	case *nn.SimpleRNN, *nn.LSTM, *nn.GRU:
		return e.rnn(here, x)
	}
	panic("onnx: block: unlisted layer " + nn.TypeName(c.layer))
}

// activation writes the activation op (the layer's type name, or the tensor op of that name) of
// x: approximate selects GELU's tanh form.
func (e *exporter) activation(path, x, op string, approximate bool) string {
	st := e.state[x]
	n := func(op string, ins ...string) string { return e.node(path, op, st, ins) }
	switch op {
	case "GELU":
		if approximate { // 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), torch's export of approximate="tanh"
			cube := n("Mul", n("Mul", x, x), x)
			inner := n("Mul", n("Add", x, n("Mul", cube, e.scalar(0.044715))), e.scalar(float32(math.Sqrt(2/math.Pi))))
			return n("Mul", n("Mul", x, e.scalar(0.5)), n("Add", n("Tanh", inner), e.scalar(1)))
		}
		// 0.5x(1 + erf(x/√2)), torch's export of the exact form
		erf := n("Erf", n("Div", x, e.scalar(math.Sqrt2)))
		return n("Mul", n("Mul", x, n("Add", erf, e.scalar(1))), e.scalar(0.5))
	case "SiLU":
		return n("Mul", x, n("Sigmoid", x))
	case "Softsign":
		return n("Softsign", x)
	case "Hardswish":
		// Paddle's x·min(max(x + 3, 0), 6)/6 is ONNX's HardSwish, x·max(0, min(1, x/6 + 1/2));
		// before opset 14 it is written as Paddle's formula.
		if e.o.Opset >= 14 {
			return n("HardSwish", x)
		}
		relu6 := n("Clip", n("Add", x, e.scalar(3)), e.scalar(0), e.scalar(6))
		return n("Div", n("Mul", x, relu6), e.scalar(6))
	case "ReLU6":
		return n("Clip", x, e.scalar(0), e.scalar(6))
	case "LogSigmoid": // log(sigmoid(x)) = -softplus(-x); ONNX Runtime's Softplus is stable for large inputs
		return n("Neg", n("Softplus", n("Neg", x)))
	case "Mish": // Paddle's softplus threshold (20) changes no float32 value of x·tanh(softplus(x))
		return n("Mul", x, n("Tanh", n("Softplus", x)))
	case "Tanhshrink":
		return n("Sub", x, n("Tanh", x))
	}
	panic("onnx: activation " + op)
}

// softplus writes Paddle's softplus: log(1 + e^(beta·x))/beta, and x where beta·x > threshold.
// With beta 1 and a threshold of 15 or more, ONNX's Softplus alone is the same function in
// float32 (above 15, x + log(1 + e^-x) rounds to x); otherwise a Where picks x above the
// threshold.
func (e *exporter) softplus(path, x string, beta, threshold float32) string {
	st := e.state[x]
	n := func(op string, ins ...string) string { return e.node(path, op, st, ins) }
	if beta == 1 && threshold >= 15 {
		return n("Softplus", x)
	}
	bx := x
	if beta != 1 {
		bx = n("Mul", x, e.scalar(beta))
	}
	sp := n("Softplus", bx)
	if beta != 1 {
		sp = n("Div", sp, e.scalar(beta))
	}
	return n("Where", n("Greater", bx, e.scalar(threshold)), x, sp)
}

// prelu writes PRelu, with a per-channel slope shaped to broadcast along the channel axis:
// [C, 1, ..., 1] for channels on axis 1, [C] for channels last (or a [N, C] input).
func (e *exporter) prelu(here []*exCall, x string, l *nn.PReLU) (string, error) {
	c := here[len(here)-1]
	in, k := c.in, l.Weight.Len()
	slope := e.paramValue(l.Weight)
	if k > 1 && in.Rank() > 2 {
		// The channel axis is not exported: it is the one (1 or last) whose PReLU gives the
		// traced values.
		var axes []int
		for _, last := range []bool{false, true} {
			ax := 1
			if last {
				ax = in.Rank() - 1
			}
			if in.Dim(ax) == k && slices.Equal(in.Detach().PReLU(l.Weight.Detach(), last).Data(), c.out.Data()) {
				axes = append(axes, ax)
			}
		}
		if len(axes) == 0 {
			return "", e.errAt(here, "PReLU of %v with %d weights: the channel axis cannot be recovered", in.Shape(), k)
		}
		// Both axes give the traced values (of a random input) only if the weights are alike,
		// and then either is the same function: axes[0] is taken.
		if axes[0] == 1 {
			shape := make([]int64, in.Rank()-1)
			for i := range shape {
				shape[i] = 1
			}
			shape[0] = int64(k)
			slope = e.node(c.path, "Reshape", exStatic, []string{slope, e.int64s(shape...)})
		}
	}
	return e.node(c.path, "PRelu", e.state[x], []string{x, slope}), nil
}

// paramOr is the initializer of the parameter t, or if t is nil a constant of n values v.
func (e *exporter) paramOr(t *tensor.Tensor, v float32, n int) string {
	if t != nil {
		return e.paramValue(t)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = v
	}
	return e.floats([]int{n}, data)
}

// floats adds a constant float initializer and returns its name.
func (e *exporter) floats(shape []int, data []float32) string {
	name := e.fresh("const")
	e.inits = append(e.inits, exFloatTensor(name, shape, data))
	e.state[name] = exStatic
	return name
}

// reshaped is the parameter t (nil: "") with the shape to: its initializer if it has that shape
// already, else a Reshape of it (the initializer keeps the state dict's shape and name).
func (e *exporter) reshaped(path string, t *tensor.Tensor, to []int) string {
	if t == nil {
		return ""
	}
	v := e.paramValue(t)
	if slices.Equal(t.Shape(), to) {
		return v
	}
	target := make([]int64, len(to))
	for i, d := range to {
		target[i] = int64(d)
	}
	return e.node(path, "Reshape", exStatic, []string{v, e.int64s(target...)})
}

// layerNorm writes LayerNormalization from opset 17, and before it torch.onnx.export's
// decomposition: ReduceMean, Sub, the square, ReduceMean, Add epsilon, Sqrt, Div, then Mul by the
// weight and Add the bias. The weight and bias, [D] in oar, are reshaped to NormalizedShape.
func (e *exporter) layerNorm(here []*exCall, x string, l *nn.LayerNorm) (string, error) {
	c := here[len(here)-1]
	r, k := c.in.Rank(), len(l.NormalizedShape)
	st := e.state[x]
	if k == r && st != exStatic {
		return "", e.errAt(here, "LayerNorm over every axis of %v, the batch included: export with StaticBatch", c.in.Shape())
	}
	w, b := e.reshaped(c.path, l.Weight, l.NormalizedShape), e.reshaped(c.path, l.Bias, l.NormalizedShape)
	if e.o.Opset >= 17 {
		if w == "" {
			w = e.floats(l.NormalizedShape, tensor.Ones(l.NormalizedShape...).Data())
		}
		ins := []string{x, w}
		if b != "" {
			ins = append(ins, b)
		}
		return e.node(c.path, "LayerNormalization", st, ins, exAttrInt("axis", r-k), exAttrFloat("epsilon", l.Epsilon)), nil
	}
	axes := make([]int, k)
	for i := range axes {
		axes[i] = r - k + i
	}
	n := func(op string, ins ...string) string { return e.node(c.path, op, st, ins) }
	mean := func(v string) string {
		return e.node(c.path, "ReduceMean", st, []string{v}, exAttrInts("axes", axes...), exAttrInt("keepdims", 1))
	}
	d := n("Sub", x, mean(x))
	y := n("Div", d, n("Sqrt", n("Add", mean(n("Mul", d, d)), e.scalar(l.Epsilon))))
	if w != "" {
		y = n("Mul", y, w)
	}
	if b != "" {
		y = n("Add", y, b)
	}
	return y, nil
}

// groupNorm writes a GroupNorm of x [N, C, *] as torch.onnx.export does: Reshape to [N, G, -1],
// InstanceNormalization (unit scale, zero bias), Reshape back, then Mul by the weight and Add
// the bias, both reshaped to [C, 1, ..., 1].
func (e *exporter) groupNorm(here []*exCall, x string, groups int, weight, bias *tensor.Tensor, eps float32) string {
	c := here[len(here)-1]
	in, st := c.in.Shape(), e.state[x]
	back := make([]int64, len(in)) // dim 0 copied: the target holds at any batch size
	for i := 1; i < len(in); i++ {
		back[i] = int64(in[i])
	}
	y := e.node(c.path, "Reshape", st, []string{x, e.int64s(0, int64(groups), -1)})
	y = e.node(c.path, "InstanceNormalization", st, []string{y, e.paramOr(nil, 1, groups), e.paramOr(nil, 0, groups)}, exAttrFloat("epsilon", eps))
	y = e.node(c.path, "Reshape", st, []string{y, e.int64s(back...)})
	pshape := make([]int, len(in)-1)
	for i := range pshape {
		pshape[i] = 1
	}
	pshape[0] = in[1]
	if weight != nil {
		y = e.node(c.path, "Mul", st, []string{y, e.reshaped(c.path, weight, pshape)})
	}
	if bias != nil {
		y = e.node(c.path, "Add", st, []string{y, e.reshaped(c.path, bias, pshape)})
	}
	return y
}

// batchNorm1D writes an evaluation-mode BatchNorm1D as BatchNormalization on its running
// statistics; channels last ([N, L, C], BatchNorm1D.ChannelLast) are transposed to axis 1 and
// back.
func (e *exporter) batchNorm1D(here []*exCall, x string, l *nn.BatchNorm1D) (string, error) {
	c := here[len(here)-1]
	in, ch := c.in, l.Weight.Len()
	axes := []int{1} // the channel axis
	if l.ChannelLast() && in.Rank() == 3 {
		axes[0] = 2
	}
	if in.Dim(axes[0]) != ch {
		return "", e.errAt(here, "BatchNorm1D of %v: %d channels expected on axis %d", in.Shape(), ch, axes[0])
	}
	st := e.state[x]
	if axes[0] != 1 {
		x = e.node(c.path, "Transpose", st, []string{x}, exAttrInts("perm", 0, 2, 1))
	}
	ins := []string{x, e.paramValue(l.Weight), e.paramValue(l.Bias), e.paramValue(l.RunningMean), e.paramValue(l.RunningVar)}
	y := e.node(c.path, "BatchNormalization", st, ins, exAttrFloat("epsilon", l.Epsilon), exAttrFloat("momentum", l.Momentum))
	if axes[0] != 1 {
		y = e.node(c.path, "Transpose", st, []string{y}, exAttrInts("perm", 0, 2, 1))
	}
	return y, nil
}

// embedding writes Gather of the weight's rows at the ids, which arrive as float32 integers and
// are cast to int64. With a padding index, a Where writes zeros at the positions of that id,
// as oar does whatever the row holds.
func (e *exporter) embedding(here []*exCall, ids string, l *nn.Embedding) string {
	c := here[len(here)-1]
	st := e.state[ids]
	idx := e.node(c.path, "Cast", st, []string{ids}, exAttrInt("to", int(onnxpb.TensorProto_INT64)))
	y := e.node(c.path, "Gather", st, []string{e.paramValue(l.Weight), idx}, exAttrInt("axis", 0))
	if l.PaddingIdx != nn.NoPadding {
		pad := e.node(c.path, "Equal", st, []string{ids, e.scalar(float32(l.PaddingIdx))})
		pad = e.node(c.path, "Unsqueeze", st, []string{pad, e.int64s(-1)})
		y = e.node(c.path, "Where", st, []string{pad, e.scalar(0), y})
	}
	return y
}

// conv1D writes a 1-D Conv. Paddle's SAME and VALID become explicit pads; the reflect and
// replicate padding modes a Pad node (modes "reflect" and "edge"), and the circular mode Slice and
// Concat nodes, before a Conv without padding.
func (e *exporter) conv1D(here []*exCall, x string, l *nn.Conv1D) (string, error) {
	c := here[len(here)-1]
	in, st := c.in.Shape(), e.state[x]
	k, s, d := l.Weight.Dim(2), max(l.Stride, 1), max(l.Dilation, 1)
	lo, hi, mode := 0, 0, l.PadMode
	switch len(l.Padding) {
	case 1:
		lo, hi = l.Padding[0], l.Padding[0]
	case 2:
		lo, hi = l.Padding[0], l.Padding[1]
	}
	n := in[2]
	switch l.PaddingMode {
	case "", "zeros":
	case "reflect", "replicate":
		onnxMode := map[string]string{"reflect": "reflect", "replicate": "edge"}[l.PaddingMode]
		x = e.node(c.path, "Pad", st, []string{x, e.int64s(0, 0, int64(lo), 0, 0, int64(hi))}, exAttrString("mode", onnxMode))
		n, lo, hi, mode = n+lo+hi, 0, 0, tensor.PadExplicit
	case "circular":
		// ONNX's Pad has no circular ("wrap") mode before opset 19: the ends are sliced and
		// concatenated, [x[n-p:], x, x[:p]], as oar pads.
		if lo > 0 {
			slice := func(from, to int) string {
				return e.node(c.path, "Slice", st, []string{x, e.int64s(int64(from)), e.int64s(int64(to)), e.int64s(2)})
			}
			x = e.node(c.path, "Concat", st, []string{slice(n-lo, n), x, slice(0, lo)}, exAttrInt("axis", 2))
		}
		n, lo, hi, mode = n+lo+hi, 0, 0, tensor.PadExplicit
	default:
		return "", e.errAt(here, "Conv1D with PaddingMode %q: want \"zeros\", \"reflect\", \"replicate\" or \"circular\"", l.PaddingMode)
	}
	if mode == tensor.PadSame {
		d = 1 // as Paddle's "SAME"
	}
	ax := exSpatial(n, d*(k-1)+1, s, lo, hi, mode, false)
	if want := []int{in[0], l.Weight.Dim(0), ax.out}; !slices.Equal(want, c.out.Shape()) {
		return "", e.errAt(here, "Conv1D output %v differs from the traced %v", want, c.out.Shape())
	}
	ins := []string{x, e.paramValue(l.Weight)}
	if l.Bias != nil {
		ins = append(ins, e.paramValue(l.Bias))
	}
	return e.node(c.path, "Conv", st, ins, exAttrInts("kernel_shape", k), exAttrInts("strides", s), exAttrInts("dilations", d),
		exAttrInts("pads", ax.lo, ax.hi), exAttrInt("group", max(l.Groups, 1))), nil
}

// convTranspose writes ConvTranspose: Paddle's SAME (the padding of a SAME convolution of the
// input, dilation 1) and VALID as explicit pads, and the output padding (or Paddle's output_size)
// as output_padding, the traced output's excess over (H-1)·stride - pads + dilation·(k-1) + 1.
func (e *exporter) convTranspose(here []*exCall, x string, l *nn.Conv2DTranspose) (string, error) {
	c := here[len(here)-1]
	in, out, opt := c.in.Shape(), c.out.Shape(), l.Options
	kh, kw := l.Weight.Dim(2), l.Weight.Dim(3)
	sh, sw := exPair(opt.Stride, 1)
	dh, dw := exPair(opt.Dilation, 1)
	pt, pb, pl, pr := exPads(opt.Padding)
	switch opt.PadMode {
	case tensor.PadValid:
		pt, pb, pl, pr = 0, 0, 0, 0
	case tensor.PadSame:
		dh, dw = 1, 1
		rows, cols := exSpatial(in[2], kh, sh, 0, 0, tensor.PadSame, false), exSpatial(in[3], kw, sw, 0, 0, tensor.PadSame, false)
		pt, pb, pl, pr = rows.lo, rows.hi, cols.lo, cols.hi
	}
	baseH := (in[2]-1)*sh - pt - pb + dh*(kh-1) + 1
	baseW := (in[3]-1)*sw - pl - pr + dw*(kw-1) + 1
	oph, opw := out[2]-baseH, out[3]-baseW
	if oph < 0 || opw < 0 || out[1] != l.Weight.Dim(1)*max(opt.Groups, 1) {
		return "", e.errAt(here, "Conv2DTranspose output %v does not fit the geometry (%dx%d before output padding)", out, baseH, baseW)
	}
	ins := []string{x, e.paramValue(l.Weight)}
	if l.Bias != nil {
		ins = append(ins, e.paramValue(l.Bias))
	}
	return e.node(c.path, "ConvTranspose", e.state[x], ins,
		exAttrInts("kernel_shape", kh, kw), exAttrInts("strides", sh, sw), exAttrInts("dilations", dh, dw),
		exAttrInts("pads", pt, pl, pb, pr), exAttrInts("output_padding", oph, opw), exAttrInt("group", max(opt.Groups, 1))), nil
}

// adaptivePool writes an adaptive pool as GlobalAveragePool or GlobalMaxPool for a 1x1 output
// and as AveragePool or MaxPool when the output size divides the input's (equal, disjoint bins);
// ONNX has no adaptive pool for other sizes, where the bins differ in size or overlap.
func (e *exporter) adaptivePool(here []*exCall, x string, isMax bool) (string, error) {
	c := here[len(here)-1]
	in, out, st := c.in.Shape(), c.out.Shape(), e.state[x]
	op := "Average"
	if isMax {
		op = "Max"
	}
	if out[2] == 1 && out[3] == 1 {
		return e.node(c.path, "Global"+op+"Pool", st, []string{x}), nil
	}
	if in[2]%out[2] != 0 || in[3]%out[3] != 0 {
		return "", e.errAt(here, "adaptive pool of %v to %dx%d: ONNX has no adaptive pool, and these sizes do not divide the input's, so the bins are not one pooling window; use an output size that divides %dx%d",
			in, out[2], out[3], in[2], in[3])
	}
	kh, kw := in[2]/out[2], in[3]/out[3]
	return e.node(c.path, op+"Pool", st, []string{x}, exAttrInts("kernel_shape", kh, kw), exAttrInts("strides", kh, kw)), nil
}

// pool1D writes a MaxPool1D or AvgPool1D as a 1-D MaxPool or AveragePool with the 2-D pool's
// rules: oar runs it as a 2-D pool over [N, C, 1, L], so pool checks and writes that node, whose
// attributes are then cut down to the length axis.
func (e *exporter) pool1D(here []*exCall, x string, isMax bool, o nn.Pool1DOptions) (string, error) {
	c := here[len(here)-1]
	in, out := c.in.Shape(), c.out.Shape()
	p := tensor.PoolOptions{Kernel: []int{1, o.Kernel}, PadMode: o.PadMode, CeilMode: o.CeilMode, Inclusive: o.Inclusive}
	if o.Stride != 0 {
		p.Stride = []int{1, o.Stride}
	}
	switch len(o.Padding) {
	case 1:
		p.Padding = []int{0, 0, o.Padding[0], o.Padding[0]}
	case 2:
		p.Padding = []int{0, 0, o.Padding[0], o.Padding[1]}
	}
	y, err := e.pool(here, x, []int{in[0], in[1], 1, in[2]}, isMax, p, []int{out[0], out[1], 1, out[2]})
	if err != nil {
		return "", err
	}
	node := e.nodes[len(e.nodes)-1]
	for _, a := range node.Attribute {
		switch a.Name {
		case "kernel_shape", "strides": // [1, k] -> [k]
			a.Ints = a.Ints[1:]
		case "pads": // [0, lo, 0, hi] -> [lo, hi]
			a.Ints = []int64{a.Ints[1], a.Ints[3]}
		}
	}
	return y, nil
}

// attention writes a MultiHeadAttention's self-attention without a mask (its Forward, or
// Attend(x, x, x, nil)) as MatMul and Softmax over the heads:
//
//	q, k, v = projections of x, [B, L, E] -> [B, H, L, D] (k as [B, H, D, L])
//	out = out_proj(((q·scale)·k -> Softmax) · v -> [B, L, E])
//
// A call with a mask or another key or value has inputs that Export does not see: an error.
func (e *exporter) attention(here []*exCall, x string, l *nn.MultiHeadAttention) (string, error) {
	c := here[len(here)-1]
	in := c.in.Detach()
	if in.Rank() != 3 {
		return "", e.errAt(here, "MultiHeadAttention of %v: want [batch, L, embed]", in.Shape())
	}
	L, E, H, D := in.Dim(1), l.EmbedDim, l.NumHeads, l.HeadDim
	scale := float32(math.Pow(float64(D), -0.5))
	// The output of self-attention without a mask, from the tensor ops (not the Linear layers,
	// whose hooks would run), is the traced one if the call was one.
	lin := func(x *tensor.Tensor, p *nn.Linear) *tensor.Tensor {
		return x.Linear(p.Weight.Detach(), exDetach(p.Bias))
	}
	self := lin(tensor.Attention(lin(in, l.QProj), lin(in, l.KProj), lin(in, l.VProj), nil, nil, H, scale), l.OutProj)
	if diff, ref := exMaxDiff(self, c.out); !slices.Equal(self.Shape(), c.out.Shape()) || diff > 1e-5*ref {
		return "", e.errAt(here, "MultiHeadAttention called with a mask, or with a key or value other than its query (Attend): Export writes self-attention without a mask only, from the one input it traces")
	}
	path, st := c.path, e.state[x]
	proj := func(p *nn.Linear) string {
		b := ""
		if p.Bias != nil {
			b = e.paramValue(p.Bias)
		}
		return e.linear(path, x, 3, e.paramValue(p.Weight), b)
	}
	heads := func(v string, perm ...int) string { // [B, L, E] -> [B, L, H, D] -> perm
		v = e.node(path, "Reshape", st, []string{v, e.int64s(0, int64(L), int64(H), int64(D))})
		return e.node(path, "Transpose", st, []string{v}, exAttrInts("perm", perm...))
	}
	q := e.node(path, "Mul", st, []string{heads(proj(l.QProj), 0, 2, 1, 3), e.scalar(scale)})
	k := heads(proj(l.KProj), 0, 2, 3, 1)
	v := heads(proj(l.VProj), 0, 2, 1, 3)
	w := e.node(path, "Softmax", st, []string{e.node(path, "MatMul", st, []string{q, k})}, exAttrInt("axis", 3))
	o := e.node(path, "MatMul", st, []string{w, v})
	o = e.node(path, "Transpose", st, []string{o}, exAttrInts("perm", 0, 2, 1, 3))
	o = e.node(path, "Reshape", st, []string{o, e.int64s(0, int64(L), int64(E))})
	b := ""
	if l.OutProj.Bias != nil {
		b = e.paramValue(l.OutProj.Bias)
	}
	return e.linear(path, o, 3, e.paramValue(l.OutProj.Weight), b), nil
}

// exDetach is t.Detach(), nil for nil.
func exDetach(t *tensor.Tensor) *tensor.Tensor {
	if t == nil {
		return nil
	}
	return t.Detach()
}

// exMaxDiff returns max |a - b| and max |a| over the elements of equal-length a and b (+Inf if
// the lengths differ).
func exMaxDiff(a, b *tensor.Tensor) (diff, ref float64) {
	if a.Len() != b.Len() {
		return math.Inf(1), 0
	}
	bd := b.Data()
	for i, v := range a.Data() {
		diff = max(diff, math.Abs(float64(v)-float64(bd[i])))
		ref = max(ref, math.Abs(float64(v)))
	}
	return diff, ref
}

func exAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

// exRNN is what the recurrent layers have in common.
type exRNN interface {
	nn.Layer
	Options() nn.RNNOptions
}

// rnn writes SimpleRNN, LSTM and GRU as one ONNX RNN, LSTM or GRU node per layer (both
// directions in one node for "bidirect"), on time-major values: a batch-major input is
// transposed to [time, batch, features] and the output back. The weights stay the state dict's
// initializers; Slice and Concat nodes reorder their gates to ONNX's (LSTM: Paddle's i, f, g, o
// to i, o, f, c; GRU: r, z, c to z, r, h, with linear_before_reset=1, which is Paddle's and
// torch's reset after the hidden product) and Unsqueeze and Concat stack the directions. Each
// node's output [time, directions, batch, hidden] is transposed and reshaped to [time, batch,
// directions·hidden], the next layer's input.
func (e *exporter) rnn(here []*exCall, x string) (string, error) {
	c := here[len(here)-1]
	r := c.layer.(exRNN)
	o := r.Options()
	op, gates, order := "RNN", 1, []int{0}
	switch r.(type) {
	case *nn.LSTM:
		op, gates, order = "LSTM", 4, []int{0, 3, 1, 2}
	case *nn.GRU:
		op, gates, order = "GRU", 3, []int{1, 0, 2}
	}
	params := map[string]*tensor.Tensor{}
	for _, p := range r.Params() {
		params[p.Name] = p.Tensor
	}
	w0 := params["weight_hh_l0"]
	if w0 == nil {
		return "", e.errAt(here, "%s has no weight_hh_l0 parameter", nn.TypeName(r))
	}
	H, dirs := w0.Dim(1), 1
	if o.Direction == "bidirect" {
		dirs = 2
	}
	path, outSt := c.path, e.state[x]
	st := outSt // of the time-major values
	if !o.TimeMajor && st == exBatched {
		st = exMixed
	}
	n := func(op string, ins []string, attrs ...*onnxpb.AttributeProto) string {
		return e.node(path, op, st, ins, attrs...)
	}
	// stack returns the gates of the parameters [G·H, ...] (or [G·H] each for a bias, two of
	// them concatenated) in ONNX's order, with a leading directions axis.
	stack := func(names ...[]string) string {
		var perDir []string
		for _, dirNames := range names {
			var blocks []string
			for _, name := range dirNames {
				v := e.paramValue(params[name])
				for _, g := range order {
					if gates == 1 {
						blocks = append(blocks, v)
						break
					}
					blocks = append(blocks, e.node(path, "Slice", exStatic, []string{v, e.int64s(int64(g * H)), e.int64s(int64((g + 1) * H)), e.int64s(0)}))
				}
			}
			v := blocks[0]
			if len(blocks) > 1 {
				v = e.node(path, "Concat", exStatic, blocks, exAttrInt("axis", 0))
			}
			perDir = append(perDir, e.node(path, "Unsqueeze", exStatic, []string{v, e.int64s(0)}))
		}
		if len(perDir) == 1 {
			return perDir[0]
		}
		return e.node(path, "Concat", exStatic, perDir, exAttrInt("axis", 0))
	}
	if !o.TimeMajor {
		x = n("Transpose", []string{x}, exAttrInts("perm", 1, 0, 2))
	}
	direction := map[int]string{1: "forward", 2: "bidirectional"}[dirs]
	for layer := range o.NumLayers {
		var w, rw, b [][]string
		for d := range dirs {
			suffix := fmt.Sprintf("_l%d", layer)
			if d == 1 {
				suffix += "_reverse"
			}
			for _, name := range []string{"weight_ih", "weight_hh", "bias_ih", "bias_hh"} {
				if params[name+suffix] == nil {
					return "", e.errAt(here, "%s has no %s parameter", nn.TypeName(r), name+suffix)
				}
			}
			w = append(w, []string{"weight_ih" + suffix})
			rw = append(rw, []string{"weight_hh" + suffix})
			b = append(b, []string{"bias_ih" + suffix, "bias_hh" + suffix})
		}
		attrs := []*onnxpb.AttributeProto{exAttrInt("hidden_size", H), exAttrString("direction", direction)}
		switch op {
		case "RNN":
			act := []byte(map[string]string{"tanh": "Tanh", "relu": "Relu"}[o.Activation]) // one per direction
			attrs = append(attrs, &onnxpb.AttributeProto{Name: "activations", Type: onnxpb.AttributeProto_STRINGS, Strings: [][]byte{act, act}[:dirs]})
		case "GRU":
			attrs = append(attrs, exAttrInt("linear_before_reset", 1))
		}
		y := n(op, []string{x, stack(w...), stack(rw...), stack(b...)}, attrs...) // [T, D, B, H]
		y = n("Transpose", []string{y}, exAttrInts("perm", 0, 2, 1, 3))
		x = n("Reshape", []string{y, e.int64s(0, 0, int64(dirs*H))})
	}
	if !o.TimeMajor {
		x = e.node(path, "Transpose", outSt, []string{x}, exAttrInts("perm", 1, 0, 2))
	}
	if want := c.out.Shape(); want[2] != dirs*H {
		return "", e.errAt(here, "%s output %v: want %d features", nn.TypeName(r), want, dirs*H)
	}
	return x, nil
}

// blockOp writes the tensor ops without arguments of the activation layers (GELU, whose form is
// recovered from the values, SiLU, Softsign, Hardswish, ReLU6, LogSigmoid, Mish, Tanhshrink) and
// Erf, called between layers: t is the op's output and in, x its first input; ok is false for
// another op.
func (e *exporter) blockOp(stack []*exCall, t, in *tensor.Tensor, x string) (y string, ok bool, err error) {
	path := exPathOf(stack)
	switch op := t.Op(); op {
	case "GELU":
		var forms []bool
		for _, approx := range []bool{false, true} {
			if slices.Equal(in.Detach().GELU(approx).Data(), t.Data()) {
				forms = append(forms, approx)
			}
		}
		if len(forms) != 1 {
			return "", true, e.errAt(stack, "tensor op GELU of %v: the form (exact or tanh) cannot be recovered from the values (%d fit); use the nn.GELU layer", in.Shape(), len(forms))
		}
		return e.activation(path, x, op, forms[0]), true, nil
	case "SiLU", "Softsign", "Hardswish", "ReLU6", "LogSigmoid", "Mish", "Tanhshrink":
		return e.activation(path, x, op, false), true, nil
	case "Erf":
		return e.node(path, "Erf", e.state[x], []string{x}), true, nil
	case "ELU", "SELU", "Softplus", "Hardsigmoid", "Hardtanh", "PReLU", "LayerNorm", "GroupNorm", "Conv2DTranspose",
		"AdaptiveAvgPool2D", "AdaptiveMaxPool2D", "Attention", "Recurrence":
		layer := map[string]string{"Hardtanh": "Hardtanh or nn.ReLU6", "GroupNorm": "GroupNorm or nn.InstanceNorm2D",
			"Attention": "MultiHeadAttention", "Recurrence": "SimpleRNN, nn.LSTM or nn.GRU"}[op]
		if layer == "" {
			layer = op
		}
		return "", true, e.errAt(stack, "tensor op %s has arguments that the trace does not record; use the nn.%s layer, which Export maps", op, layer)
	}
	return "", false, nil
}
