package optim

import "github.com/oarlab/oar/nn"

// Adadelta is paddle.optimizer.Adadelta, with the update of Paddle's adadelta kernel: with g the
// (clipped) gradient plus WeightDecay·p, ρ Rho and ε Epsilon,
//
//	E[g²] = ρ·E[g²] + (1-ρ)·g²
//	Δ = -sqrt(E[Δ²] + ε) / sqrt(E[g²] + ε) · g
//	p += lr·Δ
//	E[Δ²] = ρ·E[Δ²] + (1-ρ)·Δ²
//
// ε is inside both square roots, and E[Δ²] accumulates the update before the learning rate
// scales it. This is PyTorch's Adadelta update too; the defaults differ: Paddle's are lr 0.001,
// ρ 0.95, ε 1e-6, PyTorch's lr 1.0, rho 0.9, eps 1e-6 (port a PyTorch script with
// NewAdadelta(params, 1) and Rho = 0.9). Paddle's older adadelta op (before the learning rate
// became one of its inputs) applied Δ unscaled, as lr 1 does here. As for RMSProp, 1-ρ is
// computed in float64. The state is "<name>.avg_squared_grad" and "<name>.avg_squared_update"
// (Paddle's accumulators).
type Adadelta struct {
	Rho     float32 // ρ in [0, 1), default 0.95
	Epsilon float32 // ε >= 0, default 1e-6

	Base
	rho dec
	c   float32 // 1-ρ
}

// NewAdadelta returns Paddle's Adadelta(learning_rate=lr, parameters=params) with its defaults
// ρ = 0.95, ε = 1e-6 (Paddle's default lr is 0.001). It panics if lr is not positive and
// finite, or a parameter is nil or given twice.
func NewAdadelta(params []nn.Param, lr float32) *Adadelta {
	o := &Adadelta{Rho: 0.95, Epsilon: 1e-6}
	o.Base = NewBase("Adadelta", params, lr, o)
	return o
}

// Slots is Adadelta's Rule: Paddle's two accumulators.
func (o *Adadelta) Slots() Slots {
	return Slots{Buffers: []string{"avg_squared_grad", "avg_squared_update"}}
}

// Prepare is Adadelta's Rule: it panics if Rho is outside [0, 1) or Epsilon is negative or not
// finite.
func (o *Adadelta) Prepare() {
	checkUnit(o.op, "Rho", o.Rho)
	checkNonNeg(o.op, "Epsilon", o.Epsilon)
	o.c = float32(1 - o.rho.of(o.Rho))
}

// Update is Adadelta's Rule.
func (o *Adadelta) Update(u *Update) {
	sg, su := u.Slots[0][:len(u.P)], u.Slots[1][:len(u.P)]
	rho, c, eps, lr := o.Rho, o.c, o.Epsilon, u.LR
	for i, p := range u.P {
		g := u.Grad(i)
		sg[i] = rho*sg[i] + c*g*g
		d := -sqrt32(su[i]+eps) / sqrt32(sg[i]+eps) * g
		u.P[i] = p + lr*d
		su[i] = rho*su[i] + c*d*d
	}
}

var _ Optimizer = (*Adadelta)(nil)
