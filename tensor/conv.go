package tensor

import (
	"github.com/oarlab/oar/internal/kernel"
)

// ConvOptions are Conv2D's arguments besides the input, weight and bias, with Paddle's meaning.
// The zero value is stride 1, no padding, dilation 1, one group.
type ConvOptions struct {
	Stride   []int   // 1 value (both axes) or 2 (h, w); nil means 1
	Padding  []int   // 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right); nil means 0
	PadMode  PadMode // PadSame or PadValid instead of Padding
	Dilation []int   // 1 or 2 values; nil means 1
	Groups   int     // input and output channels split into this many groups; 0 means 1
}

// convGeom is a resolved convolution.
type convGeom struct {
	n, c, h, w     int // input
	o, groups      int // output channels, groups
	cg, og         int // channels per group, in and out
	g              kernel.ConvGeom
	colLen, outLen int // per image and group: im2col rows*cols, output plane size
}

func resolveConv(x, w, b *Tensor, opt ConvOptions) convGeom {
	const op = "Conv2D"
	if len(x.shape) != 4 || len(w.shape) != 4 {
		panicf(op, "input %v and weight %v must be 4-D (NCHW and [out, in/groups, kh, kw])", x.shape, w.shape)
	}
	groups := max(opt.Groups, 1)
	if opt.Groups < 0 {
		panicf(op, "Groups %d < 0", opt.Groups)
	}
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	o, kh, kw := w.shape[0], w.shape[2], w.shape[3]
	if c%groups != 0 || o%groups != 0 || w.shape[1]*groups != c {
		panicf(op, "input %v, weight %v, groups %d: want in channels = weight.shape[1]*groups and out channels divisible by groups", x.shape, w.shape, groups)
	}
	if b != nil && (len(b.shape) != 1 || b.shape[0] != o) {
		panicf(op, "bias %v, want [%d] for weight %v", b.shape, o, w.shape)
	}
	sh, sw := pair(op, "Stride", opt.Stride, 1)
	dh, dw := pair(op, "Dilation", opt.Dilation, 1)
	if sh < 1 || sw < 1 || dh < 1 || dw < 1 || kh < 1 || kw < 1 {
		panicf(op, "stride %v, dilation %v and kernel %v must be at least 1", opt.Stride, opt.Dilation, w.shape[2:])
	}
	pt, pb, pl, pr := padding(op, opt.Padding, opt.PadMode)
	if opt.PadMode == PadSame {
		dh, dw = 1, 1 // Paddle's UpdatePaddingAndDilation: "SAME" takes the dilation as 1
	}
	ekh, ekw := dh*(kh-1)+1, dw*(kw-1)+1
	rows := spatial(h, ekh, sh, pt, pb, opt.PadMode, false)
	cols := spatial(wd, ekw, sw, pl, pr, opt.PadMode, false)
	if rows.out < 1 || cols.out < 1 {
		panicf(op, "kernel %dx%d (dilated %dx%d) larger than padded input %dx%d (input %v)",
			kh, kw, ekh, ekw, h+rows.padLo+rows.padHi, wd+cols.padLo+cols.padHi, x.shape)
	}
	cg := c / groups
	g := kernel.ConvGeom{InC: cg, InH: h, InW: wd, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		PadT: rows.padLo, PadL: cols.padLo, DilH: dh, DilW: dw, OutH: rows.out, OutW: cols.out}
	return convGeom{n: n, c: c, h: h, w: wd, o: o, groups: groups, cg: cg, og: o / groups, g: g,
		colLen: cg * kh * kw * rows.out * cols.out, outLen: rows.out * cols.out}
}

// Conv2D returns the 2-D convolution (cross-correlation, as every framework) of the NCHW input t
// with weight w [out, in/groups, kh, kw] plus bias b [out] (nil for none), as paddle's conv2d:
// output [N, out, H', W'] with H' = (H + pad_top + pad_bottom - (dilation*(kh-1)+1))/stride + 1.
// With PadSame the dilation is ignored (taken as 1), as Paddle's "SAME".
// It is lowered to im2col + GEMM over chunks of a few images at a time, chunks split over
// goroutines (stride-1 layers with InC/groups·kh·kw >= 128 read a zero-padded copy of each image
// in place of the im2col matrix).
//
// It panics if t or w is not 4-D, the channels do not fit the groups, b is not [out], an option
// has the wrong number of values or is below 1, or the dilated kernel is larger than the padded
// input.
func (t *Tensor) Conv2D(w, b *Tensor, opt ConvOptions) *Tensor {
	cv := resolveConv(t, w, b, opt)
	kc := kernel.Conv{G: cv.g, N: cv.n, Groups: cv.groups, OutC: cv.og}
	out := newTensor(make([]float32, cv.n*cv.o*cv.outLen), []int{cv.n, cv.o, cv.g.OutH, cv.g.OutW})
	var bias []float32
	if b != nil {
		bias = b.data
	}
	kernel.ConvForward(kc, t.data, w.data, bias, out.data)
	return out.record("Conv2D", func(g []float32, gin [][]float32) {
		dw, db := convParamGrads(gin)
		kernel.ConvBackward(kc, t.data, w.data, g, gin[0], dw, db)
	}, t, w, b)
}

// Conv2DReLUMaxPool returns t.Conv2D(w, b, conv).ReLU().MaxPool2D(pool) as one op, bit for bit
// (the bias gradient too): each chunk of images is convolved, rectified and pooled while it is
// in cache, so the convolution's and the ReLU's outputs [N, out, H', W'] are never stored, and
// the backward pass rebuilds the convolution's output gradient chunk by chunk from the pooled
// one. It is the layer sequence of LeNet-style networks. The output is MaxPool2D's:
// [N, out, pooled H', pooled W'].
//
// An input marked CheckFinite makes it run as the three ops, so that a non-finite value is caught
// in the op that made it (a -Inf from the convolution, say, that ReLU would hide).
//
// It panics as Conv2D and MaxPool2D do.
func (t *Tensor) Conv2DReLUMaxPool(w, b *Tensor, conv ConvOptions, pool PoolOptions) *Tensor {
	cv := resolveConv(t, w, b, conv)
	pg := resolvePool("MaxPool2D", []int{cv.n, cv.o, cv.g.OutH, cv.g.OutW}, pool)
	if t.checkFinite || w.checkFinite || (b != nil && b.checkFinite) {
		return t.Conv2D(w, b, conv).ReLU().MaxPool2D(pool)
	}
	pg.Planes = cv.o // per image
	kc := kernel.Conv{G: cv.g, N: cv.n, Groups: cv.groups, OutC: cv.og}
	out := newTensor(make([]float32, cv.n*cv.o*pg.OutH*pg.OutW), []int{cv.n, cv.o, pg.OutH, pg.OutW})
	var bias []float32
	if b != nil {
		bias = b.data
	}
	var arg []int32 // the pooling's winners, for the backward pass only: pooled memory
	var argBuf *[]float32
	if graphed(t, w, b) {
		arg, argBuf = kernel.GetInt32Buf(len(out.data))
	}
	kernel.ConvReLUMaxPool(kc, pg, t.data, w.data, bias, out.data, arg)
	return out.record("Conv2DReLUMaxPool", func(g []float32, gin [][]float32) {
		dw, db := convParamGrads(gin)
		kernel.ConvReLUMaxPoolBackward(kc, pg, t.data, w.data, out.data, arg, g, gin[0], dw, db)
	}, t, w, b).holdScratch(argBuf)
}

// convParamGrads returns the weight and bias gradient buffers of a convolution's rule.
func convParamGrads(gin [][]float32) (dw, db []float32) {
	dw = gin[1]
	if len(gin) > 2 {
		db = gin[2]
	}
	return dw, db
}
