package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// Init fills a parameter in place. fanIn and fanOut are the layer's: in and out features for
// Linear, in_channels/groups*kh*kw and out_channels*kh*kw for Conv2D.
type Init func(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand)

// Constant fills with v (Paddle's Constant; biases default to Constant(0)).
func Constant(v float32) Init {
	return func(w *tensor.Tensor, _, _ int, _ *rand.Rand) {
		for i := range w.Data() {
			w.Data()[i] = v
		}
	}
}

// Normal draws from N(mean, std²).
func Normal(mean, std float32) Init {
	return func(w *tensor.Tensor, _, _ int, rng *rand.Rand) {
		for i := range w.Data() {
			w.Data()[i] = mean + std*float32(rng.NormFloat64())
		}
	}
}

// Uniform draws from U[lo, hi).
func Uniform(lo, hi float32) Init {
	return func(w *tensor.Tensor, _, _ int, rng *rand.Rand) {
		for i := range w.Data() {
			w.Data()[i] = lo + (hi-lo)*float32(rng.Float64())
		}
	}
}

// XavierUniform draws from U[-a, a] with a = sqrt(6/(fanIn+fanOut)) (Glorot; Paddle's default
// for Linear weights).
func XavierUniform() Init {
	return func(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
		a := float32(math.Sqrt(6 / float64(fanIn+fanOut)))
		Uniform(-a, a)(w, fanIn, fanOut, rng)
	}
}

// XavierNormal draws from N(0, 2/(fanIn+fanOut)).
func XavierNormal() Init {
	return func(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
		Normal(0, float32(math.Sqrt(2/float64(fanIn+fanOut))))(w, fanIn, fanOut, rng)
	}
}

// KaimingUniform draws from U[-a, a] with a = sqrt(6/fanIn) (He, for ReLU networks; Paddle's
// KaimingUniform with its default gain).
func KaimingUniform() Init {
	return func(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
		a := float32(math.Sqrt(6 / float64(fanIn)))
		Uniform(-a, a)(w, fanIn, fanOut, rng)
	}
}

// KaimingNormal draws from N(0, 2/fanIn) (He; Paddle's KaimingNormal). With fanIn =
// in_channels*kh*kw it is also Paddle's default for Conv2D weights.
func KaimingNormal() Init {
	return func(w *tensor.Tensor, fanIn, fanOut int, rng *rand.Rand) {
		Normal(0, float32(math.Sqrt(2/float64(fanIn))))(w, fanIn, fanOut, rng)
	}
}

// LinearOptions are NewLinear's optional settings, Paddle's weight_attr and bias_attr. The zero
// value is Paddle's default.
type LinearOptions struct {
	WeightInit Init       // nil: XavierUniform()
	BiasInit   Init       // nil: Constant(0)
	NoBias     bool       // no bias (Paddle's bias_attr=False)
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// Conv2DOptions are NewConv2D's optional settings: Paddle's Conv2D arguments after kernel_size.
// The zero value is Paddle's default (stride 1, no padding, dilation 1, one group, weight
// N(0, 2/(in*kh*kw)), bias zero).
type Conv2DOptions struct {
	Stride   []int          // 1 value (both axes) or 2 (h, w); nil means 1
	Padding  []int          // 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right)
	PadMode  tensor.PadMode // tensor.PadSame or tensor.PadValid instead of Padding
	Dilation []int          // 1 or 2 values; nil means 1
	Groups   int            // 0 means 1

	KernelSize [2]int // (kh, kw) for a rectangular window instead of NewConv2D's square one

	WeightInit Init       // nil: Normal(0, sqrt(2/(in*kh*kw)))
	BiasInit   Init       // nil: Constant(0)
	NoBias     bool       // no bias (Paddle's bias_attr=False)
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// oneOptions returns the options struct a constructor was given, or the zero value if none. It
// panics if more than one was given.
func oneOptions[T any](layer string, opts []T) (o T) {
	switch len(opts) {
	case 0:
		return o
	case 1:
		return opts[0]
	}
	panic(&Error{Layer: layer, Msg: fmt.Sprintf("%d options structs given, want at most one", len(opts))})
}

// newParam returns a parameter of shape filled by init, drawn from rng or, if nil, from the
// shared source.
func newParam(rng *rand.Rand, init Init, fanIn, fanOut int, shape ...int) *tensor.Tensor {
	w := tensor.Zeros(shape...)
	if rng != nil {
		init(w, fanIn, fanOut, rng)
	} else {
		withRand(func(rng *rand.Rand) { init(w, fanIn, fanOut, rng) })
	}
	return w.SetRequiresGrad(true)
}
