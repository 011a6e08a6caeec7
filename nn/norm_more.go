package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// NormOptions are the optional settings of NewLayerNorm, NewGroupNorm and NewInstanceNorm2D:
// Paddle's epsilon, weight_attr and bias_attr. The zero value is Paddle's default: epsilon 1e-5,
// a weight of ones and a bias of zeros, both trained.
type NormOptions struct {
	Epsilon    float32 // 0: 1e-5. (An epsilon of exactly 0 is not available; use a tiny one.)
	NoWeight   bool    // no weight (Paddle's weight_attr=False): the output is not scaled
	NoBias     bool    // no bias (Paddle's bias_attr=False): the output is not shifted
	WeightInit Init    // nil: Constant(1)
	BiasInit   Init    // nil: Constant(0)
	Rand       *rand.Rand
}

// affine returns the weight and bias of a normalisation layer with n values each, as o says.
func (o NormOptions) affine(n int) (w, b *tensor.Tensor) {
	if o.WeightInit == nil {
		o.WeightInit = Constant(1)
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	if !o.NoWeight {
		w = newParam(o.Rand, o.WeightInit, n, n, n)
	}
	if !o.NoBias {
		b = newParam(o.Rand, o.BiasInit, n, n, n)
	}
	return w, b
}

func (o NormOptions) epsilon() float32 {
	if o.Epsilon == 0 {
		return 1e-5
	}
	return o.Epsilon
}

// normParams returns "weight" and "bias", those that are not nil.
func normParams(w, b *tensor.Tensor) []Param {
	var ps []Param
	if w != nil {
		ps = append(ps, Param{"weight", w})
	}
	if b != nil {
		ps = append(ps, Param{"bias", b})
	}
	return ps
}

// LayerNorm normalises each sample over its trailing axes, as paddle.nn.LayerNorm: every slice
// of the last len(NormalizedShape) axes becomes (x - mean)/sqrt(var + Epsilon)*Weight + Bias,
// with the slice's mean and biased variance, in training and evaluation alike. Weight and Bias
// hold prod(NormalizedShape) values as a 1-D tensor, Paddle's layout (PyTorch's has the shape
// NormalizedShape); either may be nil (Paddle's weight_attr/bias_attr=False, PyTorch's
// elementwise_affine=False drops both). It runs as one op, tensor.LayerNorm.
type LayerNorm struct {
	Hooks
	NormalizedShape []int
	Weight, Bias    *tensor.Tensor // [prod(NormalizedShape)] or nil; ones and zeros at first
	Epsilon         float32
}

// NewLayerNorm returns a LayerNorm over the trailing axes normalizedShape (Paddle's
// normalized_shape: []int{d} for the last axis) with Paddle's defaults, epsilon 1e-5 and a
// trained weight of ones and bias of zeros; opts (at most one) changes them. It panics if
// normalizedShape is empty or has a dimension below 1.
func NewLayerNorm(normalizedShape []int, opts ...NormOptions) *LayerNorm {
	if len(normalizedShape) == 0 || slices.Min(normalizedShape) < 1 {
		panic(&Error{Layer: "LayerNorm", Msg: fmt.Sprintf("normalized shape %v: want one or more dimensions, each at least 1", normalizedShape)})
	}
	o := oneOptions("LayerNorm", opts)
	d := 1
	for _, v := range normalizedShape {
		d *= v
	}
	l := &LayerNorm{NormalizedShape: slices.Clone(normalizedShape), Epsilon: o.epsilon()}
	l.Weight, l.Bias = o.affine(d)
	return l
}

// Forward normalises x [..., NormalizedShape...]. It panics if x's trailing axes are not
// NormalizedShape.
func (l *LayerNorm) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	s, k := x.Shape(), len(l.NormalizedShape)
	if len(s) < k || !slices.Equal(s[len(s)-k:], l.NormalizedShape) {
		panicf(l, "input %v, want [..., %s]", s, dims(l.NormalizedShape))
	}
	return x.LayerNorm(l.NormalizedShape, l.Weight, l.Bias, l.Epsilon)
}

// Params returns "weight" and "bias", those that are present.
func (l *LayerNorm) Params() []Param { return normParams(l.Weight, l.Bias) }

// dims formats a shape's dimensions without brackets: "3, 4".
func dims(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	return s
}
