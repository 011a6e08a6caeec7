package tensor

import (
	"github.com/oarlab/oar/tensor/internal/kernel"
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

// convChunks is how many images one goroutine convolves at a time. It depends only on the batch
// size, so the weight gradient, summed per chunk and then over chunks in order, is bitwise the same
// whatever GOMAXPROCS is.
func convChunks(n int) int { return max(1, (n+15)/16) }

// Conv2D returns the 2-D convolution (cross-correlation, as every framework) of the NCHW input t
// with weight w [out, in/groups, kh, kw] plus bias b [out] (nil for none), as paddle's conv2d:
// output [N, out, H', W'] with H' = (H + pad_top + pad_bottom - (dilation*(kh-1)+1))/stride + 1.
// It is lowered to im2col + GEMM per image, images split over goroutines.
//
// It panics if t or w is not 4-D, the channels do not fit the groups, b is not [out], an option
// has the wrong number of values or is below 1, or the dilated kernel is larger than the padded
// input.
func (t *Tensor) Conv2D(w, b *Tensor, opt ConvOptions) *Tensor {
	cv := resolveConv(t, w, b, opt)
	k := cv.cg * cv.g.KH * cv.g.KW // GEMM inner size
	out := &Tensor{data: make([]float32, cv.n*cv.o*cv.outLen), shape: []int{cv.n, cv.o, cv.g.OutH, cv.g.OutW}}
	chunk := convChunks(cv.n)
	gemm := gemmFor(cv.n, chunk)
	kernel.ParallelFor(cv.n, chunk, func(lo, hi int) {
		col := make([]float32, cv.colLen)
		for n := lo; n < hi; n++ {
			for gi := range cv.groups {
				img := t.data[(n*cv.c+gi*cv.cg)*cv.h*cv.w:]
				y := out.data[(n*cv.o+gi*cv.og)*cv.outLen : (n*cv.o+(gi+1)*cv.og)*cv.outLen]
				kernel.Im2col(cv.g, img, col)
				gemm(false, false, cv.og, cv.outLen, k, 1, w.data[gi*cv.og*k:], k, col, cv.outLen, 0, y, cv.outLen)
			}
			if b != nil {
				for o := range cv.o {
					plane := out.data[(n*cv.o+o)*cv.outLen : (n*cv.o+o+1)*cv.outLen]
					for i := range plane {
						plane[i] += b.data[o]
					}
				}
			}
		}
	})
	return out.record("Conv2D", func(g []float32, gin [][]float32) {
		gx, gw := gin[0], gin[1]
		if len(gin) > 2 && gin[2] != nil {
			for n := range cv.n {
				for o := range cv.o {
					gin[2][o] += kernel.Sum(g[(n*cv.o+o)*cv.outLen : (n*cv.o+o+1)*cv.outLen])
				}
			}
		}
		if gx == nil && gw == nil {
			return
		}
		nChunks := (cv.n + chunk - 1) / chunk
		var partial []float32 // one weight gradient per chunk, summed in chunk order below
		if gw != nil {
			partial = make([]float32, nChunks*len(w.data))
		}
		kernel.ParallelFor(cv.n, chunk, func(lo, hi int) {
			col := make([]float32, cv.colLen)
			var pw []float32
			if gw != nil {
				pw = partial[lo/chunk*len(w.data) : (lo/chunk+1)*len(w.data)]
			}
			for n := lo; n < hi; n++ {
				for gi := range cv.groups {
					dy := g[(n*cv.o+gi*cv.og)*cv.outLen:]
					wg := w.data[gi*cv.og*k:]
					if gw != nil { // dW_g += dY_g · colᵀ
						kernel.Im2col(cv.g, t.data[(n*cv.c+gi*cv.cg)*cv.h*cv.w:], col)
						gemm(false, true, cv.og, k, cv.outLen, 1, dy, cv.outLen, col, cv.outLen, 1, pw[gi*cv.og*k:], k)
					}
					if gx != nil { // dX_g += col2im(W_gᵀ · dY_g)
						gemm(true, false, k, cv.outLen, cv.og, 1, wg, k, dy, cv.outLen, 0, col, cv.outLen)
						kernel.Col2im(cv.g, col, gx[(n*cv.c+gi*cv.cg)*cv.h*cv.w:])
					}
				}
			}
		})
		if gw != nil {
			for c := range nChunks {
				addTo(gw, partial[c*len(w.data):(c+1)*len(w.data)])
			}
		}
	}, t, w, b)
}

type gemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// gemmFor picks the parallel GEMM when the batch gives a single chunk (so the images themselves
// cannot be split) and the single-goroutine one otherwise.
func gemmFor(n, chunk int) gemmFunc {
	if n <= chunk {
		return kernel.Gemm
	}
	return kernel.GemmSerial
}
