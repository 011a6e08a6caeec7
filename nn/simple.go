package nn

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// MaxPool2D is paddle.nn.MaxPool2D over NCHW input. Options holds the kernel, stride (nil: the
// kernel, Paddle's stride=None), padding and ceil mode.
type MaxPool2D struct {
	Hooks
	Options tensor.PoolOptions
}

// NewMaxPool2D returns a max pool with a square kernel and stride (stride 0 means the kernel).
// Set fields of Options for padding or ceil mode. It panics if kernel < 1 or stride < 0.
func NewMaxPool2D(kernel, stride int) *MaxPool2D {
	return &MaxPool2D{Options: poolOptions("MaxPool2D", kernel, stride)}
}

func poolOptions(layer string, kernel, stride int) tensor.PoolOptions {
	if kernel < 1 || stride < 0 {
		panic(&Error{Layer: layer, Msg: "kernel must be at least 1 and stride at least 0"})
	}
	opt := tensor.PoolOptions{Kernel: []int{kernel}}
	if stride > 0 {
		opt.Stride = []int{stride}
	}
	return opt
}

// Forward pools x [N, C, H, W] (see tensor.MaxPool2D for the output size and panics).
func (l *MaxPool2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.MaxPool2D(l.Options)
}

// Params returns nothing: pooling has no parameters.
func (l *MaxPool2D) Params() []Param { return nil }

// AvgPool2D is paddle.nn.AvgPool2D over NCHW input; Options.Inclusive is Paddle's
// exclusive=False.
type AvgPool2D struct {
	Hooks
	Options tensor.PoolOptions
}

// NewAvgPool2D returns an average pool with a square kernel and stride (0 means the kernel).
// It panics if kernel < 1 or stride < 0.
func NewAvgPool2D(kernel, stride int) *AvgPool2D {
	return &AvgPool2D{Options: poolOptions("AvgPool2D", kernel, stride)}
}

// Forward pools x [N, C, H, W] (see tensor.AvgPool2D).
func (l *AvgPool2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.AvgPool2D(l.Options)
}

// Params returns nothing.
func (l *AvgPool2D) Params() []Param { return nil }

// Flatten merges a range of axes into one, as paddle.nn.Flatten, whose default (axes 1 to the
// last) keeps the batch axis: [N, C, H, W] → [N, C*H*W]. Build it with NewFlatten.
type Flatten struct {
	Hooks
	start, stop int
}

// NewFlatten returns a Flatten over the axes start..stop (inclusive, negative counting from the
// end): no arguments is Paddle's default (1, -1), one is the start axis (to the last). It panics
// if more than two axes are given.
func NewFlatten(axes ...int) *Flatten {
	switch len(axes) {
	case 0:
		return &Flatten{start: 1, stop: -1}
	case 1:
		return &Flatten{start: axes[0], stop: -1}
	case 2:
		return &Flatten{start: axes[0], stop: axes[1]}
	}
	panic(&Error{Layer: "Flatten", Msg: fmt.Sprintf("axes %v: want at most a start and a stop axis", axes)})
}

// Forward flattens x. It panics if an axis is out of range for x.
func (l *Flatten) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Flatten(l.start, l.stop)
}

// Params returns nothing.
func (l *Flatten) Params() []Param { return nil }

// ReLU is max(x, 0), as paddle.nn.ReLU. The zero value is ready to use; NewReLU returns one.
type ReLU struct{ Hooks }

// NewReLU returns a ReLU.
func NewReLU() *ReLU { return &ReLU{} }

// Forward applies ReLU element-wise.
func (l *ReLU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.ReLU()
}

// Params returns nothing.
func (l *ReLU) Params() []Param { return nil }

// LeakyReLU is x for x > 0 and Slope*x otherwise; Paddle's default slope is 0.01 (NewLeakyReLU).
type LeakyReLU struct {
	Hooks
	Slope float32
}

// NewLeakyReLU returns a LeakyReLU with Paddle's default negative slope, 0.01.
func NewLeakyReLU() *LeakyReLU { return &LeakyReLU{Slope: 0.01} }

// Forward applies LeakyReLU element-wise.
func (l *LeakyReLU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.LeakyReLU(l.Slope)
}

// Params returns nothing.
func (l *LeakyReLU) Params() []Param { return nil }

// Sigmoid is 1/(1+e^-x), as paddle.nn.Sigmoid. The zero value is ready to use.
type Sigmoid struct{ Hooks }

// NewSigmoid returns a Sigmoid.
func NewSigmoid() *Sigmoid { return &Sigmoid{} }

// Forward applies the sigmoid element-wise.
func (l *Sigmoid) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Sigmoid()
}

// Params returns nothing.
func (l *Sigmoid) Params() []Param { return nil }

// Tanh is the hyperbolic tangent, as paddle.nn.Tanh. The zero value is ready to use.
type Tanh struct{ Hooks }

// NewTanh returns a Tanh.
func NewTanh() *Tanh { return &Tanh{} }

// Forward applies tanh element-wise.
func (l *Tanh) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Tanh()
}

// Params returns nothing.
func (l *Tanh) Params() []Param { return nil }

// Softmax normalises along an axis, as paddle.nn.Softmax. Build it with NewSoftmax.
type Softmax struct {
	Hooks
	axis int
}

// NewSoftmax returns a Softmax over axis (negative counts from the end; Paddle's default is -1).
func NewSoftmax(axis int) *Softmax { return &Softmax{axis: axis} }

// Forward applies the softmax. It panics if the axis is out of range for x.
func (l *Softmax) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return x.Softmax(l.axis)
}

// Params returns nothing.
func (l *Softmax) Params() []Param { return nil }
