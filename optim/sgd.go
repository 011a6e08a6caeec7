package optim

import (
	"github.com/oarlab/oar/nn"
)

// SGD is paddle.optimizer.SGD: p -= lr·g, where g is the (clipped) gradient plus
// WeightDecay·p. It has no state besides the learning rate, so its saved state holds no tensors.
type SGD struct {
	// WeightDecay is the L2 regularization coefficient, Paddle's float weight_decay: the
	// gradient becomes g + WeightDecay·p (after clipping, as Paddle). 0 means none.
	WeightDecay float32
	// GradClip clips the gradients before the update (Paddle's grad_clip); nil means none.
	GradClip GradClip
	// Scheduler, if set, gives the learning rate of each Step (Paddle's learning_rate=LRScheduler).
	Scheduler Scheduler

	core
}

// NewSGD returns Paddle's SGD(learning_rate=lr, parameters=params). The parameters' names key the
// saved state. It panics if lr is not positive and finite, or a parameter is nil or given twice
// (the same tensor or the same name).
func NewSGD(params []nn.Param, lr float32) *SGD {
	return &SGD{core: newCore("SGD", params, lr)}
}

// Step updates every parameter with a gradient: p -= lr·(g + WeightDecay·p). It panics if
// WeightDecay is negative or not finite, or the Scheduler's learning rate is negative.
func (o *SGD) Step() {
	checkNonNeg(o.op, "WeightDecay", o.WeightDecay)
	lr := o.lrNow(o.Scheduler)
	b := o.clip(o.GradClip)
	for i, p := range o.params {
		g := p.Grad()
		if g == nil {
			continue
		}
		sgdUpdate(p.Data(), g.Data(), lr, o.WeightDecay, o.scale[i], b)
	}
}

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

// ClearGrad zeroes the parameters' gradients.
func (o *SGD) ClearGrad() { o.clearGrad() }

// LR returns the learning rate of the next Step.
func (o *SGD) LR() float32 { return o.lrNow(o.Scheduler) }

// SetLR sets a constant learning rate. It panics if lr is not positive and finite or a Scheduler
// is attached.
func (o *SGD) SetLR(lr float32) { o.setLR(lr, o.Scheduler) }

// State returns the learning rate and the scheduler's state.
func (o *SGD) State() State { return o.state(nil, nil, o.Scheduler) }

// SetState restores a state saved from an SGD with the same parameters and kind of scheduler.
func (o *SGD) SetState(st State) error { return o.setState(st, nil, nil, o.Scheduler) }

// Momentum is paddle.optimizer.Momentum: with g the (clipped) gradient plus WeightDecay·p,
//
//	v = μ·v + g
//	p -= lr·v             (Nesterov: p -= lr·(g + μ·v))
//
// Its state is the velocity v of each parameter, saved as "<name>.velocity".
type Momentum struct {
	// Momentum is μ, in [0, 1); NewMomentum sets it.
	Momentum float32
	// Nesterov uses Nesterov's update (Paddle's use_nesterov).
	Nesterov bool
	// WeightDecay is the L2 regularization coefficient (Paddle's float weight_decay).
	WeightDecay float32
	// GradClip clips the gradients before the update; nil means none.
	GradClip GradClip
	// Scheduler, if set, gives the learning rate of each Step.
	Scheduler Scheduler

	core
	velocity [][]float32
}

// NewMomentum returns Paddle's Momentum(learning_rate=lr, momentum=momentum, parameters=params)
// (Paddle's default momentum is 0.9). It panics if lr is not positive and finite, momentum is
// outside [0, 1), or a parameter is nil or given twice.
func NewMomentum(params []nn.Param, lr, momentum float32) *Momentum {
	checkUnit("Momentum", "momentum", momentum)
	o := &Momentum{Momentum: momentum, core: newCore("Momentum", params, lr)}
	o.velocity = buffers(o.params)
	return o
}

// Step updates every parameter with a gradient. It panics if Momentum is outside [0, 1),
// WeightDecay is negative or not finite, or the Scheduler's learning rate is negative.
func (o *Momentum) Step() {
	checkUnit(o.op, "Momentum", o.Momentum)
	checkNonNeg(o.op, "WeightDecay", o.WeightDecay)
	lr := o.lrNow(o.Scheduler)
	b := o.clip(o.GradClip)
	for i, p := range o.params {
		g := p.Grad()
		if g == nil {
			continue
		}
		momentumUpdate(p.Data(), g.Data(), o.velocity[i], lr, o.Momentum, o.WeightDecay, o.scale[i], b, o.Nesterov)
	}
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

// ClearGrad zeroes the parameters' gradients.
func (o *Momentum) ClearGrad() { o.clearGrad() }

// LR returns the learning rate of the next Step.
func (o *Momentum) LR() float32 { return o.lrNow(o.Scheduler) }

// SetLR sets a constant learning rate. It panics if lr is not positive and finite or a Scheduler
// is attached.
func (o *Momentum) SetLR(lr float32) { o.setLR(lr, o.Scheduler) }

// State returns the velocities ("<name>.velocity"), the learning rate and the scheduler's state.
func (o *Momentum) State() State {
	return o.state([]slot{{"velocity", o.velocity}}, nil, o.Scheduler)
}

// SetState restores a state saved from a Momentum with the same parameters and kind of scheduler.
func (o *Momentum) SetState(st State) error {
	return o.setState(st, []slot{{"velocity", o.velocity}}, nil, o.Scheduler)
}

func buffers(params []nn.Param) [][]float32 {
	b := make([][]float32, len(params))
	for i, p := range params {
		b[i] = make([]float32, p.Len())
	}
	return b
}
