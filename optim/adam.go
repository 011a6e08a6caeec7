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
// kernel computes 1-β in float32: 1-0.999 is then 1.3e-5 off). WeightDecay is coupled L2
// regularization: it passes through the moments; for decoupled decay use AdamW. The state is
// "<name>.moment1", "<name>.moment2" and the step count "<name>.step" in the metadata.
type Adam struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-8

	Base
	adam
}

// NewAdam returns Paddle's Adam(learning_rate=lr, parameters=params) with Paddle's defaults
// β1 = 0.9, β2 = 0.999, ε = 1e-8 (Paddle's default lr is 0.001). It panics if lr is not positive
// and finite, or a parameter is nil or given twice.
func NewAdam(params []nn.Param, lr float32) *Adam {
	o := &Adam{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}
	o.Base = NewBase("Adam", params, lr, o)
	return o
}

// Slots is Adam's Rule: the moments and the step counts.
func (o *Adam) Slots() Slots { return adamSlots }

// Prepare is Adam's Rule: it panics if a β is outside [0, 1) or Epsilon is negative or not finite.
func (o *Adam) Prepare() { o.prepare(o.op, o.Beta1, o.Beta2, o.Epsilon) }

// Update is Adam's Rule.
func (o *Adam) Update(u *Update) { o.update(u, o.Beta1, o.Beta2, o.Epsilon, u.WeightDecay, 0) }

// AdamW is paddle.optimizer.AdamW: Adam with decoupled weight decay. Paddle's kernel first
// shrinks the parameter with the plain learning rate, p -= lr·λ·p, where λ is WeightDecay
// (Paddle's default 0.01), then takes Adam's step (see Adam) with the gradient alone, as
// PyTorch's AdamW. The state is Adam's.
type AdamW struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-8
	// ApplyDecay, if set, says which parameters decay, by name (Paddle's apply_decay_param_fun);
	// nil decays every parameter.
	ApplyDecay func(name string) bool

	Base
	adam
}

// NewAdamW returns Paddle's AdamW(learning_rate=lr, parameters=params) with its defaults β1 = 0.9,
// β2 = 0.999, ε = 1e-8 and weight_decay 0.01 (the WeightDecay field). It panics if lr is not
// positive and finite, or a parameter is nil or given twice.
func NewAdamW(params []nn.Param, lr float32) *AdamW {
	o := &AdamW{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8}
	o.Base = NewBase("AdamW", params, lr, o)
	o.WeightDecay = 0.01
	return o
}

// Slots is AdamW's Rule: Adam's.
func (o *AdamW) Slots() Slots { return adamSlots }

// Prepare is AdamW's Rule: Adam's checks.
func (o *AdamW) Prepare() { o.prepare(o.op, o.Beta1, o.Beta2, o.Epsilon) }

// Update is AdamW's Rule.
func (o *AdamW) Update(u *Update) {
	var decay float32
	if u.WeightDecay != 0 && (o.ApplyDecay == nil || o.ApplyDecay(u.Name)) {
		decay = u.LR * u.WeightDecay
	}
	o.update(u, o.Beta1, o.Beta2, o.Epsilon, 0, decay)
}

var adamSlots = Slots{Buffers: []string{"moment1", "moment2"}, Steps: true}

// adam is what Adam and AdamW compute once per Step and cache between Steps.
type adam struct {
	lr64, b1, b2 dec
	c1, c2       float32 // 1-β1, 1-β2
}

func (a *adam) prepare(op string, beta1, beta2, eps float32) {
	checkUnit(op, "Beta1", beta1)
	checkUnit(op, "Beta2", beta2)
	checkNonNeg(op, "Epsilon", eps)
	// 1-β in float64, as PyTorch's Python does: 1 - 0.999 in float32 is 0.000999987 (Paddle's
	// kernel computes that), 1.3e-5 off, which shows in the third significant digit of an update.
	a.c1, a.c2 = float32(1-a.b1.of(beta1)), float32(1-a.b2.of(beta2))
}

// update is one parameter's step: coupled is the L2 coefficient added to the gradient (Adam),
// decay the AdamW shrink factor lr·λ.
func (a *adam) update(u *Update, beta1, beta2, eps, coupled, decay float32) {
	t := float64(u.Step)
	stepSize := float32(a.lr64.of(u.LR) / (1 - math.Pow(a.b1.v, t)))
	invSqrtBC2 := float32(1 / math.Sqrt(1-math.Pow(a.b2.v, t)))
	adamUpdate(u.P, u.G, u.Slots[0], u.Slots[1], beta1, beta2, a.c1, a.c2, eps, coupled, decay, stepSize, invSqrtBC2, u.scale, u.b)
}

// adamGrain is the elements per chunk when adamUpdate splits a long parameter over goroutines.
const adamGrain = 8192

// adamUpdate is one parameter's Adam step. The elements are independent, so a long parameter is
// split over goroutines (LeNet's 400×120 weight holds four fifths of its parameters), with
// the same result.
func adamUpdate(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) {
	if len(p) >= 2*adamGrain {
		kernel.ParallelFor(len(p), adamGrain, func(lo, hi int) {
			adamUpdateRange(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, b)
		})
		return
	}
	adamUpdateRange(p, g, m, v, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, b)
}

// adamUpdateRange is adamUpdate on one goroutine.
func adamUpdateRange(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) {
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
