package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// Conv1DOptions are NewConv1D's optional settings: Paddle's Conv1D arguments after kernel_size.
// The zero value is Paddle's default (stride 1, no padding, dilation 1, one group, zero padding
// mode, weight N(0, 2/(in*k)), bias zero).
type Conv1DOptions struct {
	Stride int // 0 means 1
	// Padding is 1 value (both ends) or 2 (before, after): Paddle's int, [p], [before, after] and
	// [[0,0],[0,0],[before,after]] forms. nil means 0.
	Padding []int
	// PadMode is tensor.PadSame or tensor.PadValid, Paddle's padding="same" and "valid", instead
	// of Padding. As Paddle, "same" pads by max((ceil(L/stride)-1)*stride + k - L, 0) in total,
	// the extra element at the end, and ignores the dilation (takes it as 1).
	PadMode  tensor.PadMode
	Dilation int // 0 means 1
	Groups   int // 0 means 1
	// PaddingMode is Paddle's padding_mode: "" or "zeros". Paddle's "reflect", "replicate" and
	// "circular" are not implemented and panic.
	PaddingMode string

	WeightInit Init       // nil: Normal(0, sqrt(2/(in*k))), Paddle's default
	BiasInit   Init       // nil: Constant(0)
	NoBias     bool       // no bias (Paddle's bias_attr=False)
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// Conv1D is a 1-D convolution over NCL input, as paddle.nn.Conv1D (data_format "NCL"): weight
// [out, in/groups, k] (Paddle's and PyTorch's layout), bias [out]. Forward runs it as
// tensor.Conv2D on [N, C, 1, L] with the weight viewed as [out, in/groups, 1, k], which is the
// same arithmetic. The fields after Bias are Conv1DOptions' and are read at each Forward.
type Conv1D struct {
	Hooks
	Weight *tensor.Tensor // [out, in/groups, k]
	Bias   *tensor.Tensor // [out], or nil

	Stride   int            // at least 1
	Padding  []int          // 1 or 2 values (before, after)
	PadMode  tensor.PadMode // tensor.PadSame or tensor.PadValid instead of Padding
	Dilation int            // at least 1
	Groups   int            // at least 1
}

// NewConv1D returns a convolution from in to out channels with a window of kernel elements, as
// paddle.nn.Conv1D(in, out, kernel, ...): opts (at most one) gives the stride, padding,
// dilation, groups and the initializers. It panics if a size is below 1, the channels are not
// divisible by the groups, Padding has neither 1 nor 2 values or is negative, PaddingMode is not
// "zeros", or more than one opts is given.
func NewConv1D(in, out, kernel int, opts ...Conv1DOptions) *Conv1D {
	o := oneOptions("Conv1D", opts)
	groups, stride, dilation := max(o.Groups, 1), max(o.Stride, 1), max(o.Dilation, 1)
	bad := func(format string, args ...any) {
		panic(&Error{Layer: "Conv1D", Msg: fmt.Sprintf(format, args...)})
	}
	if in < 1 || out < 1 || kernel < 1 || o.Groups < 0 || o.Stride < 0 || o.Dilation < 0 || in%groups != 0 || out%groups != 0 {
		bad("in %d, out %d, kernel %d, groups %d, stride %d, dilation %d: sizes must be at least 1 and channels divisible by groups",
			in, out, kernel, o.Groups, o.Stride, o.Dilation)
	}
	if o.PaddingMode != "" && o.PaddingMode != "zeros" {
		bad("PaddingMode %q is not supported (only \"zeros\")", o.PaddingMode)
	}
	if len(o.Padding) > 2 || (o.Padding != nil && len(o.Padding) == 0) {
		bad("Padding %v: want 1 or 2 values (before, after)", o.Padding)
	}
	for _, p := range o.Padding {
		if p < 0 {
			bad("negative Padding %v", o.Padding)
		}
	}
	if o.PadMode != tensor.PadExplicit && o.Padding != nil {
		bad("Padding %v given with PadMode %d; use one or the other", o.Padding, o.PadMode)
	}
	fanIn, fanOut := in/groups*kernel, out*kernel
	if o.WeightInit == nil {
		o.WeightInit = Normal(0, float32(math.Sqrt(2/float64(in*kernel))))
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	l := &Conv1D{
		Weight: newParam(o.Rand, o.WeightInit, fanIn, fanOut, out, in/groups, kernel),
		Stride: stride, Padding: o.Padding, PadMode: o.PadMode, Dilation: dilation, Groups: groups,
	}
	if !o.NoBias {
		l.Bias = newParam(o.Rand, o.BiasInit, fanIn, fanOut, out)
	}
	return l
}

// conv2D returns the options of the equivalent 2-D convolution over [N, C, 1, L] and the output
// length for input length n, or panics in the layer's name.
func (l *Conv1D) conv2D(n int) (opt tensor.ConvOptions, outLen int) {
	k := l.Weight.Dim(2)
	s, d := max(l.Stride, 1), max(l.Dilation, 1)
	var before, after int
	switch {
	case l.PadMode == tensor.PadSame:
		d = 1 // Paddle's UpdatePaddingAndDilation
		out := (n + s - 1) / s
		total := max((out-1)*s+k-n, 0)
		before, after = total/2, total-total/2
	case l.PadMode == tensor.PadValid:
	case len(l.Padding) == 1:
		before, after = l.Padding[0], l.Padding[0]
	case len(l.Padding) == 2:
		before, after = l.Padding[0], l.Padding[1]
	case len(l.Padding) != 0:
		panicf(l, "Padding %v: want 1 or 2 values (before, after)", l.Padding)
	}
	ek := d*(k-1) + 1
	if before < 0 || after < 0 || n+before+after < ek {
		panicf(l, "kernel %d (dilated %d) larger than padded input length %d (padding %d, %d)", k, ek, n+before+after, before, after)
	}
	opt = tensor.ConvOptions{Stride: []int{1, s}, Padding: []int{0, 0, before, after}, Dilation: []int{1, d}, Groups: max(l.Groups, 1)}
	return opt, (n+before+after-ek)/s + 1
}

// Forward convolves x [N, in, L] into [N, out, L'] with L' = (L + before + after -
// (dilation*(k-1)+1))/stride + 1 (ceil(L/stride) for "same"). It panics, naming the layer, if x is
// not [N, in, L] or the dilated kernel is longer than the padded input.
func (l *Conv1D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if in := l.Weight.Dim(1) * max(l.Groups, 1); x.Rank() != 3 || x.Dim(1) != in {
		panicf(l, "input %v, weight %v, groups %d: want [N, %d, L]", x.Shape(), l.Weight.Shape(), max(l.Groups, 1), in)
	}
	opt, _ := l.conv2D(x.Dim(2))
	w := l.Weight.Unsqueeze(2) // [out, in/groups, 1, k], sharing the data
	return x.Unsqueeze(2).Conv2D(w, l.Bias, opt).Squeeze(2)
}

// Params returns "weight" and, if present, "bias".
func (l *Conv1D) Params() []Param { return weightBias(l.Weight, l.Bias) }
