package optim

import "github.com/oarlab/oar/nn"

// Adagrad is paddle.optimizer.Adagrad, with the update of Paddle's adagrad kernel: with g the
// (clipped) gradient plus WeightDecay·p and ε Epsilon,
//
//	moment += g²
//	p -= lr·g / (sqrt(moment) + ε)
//
// ε is outside the square root. The accumulator "moment" starts at InitialAccumulatorValue when
// the parameter is first updated (Paddle creates it then, filled with initial_accumulator_value);
// a parameter's step count "<name>.step" records whether that has happened, so a state saved
// before and loaded after the first update resumes exactly.
//
// PyTorch's Adagrad has the same update; its defaults differ (lr 0.01, eps 1e-10, where Paddle
// has no default lr and eps 1e-6), and it has an lr_decay that Paddle lacks. The state is
// "<name>.moment" and "<name>.step".
type Adagrad struct {
	Epsilon float32 // ε >= 0, default 1e-6
	// InitialAccumulatorValue is the moment's value before the first update, >= 0; default 0.
	// Changing it affects only parameters not yet updated.
	InitialAccumulatorValue float32

	Base
}

// NewAdagrad returns Paddle's Adagrad(learning_rate=lr, parameters=params) with its defaults
// ε = 1e-6 and initial_accumulator_value 0. It panics if lr is not positive and finite, or a
// parameter is nil or given twice.
func NewAdagrad(params []nn.Param, lr float32) *Adagrad {
	o := &Adagrad{Epsilon: 1e-6}
	o.Base = NewBase("Adagrad", params, lr, o)
	return o
}

// Slots is Adagrad's Rule: Paddle's accumulator and the step counts.
func (o *Adagrad) Slots() Slots { return Slots{Buffers: []string{"moment"}, Steps: true} }

// Prepare is Adagrad's Rule: it panics if Epsilon or InitialAccumulatorValue is negative or not
// finite.
func (o *Adagrad) Prepare() {
	checkNonNeg(o.op, "Epsilon", o.Epsilon)
	checkNonNeg(o.op, "InitialAccumulatorValue", o.InitialAccumulatorValue)
}

// Update is Adagrad's Rule.
func (o *Adagrad) Update(u *Update) {
	mom := u.Slots[0][:len(u.P)]
	if u.Step == 1 {
		for i := range mom {
			mom[i] = o.InitialAccumulatorValue
		}
	}
	eps, lr := o.Epsilon, u.LR
	for i, p := range u.P {
		g := u.Grad(i)
		mom[i] += g * g
		u.P[i] = p - lr*g/(sqrt32(mom[i])+eps)
	}
}

var _ Optimizer = (*Adagrad)(nil)
