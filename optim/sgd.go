package optim

import (
	"github.com/oarlab/oar/nn"
)

// SGD is paddle.optimizer.SGD: p -= lr·g, where g is the (clipped) gradient plus
// WeightDecay·p. It has no state besides the learning rate, so its saved state holds no tensors.
type SGD struct {
	Base
}

// NewSGD returns Paddle's SGD(learning_rate=lr, parameters=params). The parameters' names key the
// saved state. It panics if lr is not positive and finite, or a parameter is nil or given twice
// (the same tensor or the same name).
func NewSGD(params []nn.Param, lr float32) *SGD {
	o := &SGD{}
	o.Base = NewBase("SGD", params, lr, o)
	return o
}

// Slots is SGD's Rule: no buffers.
func (o *SGD) Slots() Slots { return Slots{} }

// Prepare is SGD's Rule: nothing to check.
func (o *SGD) Prepare() {}

// Update is SGD's Rule: p -= lr·(g + WeightDecay·p).
func (o *SGD) Update(u *Update) { sgdUpdate(u.P, u.G, u.LR, u.WeightDecay, u.scale, u.b) }

func sgdUpdate(p, g []float32, lr, wd, s float32, b bounds) {
	g = g[:len(p)]
	if !b.on {
		for i, pi := range p {
			p[i] = pi - lr*(g[i]*s+wd*pi)
		}
		return
	}
	for i, pi := range p {
		p[i] = pi - lr*(clamp(g[i]*s, b.lo, b.hi)+wd*pi)
	}
}

// Momentum is paddle.optimizer.Momentum: with g the (clipped) gradient plus WeightDecay·p,
//
//	v = μ·v + g
//	p -= lr·v             (Nesterov: p -= lr·(g + μ·v))
//
// Its state is the velocity v of each parameter, saved as "<name>.velocity".
type Momentum struct {
	// Momentum is μ, in [0, 1); NewMomentum sets Paddle's default, 0.9.
	Momentum float32
	// Nesterov uses Nesterov's update (Paddle's use_nesterov).
	Nesterov bool

	Base
}

// NewMomentum returns Paddle's Momentum(learning_rate=lr, parameters=params), with Paddle's
// momentum 0.9; set the Momentum field for another. It panics if lr is not positive and finite,
// or a parameter is nil or given twice.
func NewMomentum(params []nn.Param, lr float32) *Momentum {
	o := &Momentum{Momentum: 0.9}
	o.Base = NewBase("Momentum", params, lr, o)
	return o
}

// Slots is Momentum's Rule: the velocity.
func (o *Momentum) Slots() Slots { return Slots{Buffers: []string{"velocity"}} }

// Prepare is Momentum's Rule: it panics if Momentum is outside [0, 1).
func (o *Momentum) Prepare() { checkUnit(o.op, "Momentum", o.Momentum) }

// Update is Momentum's Rule.
func (o *Momentum) Update(u *Update) {
	momentumUpdate(u.P, u.G, u.Slots[0], u.LR, o.Momentum, u.WeightDecay, u.scale, u.b, o.Nesterov)
}

func momentumUpdate(p, g, v []float32, lr, mu, wd, s float32, b bounds, nesterov bool) {
	g, v = g[:len(p)], v[:len(p)]
	for i, pi := range p {
		gi := g[i] * s
		if b.on {
			gi = clamp(gi, b.lo, b.hi)
		}
		gi += wd * pi
		vi := mu*v[i] + gi
		v[i] = vi
		if nesterov {
			p[i] = pi - (gi+mu*vi)*lr
		} else {
			p[i] = pi - lr*vi
		}
	}
}
