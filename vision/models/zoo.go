package models

import (
	"fmt"
	"math"

	"github.com/oarlab/oar/nn"
)

// classes resolves a NumClasses option: 0 is Paddle's default 1000, a negative value is Paddle's
// num_classes <= 0 (no classifier), anything else is itself.
func classes(n int) int {
	if n == 0 {
		return 1000
	}
	return n
}

// scale resolves a Scale option: 0 is Paddle's default 1.0. It panics, naming the model, on a
// negative or non-finite scale.
func scale(model string, s float64) float64 {
	if s == 0 {
		return 1
	}
	if !(s > 0) || math.IsInf(s, 0) {
		panic(&nn.Error{Layer: model, Msg: fmt.Sprintf("scale %v: want > 0", s)})
	}
	return s
}

// makeDivisible is Paddle's _make_divisible (vision/models/_utils.py), as torchvision's: v
// rounded to the nearest multiple of divisor, at least divisor, and not below 90% of v.
func makeDivisible(v float64, divisor int) int {
	n := max(divisor, int(v+float64(divisor)/2)/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}

// conv returns a Conv2D with Paddle's default initializer and the given stride, padding and
// groups; bias says whether it has one.
func conv(in, out, kernel, stride, padding, groups int, bias bool) *nn.Conv2D {
	return nn.NewConv2D(in, out, kernel, nn.Conv2DOptions{
		Stride: []int{stride}, Padding: []int{padding}, Groups: groups, NoBias: !bias,
	})
}

// convNormAct is Paddle's paddle.vision.ops.ConvNormActivation with a BatchNorm2D: a Sequential
// of Conv2D (no bias, padding (kernel-1)/2), BatchNorm2D and act (none if act is nil), so that
// its keys are "0.weight", "1.weight", "1._mean", ... as Paddle's.
func convNormAct(in, out, kernel, stride, groups int, bn func(int) *nn.BatchNorm2D, act nn.Layer) *nn.Sequential {
	s := nn.NewSequential(conv(in, out, kernel, stride, (kernel-1)/2, groups, false), bn(out))
	if act != nil {
		s.Append(act)
	}
	return s
}

// batchNorm is nn.NewBatchNorm2D with Paddle's defaults (momentum 0.9, epsilon 1e-5).
func batchNorm(c int) *nn.BatchNorm2D { return nn.NewBatchNorm2D(c) }

// maxPool is paddle.nn.MaxPool2D(kernel, stride, padding).
func maxPool(kernel, stride, padding int) *nn.MaxPool2D {
	p := nn.NewMaxPool2D(kernel, stride)
	if padding > 0 {
		p.Options.Padding = []int{padding}
	}
	return p
}

// dropout returns a Dropout with drop probability p in Paddle's mode.
func dropout(p float32, mode nn.DropoutMode) *nn.Dropout {
	d := nn.NewDropout(p)
	d.Mode = mode
	return d
}

// named appends {name, l} to subs unless l is nil (a typed nil pointer counts as nil).
func named(subs []nn.Named, name string, l nn.Layer) []nn.Named {
	if isNil(l) {
		return subs
	}
	return append(subs, nn.Named{Name: name, Layer: l})
}

func isNil(l nn.Layer) bool {
	switch v := l.(type) {
	case nil:
		return true
	case *nn.Sequential:
		return v == nil
	case *nn.Linear:
		return v == nil
	case *nn.Conv2D:
		return v == nil
	case *nn.AdaptiveAvgPool2D:
		return v == nil
	case *nn.Dropout:
		return v == nil
	}
	return false
}

// oneOptions returns the options struct a constructor was given, or the zero value if none. It
// panics, naming the model, if more than one was given.
func oneOptions[T any](model string, opts []T) (o T) {
	switch len(opts) {
	case 0:
		return o
	case 1:
		return opts[0]
	}
	panic(&nn.Error{Layer: model, Msg: fmt.Sprintf("%d options structs given, want at most one", len(opts))})
}
