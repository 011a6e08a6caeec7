package nn

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// AdaptiveAvgPool2D averages NCHW input over an output_size grid of bins, as
// paddle.nn.AdaptiveAvgPool2D: bin (i, j) covers rows floor(i*H/h) to ceil((i+1)*H/h) and
// likewise columns, so the bins overlap when the sizes do not divide (PyTorch's bins are the
// same). OutputSize 0 on an axis keeps the input's size there (Paddle's None).
type AdaptiveAvgPool2D struct {
	Hooks
	OutputSize [2]int // (h, w); 0 keeps that axis
}

// NewAdaptiveAvgPool2D returns an adaptive average pool to outputSize: one value for a square
// grid or two (h, w), as Paddle's int or tuple; 0 is Paddle's None (keep the input's size). It
// panics unless one or two sizes of at least 0 are given.
func NewAdaptiveAvgPool2D(outputSize ...int) *AdaptiveAvgPool2D {
	return &AdaptiveAvgPool2D{OutputSize: adaptiveSize("AdaptiveAvgPool2D", outputSize)}
}

func adaptiveSize(layer string, size []int) [2]int {
	var s [2]int
	switch len(size) {
	case 1:
		s = [2]int{size[0], size[0]}
	case 2:
		s = [2]int{size[0], size[1]}
	default:
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("output size %v: want 1 or 2 values", size)})
	}
	if s[0] < 0 || s[1] < 0 {
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("output size %v: want sizes of at least 1 (0 keeps the input's)", size)})
	}
	return s
}

// Forward pools x [N, C, H, W] into [N, C, h, w]. It panics if x is not 4-D or has an empty plane.
func (l *AdaptiveAvgPool2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.AdaptiveAvgPool2D(l.OutputSize[0], l.OutputSize[1])
}

// Params returns nothing.
func (l *AdaptiveAvgPool2D) Params() []Param { return nil }

// AdaptiveMaxPool2D takes the maximum of NCHW input over an output_size grid of bins, as
// paddle.nn.AdaptiveMaxPool2D, with AdaptiveAvgPool2D's bins. Paddle's return_mask=True is
// ForwardWithMask.
type AdaptiveMaxPool2D struct {
	Hooks
	OutputSize [2]int // (h, w); 0 keeps that axis
}

// NewAdaptiveMaxPool2D returns an adaptive max pool to outputSize, given as for
// NewAdaptiveAvgPool2D. It panics as NewAdaptiveAvgPool2D does.
func NewAdaptiveMaxPool2D(outputSize ...int) *AdaptiveMaxPool2D {
	return &AdaptiveMaxPool2D{OutputSize: adaptiveSize("AdaptiveMaxPool2D", outputSize)}
}

// Forward pools x [N, C, H, W] into [N, C, h, w]; the gradient goes to each bin's first maximal
// element. It panics if x is not 4-D or has an empty plane.
func (l *AdaptiveMaxPool2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.AdaptiveMaxPool2D(l.OutputSize[0], l.OutputSize[1])
}

// ForwardWithMask is Forward with Paddle's return_mask=True: it also returns, for each output
// element, the position h*W+w of its maximum in the input plane (float32 integers). It panics
// as Forward does.
func (l *AdaptiveMaxPool2D) ForwardWithMask(x *tensor.Tensor) (y, mask *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.AdaptiveMaxPool2DWithMask(l.OutputSize[0], l.OutputSize[1])
}

// Params returns nothing.
func (l *AdaptiveMaxPool2D) Params() []Param { return nil }

// Pool1DOptions are the arguments of MaxPool1D and AvgPool1D, with Paddle's meaning.
type Pool1DOptions struct {
	Kernel int // window length; required
	Stride int // 0 means the kernel (Paddle's stride=None)
	// Padding is 1 value (both ends) or 2 (before, after); nil means 0. Each must be below the
	// kernel.
	Padding []int
	PadMode tensor.PadMode // tensor.PadSame or tensor.PadValid instead of Padding
	// CeilMode rounds the output length up. As Paddle (and unlike PyTorch), a last window that
	// starts in the end padding is kept: L' = (L + before + after - k + stride - 1)/stride + 1.
	CeilMode bool
	// Inclusive (AvgPool1D only) counts the padding in the divisor: Paddle's exclusive=False,
	// PyTorch's count_include_pad=True. The zero value is Paddle's default, exclusive=True
	// (PyTorch's default counts the padding). An inclusive CeilMode window that reaches past the
	// end padding counts only its cells inside input and padding, as Paddle's CPU kernel and
	// PyTorch (Paddle's GPU kernel divides by the whole kernel).
	Inclusive bool
}

// pool2D returns the options of the same pooling over [N, C, 1, L].
func (o Pool1DOptions) pool2D() tensor.PoolOptions {
	p := tensor.PoolOptions{Kernel: []int{1, o.Kernel}, PadMode: o.PadMode, CeilMode: o.CeilMode, Inclusive: o.Inclusive}
	if o.Stride != 0 {
		p.Stride = []int{1, o.Stride}
	}
	switch len(o.Padding) {
	case 1:
		p.Padding = []int{0, 0, o.Padding[0], o.Padding[0]}
	case 2:
		p.Padding = []int{0, 0, o.Padding[0], o.Padding[1]}
	default:
		p.Padding = o.Padding // nil, or a wrong length that the 2-D pool reports
	}
	return p
}

// pool1D checks x [N, C, L] and runs the 2-D pool f over [N, C, 1, L].
func pool1D(l Layer, o Pool1DOptions, x *tensor.Tensor, f func(*tensor.Tensor, tensor.PoolOptions) *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 3 {
		panicf(l, "input %v must be 3-D (NCL)", x.Shape())
	}
	if o.Kernel < 1 || o.Stride < 0 || len(o.Padding) > 2 {
		panicf(l, "kernel %d, stride %d, padding %v: want kernel at least 1, stride at least 0 and 1 or 2 padding values",
			o.Kernel, o.Stride, o.Padding)
	}
	return f(x.Unsqueeze(2), o.pool2D()).Squeeze(2)
}

// MaxPool1D is paddle.nn.MaxPool1D over NCL input: the maximum of each window, the padding never
// chosen. Options holds the kernel, stride (0: the kernel), padding and ceil mode. It runs as
// tensor.MaxPool2D over [N, C, 1, L], the same arithmetic.
type MaxPool1D struct {
	Hooks
	Options Pool1DOptions
}

// NewMaxPool1D returns a max pool with the given kernel and stride (0 means the kernel, Paddle's
// stride=None). Set fields of Options for padding or ceil mode. It panics if kernel < 1 or
// stride < 0.
func NewMaxPool1D(kernel, stride int) *MaxPool1D {
	checkPool1D("MaxPool1D", kernel, stride)
	return &MaxPool1D{Options: Pool1DOptions{Kernel: kernel, Stride: stride}}
}

func checkPool1D(layer string, kernel, stride int) {
	if kernel < 1 || stride < 0 {
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("kernel %d, stride %d: kernel must be at least 1 and stride at least 0", kernel, stride)})
	}
}

// Forward pools x [N, C, L] into [N, C, L'] with L' = (L + before + after - k)/stride + 1
// (rounded up with CeilMode; ceil(L/stride) for PadSame). The gradient goes to the first maximal
// element of each window. It panics if x is not 3-D, an option is invalid, the padding is not
// smaller than the kernel, or the kernel is longer than the padded input.
func (l *MaxPool1D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return pool1D(l, l.Options, x, (*tensor.Tensor).MaxPool2D)
}

// Params returns nothing.
func (l *MaxPool1D) Params() []Param { return nil }

// AvgPool1D is paddle.nn.AvgPool1D over NCL input: the mean of each window, by default (Paddle's
// exclusive=True) over its elements inside the input only. Options holds the kernel, stride
// (0: the kernel), padding, ceil mode and Inclusive (Paddle's exclusive=False). It runs as
// tensor.AvgPool2D over [N, C, 1, L], the same arithmetic.
type AvgPool1D struct {
	Hooks
	Options Pool1DOptions
}

// NewAvgPool1D returns an average pool with the given kernel and stride (0 means the kernel).
// Set fields of Options for padding, ceil mode or Inclusive. It panics if kernel < 1 or
// stride < 0.
func NewAvgPool1D(kernel, stride int) *AvgPool1D {
	checkPool1D("AvgPool1D", kernel, stride)
	return &AvgPool1D{Options: Pool1DOptions{Kernel: kernel, Stride: stride}}
}

// Forward pools x [N, C, L] into [N, C, L'] (see MaxPool1D.Forward for L'). It panics as
// MaxPool1D.Forward does.
func (l *AvgPool1D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return pool1D(l, l.Options, x, (*tensor.Tensor).AvgPool2D)
}

// Params returns nothing.
func (l *AvgPool1D) Params() []Param { return nil }
