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
	// PaddingMode is Paddle's padding_mode: "" or "zeros" (the default), or "reflect",
	// "replicate" or "circular", which pad both ends of the input by Padding[0] with mirrored
	// (excluding the edge), repeated edge or wrapped-around values and then convolve without
	// padding; as Paddle, these take a single Padding value and no PadMode.
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
	// PaddingMode is "zeros" (or ""), "reflect", "replicate" or "circular" (see Conv1DOptions).
	PaddingMode string
}

// NewConv1D returns a convolution from in to out channels with a window of kernel elements, as
// paddle.nn.Conv1D(in, out, kernel, ...): opts (at most one) gives the stride, padding,
// dilation, groups, padding mode and the initializers. It panics if a size is below 1, the
// channels are not divisible by the groups, Padding has neither 1 nor 2 values or is negative,
// PaddingMode is unknown or (not "zeros") lacks its single Padding value, or more than one opts is
// given.
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
	switch o.PaddingMode {
	case "", "zeros":
	case "reflect", "replicate", "circular":
		if len(o.Padding) != 1 || o.PadMode != tensor.PadExplicit {
			bad("PaddingMode %q takes one Padding value and no PadMode, got Padding %v, PadMode %d", o.PaddingMode, o.Padding, o.PadMode)
		}
	default:
		bad("PaddingMode %q: want \"zeros\", \"reflect\", \"replicate\" or \"circular\"", o.PaddingMode)
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
		Stride: stride, Padding: o.Padding, PadMode: o.PadMode, Dilation: dilation, Groups: groups, PaddingMode: o.PaddingMode,
	}
	if !o.NoBias {
		l.Bias = newParam(o.Rand, o.BiasInit, fanIn, fanOut, out)
	}
	return l
}

// conv2D returns the options of the equivalent 2-D convolution over [N, C, 1, L] with the given
// padding and the output length for input length n, or panics in the layer's name.
func (l *Conv1D) conv2D(n int, padding []int, mode tensor.PadMode) (opt tensor.ConvOptions, outLen int) {
	k := l.Weight.Dim(2)
	s, d := max(l.Stride, 1), max(l.Dilation, 1)
	var before, after int
	switch {
	case mode == tensor.PadSame:
		d = 1 // Paddle's UpdatePaddingAndDilation
		out := (n + s - 1) / s
		total := max((out-1)*s+k-n, 0)
		before, after = total/2, total-total/2
	case mode == tensor.PadValid:
	case len(padding) == 1:
		before, after = padding[0], padding[0]
	case len(padding) == 2:
		before, after = padding[0], padding[1]
	case len(padding) != 0:
		panicf(l, "Padding %v: want 1 or 2 values (before, after)", padding)
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
// not [N, in, L], the dilated kernel is longer than the padded input, or a reflect (circular)
// padding is not below (at most) L.
func (l *Conv1D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if in := l.Weight.Dim(1) * max(l.Groups, 1); x.Rank() != 3 || x.Dim(1) != in {
		panicf(l, "input %v, weight %v, groups %d: want [N, %d, L]", x.Shape(), l.Weight.Shape(), max(l.Groups, 1), in)
	}
	if m := l.PaddingMode; m != "" && m != "zeros" {
		if len(l.Padding) != 1 || l.PadMode != tensor.PadExplicit {
			panicf(l, "PaddingMode %q takes one Padding value and no PadMode, got Padding %v, PadMode %d", m, l.Padding, l.PadMode)
		}
		x = l.padEnds(x, l.Padding[0], m)
		opt, _ := l.conv2D(x.Dim(2), nil, tensor.PadExplicit)
		return x.Unsqueeze(2).Conv2D(l.Weight.Unsqueeze(2), l.Bias, opt).Squeeze(2)
	}
	opt, _ := l.conv2D(x.Dim(2), l.Padding, l.PadMode)
	w := l.Weight.Unsqueeze(2) // [out, in/groups, 1, k], sharing the data
	return x.Unsqueeze(2).Conv2D(w, l.Bias, opt).Squeeze(2)
}

// padEnds pads x [N, C, L] by p at both ends of L as Paddle's F.pad in mode "reflect" (x[p], ...,
// x[1] before; the edge is not repeated), "replicate" (the edge values) or "circular" (the other
// end's values), built from Slice and Concat so that the gradient flows back.
func (l *Conv1D) padEnds(x *tensor.Tensor, p int, mode string) *tensor.Tensor {
	n := x.Dim(2)
	if p == 0 {
		return x
	}
	if (mode == "reflect" && p >= n) || (mode == "circular" && p > n) {
		panicf(l, "padding %d too large for %s padding of length %d", p, mode, n)
	}
	parts := make([]*tensor.Tensor, 0, 2*p+1)
	switch mode {
	case "reflect":
		for i := p; i >= 1; i-- {
			parts = append(parts, x.Slice(2, i, i+1))
		}
		parts = append(parts, x)
		for i := n - 2; i >= n-1-p; i-- {
			parts = append(parts, x.Slice(2, i, i+1))
		}
	case "replicate":
		first, last := x.Slice(2, 0, 1), x.Slice(2, n-1, n)
		for range p {
			parts = append(parts, first)
		}
		parts = append(parts, x)
		for range p {
			parts = append(parts, last)
		}
	case "circular":
		parts = append(parts, x.Slice(2, n-p, n), x, x.Slice(2, 0, p))
	default:
		panicf(l, "PaddingMode %q: want \"zeros\", \"reflect\", \"replicate\" or \"circular\"", mode)
	}
	return tensor.Concat(parts, 2)
}

// Params returns "weight" and, if present, "bias".
func (l *Conv1D) Params() []Param { return weightBias(l.Weight, l.Bias) }
