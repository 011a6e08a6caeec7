package optim

import (
	"fmt"
	"math"
)

// More of paddle.optimizer.lr's schedulers. Like those of lr.go, each computes Paddle's get_lr in
// float64 from the decimals its float32 arguments print as, and LR rounds to float32.

var (
	_ Scheduler = (*NoamDecay)(nil)
	_ Scheduler = (*NaturalExpDecay)(nil)
	_ Scheduler = (*InverseTimeDecay)(nil)
	_ Scheduler = (*PolynomialDecay)(nil)
	_ Scheduler = (*LambdaDecay)(nil)
	_ Scheduler = (*MultiplicativeDecay)(nil)
	_ Scheduler = (*OneCycleLR)(nil)
	_ Scheduler = (*CyclicLR)(nil)
)

// NoamDecay is paddle.optimizer.lr.NoamDecay, the schedule of "Attention Is All You Need":
//
//	lr = base · d_model^-0.5 · min(epoch^-0.5, epoch · warmup_steps^-1.5)
//
// with epoch^-0.5 taken as 1 at epoch 0 (so the rate starts at 0).
type NoamDecay struct {
	base, dModel float64
	warmup       int
	epochLR
}

// NewNoamDecay returns NoamDecay(d_model=dModel, warmup_steps=warmupSteps, learning_rate=lr)
// (Paddle's default learning_rate is 1.0). It panics if dModel is not positive and finite,
// warmupSteps < 1, or lr is negative or not finite.
func NewNoamDecay(dModel float32, warmupSteps int, lr float32) *NoamDecay {
	const op = "NoamDecay"
	checkPositive(op, "d_model", dModel)
	if warmupSteps < 1 {
		panicf(op, "warmup steps %d must be positive", warmupSteps)
	}
	checkBaseLR(op, lr)
	s := &NoamDecay{base: f64(lr), dModel: f64(dModel), warmup: warmupSteps}
	s.lr = s.at(0)
	return s
}

func (s *NoamDecay) at(epoch int) float64 {
	a := 1.0
	if epoch != 0 {
		a = math.Pow(float64(epoch), -0.5)
	}
	b := math.Pow(float64(s.warmup), -1.5) * float64(epoch)
	return s.base * math.Pow(s.dModel, -0.5) * math.Min(a, b)
}

// LR returns the current learning rate.
func (s *NoamDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *NoamDecay) Step() { s.epoch++; s.lr = s.at(s.epoch) }

// State returns last_epoch and last_lr.
func (s *NoamDecay) State() map[string]string { return s.state("NoamDecay") }

// SetState restores a NoamDecay's State.
func (s *NoamDecay) SetState(m map[string]string) error {
	return setEpochLR("NoamDecay", &s.epochLR, m)
}

// NaturalExpDecay is paddle.optimizer.lr.NaturalExpDecay: lr = base·e^(-γ·epoch).
type NaturalExpDecay struct {
	base, gamma float64
	epochLR
}

// NewNaturalExpDecay returns NaturalExpDecay(learning_rate=lr, gamma=gamma). It panics if lr is
// negative or not finite, or γ is not positive and finite (Paddle's check).
func NewNaturalExpDecay(lr, gamma float32) *NaturalExpDecay {
	const op = "NaturalExpDecay"
	checkBaseLR(op, lr)
	checkPositive(op, "gamma", gamma)
	return &NaturalExpDecay{base: f64(lr), gamma: f64(gamma), epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *NaturalExpDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *NaturalExpDecay) Step() {
	s.epoch++
	s.lr = s.base * math.Exp(-1*s.gamma*float64(s.epoch))
}

// State returns last_epoch and last_lr.
func (s *NaturalExpDecay) State() map[string]string { return s.state("NaturalExpDecay") }

// SetState restores a NaturalExpDecay's State.
func (s *NaturalExpDecay) SetState(m map[string]string) error {
	return setEpochLR("NaturalExpDecay", &s.epochLR, m)
}

// InverseTimeDecay is paddle.optimizer.lr.InverseTimeDecay: lr = base / (1 + γ·epoch).
type InverseTimeDecay struct {
	base, gamma float64
	epochLR
}

// NewInverseTimeDecay returns InverseTimeDecay(learning_rate=lr, gamma=gamma). It panics if lr or
// γ is negative or not finite (Paddle checks neither; a negative γ would make the rate negative
// or infinite).
func NewInverseTimeDecay(lr, gamma float32) *InverseTimeDecay {
	const op = "InverseTimeDecay"
	checkBaseLR(op, lr)
	checkNonNeg(op, "gamma", gamma)
	return &InverseTimeDecay{base: f64(lr), gamma: f64(gamma), epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *InverseTimeDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *InverseTimeDecay) Step() {
	s.epoch++
	s.lr = s.base / (1 + s.gamma*float64(s.epoch))
}

// State returns last_epoch and last_lr.
func (s *InverseTimeDecay) State() map[string]string { return s.state("InverseTimeDecay") }

// SetState restores an InverseTimeDecay's State.
func (s *InverseTimeDecay) SetState(m map[string]string) error {
	return setEpochLR("InverseTimeDecay", &s.epochLR, m)
}

// PolynomialDecay is paddle.optimizer.lr.PolynomialDecay: the rate falls from base to EndLR over
// decay_steps epochs as
//
//	lr = (base - EndLR)·(1 - epoch/decay_steps)^Power + EndLR
//
// and stays at EndLR after them; with Cycle, decay_steps is instead multiplied by
// ceil(epoch/decay_steps) (1 at epoch 0), so the rate jumps back up and decays again over ever
// longer cycles. NewPolynomialDecay sets Paddle's defaults; the fields are read at each Step.
type PolynomialDecay struct {
	// EndLR is the final rate, finite and >= 0; default 0.0001.
	EndLR float32
	// Power is the polynomial's power, positive; default 1 (linear).
	Power float32
	// Cycle restarts the decay each decay_steps·k epochs; default false.
	Cycle bool

	base  float64
	steps int
	epochLR
}

// NewPolynomialDecay returns PolynomialDecay(learning_rate=lr, decay_steps=decaySteps) with
// Paddle's defaults end_lr 0.0001, power 1.0, cycle False. It panics if lr is negative or not
// finite or decaySteps < 1.
func NewPolynomialDecay(lr float32, decaySteps int) *PolynomialDecay {
	const op = "PolynomialDecay"
	checkBaseLR(op, lr)
	if decaySteps < 1 {
		panicf(op, "decay steps %d must be positive", decaySteps)
	}
	return &PolynomialDecay{EndLR: 0.0001, Power: 1, base: f64(lr), steps: decaySteps, epochLR: epochLR{lr: f64(lr)}}
}

func (s *PolynomialDecay) at(epoch int) float64 {
	e, steps := float64(epoch), float64(s.steps)
	if s.Cycle {
		div := math.Ceil(e / steps)
		if epoch == 0 {
			div = 1
		}
		steps *= div
	} else {
		e = math.Min(e, steps)
	}
	end := f64(s.EndLR)
	return (s.base-end)*math.Pow(1-e/steps, f64(s.Power)) + end
}

// LR returns the current learning rate.
func (s *PolynomialDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch. It panics if EndLR is negative or not finite or Power is not positive
// and finite.
func (s *PolynomialDecay) Step() {
	const op = "PolynomialDecay"
	checkNonNeg(op, "EndLR", s.EndLR)
	checkPositive(op, "Power", s.Power)
	s.epoch++
	s.lr = s.at(s.epoch)
}

// State returns last_epoch and last_lr.
func (s *PolynomialDecay) State() map[string]string { return s.state("PolynomialDecay") }

// SetState restores a PolynomialDecay's State.
func (s *PolynomialDecay) SetState(m map[string]string) error {
	return setEpochLR("PolynomialDecay", &s.epochLR, m)
}

// LambdaDecay is paddle.optimizer.lr.LambdaDecay: lr = base·fn(epoch), fn called once per Step
// (and with 0 by NewLambdaDecay). The saved state is last_epoch and last_lr, as Paddle's: the
// function is code, given again to the scheduler a state is loaded into.
type LambdaDecay struct {
	base float64
	fn   func(epoch int) float64
	epochLR
}

// NewLambdaDecay returns LambdaDecay(learning_rate=lr, lr_lambda=fn). It panics if lr is negative
// or not finite or fn is nil; Step panics if fn's value makes the rate negative or not finite.
func NewLambdaDecay(lr float32, fn func(epoch int) float64) *LambdaDecay {
	const op = "LambdaDecay"
	checkBaseLR(op, lr)
	if fn == nil {
		panicf(op, "nil lr_lambda")
	}
	s := &LambdaDecay{base: f64(lr), fn: fn}
	s.lr = s.at(0)
	return s
}

func (s *LambdaDecay) at(epoch int) float64 {
	return checkRate("LambdaDecay", epoch, s.base*s.fn(epoch))
}

// checkRate panics unless a computed rate is finite and >= 0.
func checkRate(op string, epoch int, lr float64) float64 {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		panicf(op, "learning rate %v at epoch %d must be finite and >= 0", lr, epoch)
	}
	return lr
}

// LR returns the current learning rate.
func (s *LambdaDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *LambdaDecay) Step() { s.epoch++; s.lr = s.at(s.epoch) }

// State returns last_epoch and last_lr.
func (s *LambdaDecay) State() map[string]string { return s.state("LambdaDecay") }

// SetState restores a LambdaDecay's State.
func (s *LambdaDecay) SetState(m map[string]string) error {
	return setEpochLR("LambdaDecay", &s.epochLR, m)
}

// MultiplicativeDecay is paddle.optimizer.lr.MultiplicativeDecay: each Step multiplies the rate
// by fn(epoch) for the new epoch, so lr = base·fn(1)·fn(2)···fn(epoch). Paddle recomputes that
// product from base at every step; multiplying the last rate performs the same float64
// operations in the same order, so the rates are equal.
type MultiplicativeDecay struct {
	fn func(epoch int) float64
	epochLR
}

// NewMultiplicativeDecay returns MultiplicativeDecay(learning_rate=lr, lr_lambda=fn). It panics if
// lr is negative or not finite or fn is nil; Step panics if fn's value makes the rate negative or
// not finite.
func NewMultiplicativeDecay(lr float32, fn func(epoch int) float64) *MultiplicativeDecay {
	const op = "MultiplicativeDecay"
	checkBaseLR(op, lr)
	if fn == nil {
		panicf(op, "nil lr_lambda")
	}
	return &MultiplicativeDecay{fn: fn, epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *MultiplicativeDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *MultiplicativeDecay) Step() {
	s.epoch++
	s.lr = checkRate("MultiplicativeDecay", s.epoch, s.lr*s.fn(s.epoch))
}

// State returns last_epoch and last_lr.
func (s *MultiplicativeDecay) State() map[string]string { return s.state("MultiplicativeDecay") }

// SetState restores a MultiplicativeDecay's State.
func (s *MultiplicativeDecay) SetState(m map[string]string) error {
	return setEpochLR("MultiplicativeDecay", &s.epochLR, m)
}

// OneCycleLR is paddle.optimizer.lr.OneCycleLR (fastai's one-cycle policy), stepped once per
// batch: the rate rises from max/DivideFactor to max over the first PhasePct of total_steps, then
// anneals to EndLR by step total_steps-1. With ThreePhase it rises over PhasePct, falls back to
// max/DivideFactor over as many steps, then anneals to EndLR (the paper's schedule). Each phase
// interpolates with a half cosine, end + (start-end)·(1+cos(π·pct))/2, or linearly with Linear
// (Paddle's anneal_strategy 'cos' or 'linear'). A phase from step a to step b (Paddle's
// _step_config: 0, PhasePct·total-1, [2·PhasePct·total-2,] total-1) has pct = (epoch-a)/(b-a).
// As in Paddle, the last phase is extrapolated at epoch total_steps, and stepping past it panics.
//
// NewOneCycleLR sets Paddle's defaults; the fields are read whenever the rate is computed (LR,
// Step, State), so set them before training.
type OneCycleLR struct {
	// DivideFactor sets the initial rate max/DivideFactor, positive; default 25.
	DivideFactor float32
	// EndLR is the final rate, finite and >= 0; default 0.0001 (Paddle's end_learning_rate).
	EndLR float32
	// PhasePct is the fraction of the steps spent rising, in [0, 1] (below 0.5 with
	// ThreePhase); default 0.3.
	PhasePct float32
	// Linear anneals linearly instead of by a half cosine.
	Linear bool
	// ThreePhase adds the phase back down to the initial rate.
	ThreePhase bool

	max   float64
	total int
	epoch int
}

// NewOneCycleLR returns OneCycleLR(max_learning_rate=maxLR, total_steps=totalSteps) with Paddle's
// defaults divide_factor 25, end_learning_rate 0.0001, phase_pct 0.3, anneal_strategy 'cos',
// three_phase False. It panics if maxLR is negative or not finite or totalSteps < 1.
func NewOneCycleLR(maxLR float32, totalSteps int) *OneCycleLR {
	const op = "OneCycleLR"
	checkBaseLR(op, maxLR)
	if totalSteps < 1 {
		panicf(op, "total steps %d must be positive", totalSteps)
	}
	return &OneCycleLR{DivideFactor: 25, EndLR: 0.0001, PhasePct: 0.3, max: f64(maxLR), total: totalSteps}
}

// at is Paddle's get_lr at epoch.
func (s *OneCycleLR) at(epoch int) float64 {
	const op = "OneCycleLR"
	checkPositive(op, "DivideFactor", s.DivideFactor)
	checkNonNeg(op, "EndLR", s.EndLR)
	pct, total := f64(s.PhasePct), float64(s.total)
	if !(pct >= 0 && pct <= 1) || s.ThreePhase && pct >= 0.5 {
		panicf(op, "PhasePct %v outside [0, 1] (or not below 0.5 with ThreePhase)", s.PhasePct)
	}
	if epoch > s.total {
		panicf(op, "stepped %d times, beyond total steps %d", epoch, s.total)
	}
	initial, end := s.max/f64(s.DivideFactor), f64(s.EndLR)
	// phase i runs from bounds[i] to bounds[i+1], from rates[i] to rates[i+1]
	bounds := []float64{0, pct*total - 1, total - 1}
	rates := []float64{initial, s.max, end}
	if s.ThreePhase {
		bounds = []float64{0, pct*total - 1, 2*pct*total - 2, total - 1}
		rates = []float64{initial, s.max, initial, end}
	}
	e := float64(epoch)
	i := 0
	for i < len(bounds)-2 && e > bounds[i+1] {
		i++
	}
	size := bounds[i+1] - bounds[i]
	if size == 0 {
		panicf(op, "phase %d of %d steps has zero length (PhasePct %v)", i+1, s.total, s.PhasePct)
	}
	p := (e - bounds[i]) / size
	start, stop := rates[i], rates[i+1]
	if s.Linear {
		return (stop-start)*p + start
	}
	return stop + (start-stop)/2.0*(math.Cos(math.Pi*p)+1)
}

// LR returns the current learning rate. It panics if a field is out of range (see the fields).
func (s *OneCycleLR) LR() float32 { return float32(s.at(s.epoch)) }

// Step advances one step. It panics if a field is out of range or the step would pass
// total_steps.
func (s *OneCycleLR) Step() {
	s.at(s.epoch + 1)
	s.epoch++
}

// State returns last_epoch and last_lr.
func (s *OneCycleLR) State() map[string]string {
	e := epochLR{s.epoch, s.at(s.epoch)}
	return e.state("OneCycleLR")
}

// SetState restores a OneCycleLR's State.
func (s *OneCycleLR) SetState(m map[string]string) error {
	var e epochLR
	if err := setEpochLR("OneCycleLR", &e, m); err != nil {
		return err
	}
	if e.epoch > s.total {
		return fmt.Errorf("OneCycleLR state: last_epoch %d beyond total steps %d", e.epoch, s.total)
	}
	s.epoch = e.epoch
	return nil
}

// CyclicMode is CyclicLR's built-in amplitude scaling (Paddle's mode).
type CyclicMode int

const (
	CyclicTriangular  CyclicMode = iota // "triangular": constant amplitude
	CyclicTriangular2                   // "triangular2": amplitude halved each cycle
	CyclicExpRange                      // "exp_range": amplitude scaled by ExpGamma^iterations
)

// CyclicLR is paddle.optimizer.lr.CyclicLR (cyclical learning rates), stepped once per batch: the
// rate goes from base up to max over step_size_up steps and back down over StepSizeDown steps,
// the amplitude max-base scaled by the Mode's function or ScaleFn:
//
//	cycle = 1 + ⌊it/(up+down)⌋;  x = 1 + it/(up+down) - cycle
//	lr = base + (max-base)·(x ≤ up/(up+down) ? x·(up+down)/up : (1-x)·(up+down)/down)·scale
//
// where scale is 1 (triangular), 1/2^(cycle-1) (triangular2), ExpGamma^it (exp_range) or
// ScaleFn(cycle), ScaleFn(it) with ScaleIterations. NewCyclicLR sets Paddle's defaults; the
// fields are read at each Step.
type CyclicLR struct {
	// StepSizeDown is the number of steps down; 0 means step_size_up (Paddle's None).
	StepSizeDown int
	// Mode is the built-in scaling, ignored when ScaleFn is set; default CyclicTriangular.
	Mode CyclicMode
	// ExpGamma is the base of CyclicExpRange's scaling; default 1.
	ExpGamma float32
	// ScaleFn, if set, replaces Mode's scaling: it gets the cycle number (from 1), or the
	// iteration with ScaleIterations, and should return a value in [0, 1].
	ScaleFn         func(x float64) float64
	ScaleIterations bool

	base, max float64
	up        int
	epochLR
}

// NewCyclicLR returns CyclicLR(base_learning_rate=baseLR, max_learning_rate=maxLR,
// step_size_up=stepSizeUp) with Paddle's defaults step_size_down None, mode 'triangular',
// exp_gamma 1.0, scale_fn None, scale_mode 'cycle'. It panics if a rate is negative or not
// finite or stepSizeUp < 1.
func NewCyclicLR(baseLR, maxLR float32, stepSizeUp int) *CyclicLR {
	const op = "CyclicLR"
	checkBaseLR(op, baseLR)
	checkBaseLR(op, maxLR)
	if stepSizeUp < 1 {
		panicf(op, "step_size_up %d must be positive", stepSizeUp)
	}
	return &CyclicLR{ExpGamma: 1, base: f64(baseLR), max: f64(maxLR), up: stepSizeUp, epochLR: epochLR{lr: f64(baseLR)}}
}

func (s *CyclicLR) at(it int) float64 {
	const op = "CyclicLR"
	if s.StepSizeDown < 0 {
		panicf(op, "StepSizeDown %d must be >= 0", s.StepSizeDown)
	}
	if s.ScaleFn == nil && (s.Mode < CyclicTriangular || s.Mode > CyclicExpRange) {
		panicf(op, "unknown CyclicMode(%d)", int(s.Mode))
	}
	up := float64(s.up)
	down := up
	if s.StepSizeDown > 0 {
		down = float64(s.StepSizeDown)
	}
	size := up + down
	upPct := up / size
	n := float64(it)
	cycle := 1 + math.Floor(n/size)
	x := 1.0 + n/size - cycle
	var factor float64
	if x <= upPct {
		factor = x / upPct
	} else {
		factor = (1 - x) / (1 - upPct)
	}
	var scale float64
	switch {
	case s.ScaleFn != nil && s.ScaleIterations:
		scale = s.ScaleFn(n)
	case s.ScaleFn != nil:
		scale = s.ScaleFn(cycle)
	case s.Mode == CyclicTriangular2:
		scale = 1 / math.Pow(2.0, cycle-1)
	case s.Mode == CyclicExpRange:
		scale = math.Pow(f64(s.ExpGamma), n)
	default:
		scale = 1
	}
	return checkRate(op, it, s.base+(s.max-s.base)*factor*scale)
}

// LR returns the current learning rate.
func (s *CyclicLR) LR() float32 { return float32(s.lr) }

// Step advances one step. It panics if StepSizeDown is negative, Mode is unknown, or the rate
// comes out negative or not finite.
func (s *CyclicLR) Step() { s.lr = s.at(s.epoch + 1); s.epoch++ }

// State returns last_epoch and last_lr.
func (s *CyclicLR) State() map[string]string { return s.state("CyclicLR") }

// SetState restores a CyclicLR's State.
func (s *CyclicLR) SetState(m map[string]string) error {
	return setEpochLR("CyclicLR", &s.epochLR, m)
}

var _ Scheduler = (*LinearLR)(nil)

// LinearLR is paddle.optimizer.lr.LinearLR: the rate moves linearly from base·StartFactor to
// base·EndFactor over total_steps epochs and then stays. Like Paddle's get_lr it is computed
// recursively, each Step multiplying the last rate by
//
//	1 + (EndFactor-StartFactor) / (total_steps·StartFactor + (epoch-1)·(EndFactor-StartFactor))
//
// NewLinearLR sets Paddle's defaults; the fields are read at each Step (and by LR before the
// first), so set them before training.
type LinearLR struct {
	// StartFactor scales the base rate at epoch 0, in (0, 1]; default 1/3.
	StartFactor float32
	// EndFactor scales the base rate from total_steps on, in [0, 1]; default 1.
	EndFactor float32

	base  float64
	total int
	epochLR
}

// NewLinearLR returns LinearLR(learning_rate=lr, total_steps=totalSteps) with Paddle's defaults
// start_factor 1/3 and end_factor 1.0. It panics if lr is negative or not finite or totalSteps
// < 1.
func NewLinearLR(lr float32, totalSteps int) *LinearLR {
	const op = "LinearLR"
	checkBaseLR(op, lr)
	if totalSteps < 1 {
		panicf(op, "total steps %d must be positive", totalSteps)
	}
	return &LinearLR{StartFactor: 1.0 / 3, EndFactor: 1, base: f64(lr), total: totalSteps}
}

// factors returns the checked start and end factors in float64: 1/3 for the default start, as
// Paddle's Python computes it, not the float32 nearest.
func (s *LinearLR) factors() (start, end float64) {
	const op = "LinearLR"
	if !(s.StartFactor > 0 && s.StartFactor <= 1) {
		panicf(op, "StartFactor %v outside (0, 1]", s.StartFactor)
	}
	if !(s.EndFactor >= 0 && s.EndFactor <= 1) {
		panicf(op, "EndFactor %v outside [0, 1]", s.EndFactor)
	}
	start, end = f64(s.StartFactor), f64(s.EndFactor)
	if s.StartFactor == 1.0/3 {
		start = 1.0 / 3
	}
	return start, end
}

// current is the rate at the current epoch (at epoch 0, from the fields).
func (s *LinearLR) current() float64 {
	if s.epoch == 0 {
		start, _ := s.factors()
		return s.base * start
	}
	return s.lr
}

// LR returns the current learning rate. It panics if a factor is out of range.
func (s *LinearLR) LR() float32 { return float32(s.current()) }

// Step advances one epoch. It panics if a factor is out of range.
func (s *LinearLR) Step() {
	start, end := s.factors()
	last := s.current()
	s.epoch++
	if s.epoch > s.total {
		s.lr = last
		return
	}
	d := end - start
	s.lr = last * (1.0 + d/(float64(s.total)*start+float64(s.epoch-1)*d))
}

// State returns last_epoch and last_lr.
func (s *LinearLR) State() map[string]string {
	e := epochLR{s.epoch, s.current()}
	return e.state("LinearLR")
}

// SetState restores a LinearLR's State.
func (s *LinearLR) SetState(m map[string]string) error {
	return setEpochLR("LinearLR", &s.epochLR, m)
}
