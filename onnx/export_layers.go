package onnx

import (
	"slices"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// layer writes the call c of a built-in layer as ONNX nodes and returns their output; ok is false
// for a layer that Export traces through instead (containers, struct layers, any other type).
// stack is the calls that c is inside.
func (e *exporter) layer(c *exCall, stack []*exCall) (name string, ok bool, err error) {
	switch c.layer.(type) {
	case *nn.Linear, *nn.Conv2D, *nn.ConvReLUPool, *nn.MaxPool2D, *nn.AvgPool2D, *nn.BatchNorm2D,
		*nn.Dropout, *nn.Flatten, *nn.ReLU, *nn.LeakyReLU, *nn.Sigmoid, *nn.Tanh, *nn.Softmax:
	default:
		if !exBlockLayer(c.layer) { // the layers of export_blocks.go
			return "", false, nil
		}
	}
	x, err := e.value(c.in, stack)
	if err != nil {
		return "", false, err
	}
	here := append(stack[:len(stack):len(stack)], c)
	path, st, inShape, outShape := c.path, e.state[x], c.in.Shape(), c.out.Shape()
	switch l := c.layer.(type) {
	case *nn.Linear:
		w, b := e.paramValue(l.Weight), ""
		if l.Bias != nil {
			b = e.paramValue(l.Bias)
		}
		return e.linear(path, x, c.in.Rank(), w, b), true, nil
	case *nn.Conv2D:
		y, _, err := e.conv(here, x, inShape, l.Weight, l.Bias, l.Options, outShape)
		return y, err == nil, err
	case *nn.ConvReLUPool:
		y, convShape, err := e.conv(here, x, inShape, l.Conv.Weight, l.Conv.Bias, l.Conv.Options, nil)
		if err != nil {
			return "", false, err
		}
		y = e.node(path, "Relu", st, []string{y})
		y, err = e.pool(here, y, convShape, true, l.Pool.Options, outShape)
		return y, err == nil, err
	case *nn.MaxPool2D:
		y, err := e.pool(here, x, inShape, true, l.Options, outShape)
		return y, err == nil, err
	case *nn.AvgPool2D:
		y, err := e.pool(here, x, inShape, false, l.Options, outShape)
		return y, err == nil, err
	case *nn.BatchNorm2D:
		// The traced call ran in evaluation mode, on the running statistics, as ONNX's
		// BatchNormalization does outside training. ONNX's momentum is the weight of the old
		// running value (running = running*momentum + batch*(1-momentum)), as Paddle's and
		// oar's, so it is written unchanged; inference does not read it.
		ins := []string{x, e.paramValue(l.Weight), e.paramValue(l.Bias), e.paramValue(l.RunningMean), e.paramValue(l.RunningVar)}
		return e.node(path, "BatchNormalization", st, ins, exAttrFloat("epsilon", l.Epsilon), exAttrFloat("momentum", l.Momentum)), true, nil
	case *nn.Dropout:
		// In evaluation mode a Dropout returns its input (no producer, so not reached here) or,
		// in DownscaleInInfer mode, x.Scale(1-P): the same float32 product as Mul by 1-P.
		if l.Mode != nn.DownscaleInInfer {
			return "", false, e.errAt(here, "a Dropout in evaluation mode returned a new tensor in mode %d", l.Mode)
		}
		return e.node(path, "Mul", st, []string{x, e.scalar(1 - l.P)}), true, nil
	case *nn.Flatten:
		y, err := e.reshape(here, x, inShape, outShape)
		return y, err == nil, err
	case *nn.ReLU:
		return e.node(path, "Relu", st, []string{x}), true, nil
	case *nn.LeakyReLU:
		return e.node(path, "LeakyRelu", st, []string{x}, exAttrFloat("alpha", l.Slope)), true, nil
	case *nn.Sigmoid:
		return e.node(path, "Sigmoid", st, []string{x}), true, nil
	case *nn.Tanh:
		return e.node(path, "Tanh", st, []string{x}), true, nil
	case *nn.Softmax:
		// The axis is not exported by nn.Softmax: it is the one the traced values fit.
		axis, err := exSoftmaxAxis(c.in, c.out, false)
		if err != nil {
			return "", false, e.errAt(here, "%v", err)
		}
		return e.node(path, "Softmax", st, []string{x}, exAttrInt("axis", axis)), true, nil
	default:
		y, err := e.block(here, x)
		return y, err == nil, err
	}
}

// paramValue is the initializer of a parameter or buffer.
func (e *exporter) paramValue(t *tensor.Tensor) string {
	if name, ok := e.names[t]; ok {
		return name
	}
	return e.leaf(t)
}

// linear writes x·w + b (b "" for none) for an x of rank r: Gemm for a matrix, MatMul and Add
// otherwise. Gemm reads oar's [in, out] weight as it is (no transB): the initializer then holds
// the state-dict tensor unchanged, so that it keeps its name and values (and one tensor shared by
// two layers stays one initializer), where PyTorch's [out, in] layout needs transB=1.
func (e *exporter) linear(path, x string, r int, w, b string) string {
	st := e.state[x]
	if r < 2 && st == exBatched {
		st = exMixed
	}
	if r == 2 {
		ins := []string{x, w}
		if b != "" {
			ins = append(ins, b)
		}
		return e.node(path, "Gemm", st, ins)
	}
	y := e.node(path, "MatMul", st, []string{x, w})
	if b != "" {
		y = e.node(path, "Add", st, []string{y, b})
	}
	return y
}

// exAxis is one spatial axis of a convolution or pooling, as oar resolves it: the padding
// before and after, and the output size.
type exAxis struct{ lo, hi, out int }

// exSpatial mirrors the tensor package's geometry for an input of n, a (dilated) kernel of k,
// a stride of s and the given padding.
func exSpatial(n, k, s, lo, hi int, mode tensor.PadMode, ceil bool) exAxis {
	switch mode {
	case tensor.PadValid:
		lo, hi = 0, 0
	case tensor.PadSame:
		out := (n + s - 1) / s
		total := max((out-1)*s+k-n, 0)
		return exAxis{total / 2, total - total/2, out}
	}
	span := n + lo + hi - k
	if ceil {
		return exAxis{lo, hi, (span+s-1)/s + 1}
	}
	return exAxis{lo, hi, span/s + 1}
}

// exPads reads a Padding option (checked by the traced Forward): top, bottom, left, right.
func exPads(p []int) (t, b, l, r int) {
	switch len(p) {
	case 1:
		return p[0], p[0], p[0], p[0]
	case 2:
		return p[0], p[0], p[1], p[1]
	case 4:
		return p[0], p[1], p[2], p[3]
	}
	return 0, 0, 0, 0
}

// exPair reads a 1- or 2-value option, def if absent.
func exPair(v []int, def int) (int, int) {
	switch len(v) {
	case 1:
		return v[0], v[0]
	case 2:
		return v[0], v[1]
	}
	return def, def
}

// conv writes a Conv node and returns its output and shape. Paddle's SAME (which ignores the
// dilation) and VALID modes become explicit pads, computed for the traced height and width (only the batch is symbolic). want, if
// not nil, is the traced output shape, checked against the geometry.
func (e *exporter) conv(stack []*exCall, x string, in []int, w, b *tensor.Tensor, opt tensor.ConvOptions, want []int) (string, []int, error) {
	kh, kw := w.Dim(2), w.Dim(3)
	sh, sw := exPair(opt.Stride, 1)
	dh, dw := exPair(opt.Dilation, 1)
	if opt.PadMode == tensor.PadSame {
		dh, dw = 1, 1 // as tensor.Conv2D: Paddle's "SAME" takes the dilation as 1
	}
	pt, pb, pl, pr := exPads(opt.Padding)
	rows := exSpatial(in[2], dh*(kh-1)+1, sh, pt, pb, opt.PadMode, false)
	cols := exSpatial(in[3], dw*(kw-1)+1, sw, pl, pr, opt.PadMode, false)
	shape := []int{in[0], w.Dim(0), rows.out, cols.out}
	if want != nil && !slices.Equal(shape, want) {
		return "", nil, e.errAt(stack, "Conv2D output %v differs from the exTrace %v", shape, want)
	}
	ins := []string{x, e.paramValue(w)}
	if b != nil {
		ins = append(ins, e.paramValue(b))
	}
	y := e.node(exPathOf(stack), "Conv", e.state[x], ins,
		exAttrInts("kernel_shape", kh, kw), exAttrInts("strides", sh, sw), exAttrInts("dilations", dh, dw),
		exAttrInts("pads", rows.lo, cols.lo, rows.hi, cols.hi), exAttrInt("group", max(opt.Groups, 1)))
	return y, shape, nil
}

// pool writes a MaxPool or AveragePool node (isMax) for an input of shape in, whose traced output
// shape is want.
//
// Where floor rounding gives oar's output size, the node uses it (ceil_mode 0). In CeilMode, oar
// (as Paddle) keeps a last window that starts in the bottom or right padding, and ONNX Runtime (as
// PyTorch) drops it; so ceil_mode 1 is written when no such window exists and is an error
// otherwise. The same window without CeilMode (a bottom or right padding of a whole stride) would
// be 0 in oar and pooled from the padding in ONNX: an error too. An overhanging last window is
// alike in both: a maximum and an exclusive average read the cells inside the input, and an
// inclusive average divides by the window clipped to the padded input, which is oar's rule
// (the window clipped at H+top padding) when the padding is symmetric. An inclusive average whose
// last window reaches where the two rules differ (asymmetric padding) is therefore an error.
func (e *exporter) pool(stack []*exCall, x string, in []int, isMax bool, opt tensor.PoolOptions, want []int) (string, error) {
	op := "AveragePool"
	if isMax {
		op = "MaxPool"
	}
	kh, kw := exPair(opt.Kernel, 0)
	sh, sw := exPair(opt.Stride, 0)
	if opt.Stride == nil {
		sh, sw = kh, kw
	}
	pt, pb, pl, pr := exPads(opt.Padding)
	rows := exSpatial(in[2], kh, sh, pt, pb, opt.PadMode, opt.CeilMode)
	cols := exSpatial(in[3], kw, sw, pl, pr, opt.PadMode, opt.CeilMode)
	if shape := []int{in[0], in[1], rows.out, cols.out}; !slices.Equal(shape, want) {
		return "", e.errAt(stack, "%s output %v differs from the traced %v", op, shape, want)
	}
	path, st := exPathOf(stack), e.state[x]
	floorFits := func(a exAxis, n, k, s int) bool { return (n+a.lo+a.hi-k)/s+1 == a.out }
	inPadding := func(a exAxis, n, s int) bool { return (a.out-1)*s >= n+a.lo }
	if inPadding(rows, in[2], sh) || inPadding(cols, in[3], sw) {
		return "", e.errAt(stack, "%s on %v: the last window (output %dx%d) starts in the padding, which oar (as Paddle) keeps and ONNX Runtime (as PyTorch) drops or pools from the padding; use less padding or no CeilMode",
			op, in, rows.out, cols.out)
	}
	inclusive := !isMax && opt.Inclusive
	// divisors: an inclusive average's last window ends past the input plus the smaller of its
	// two paddings, where oar's clip (top padding) and ONNX's (bottom padding) differ.
	divisors := func(a exAxis, n, k, s int) bool { return a.lo != a.hi && (a.out-1)*s-a.lo+k > n+min(a.lo, a.hi) }
	if inclusive && (divisors(rows, in[2], kh, sh) || divisors(cols, in[3], kw, sw)) {
		return "", e.errAt(stack, "AveragePool on %v with Inclusive and asymmetric padding (top %d bottom %d left %d right %d): oar divides the last window by its cells up to the input plus the top (left) padding, ONNX up to the input plus the bottom (right) padding; use symmetric padding or an exclusive average",
			in, rows.lo, rows.hi, cols.lo, cols.hi)
	}
	attrs := []*onnxpb.AttributeProto{exAttrInts("kernel_shape", kh, kw), exAttrInts("strides", sh, sw),
		exAttrInts("pads", rows.lo, cols.lo, rows.hi, cols.hi)}
	if !(floorFits(rows, in[2], kh, sh) && floorFits(cols, in[3], kw, sw)) {
		attrs = append(attrs, exAttrInt("ceil_mode", 1))
	}
	if inclusive {
		attrs = append(attrs, exAttrInt("count_include_pad", 1))
	}
	return e.node(path, op, st, []string{x}, attrs...), nil
}
