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
	Hooks
	Weight  *tensor.Tensor // [out, in/groups, kh, kw]
	Bias    *tensor.Tensor // [out], or nil
	Options tensor.ConvOptions
}

// NewConv2D returns a convolution from in to out channels with a kernel×kernel window, as
// paddle.nn.Conv2D(in, out, kernel, ...): opts (at most one) gives the stride, padding,
// dilation, groups, a rectangular window and the initializers. It panics if a size is below 1,
// the channels are not divisible by the groups, or more than one opts is given.
func NewConv2D(in, out, kernel int, opts ...Conv2DOptions) *Conv2D {
	o := oneOptions("Conv2D", opts)
	kh, kw := kernel, kernel
	if o.KernelSize != [2]int{} {
		kh, kw = o.KernelSize[0], o.KernelSize[1]
	}
	groups := max(o.Groups, 1)
	if in < 1 || out < 1 || kh < 1 || kw < 1 || in%groups != 0 || out%groups != 0 {
		panic(&Error{Layer: "Conv2D", Msg: fmt.Sprintf("in %d, out %d, kernel %dx%d, groups %d: sizes must be at least 1 and channels divisible by groups",
			in, out, kh, kw, groups)})
	}
	fanIn, fanOut := in/groups*kh*kw, out*kh*kw
	if o.WeightInit == nil {
		o.WeightInit = Normal(0, float32(math.Sqrt(2/float64(in*kh*kw))))
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	l := &Conv2D{
		Weight: newParam(o.Rand, o.WeightInit, fanIn, fanOut, out, in/groups, kh, kw),
		Options: tensor.ConvOptions{Stride: o.Stride, Padding: o.Padding, PadMode: o.PadMode,
			Dilation: o.Dilation, Groups: o.Groups},
	}
	if !o.NoBias {
		l.Bias = newParam(o.Rand, o.BiasInit, fanIn, fanOut, out)
	}
	return l
}

// Forward convolves x [N, in, H, W] into [N, out, H', W']. It panics, naming the layer, if x
// does not fit the weight or the options (see tensor.Conv2D).
func (l *Conv2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	l.checkInput(l, x)
	return x.Conv2D(l.Weight, l.Bias, l.Options)
}

// checkInput panics, in the name of layer (l or the ConvReLUPool holding it), unless x is
// [N, in, H, W].
func (l *Conv2D) checkInput(layer Layer, x *tensor.Tensor) {
	if in := l.Weight.Dim(1) * max(l.Options.Groups, 1); x.Rank() != 4 || x.Dim(1) != in {
		panicf(layer, "input %v, weight %v: want [N, %d, H, W]", x.Shape(), l.Weight.Shape(), in)
	}
}

// Params returns "weight" and, if present, "bias".
func (l *Conv2D) Params() []Param { return weightBias(l.Weight, l.Bias) }
