package optim

import (
	"math"

	"github.com/oarlab/oar/nn"
)

// Adamax is paddle.optimizer.Adamax, with the update of Paddle's adamax kernel: with g the
// (clipped) gradient plus WeightDecay·p and t the parameter's step count,
//
//	m = β1·m + (1-β1)·g
//	u = max(|g|, β2·u + ε)
//	p -= lr/(1-β1^t) · m/u
//
// Only the learning rate is bias-corrected (u, an infinity norm, needs none). ε is added to the
// decayed norm β2·u; PyTorch's Adamax adds it to the gradient instead, u = max(β2·u, |g|+ε),
// which gives a different u whenever |g| wins, and its default lr is 0.002 (Paddle's 0.001).
// As for Adam, 1-β1 and the bias correction are computed in float64 and each parameter counts
// its own steps. The state is "<name>.moment", "<name>.inf_norm" and "<name>.step" (Paddle's
// accumulators; its beta1_pow_acc is β1^t).
type Adamax struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-8

	Base
	lr64, b1 dec
	c1       float32 // 1-β1
}

// NewAdamax returns Paddle's Adamax(learning_rate=lr, parameters=params) with its defaults
// β1 = 0.9, β2 = 0.999, ε = 1e-8 (Paddle's default lr is 0.001). It panics if lr is not positive
// and finite, or a parameter is nil or given twice.
func NewAdamax(params []nn.Param, lr float32) *Adamax {
	o := &Adamax{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}
	o.Base = NewBase("Adamax", params, lr, o)
	return o
}

// Slots is Adamax's Rule: Paddle's moment and infinity norm, and the step counts.
func (o *Adamax) Slots() Slots {
	return Slots{Buffers: []string{"moment", "inf_norm"}, Steps: true}
}

// Prepare is Adamax's Rule: it panics if a β is outside [0, 1) or Epsilon is negative or not
// finite.
func (o *Adamax) Prepare() {
	checkUnit(o.op, "Beta1", o.Beta1)
	checkUnit(o.op, "Beta2", o.Beta2)
	checkNonNeg(o.op, "Epsilon", o.Epsilon)
	o.c1 = float32(1 - o.b1.of(o.Beta1))
}

// Update is Adamax's Rule.
func (o *Adamax) Update(u *Update) {
	m, inf := u.Slots[0][:len(u.P)], u.Slots[1][:len(u.P)]
	lrT := float32(o.lr64.of(u.LR) / (1 - math.Pow(o.b1.v, float64(u.Step))))
	b1, c1, b2, eps := o.Beta1, o.c1, o.Beta2, o.Epsilon
	for i, p := range u.P {
		g := u.Grad(i)
		m[i] = b1*m[i] + c1*g
		inf[i] = max(float32(math.Abs(float64(g))), b2*inf[i]+eps)
		u.P[i] = p - lrT*(m[i]/inf[i])
	}
}

var _ Optimizer = (*Adamax)(nil)
