package optim

import (
	"slices"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// Base is the part every optimizer shares: the parameters, the learning rate or its Scheduler,
// weight decay, gradient clipping, the per-parameter buffers of the update rule and their state.
// An optimizer embeds a Base made by NewBase and supplies a Rule; Base's methods then implement
// Optimizer and Scheduled. A new optimizer is a type holding its hyper-parameters as fields, a
// constructor and the three methods of Rule (see RMSProp for a short one):
//
//	type Sign struct{ optim.Base }
//
//	func NewSign(params []nn.Param, lr float32) *Sign {
//		o := &Sign{}
//		o.Base = optim.NewBase("Sign", params, lr, o)
//		return o
//	}
//	func (o *Sign) Slots() optim.Slots { return optim.Slots{} }
//	func (o *Sign) Prepare()           {}
//	func (o *Sign) Update(u *optim.Update) {
//		for i, p := range u.P {
//			if g := u.Grad(i); g != 0 {
//				u.P[i] = p - u.LR*g/float32(math.Abs(float64(g)))
//			}
//		}
//	}
type Base struct {
	// WeightDecay is Paddle's float weight_decay, given to the rule as Update.WeightDecay. For
	// SGD, Momentum, Adam and RMSProp it is the L2 regularization coefficient, coupled: the
	// gradient becomes g + WeightDecay·p after clipping (Update.Grad). AdamW decouples it. 0
	// means none; a Step panics if it is negative or not finite.
	WeightDecay float32
	// GradClip clips the gradients before the update (Paddle's grad_clip); nil means none.
	GradClip GradClip
	// Scheduler, if set, gives the learning rate of each Step (Paddle's learning_rate=LRScheduler).
	Scheduler Scheduler

	op     string
	rule   Rule
	params []nn.Param
	lr     float32
	slots  []string
	bufs   [][][]float32 // bufs[i][k] is slot k of parameter i
	steps  []int64       // per-parameter step counts; nil unless the rule counts them
	scale  []float32     // per-parameter gradient scale from clipping
	u      Update        // reused by every update, so that Step does not allocate
}

// Rule is an optimizer's update rule, the part that differs between optimizers. Base calls it.
type Rule interface {
	// Slots says what the rule keeps per parameter. NewBase calls it once.
	Slots() Slots
	// Prepare is called at the start of every Step, before any update and even when no
	// parameter has a gradient: it panics if a hyper-parameter is out of range, and may compute
	// what the Step's updates share.
	Prepare()
	// Update updates one parameter that has a gradient, in place.
	Update(u *Update)
}

// Slots says what a Rule keeps for each parameter besides the parameter itself.
type Slots struct {
	// Buffers names the rule's per-parameter buffers (Paddle's accumulators), each of the
	// parameter's length, zeroed at the start and saved as "<param name>.<buffer name>".
	Buffers []string
	// Steps counts each parameter's updates (Update.Step), saved as "<param name>.step", for
	// rules that need it, such as Adam's bias correction.
	Steps bool
}

// Update is what a Rule's Update gets for one parameter of a Step. Base reuses it between calls.
type Update struct {
	Name        string      // the parameter's name
	P           []float32   // the parameter's values, to update in place
	G           []float32   // its gradient as Backward left it, len(P); do not change it
	Slots       [][]float32 // the parameter's buffers, in the order of Slots.Buffers, each len(P)
	Step        int64       // with Slots.Steps: this parameter's updates so far, this one included
	LR          float32     // the learning rate of this Step
	WeightDecay float32     // Base.WeightDecay

	scale float32 // the clip's scale of G
	b     bounds  // the clip's element bounds
}

// Grad returns gradient element i as a coupled update uses it: G[i] clipped by the optimizer's
// GradClip, plus WeightDecay·P[i] (Paddle clips first, then adds the L2 term). Call it before
// changing P[i].
func (u *Update) Grad(i int) float32 {
	g := u.G[i] * u.scale
	if u.b.on {
		g = clamp(g, u.b.lo, u.b.hi)
	}
	return g + u.WeightDecay*u.P[i]
}

// NewBase returns the Base of an optimizer named name (its errors and saved state carry the
// name) over params with the constant learning rate lr, updating with rule. It allocates the
// rule's buffers. It panics if lr is not positive and finite, a parameter is nil or given twice
// (the same tensor or the same name), or a buffer name is empty, "step" or repeated. The Base
// refers to rule: embed it in the rule's own value, as the example above, and do not copy it.
func NewBase(name string, params []nn.Param, lr float32, rule Rule) Base {
	checkLR(name, lr)
	tensors := make(map[*tensor.Tensor]int, len(params))
	names := make(map[string]int, len(params))
	for i, p := range params {
		if p.Tensor == nil {
			panicf(name, "parameter %d (%q) has no tensor", i, p.Name)
		}
		if j, dup := tensors[p.Tensor]; dup {
			panicf(name, "parameters %d (%q) and %d (%q) are the same tensor", j, params[j].Name, i, p.Name)
		}
		if j, dup := names[p.Name]; dup {
			panicf(name, "parameters %d and %d share the name %q (names key the saved state)", j, i, p.Name)
		}
		tensors[p.Tensor], names[p.Name] = i, i
	}
	sl := rule.Slots()
	for i, s := range sl.Buffers {
		if s == "" || s == "step" || slices.Contains(sl.Buffers[:i], s) {
			panicf(name, "rule buffer name %q is empty, \"step\" or repeated", s)
		}
	}
	b := Base{op: name, rule: rule, params: slices.Clone(params), lr: lr, slots: slices.Clone(sl.Buffers),
		scale: make([]float32, len(params))}
	b.bufs = make([][][]float32, len(params))
	for i, p := range params {
		b.bufs[i] = make([][]float32, len(sl.Buffers))
		for k := range sl.Buffers {
			b.bufs[i][k] = make([]float32, p.Len())
		}
	}
	if sl.Steps {
		b.steps = make([]int64, len(params))
	}
	return b
}

// Step updates every parameter that has a gradient once, with the rule. It panics if WeightDecay
// is negative or not finite, the Scheduler's learning rate is negative, the GradClip is
// misconfigured, or the rule's Prepare panics.
func (b *Base) Step() {
	if b.rule == nil {
		panicf("Base", "Step on a Base not made by NewBase")
	}
	b.rule.Prepare()
	checkNonNeg(b.op, "WeightDecay", b.WeightDecay)
	u := &b.u
	u.LR, u.WeightDecay = b.lrNow(), b.WeightDecay
	u.b = b.clip()
	for i, p := range b.params {
		g := p.Grad()
		if g == nil {
			continue
		}
		if b.steps != nil {
			b.steps[i]++
			u.Step = b.steps[i]
		}
		u.Name, u.P, u.Slots, u.scale = p.Name, p.Data(), b.bufs[i], b.scale[i]
		u.G = g.Data()[:len(u.P)]
		b.rule.Update(u)
	}
}

// ClearGrad zeroes every parameter's gradient, keeping its buffer.
func (b *Base) ClearGrad() {
	for _, p := range b.params {
		p.ClearGrad()
	}
}

// LR returns the learning rate of the next Step: the Scheduler's, if one is attached.
func (b *Base) LR() float32 { return b.lrNow() }

// SetLR sets a constant learning rate. It panics if lr is not positive and finite or a Scheduler
// is attached.
func (b *Base) SetLR(lr float32) {
	checkLR(b.op, lr)
	if b.Scheduler != nil {
		panicf(b.op, "SetLR(%v) with a %T attached: the scheduler sets the learning rate", lr, b.Scheduler)
	}
	b.lr = lr
}

// LRScheduler returns the attached Scheduler, or nil (Scheduled).
func (b *Base) LRScheduler() Scheduler { return b.Scheduler }

func (b *Base) lrNow() float32 {
	s := b.Scheduler
	if s == nil {
		return b.lr
	}
	lr := s.LR()
	if !(lr >= 0) || !finite(lr) {
		panicf(b.op, "scheduler %T gave learning rate %v", s, lr)
	}
	return lr
}

// clip fills b.scale and returns the element bounds for this step's gradients.
func (b *Base) clip() bounds {
	if b.GradClip == nil {
		for i := range b.scale {
			b.scale[i] = 1
		}
		return bounds{}
	}
	return b.GradClip.clip(b.op, b.params, b.scale)
}
