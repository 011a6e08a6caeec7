package optim

import (
	"math"

	"github.com/oarlab/oar/nn"
)

// Lamb is paddle.optimizer.Lamb (Layer-wise Adaptive Moments for Batch training), with the update
// of Paddle's lamb kernel: with g the (clipped) gradient, t the parameter's step count and λ the
// LAMB weight decay (WeightDecay, Paddle's lamb_weight_decay),
//
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	r = (m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + ε) + λ·p
//	p -= lr · ‖p‖/‖r‖ · r
//
// where ‖·‖ is the L2 norm over the whole parameter (the trust ratio, layer-wise) and the ratio
// is 1 when either norm is 0. λ·p is decoupled from the moments, as in AdamW, and lives inside
// the trust ratio. With λ = 0 for a parameter (ExcludeFromWeightDecay) Paddle's kernel skips the
// norms and uses the ratio 1, a plain bias-corrected Adam step, unless AlwaysAdapt is set.
// Paddle's Lamb takes no coupled weight_decay: WeightDecay is λ only. The norms are summed in
// float64; 1-β and the bias corrections are computed in float64 as for Adam (Paddle's kernel
// keeps β^t as a float32 product). PyTorch has no Lamb. The state is "<name>.moment1",
// "<name>.moment2" and "<name>.step" (Paddle's beta1_pow_acc and beta2_pow_acc are β^t).
type Lamb struct {
	Beta1   float32 // β1 in [0, 1), default 0.9
	Beta2   float32 // β2 in [0, 1), default 0.999
	Epsilon float32 // ε >= 0, default 1e-6
	// ExcludeFromWeightDecay, if set, names the parameters that get no weight decay (Paddle's
	// exclude_from_weight_decay_fn, given the parameter's name here); nil decays every
	// parameter.
	ExcludeFromWeightDecay func(name string) bool
	// AlwaysAdapt applies the trust ratio also to parameters without weight decay (Paddle's
	// always_adapt, default false).
	AlwaysAdapt bool

	Base
	lr64, b1, b2 dec
	c1, c2       float32 // 1-β1, 1-β2
	r            []float32
}

// NewLamb returns Paddle's Lamb(learning_rate=lr, parameters=params) with its defaults
// lamb_weight_decay 0.01 (the WeightDecay field), β1 = 0.9, β2 = 0.999, ε = 1e-6 (Paddle's
// default lr is 0.001). It panics if lr is not positive and finite, or a parameter is nil or
// given twice.
func NewLamb(params []nn.Param, lr float32) *Lamb {
	o := &Lamb{Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-6}
	o.Base = NewBase("Lamb", params, lr, o)
	o.WeightDecay = 0.01
	return o
}

// Slots is Lamb's Rule: the moments and the step counts.
func (o *Lamb) Slots() Slots { return adamSlots }

// Prepare is Lamb's Rule: it panics if a β is outside [0, 1) or Epsilon is negative or not
// finite.
func (o *Lamb) Prepare() {
	checkUnit(o.op, "Beta1", o.Beta1)
	checkUnit(o.op, "Beta2", o.Beta2)
	checkNonNeg(o.op, "Epsilon", o.Epsilon)
	o.c1, o.c2 = float32(1-o.b1.of(o.Beta1)), float32(1-o.b2.of(o.Beta2))
}

// Update is Lamb's Rule.
func (o *Lamb) Update(u *Update) {
	n := len(u.P)
	m, v := u.Slots[0][:n], u.Slots[1][:n]
	if cap(o.r) < n {
		o.r = make([]float32, n)
	}
	r := o.r[:n]
	wd := u.WeightDecay
	if o.ExcludeFromWeightDecay != nil && o.ExcludeFromWeightDecay(u.Name) {
		wd = 0
	}
	t := float64(u.Step)
	bc1 := float32(1 - math.Pow(o.b1.v, t))
	bc2 := float32(1 - math.Pow(o.b2.v, t))
	b1, b2, c1, c2, eps := o.Beta1, o.Beta2, o.c1, o.c2, o.Epsilon
	for i, p := range u.P {
		g := u.clipped(i)
		m[i] = b1*m[i] + c1*g
		v[i] = b2*v[i] + c2*g*g
		r[i] = (m[i]/bc1)/(sqrt32(v[i]/bc2)+eps) + wd*p
	}
	ratio := 1.0
	if wd > 0 || o.AlwaysAdapt {
		var pn, rn float64
		for i, p := range u.P {
			pn += float64(p) * float64(p)
			rn += float64(r[i]) * float64(r[i])
		}
		if pn > 0 && rn > 0 {
			ratio = math.Sqrt(pn) / math.Sqrt(rn)
		}
	}
	step := float32(o.lr64.of(u.LR) * ratio)
	for i, p := range u.P {
		u.P[i] = p - step*r[i]
	}
}

// clipped returns gradient element i clipped by the optimizer's GradClip, without the coupled
// L2 term that Grad adds: for rules whose weight decay is decoupled.
func (u *Update) clipped(i int) float32 {
	g := u.G[i] * u.scale
	if u.b.on {
		g = clamp(g, u.b.lo, u.b.hi)
	}
	return g
}

var _ Optimizer = (*Lamb)(nil)
