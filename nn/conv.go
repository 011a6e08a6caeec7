package nn

import (
	"fmt"
	"math"

	"github.com/oarlab/oar/tensor"
)

// Conv2D is a 2-D convolution over NCHW input, as paddle.nn.Conv2D: weight
// [out, in/groups, kh, kw], bias [out]. By default the weight is drawn from
// N(0, 2/(in*kh*kw)), Paddle's default for convolutions, and the bias is zero.
type Conv2D struct {
	Weight  *tensor.Tensor // [out, in/groups, kh, kw]
	Bias    *tensor.Tensor // [out], or nil
	Options tensor.ConvOptions
}

// NewConv2D returns a convolution from in to out channels with a kernel×kernel window (use
// KernelSize for a rectangular one) and conv's stride, padding, dilation and groups. It panics
// if a size is below 1 or the channels are not divisible by the groups.
func NewConv2D(in, out, kernel int, conv tensor.ConvOptions, opts ...Option) *Conv2D {
	c := newConfig(nil, opts)
	kh, kw := kernel, kernel
	if c.kernel != [2]int{} {
		kh, kw = c.kernel[0], c.kernel[1]
	}
	groups := max(conv.Groups, 1)
	if in < 1 || out < 1 || kh < 1 || kw < 1 || in%groups != 0 || out%groups != 0 {
		panic(&Error{Layer: "Conv2D", Msg: fmt.Sprintf("in %d, out %d, kernel %dx%d, groups %d: sizes must be at least 1 and channels divisible by groups",
			in, out, kh, kw, groups)})
	}
	fanIn := in / groups * kh * kw
	if c.weightInit == nil {
		c.weightInit = Normal(0, float32(math.Sqrt(2/float64(in*kh*kw))))
	}
	l := &Conv2D{Weight: c.param(c.weightInit, fanIn, out*kh*kw, out, in/groups, kh, kw), Options: conv}
	if !c.noBias {
		l.Bias = c.param(c.biasInit, fanIn, out*kh*kw, out)
	}
	return l
}

// Forward convolves x [N, in, H, W] into [N, out, H', W']. It panics, naming the layer, if x
// does not fit the weight or the options (see tensor.Conv2D).
func (l *Conv2D) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 4 || x.Dim(1) != l.Weight.Dim(1)*max(l.Options.Groups, 1) {
		panicf(l, "input %v, weight %v: want [N, %d, H, W]", x.Shape(), l.Weight.Shape(), l.Weight.Dim(1)*max(l.Options.Groups, 1))
	}
	defer func() {
		if r := recover(); r != nil {
			panic(withPath(r, "", l))
		}
	}()
	return x.Conv2D(l.Weight, l.Bias, l.Options)
}

// Params returns "weight" and, if present, "bias".
func (l *Conv2D) Params() []Param { return weightBias(l.Weight, l.Bias) }
