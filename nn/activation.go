package nn

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// Activation layers beyond ReLU, LeakyReLU, Sigmoid, Tanh and Softmax (simple.go). Each is the
// tensor op of the same name (see package tensor for the formulas and the gradients at kinks);
// its Paddle arguments are exported fields, which New<Name> sets to Paddle's defaults. The zero
// value of a layer without parameters is ready to use; the others are built with New<Name> (or
// with every field set).

// GELU is paddle.nn.GELU: x·Φ(x), with Φ the standard normal distribution function, or its tanh
// approximation when Approximate is set (Paddle's approximate=True, PyTorch's
// approximate="tanh"). The default is the exact (erf) form.
type GELU struct {
	Hooks
	Approximate bool
}

// NewGELU returns a GELU with Paddle's default, the exact form.
func NewGELU() *GELU { return &GELU{} }

// Forward applies GELU element-wise.
func (l *GELU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.GELU(l.Approximate)
}

// Params returns nothing.
func (l *GELU) Params() []Param { return nil }

// SiLU is paddle.nn.Silu: x·sigmoid(x).
type SiLU struct{ Hooks }

// NewSiLU returns a SiLU.
func NewSiLU() *SiLU { return &SiLU{} }

// Forward applies SiLU element-wise.
func (l *SiLU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.SiLU()
}

// Params returns nothing.
func (l *SiLU) Params() []Param { return nil }

// ELU is paddle.nn.ELU: x for x > 0, Alpha·(e^x - 1) otherwise.
type ELU struct {
	Hooks
	Alpha float32
}

// NewELU returns an ELU with Paddle's default alpha, 1.
func NewELU() *ELU { return &ELU{Alpha: 1} }

// Forward applies ELU element-wise.
func (l *ELU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.ELU(l.Alpha)
}

// Params returns nothing.
func (l *ELU) Params() []Param { return nil }

// SELU is paddle.nn.SELU: Scale·x for x > 0, Scale·Alpha·(e^x - 1) otherwise.
type SELU struct {
	Hooks
	Scale, Alpha float32
}

// NewSELU returns a SELU with Paddle's defaults, tensor.SELUScale (1.0507…) and
// tensor.SELUAlpha (1.6732…), which are PyTorch's fixed constants too.
func NewSELU() *SELU { return &SELU{Scale: tensor.SELUScale, Alpha: tensor.SELUAlpha} }

// Forward applies SELU element-wise.
func (l *SELU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.SELU(l.Scale, l.Alpha)
}

// Params returns nothing.
func (l *SELU) Params() []Param { return nil }

// Softplus is paddle.nn.Softplus: log(1 + e^(Beta·x))/Beta, and x where Beta·x > Threshold.
type Softplus struct {
	Hooks
	Beta, Threshold float32
}

// NewSoftplus returns a Softplus with Paddle's defaults, beta 1 and threshold 20 (PyTorch's too).
func NewSoftplus() *Softplus { return &Softplus{Beta: 1, Threshold: 20} }

// Forward applies Softplus element-wise. It panics if Beta is 0.
func (l *Softplus) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Softplus(l.Beta, l.Threshold)
}

// Params returns nothing.
func (l *Softplus) Params() []Param { return nil }

// Softsign is paddle.nn.Softsign: x/(1 + |x|).
type Softsign struct{ Hooks }

// NewSoftsign returns a Softsign.
func NewSoftsign() *Softsign { return &Softsign{} }

// Forward applies Softsign element-wise.
func (l *Softsign) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Softsign()
}

// Params returns nothing.
func (l *Softsign) Params() []Param { return nil }

// Hardswish is paddle.nn.Hardswish: x·min(max(x + 3, 0), 6)/6. Its gradient at x = -3 and x = 3
// is Paddle's (0 and 1), not PyTorch's (-0.5 and 1.5); see tensor.Hardswish.
type Hardswish struct{ Hooks }

// NewHardswish returns a Hardswish.
func NewHardswish() *Hardswish { return &Hardswish{} }

// Forward applies Hardswish element-wise.
func (l *Hardswish) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Hardswish()
}

// Params returns nothing.
func (l *Hardswish) Params() []Param { return nil }

// Hardsigmoid is paddle.nn.Hardsigmoid: min(max(Slope·x + Offset, 0), 1), with Paddle's
// F.hardsigmoid defaults slope 0.1666667 and offset 0.5 (Paddle's layer takes no arguments and
// always uses them; the fields are oar's). PyTorch's Hardsigmoid is x/6 + 1/2 clipped: its slope
// 1/6 = 0.16666667 differs from Paddle's in the eighth digit, so outputs can differ by a float32
// rounding step (x = 2.9: 0.98333347 here, 0.98333335 in PyTorch); set Slope to 1.0/6 for
// PyTorch's. See tensor.Hardsigmoid for the gradient at the ends.
type Hardsigmoid struct {
	Hooks
	Slope, Offset float32
}

// NewHardsigmoid returns a Hardsigmoid with Paddle's slope 0.1666667 and offset 0.5.
func NewHardsigmoid() *Hardsigmoid { return &Hardsigmoid{Slope: 0.1666667, Offset: 0.5} }

// Forward applies Hardsigmoid element-wise.
func (l *Hardsigmoid) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Hardsigmoid(l.Slope, l.Offset)
}

// Params returns nothing.
func (l *Hardsigmoid) Params() []Param { return nil }

// Hardtanh is paddle.nn.Hardtanh: x clipped to [Min, Max]; the gradient passes where
// Min < x < Max.
type Hardtanh struct {
	Hooks
	Min, Max float32
}

// NewHardtanh returns a Hardtanh with Paddle's defaults, min -1 and max 1.
func NewHardtanh() *Hardtanh { return &Hardtanh{Min: -1, Max: 1} }

// Forward applies Hardtanh element-wise. It panics if Min > Max.
func (l *Hardtanh) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Hardtanh(l.Min, l.Max)
}

// Params returns nothing.
func (l *Hardtanh) Params() []Param { return nil }

// ReLU6 is paddle.nn.ReLU6: min(max(x, 0), 6).
type ReLU6 struct{ Hooks }

// NewReLU6 returns a ReLU6.
func NewReLU6() *ReLU6 { return &ReLU6{} }

// Forward applies ReLU6 element-wise.
func (l *ReLU6) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.ReLU6()
}

// Params returns nothing.
func (l *ReLU6) Params() []Param { return nil }

// LogSigmoid is paddle.nn.LogSigmoid: log(1/(1 + e^-x)), computed stably.
type LogSigmoid struct{ Hooks }

// NewLogSigmoid returns a LogSigmoid.
func NewLogSigmoid() *LogSigmoid { return &LogSigmoid{} }

// Forward applies LogSigmoid element-wise.
func (l *LogSigmoid) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.LogSigmoid()
}

// Params returns nothing.
func (l *LogSigmoid) Params() []Param { return nil }

// Mish is paddle.nn.Mish: x·tanh(softplus(x)).
type Mish struct{ Hooks }

// NewMish returns a Mish.
func NewMish() *Mish { return &Mish{} }

// Forward applies Mish element-wise.
func (l *Mish) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Mish()
}

// Params returns nothing.
func (l *Mish) Params() []Param { return nil }

// Tanhshrink is paddle.nn.Tanhshrink: x - tanh(x).
type Tanhshrink struct{ Hooks }

// NewTanhshrink returns a Tanhshrink.
func NewTanhshrink() *Tanhshrink { return &Tanhshrink{} }

// Forward applies Tanhshrink element-wise.
func (l *Tanhshrink) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Tanhshrink()
}

// Params returns nothing.
func (l *Tanhshrink) Params() []Param { return nil }

// PReLUOptions are NewPReLU's optional settings, Paddle's PReLU arguments. The zero value is
// Paddle's default: one weight shared by all channels, 0.25 at first, NCHW data.
type PReLUOptions struct {
	NumParameters int    // 1 (0 means 1), or the number of channels for one weight each
	WeightInit    Init   // nil: Constant(0.25), Paddle's init=0.25
	DataFormat    string // where the channels are: "NC", "NCL", "NCHW" (""), "NCDHW" on axis 1; "NLC", "NHWC", "NDHWC" last
}

// PReLU is paddle.nn.PReLU: x for x > 0 and Weight·x otherwise, with a trained Weight of one
// value or one per channel. Its state-dict key is Paddle's, "_weight" (Paddle's layer keeps it in
// self._weight; PyTorch's key is "weight").
type PReLU struct {
	Hooks
	Weight      *tensor.Tensor // [NumParameters]
	channelLast bool
}

// NewPReLU returns a PReLU; opts (at most one) sets the number of weights, their initial value
// and the data format. It panics if NumParameters is negative or DataFormat is not one of
// Paddle's.
func NewPReLU(opts ...PReLUOptions) *PReLU {
	o := oneOptions("PReLU", opts)
	n := o.NumParameters
	if n == 0 {
		n = 1
	}
	if n < 0 {
		panic(&Error{Layer: "PReLU", Msg: fmt.Sprintf("num_parameters %d < 1", n)})
	}
	l := &PReLU{}
	switch o.DataFormat {
	case "", "NC", "NCL", "NCHW", "NCDHW":
	case "NLC", "NHWC", "NDHWC":
		l.channelLast = true
	default:
		panic(&Error{Layer: "PReLU", Msg: fmt.Sprintf("data format %q: want NC, NCL, NCHW, NCDHW, NLC, NHWC or NDHWC", o.DataFormat)})
	}
	if o.WeightInit == nil {
		o.WeightInit = Constant(0.25)
	}
	l.Weight = newParam(nil, o.WeightInit, n, n, n)
	return l
}

// Forward applies PReLU. It panics if Weight has one value per channel and x's channel axis (1,
// or the last for a channel-last format) has another size.
func (l *PReLU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if n := l.Weight.Len(); n > 1 {
		ax := 1
		if l.channelLast {
			ax = x.Rank() - 1
		}
		if x.Rank() < 2 || x.Dim(ax) != n {
			panicf(l, "input %v, want %d channels on axis %d", x.Shape(), n, ax)
		}
	}
	return x.PReLU(l.Weight, l.channelLast)
}

// Params returns "_weight", Paddle's key.
func (l *PReLU) Params() []Param { return []Param{{"_weight", l.Weight}} }

// LogSoftmax is paddle.nn.LogSoftmax: log(softmax(x)) along an axis, in one stable op. Build it
// with NewLogSoftmax.
type LogSoftmax struct {
	Hooks
	axis int
}

// NewLogSoftmax returns a LogSoftmax over axis (negative counts from the end; Paddle's default
// is -1).
func NewLogSoftmax(axis int) *LogSoftmax { return &LogSoftmax{axis: axis} }

// Forward applies the log-softmax. It panics if the axis is out of range for x.
func (l *LogSoftmax) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.LogSoftmax(l.axis)
}

// Params returns nothing.
func (l *LogSoftmax) Params() []Param { return nil }

// Identity is paddle.nn.Identity: it returns its input itself (the same tensor, not a copy), a
// placeholder where a layer is expected.
type Identity struct{ Hooks }

// NewIdentity returns an Identity.
func NewIdentity() *Identity { return &Identity{} }

// Forward returns x.
func (l *Identity) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x
}

// Params returns nothing.
func (l *Identity) Params() []Param { return nil }

// Func is a layer made of a function, for a step without parameters that has no layer of its
// own (Paddle code writes such steps inline in forward): nn.NewFunc("square", func(x
// *tensor.Tensor) *tensor.Tensor { return x.Square() }) can sit in a Sequential. It has hooks
// like any layer, and its name stands for its type in errors and Summary rows ("nn: 1 (square):
// ..."). Parameters the function uses are not the layer's: give a layer with parameters its own
// type.
type Func struct {
	Hooks
	name string
	f    func(*tensor.Tensor) *tensor.Tensor
}

// NewFunc returns a layer that applies f, named name. It panics if f is nil or name is empty.
func NewFunc(name string, f func(*tensor.Tensor) *tensor.Tensor) *Func {
	if f == nil || name == "" {
		panic(&Error{Layer: "Func", Msg: "want a name and a non-nil function"})
	}
	return &Func{name: name, f: f}
}

// LayerName returns the name given to NewFunc, which TypeName reports for l.
func (l *Func) LayerName() string { return l.name }

// Forward returns f(x).
func (l *Func) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return l.f(x)
}

// Params returns nothing.
func (l *Func) Params() []Param { return nil }
