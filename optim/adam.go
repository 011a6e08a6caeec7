package optim

import (
	"math"

	"github.com/oarlab/oar/internal/kernel"
	"github.com/oarlab/oar/nn"
)

// Adam is paddle.optimizer.Adam with the update of Paddle's kernel, which equals PyTorch's: with
// g the (clipped) gradient plus WeightDecay·p and t the parameter's step count,
//
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)
//
// ε is added after the bias correction of v. (Paddle's docstring writes
// lr_t = lr·sqrt(1-β2^t)/(1-β1^t), p -= lr_t·m/(sqrt(v)+ε), but its kernel scales ε by
// sqrt(1-β2^t), which is the form above.) Each parameter counts its own steps, as Paddle's
// per-parameter β^t accumulators do, so a parameter skipped for lack of a gradient keeps its
// bias correction. The bias corrections and 1-β are computed in float64, as PyTorch does (Paddle's
// kernel computes 1-β in float32: 1-0.999 is then 1.3e-5 off). The state is "<name>.moment1",
// "<name>.moment2" and the step count "<name>.step" in the metadata.
type Adam struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-8
	// WeightDecay is the L2 regularization coefficient (Paddle's float weight_decay), coupled:
	// it is added to the gradient, so it passes through the moments. For decoupled decay use AdamW.
	WeightDecay float32
	// GradClip clips the gradients before the update; nil means none.
	GradClip GradClip
	// Scheduler, if set, gives the learning rate of each Step.
	Scheduler Scheduler

	adam
}

// NewAdam returns Paddle's Adam(learning_rate=lr, parameters=params) with Paddle's defaults
// β1 = 0.9, β2 = 0.999, ε = 1e-8 (Paddle's default lr is 0.001). It panics if lr is not positive
// and finite, or a parameter is nil or given twice.
func NewAdam(params []nn.Param, lr float32) *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, adam: newAdam("Adam", params, lr)}
}

// Step updates every parameter with a gradient. It panics if a β is outside [0, 1), Epsilon or
// WeightDecay is negative or not finite, or the Scheduler's learning rate is negative.
func (o *Adam) Step() {
	o.step(o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay, 0, nil, o.GradClip, o.Scheduler)
}

// ClearGrad zeroes the parameters' gradients.
func (o *Adam) ClearGrad() { o.clearGrad() }

// LR returns the learning rate of the next Step.
func (o *Adam) LR() float32 { return o.lrNow(o.Scheduler) }

// SetLR sets a constant learning rate. It panics if lr is not positive and finite or a Scheduler
// is attached.
func (o *Adam) SetLR(lr float32) { o.setLR(lr, o.Scheduler) }

// State returns the moments, step counts, learning rate and scheduler state.
func (o *Adam) State() State { return o.state(o.slots(), o.steps, o.Scheduler) }

// SetState restores a state saved from an Adam with the same parameters and kind of scheduler.
func (o *Adam) SetState(st State) error { return o.setState(st, o.slots(), o.steps, o.Scheduler) }

// AdamW is paddle.optimizer.AdamW: Adam with decoupled weight decay. Paddle's kernel first
// shrinks the parameter with the plain learning rate, p -= lr·λ·p, then takes Adam's step (see
// Adam) with the gradient alone, as PyTorch's AdamW. The state is Adam's.
type AdamW struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-8
	// WeightDecay is λ, the decoupled decay coefficient (Paddle's default is 0.01).
	WeightDecay float32
	// ApplyDecay, if set, says which parameters decay, by name (Paddle's apply_decay_param_fun);
	// nil decays every parameter.
	ApplyDecay func(name string) bool
	// GradClip clips the gradients before the update; nil means none.
	GradClip GradClip
	// Scheduler, if set, gives the learning rate of each Step.
	Scheduler Scheduler

	adam
}

// NewAdamW returns Paddle's AdamW(learning_rate=lr, parameters=params, weight_decay=weightDecay)
// with β1 = 0.9, β2 = 0.999, ε = 1e-8. It panics if lr is not positive and finite, weightDecay is
// negative or not finite, or a parameter is nil or given twice.
func NewAdamW(params []nn.Param, lr, weightDecay float32) *AdamW {
	checkNonNeg("AdamW", "weight decay", weightDecay)
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightDecay: weightDecay, adam: newAdam("AdamW", params, lr)}
}

// Step updates every parameter with a gradient. It panics as Adam's Step does.
func (o *AdamW) Step() {
	o.step(o.Beta1, o.Beta2, o.Epsilon, 0, o.WeightDecay, o.ApplyDecay, o.GradClip, o.Scheduler)
}

// ClearGrad zeroes the parameters' gradients.
func (o *AdamW) ClearGrad() { o.clearGrad() }

// LR returns the learning rate of the next Step.
func (o *AdamW) LR() float32 { return o.lrNow(o.Scheduler) }

// SetLR sets a constant learning rate. It panics if lr is not positive and finite or a Scheduler
// is attached.
func (o *AdamW) SetLR(lr float32) { o.setLR(lr, o.Scheduler) }

// State returns the moments, step counts, learning rate and scheduler state.
func (o *AdamW) State() State { return o.state(o.slots(), o.steps, o.Scheduler) }

// SetState restores a state saved from an AdamW with the same parameters and kind of scheduler.
func (o *AdamW) SetState(st State) error { return o.setState(st, o.slots(), o.steps, o.Scheduler) }

// adam is the machinery Adam and AdamW share.
type adam struct {
	core
	m, v         [][]float32
	steps        []int64
	lr64, b1, b2 dec
	slotsCache   []slot
}

func newAdam(op string, params []nn.Param, lr float32) adam {
	a := adam{core: newCore(op, params, lr)}
	a.m, a.v = buffers(a.params), buffers(a.params)
	a.steps = make([]int64, len(a.params))
	a.slotsCache = []slot{{"moment1", a.m}, {"moment2", a.v}}
	return a
}

func (a *adam) slots() []slot { return a.slotsCache }

// step is one update: coupled is the L2 coefficient added to the gradient (Adam), decoupled the
// AdamW decay applied to the parameters that apply says decay.
func (a *adam) step(beta1, beta2, eps, coupled, decoupled float32, apply func(string) bool, clip GradClip, s Scheduler) {
	checkUnit(a.op, "Beta1", beta1)
	checkUnit(a.op, "Beta2", beta2)
	checkNonNeg(a.op, "Epsilon", eps)
	checkNonNeg(a.op, "WeightDecay", coupled)
	checkNonNeg(a.op, "WeightDecay", decoupled)
	lr := a.lrNow(s)
	lr64, b1, b2 := a.lr64.of(lr), a.b1.of(beta1), a.b2.of(beta2)
	// 1-β in float64, as PyTorch's Python does: 1 - 0.999 in float32 is 0.000999987 (Paddle's
	// kernel computes that), 1.3e-5 off, which shows in the third significant digit of an update.
	c1, c2 := float32(1-b1), float32(1-b2)
	bd := a.clip(clip)
	for i, p := range a.params {
		g := p.Grad()
		if g == nil {
			continue
		}
		a.steps[i]++
		t := float64(a.steps[i])
		stepSize := float32(lr64 / (1 - math.Pow(b1, t)))
		invSqrtBC2 := float32(1 / math.Sqrt(1-math.Pow(b2, t)))
		var decay float32
		if decoupled != 0 && (apply == nil || apply(p.Name)) {
			decay = lr * decoupled
		}
		adamUpdate(p.Data(), g.Data(), a.m[i], a.v[i], beta1, beta2, c1, c2, eps, coupled, decay, stepSize, invSqrtBC2, a.scale[i], bd)
	}
}

func adamUpdate(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	// Most elements go through the vector loop (same operations, same results); the rest here.
	done := kernel.AdamVector(p, g, m, v, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, b.lo, b.hi, b.on)
	adamUpdateGo(p[done:], g[done:], m[done:], v[done:], b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, b)
}

// adamUpdateGo is adamUpdate's loop, one element at a time.
func adamUpdateGo(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, pi := range p {
		pi -= decay * pi // AdamW's decoupled decay, with the plain learning rate; 0 for Adam
		gi := g[i] * s
		if b.on {
			gi = clamp(gi, b.lo, b.hi)
		}
		gi += wd * pi
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		p[i] = pi - stepSize*mi/(sqrt32(vi)*invSqrtBC2+eps)
	}
}
