package nn

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// Linear is a fully connected layer, as paddle.nn.Linear: y = x·W + b with W of shape
// [in, out] (Paddle's layout, not PyTorch's [out, in]) and b of shape [out]. By default W is
// Xavier-uniform and b is zero.
type Linear struct {
	Hooks
	Weight *tensor.Tensor // [in, out]
	Bias   *tensor.Tensor // [out], or nil
}

// NewLinear returns a Linear layer from in to out features; opts (at most one) sets the
// initializers or drops the bias. It panics if in or out is below 1, or if more than one opts is
// given.
func NewLinear(in, out int, opts ...LinearOptions) *Linear {
	if in < 1 || out < 1 {
		panic(&Error{Layer: "Linear", Msg: fmt.Sprintf("in and out features must be at least 1, got %d and %d", in, out)})
	}
	o := oneOptions("Linear", opts)
	if o.WeightInit == nil {
		o.WeightInit = XavierUniform()
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	l := &Linear{Weight: newParam(o.Rand, o.WeightInit, in, out, in, out)}
	if !o.NoBias {
		l.Bias = newParam(o.Rand, o.BiasInit, in, out, out)
	}
	return l
}

// Forward maps x [..., in] to [..., out]. It panics if x's last axis is not in.
func (l *Linear) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if x.Rank() == 0 || x.Dim(-1) != l.Weight.Dim(0) {
		panicf(l, "input %v, weight %v", x.Shape(), l.Weight.Shape())
	}
	return x.Linear(l.Weight, l.Bias) // one op: the GEMM adds the bias as it writes
}

// Params returns "weight" and, if present, "bias".
func (l *Linear) Params() []Param { return weightBias(l.Weight, l.Bias) }

func weightBias(w, b *tensor.Tensor) []Param {
	ps := []Param{{"weight", w}}
	if b != nil {
		ps = append(ps, Param{"bias", b})
	}
	return ps
}
