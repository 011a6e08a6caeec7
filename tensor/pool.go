package tensor

import "github.com/oarlab/oar/internal/kernel"

// PoolOptions are MaxPool2D's and AvgPool2D's arguments, with Paddle's meaning.
type PoolOptions struct {
	Kernel   []int   // window: 1 value (square) or 2 (h, w); required
	Stride   []int   // 1 or 2 values; nil means the kernel size (Paddle's stride=None)
	Padding  []int   // 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right); nil means 0
	PadMode  PadMode // PadSame or PadValid instead of Padding
	CeilMode bool    // round the output size up; as Paddle, a last window starting in the padding is kept
	// Inclusive counts the padding in AvgPool2D's divisor (Paddle's exclusive=False, PyTorch's
	// count_include_pad=True). The zero value is Paddle's default, exclusive=True.
	Inclusive bool
}

func resolvePool(op string, shape []int, opt PoolOptions) kernel.PoolGeom {
	if len(shape) != 4 {
		panicf(op, "input %v must be 4-D (NCHW)", shape)
	}
	if len(opt.Kernel) == 0 {
		panicf(op, "Kernel is required")
	}
	kh, kw := pair(op, "Kernel", opt.Kernel, 0)
	sh, sw := pair(op, "Stride", opt.Stride, 0)
	if opt.Stride == nil {
		sh, sw = kh, kw
	}
	if kh < 1 || kw < 1 || sh < 1 || sw < 1 {
		panicf(op, "kernel %v and stride %v must be at least 1", opt.Kernel, opt.Stride)
	}
	pt, pb, pl, pr := padding(op, opt.Padding, opt.PadMode)
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	rows := spatial(h, kh, sh, pt, pb, opt.PadMode, opt.CeilMode)
	cols := spatial(w, kw, sw, pl, pr, opt.PadMode, opt.CeilMode)
	if rows.out < 1 || cols.out < 1 {
		panicf(op, "kernel %dx%d larger than padded input %dx%d (input %v)",
			kh, kw, h+rows.padLo+rows.padHi, w+cols.padLo+cols.padHi, shape)
	}
	if rows.padLo >= kh || cols.padLo >= kw {
		panicf(op, "padding %v must be smaller than the kernel %v", opt.Padding, opt.Kernel)
	}
	return kernel.PoolGeom{Planes: n * c, H: h, W: w, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		PadT: rows.padLo, PadL: cols.padLo, OutH: rows.out, OutW: cols.out}
}

// MaxPool2D returns the maximum over each window of the NCHW input, as paddle's max_pool2d:
// output [N, C, H', W']. The gradient goes to the first maximal element of each window (ties: the
// first in row-major window order); a window wholly in the padding (possible with CeilMode)
// outputs 0 and passes no gradient.
//
// It panics if t is not 4-D, Kernel is missing, a size is below 1, the padding is not smaller than
// the kernel, or the window is larger than the padded input.
func (t *Tensor) MaxPool2D(opt PoolOptions) *Tensor {
	g := resolvePool("MaxPool2D", t.shape, opt)
	shape := []int{t.shape[0], t.shape[1], g.OutH, g.OutW}
	out := newTensor(make([]float32, g.Planes*g.OutH*g.OutW), shape)
	if !t.requiresGrad || t.noGrad { // no graph: the winners' positions are not needed
		kernel.MaxPool(g, t.data, out.data, nil)
		return out.record("MaxPool2D", nil, t)
	}
	arg, argBuf := kernel.GetInt32Buf(len(out.data)) // the winners, for the backward pass only
	kernel.MaxPool(g, t.data, out.data, arg)
	return out.record("MaxPool2D", func(dy []float32, gin [][]float32) {
		kernel.MaxPoolBackward(g, dy, arg, gin[0])
	}, t).holdScratch(argBuf)
}

// AvgPool2D returns the mean over each window of the NCHW input, as paddle's avg_pool2d. By
// default (Paddle's exclusive=True) the divisor counts only the window's cells inside the input;
// with Inclusive it counts the padding too (a CeilMode window reaching past the padded input
// counts only its cells up to H+top padding and W+left padding, as Paddle's CPU kernel; PyTorch
// clips at H+padding likewise, Paddle's GPU kernel divides by kh*kw). A window wholly in the
// padding outputs 0.
//
// It panics as MaxPool2D does.
func (t *Tensor) AvgPool2D(opt PoolOptions) *Tensor {
	g := resolvePool("AvgPool2D", t.shape, opt)
	shape := []int{t.shape[0], t.shape[1], g.OutH, g.OutW}
	out := newTensor(make([]float32, g.Planes*g.OutH*g.OutW), shape)
	kernel.AvgPool(g, !opt.Inclusive, t.data, out.data)
	return out.record("AvgPool2D", func(dy []float32, gin [][]float32) {
		kernel.AvgPoolBackward(g, !opt.Inclusive, dy, gin[0])
	}, t)
}
