package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// Conv2DTransposeOptions are NewConv2DTranspose's optional settings: Paddle's Conv2DTranspose
// arguments after kernel_size. The zero value is Paddle's default (stride 1, no padding, no
// output padding, dilation 1, one group, weight Xavier-uniform, bias zero).
type Conv2DTransposeOptions struct {
	Stride        []int          // 1 value (both axes) or 2 (h, w); nil means 1
	Padding       []int          // 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right)
	PadMode       tensor.PadMode // tensor.PadSame or tensor.PadValid instead of Padding
	OutputPadding []int          // 1 or 2 values, each below max(stride, dilation); nil means 0
	Dilation      []int          // 1 or 2 values; nil means 1
	Groups        int            // 0 means 1

	KernelSize [2]int // (kh, kw) for a rectangular window instead of NewConv2DTranspose's square one

	// WeightInit nil is Paddle's default for this layer, XavierUniform() over the weight
	// [in, out/groups, kh, kw] with Paddle's fans: fan_in = out/groups*kh*kw and fan_out =
	// in*kh*kw. (PyTorch draws it from Kaiming-uniform instead.)
	WeightInit Init
	BiasInit   Init       // nil: Constant(0)
	NoBias     bool       // no bias (Paddle's bias_attr=False)
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// Conv2DTranspose is a 2-D transposed convolution over NCHW input, as paddle.nn.Conv2DTranspose:
// weight [in, out/groups, kh, kw] (Paddle's and PyTorch's layout), bias [out]. Options holds the
// stride, padding, output padding, dilation and groups, and OutputSize, Paddle's
// forward(x, output_size): set it (or call ForwardSize) to pick the output's size among those
// the stride allows. See tensor.Conv2DTranspose for the arithmetic.
type Conv2DTranspose struct {
	Hooks
	Weight  *tensor.Tensor // [in, out/groups, kh, kw]
	Bias    *tensor.Tensor // [out], or nil
	Options tensor.ConvTransposeOptions
}

// NewConv2DTranspose returns a transposed convolution from in to out channels with a
// kernel×kernel window, as paddle.nn.Conv2DTranspose(in, out, kernel, ...): opts (at most one)
// gives the stride, padding, output padding, dilation, groups, a rectangular window and the
// initializers. It panics if a size is below 1, the channels are not divisible by the groups, or
// more than one opts is given.
func NewConv2DTranspose(in, out, kernel int, opts ...Conv2DTransposeOptions) *Conv2DTranspose {
	o := oneOptions("Conv2DTranspose", opts)
	kh, kw := kernel, kernel
	if o.KernelSize != [2]int{} {
		kh, kw = o.KernelSize[0], o.KernelSize[1]
	}
	groups := max(o.Groups, 1)
	if in < 1 || out < 1 || kh < 1 || kw < 1 || o.Groups < 0 || in%groups != 0 || out%groups != 0 {
		panic(&Error{Layer: "Conv2DTranspose", Msg: fmt.Sprintf("in %d, out %d, kernel %dx%d, groups %d: sizes must be at least 1 and channels divisible by groups",
			in, out, kh, kw, o.Groups)})
	}
	fanIn, fanOut := out/groups*kh*kw, in*kh*kw
	if o.WeightInit == nil {
		o.WeightInit = XavierUniform()
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	l := &Conv2DTranspose{
		Weight: newParam(o.Rand, o.WeightInit, fanIn, fanOut, in, out/groups, kh, kw),
		Options: tensor.ConvTransposeOptions{Stride: o.Stride, Padding: o.Padding, PadMode: o.PadMode,
			OutputPadding: o.OutputPadding, Dilation: o.Dilation, Groups: o.Groups},
	}
	if !o.NoBias {
		l.Bias = newParam(o.Rand, o.BiasInit, fanIn, fanOut, out)
	}
	return l
}

// Forward maps x [N, in, H, W] to [N, out, H', W'] (see tensor.Conv2DTranspose). It panics,
// naming the layer, if x does not fit the weight or the options.
func (l *Conv2DTranspose) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	l.checkInput(x)
	return x.Conv2DTranspose(l.Weight, l.Bias, l.Options)
}

// ForwardSize is Forward with Paddle's output_size argument: outputSize is (H', W') or one value
// for both, each in [computed, computed+stride); none is Forward. It overrides Options.OutputSize
// for this call and panics as Forward does, or if OutputPadding is set too (Paddle's rule).
func (l *Conv2DTranspose) ForwardSize(x *tensor.Tensor, outputSize ...int) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	l.checkInput(x)
	opt := l.Options
	if len(outputSize) > 0 {
		opt.OutputSize = outputSize
	}
	return x.Conv2DTranspose(l.Weight, l.Bias, opt)
}

func (l *Conv2DTranspose) checkInput(x *tensor.Tensor) {
	if x.Rank() != 4 || x.Dim(1) != l.Weight.Dim(0) {
		panicf(l, "input %v, weight %v: want [N, %d, H, W]", x.Shape(), l.Weight.Shape(), l.Weight.Dim(0))
	}
}

// Params returns "weight" and, if present, "bias".
func (l *Conv2DTranspose) Params() []Param { return weightBias(l.Weight, l.Bias) }
