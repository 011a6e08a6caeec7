package tensor

import (
	"github.com/oarlab/oar/internal/kernel"
)

// ConvTransposeOptions are Conv2DTranspose's arguments besides the input, weight and bias, with
// Paddle's meaning (paddle.nn.functional.conv2d_transpose). The zero value is stride 1, no
// padding, no output padding, dilation 1, one group and the computed output size.
type ConvTransposeOptions struct {
	Stride  []int   // 1 value (both axes) or 2 (h, w); nil means 1
	Padding []int   // 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right); nil means 0
	PadMode PadMode // PadSame or PadValid instead of Padding (see Conv2DTranspose)
	// OutputPadding adds rows at the bottom and columns at the right of the output: 1 or 2
	// values, each below max(stride, dilation) of its axis; nil means 0.
	OutputPadding []int
	Dilation      []int // 1 or 2 values; nil means 1
	Groups        int   // input and output channels split into this many groups; 0 means 1
	// OutputSize is the output's (H, W), 1 or 2 values, as Paddle's output_size: each must lie in
	// [H', H'+stride) where H' is the size computed without it. nil means H'. It excludes
	// OutputPadding, as in Paddle.
	OutputSize []int
}

// convTransposeGeom is a resolved transposed convolution: kc is the ordinary convolution whose
// input gradient it is (input [N, out, outH, outW], output [N, in, H, W]).
type convTransposeGeom struct {
	kc         kernel.Conv
	n, o       int // batch, output channels
	outH, outW int
}

func resolveConvTranspose(x, w, b *Tensor, opt ConvTransposeOptions) convTransposeGeom {
	const op = "Conv2DTranspose"
	if len(x.shape) != 4 || len(w.shape) != 4 {
		panicf(op, "input %v and weight %v must be 4-D (NCHW and [in, out/groups, kh, kw])", x.shape, w.shape)
	}
	if opt.Groups < 0 {
		panicf(op, "Groups %d < 0", opt.Groups)
	}
	groups := max(opt.Groups, 1)
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	kh, kw := w.shape[2], w.shape[3]
	if w.shape[0] != c || c%groups != 0 {
		panicf(op, "input %v, weight %v, groups %d: want in channels = weight.shape[0], divisible by groups", x.shape, w.shape, groups)
	}
	o := w.shape[1] * groups
	if b != nil && (len(b.shape) != 1 || b.shape[0] != o) {
		panicf(op, "bias %v, want [%d] for weight %v and groups %d", b.shape, o, w.shape, groups)
	}
	sh, sw := pair(op, "Stride", opt.Stride, 1)
	dh, dw := pair(op, "Dilation", opt.Dilation, 1)
	if sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh < 1 || kw < 1 || o < 1 {
		panicf(op, "stride %v, dilation %v, kernel %v and output channels %d must be at least 1", opt.Stride, opt.Dilation, w.shape[2:], o)
	}
	pt, pb, pl, pr := padding(op, opt.Padding, opt.PadMode)
	if opt.PadMode == PadSame {
		// Paddle's UpdatePaddingAndDilation: the padding of a "SAME" convolution of the input
		// (x's own size, the undilated kernel), and dilation 1.
		dh, dw = 1, 1
		rows, cols := spatial(h, kh, sh, 0, 0, PadSame, false), spatial(wd, kw, sw, 0, 0, PadSame, false)
		pt, pb, pl, pr = rows.padLo, rows.padHi, cols.padLo, cols.padHi
	}
	outH := (h-1)*sh - pt - pb + dh*(kh-1) + 1
	outW := (wd-1)*sw - pl - pr + dw*(kw-1) + 1
	if opt.OutputSize != nil {
		if opt.OutputPadding != nil && (opt.OutputPadding[0] != 0 || len(opt.OutputPadding) > 1 && opt.OutputPadding[1] != 0) {
			panicf(op, "OutputPadding %v and OutputSize %v are mutually exclusive", opt.OutputPadding, opt.OutputSize)
		}
		oh, ow := pair(op, "OutputSize", opt.OutputSize, 0)
		if oh < outH || oh >= outH+sh || ow < outW || ow >= outW+sw {
			panicf(op, "OutputSize %v: want each size in [computed, computed+stride) = [%d, %d) x [%d, %d)",
				opt.OutputSize, outH, outH+sh, outW, outW+sw)
		}
		outH, outW = oh, ow
	} else {
		ph, pw := pair(op, "OutputPadding", opt.OutputPadding, 0)
		if ph < 0 || pw < 0 || ph >= max(sh, dh) || pw >= max(sw, dw) {
			panicf(op, "OutputPadding %v: want each value in [0, max(stride, dilation)) (stride %d,%d, dilation %d,%d)",
				opt.OutputPadding, sh, sw, dh, dw)
		}
		outH, outW = outH+ph, outW+pw
	}
	if outH < 1 || outW < 1 {
		panicf(op, "output size %dx%d below 1 (input %v, weight %v, padding %d,%d,%d,%d)", outH, outW, x.shape, w.shape, pt, pb, pl, pr)
	}
	g := kernel.ConvGeom{InC: o / groups, InH: outH, InW: outW, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		PadT: pt, PadL: pl, DilH: dh, DilW: dw, OutH: h, OutW: wd}
	return convTransposeGeom{kc: kernel.Conv{G: g, N: n, Groups: groups, OutC: c / groups}, n: n, o: o, outH: outH, outW: outW}
}

// Conv2DTranspose returns the 2-D transposed convolution (the gradient of Conv2D with respect to
// its input, sometimes called deconvolution) of the NCHW input t with weight w
// [in, out/groups, kh, kw] (Paddle's and PyTorch's layout) plus bias b [out] (nil for none), as
// paddle.nn.functional.conv2d_transpose: output [N, out, H', W'] with
//
//	H' = (H-1)*stride - pad_top - pad_bottom + dilation*(kh-1) + 1 + output_padding
//
// or OutputSize. Each input pixel adds its value times the kernel into the output at stride
// steps; padding crops the output. PadSame follows Paddle: the padding is that of a "SAME"
// Conv2D of the input itself (total max((ceil(H/stride)-1)*stride + kh - H, 0), the extra row
// at the bottom) and the dilation is ignored (taken as 1), so H' is not always H*stride
// (PyTorch has no "same" here).
//
// It runs on Conv2D's kernels: the forward pass is a convolution's input gradient (a GEMM and
// col2im), the input gradient is a convolution of the output gradient, and the weight gradient
// is a convolution's weight gradient.
//
// It panics if t or w is not 4-D, w.shape[0] is not t's channels or they do not divide by the
// groups, b is not [out], an option has the wrong number of values or is below its minimum,
// OutputPadding is not below max(stride, dilation), OutputSize is out of its range or given with
// OutputPadding, or the output would be empty.
func (t *Tensor) Conv2DTranspose(w, b *Tensor, opt ConvTransposeOptions) *Tensor {
	cg := resolveConvTranspose(t, w, b, opt)
	kc := cg.kc
	plane := cg.outH * cg.outW
	out := newTensor(make([]float32, cg.n*cg.o*plane), []int{cg.n, cg.o, cg.outH, cg.outW})
	// y = Cᵀx: the input gradient of the convolution C of y's shape into x's shape.
	kernel.ConvBackward(kc, nil, w.data, t.data, out.data, nil, nil)
	if b != nil {
		for i := range cg.n * cg.o {
			bv := b.data[i%cg.o]
			row := out.data[i*plane : (i+1)*plane]
			for j := range row {
				row[j] += bv
			}
		}
	}
	return out.record("Conv2DTranspose", func(g []float32, gin [][]float32) {
		if gin[0] != nil { // dx = C(dy)
			kernel.ConvForward(kc, g, w.data, nil, gin[0])
		}
		if gin[1] != nil { // dw: C's weight gradient with input dy and output gradient x
			kernel.ConvBackward(kc, g, w.data, t.data, nil, gin[1], nil)
		}
		if len(gin) > 2 && gin[2] != nil {
			db := gin[2]
			clear(db)
			for i := range cg.n * cg.o {
				var s float32
				for _, v := range g[i*plane : (i+1)*plane] {
					s += v
				}
				db[i%cg.o] += s
			}
		}
	}, t, w, b)
}
