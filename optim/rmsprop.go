package optim

import "github.com/oarlab/oar/nn"

// RMSProp is paddle.optimizer.RMSProp, with the update of Paddle's rmsprop kernel: with g the
// (clipped) gradient plus WeightDecay·p, ρ Rho, μ Momentum and ε Epsilon,
//
//	ms = ρ·ms + (1-ρ)·g²
//	mom = μ·mom + lr·g / sqrt(ms + ε)
//	p -= mom
//
// and with Centered, mg = ρ·mg + (1-ρ)·g and the denominator sqrt(ms - mg² + ε). ε is inside the
// square root and lr inside mom. PyTorch's RMSprop differs: its defaults are alpha (ρ) 0.99 and
// eps 1e-8, it adds eps outside the square root, sqrt(ms)+eps, and it keeps lr out of the
// momentum buffer (buf = μ·buf + g/(sqrt(ms)+eps), p -= lr·buf). As for Adam, 1-ρ is computed in
// float64. The state is "<name>.momentum", "<name>.mean_square" and "<name>.mean_grad" (Paddle's
// accumulators; mean_grad stays zero unless Centered).
type RMSProp struct {
	Rho      float32 // ρ in [0, 1), default 0.95
	Epsilon  float32 // ε >= 0, default 1e-6
	Momentum float32 // μ in [0, 1), default 0
	Centered bool    // normalize by the estimated variance of g, not its second moment

	Base
	rho dec
	c   float32 // 1-ρ
}

// NewRMSProp returns Paddle's RMSProp(learning_rate=lr, parameters=params) with Paddle's
// defaults ρ = 0.95, ε = 1e-6, momentum 0. It panics if lr is not positive and finite, or a
// parameter is nil or given twice.
func NewRMSProp(params []nn.Param, lr float32) *RMSProp {
	o := &RMSProp{Rho: 0.95, Epsilon: 1e-6}
	o.Base = NewBase("RMSProp", params, lr, o)
	return o
}

// Slots is RMSProp's Rule: Paddle's three accumulators.
func (o *RMSProp) Slots() Slots {
	return Slots{Buffers: []string{"momentum", "mean_square", "mean_grad"}}
}

// Prepare is RMSProp's Rule: it panics if Rho or Momentum is outside [0, 1) or Epsilon is
// negative or not finite.
func (o *RMSProp) Prepare() {
	checkUnit(o.op, "Rho", o.Rho)
	checkNonNeg(o.op, "Epsilon", o.Epsilon)
	checkUnit(o.op, "Momentum", o.Momentum)
	o.c = float32(1 - o.rho.of(o.Rho))
}

// Update is RMSProp's Rule.
func (o *RMSProp) Update(u *Update) {
	mom, ms, mg := u.Slots[0][:len(u.P)], u.Slots[1][:len(u.P)], u.Slots[2][:len(u.P)]
	rho, c, eps, mu, lr := o.Rho, o.c, o.Epsilon, o.Momentum, u.LR
	for i, p := range u.P {
		g := u.Grad(i)
		ms[i] = rho*ms[i] + c*g*g
		d := ms[i]
		if o.Centered {
			mg[i] = rho*mg[i] + c*g
			d -= mg[i] * mg[i]
		}
		mom[i] = mu*mom[i] + lr*g/sqrt32(d+eps)
		u.P[i] = p - mom[i]
	}
}
