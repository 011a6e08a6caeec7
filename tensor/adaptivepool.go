package tensor

import "github.com/oarlab/oar/internal/kernel"

// resolveAdaptive checks an adaptive pooling's input and output size; 0 keeps the input's size
// on that axis (Paddle's None).
func resolveAdaptive(op string, shape []int, outH, outW int) kernel.AdaptiveGeom {
	if len(shape) != 4 {
		panicf(op, "input %v must be 4-D (NCHW)", shape)
	}
	if outH < 0 || outW < 0 {
		panicf(op, "output size %dx%d: want sizes of at least 1 (0 keeps the input's)", outH, outW)
	}
	if shape[2] < 1 || shape[3] < 1 {
		panicf(op, "input %v has an empty plane", shape)
	}
	if outH == 0 {
		outH = shape[2]
	}
	if outW == 0 {
		outW = shape[3]
	}
	return kernel.AdaptiveGeom{Planes: shape[0] * shape[1], H: shape[2], W: shape[3], OutH: outH, OutW: outW}
}

// AdaptiveAvgPool2D returns the mean over each of outH×outW bins of the NCHW input, as
// paddle.nn.functional.adaptive_avg_pool2d: output [N, C, outH, outW]. Bin (i, j) covers rows
// floor(i*H/outH) to ceil((i+1)*H/outH) (exclusive) and likewise columns, so bins overlap when
// the sizes do not divide (7 → 3: rows 0-2, 2-4, 4-6); the divisor is the bin's own size. An
// output size of 0 keeps the input's size on that axis (Paddle's None). PyTorch's
// adaptive_avg_pool2d has the same bins.
//
// It panics if t is not 4-D or has an empty plane, or a size is negative.
func (t *Tensor) AdaptiveAvgPool2D(outH, outW int) *Tensor {
	g := resolveAdaptive("AdaptiveAvgPool2D", t.shape, outH, outW)
	out := newTensor(make([]float32, g.Planes*g.OutH*g.OutW), []int{t.shape[0], t.shape[1], g.OutH, g.OutW})
	kernel.AdaptiveAvgPool(g, t.data, out.data)
	return out.record("AdaptiveAvgPool2D", func(dy []float32, gin [][]float32) {
		kernel.AdaptiveAvgPoolBackward(g, dy, gin[0])
	}, t)
}

// AdaptiveMaxPool2D returns the maximum over each of outH×outW bins of the NCHW input, as
// paddle.nn.functional.adaptive_max_pool2d, with AdaptiveAvgPool2D's bins: output
// [N, C, outH, outW]. The gradient goes to the first maximal element of each bin in row-major
// order (summed where overlapping bins share it).
//
// It panics as AdaptiveAvgPool2D does.
func (t *Tensor) AdaptiveMaxPool2D(outH, outW int) *Tensor {
	out, _ := t.adaptiveMaxPool2D(outH, outW, false)
	return out
}

// AdaptiveMaxPool2DWithMask is AdaptiveMaxPool2D that also returns the mask of Paddle's
// return_mask=True: for each output element, the position h*W+w of its maximum in its input
// plane, as float32 integers (exact below 2^24). The mask has no gradient.
//
// It panics as AdaptiveAvgPool2D does.
func (t *Tensor) AdaptiveMaxPool2DWithMask(outH, outW int) (out, mask *Tensor) {
	return t.adaptiveMaxPool2D(outH, outW, true)
}

func (t *Tensor) adaptiveMaxPool2D(outH, outW int, withMask bool) (out, mask *Tensor) {
	g := resolveAdaptive("AdaptiveMaxPool2D", t.shape, outH, outW)
	shape := []int{t.shape[0], t.shape[1], g.OutH, g.OutW}
	n := g.Planes * g.OutH * g.OutW
	out = newTensor(make([]float32, n), shape)
	if !withMask && !graphed(t) { // no graph: the winners' positions are not needed
		kernel.AdaptiveMaxPool(g, t.data, out.data, nil)
		return out.record("AdaptiveMaxPool2D", nil, t), nil
	}
	arg, argBuf := kernel.GetInt32Buf(n)
	kernel.AdaptiveMaxPool(g, t.data, out.data, arg)
	if withMask {
		mask = newTensor(make([]float32, n), shape)
		for i, a := range arg[:n] {
			mask.data[i] = float32(a)
		}
	}
	return out.record("AdaptiveMaxPool2D", func(dy []float32, gin [][]float32) {
		kernel.AdaptiveMaxPoolBackward(g, dy, arg, gin[0])
	}, t).holdScratch(argBuf), mask
}
