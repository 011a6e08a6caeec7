package nn

import (
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

// Option changes how a layer creates its parameters.
type Option func(*paramConfig)

type paramConfig struct {
	weightInit, biasInit Init
	noBias               bool
	rng                  *rand.Rand
	kernel               [2]int // Conv2D's (kh, kw) when not square
}

// KernelSize gives Conv2D a kh×kw window instead of the square one of its kernel argument.
func KernelSize(kh, kw int) Option { return func(c *paramConfig) { c.kernel = [2]int{kh, kw} } }

// WeightInit sets the weight initializer (Paddle's weight_attr initializer).
func WeightInit(i Init) Option { return func(c *paramConfig) { c.weightInit = i } }

// BiasInit sets the bias initializer (Paddle's bias_attr initializer).
func BiasInit(i Init) Option { return func(c *paramConfig) { c.biasInit = i } }

// NoBias creates the layer without a bias (Paddle's bias_attr=False).
func NoBias() Option { return func(c *paramConfig) { c.noBias = true } }

// WithRand draws the initial values from rng instead of the shared source that Seed sets.
func WithRand(rng *rand.Rand) Option { return func(c *paramConfig) { c.rng = rng } }

// newConfig applies opts over the defaults.
func newConfig(weight Init, opts []Option) paramConfig {
	c := paramConfig{weightInit: weight, biasInit: Constant(0)}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// param creates a parameter of shape filled by init, from the configured source.
func (c paramConfig) param(init Init, fanIn, fanOut int, shape ...int) *tensor.Tensor {
	w := tensor.Zeros(shape...)
	if c.rng != nil {
		init(w, fanIn, fanOut, c.rng)
	} else {
		withRand(func(rng *rand.Rand) { init(w, fanIn, fanOut, rng) })
	}
	return w.SetRequiresGrad(true)
}
