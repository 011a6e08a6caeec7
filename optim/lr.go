package optim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scheduler gives the learning rate step by step, as paddle.optimizer.lr.LRScheduler. Attach one
// to an optimizer's Scheduler field (Paddle's learning_rate=scheduler): every optimizer Step reads
// LR. The optimizer never steps it; the program does, once per batch or per epoch, after the
// optimizer's Step, as in Paddle (or a training callback does).
//
// Schedules are computed in float64 from Paddle's lr.py formulas (the float32 arguments are taken
// as the decimals they print as, so 0.1 is Python's 0.1) and LR rounds them to float32.
type Scheduler interface {
	// LR returns the current learning rate.
	LR() float32
	// Step advances the schedule by one epoch (Paddle's step()).
	Step()
	// State returns the scheduler's progress as strings, Paddle's last_epoch and last_lr plus
	// any counters and "type"; the configuration (base rate, gamma, ...) is not included.
	State() map[string]string
	// SetState restores a State of the same type of scheduler. It changes nothing on error.
	SetState(map[string]string) error
}

// MetricScheduler is a Scheduler stepped with a metric, such as ReduceOnPlateau; its Step
// panics, so a training loop that steps schedulers checks for this interface first.
type MetricScheduler interface {
	Scheduler
	// StepMetric advances the schedule by one epoch with the metric observed in it.
	StepMetric(v float32)
}

var (
	_ Scheduler       = ConstantLR(0)
	_ Scheduler       = (*StepDecay)(nil)
	_ Scheduler       = (*MultiStepDecay)(nil)
	_ Scheduler       = (*PiecewiseDecay)(nil)
	_ Scheduler       = (*ExponentialDecay)(nil)
	_ Scheduler       = (*CosineAnnealingDecay)(nil)
	_ Scheduler       = (*LinearWarmup)(nil)
	_ MetricScheduler = (*ReduceOnPlateau)(nil)
)

// epochLR is the progress every Paddle scheduler saves: last_epoch and last_lr.
type epochLR struct {
	epoch int     // last_epoch: the number of Steps taken
	lr    float64 // last_lr
}

func (e *epochLR) state(typ string) map[string]string {
	return map[string]string{"type": typ, "last_epoch": strconv.Itoa(e.epoch), "last_lr": fmtF64(e.lr)}
}

// parseEpochLR reads an epochLR, appending problems to errs.
func parseEpochLR(typ string, m map[string]string, errs *[]error) epochLR {
	if got := m["type"]; got != typ {
		*errs = append(*errs, fmt.Errorf("type %q, want %q", got, typ))
	}
	e, err := parseCount(m, "last_epoch")
	if err != nil {
		*errs = append(*errs, err)
	}
	lr, err := parseF64(m, "last_lr")
	if err != nil {
		*errs = append(*errs, err)
	} else if lr < 0 {
		*errs = append(*errs, fmt.Errorf("last_lr %v is negative", lr))
	}
	return epochLR{e, lr}
}

func joinState(typ string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s state: %w", typ, errors.Join(errs...))
}

// setEpochLR restores a scheduler with no state besides epochLR.
func setEpochLR(typ string, dst *epochLR, m map[string]string) error {
	var errs []error
	e := parseEpochLR(typ, m, &errs)
	if len(errs) == 0 {
		*dst = e
	}
	return joinState(typ, errs)
}

func checkBaseLR(op string, lr float32) {
	if !(lr >= 0) || !finite(lr) {
		panicf(op, "learning rate %v must be finite and >= 0", lr)
	}
}

func checkGamma(op string, gamma float32) {
	if !(gamma > 0 && gamma < 1) {
		panicf(op, "gamma %v outside (0, 1)", gamma)
	}
}

// ConstantLR is a fixed learning rate as a Scheduler, for LinearWarmup after a float (Paddle's
// LinearWarmup(learning_rate=0.1, ...)). Its saved state's type is "Constant", the name it had
// before, so that states saved then still load.
type ConstantLR float32

// LR returns c.
func (c ConstantLR) LR() float32 { return float32(c) }

// Step does nothing.
func (c ConstantLR) Step() {}

// State returns {"type": "Constant"}.
func (c ConstantLR) State() map[string]string { return map[string]string{"type": "Constant"} }

// SetState checks that m is a ConstantLR's state.
func (c ConstantLR) SetState(m map[string]string) error {
	if got := m["type"]; got != "Constant" {
		return fmt.Errorf("Constant state: type %q, want %q", got, "Constant")
	}
	return nil
}

// StepDecay is paddle.optimizer.lr.StepDecay: lr = base·γ^⌊epoch/stepSize⌋.
type StepDecay struct {
	base, gamma float64
	size        int
	epochLR
}

// NewStepDecay returns StepDecay(learning_rate=lr, step_size=stepSize, gamma=gamma) (Paddle's
// default γ is 0.1). It panics if lr is negative or not finite, stepSize < 1, or γ is outside
// (0, 1).
func NewStepDecay(lr float32, stepSize int, gamma float32) *StepDecay {
	const op = "StepDecay"
	checkBaseLR(op, lr)
	if stepSize < 1 {
		panicf(op, "step size %d must be positive", stepSize)
	}
	checkGamma(op, gamma)
	s := &StepDecay{base: f64(lr), gamma: f64(gamma), size: stepSize}
	s.lr = s.at(0)
	return s
}

func (s *StepDecay) at(epoch int) float64 {
	return s.base * math.Pow(s.gamma, float64(epoch/s.size))
}

// LR returns the current learning rate.
func (s *StepDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *StepDecay) Step() { s.epoch++; s.lr = s.at(s.epoch) }

// State returns last_epoch and last_lr.
func (s *StepDecay) State() map[string]string { return s.state("StepDecay") }

// SetState restores a StepDecay's State.
func (s *StepDecay) SetState(m map[string]string) error {
	return setEpochLR("StepDecay", &s.epochLR, m)
}

// MultiStepDecay is paddle.optimizer.lr.MultiStepDecay: lr = base·γ^k, where k is the number of
// milestones reached (epoch >= milestone).
type MultiStepDecay struct {
	base, gamma float64
	milestones  []int
	epochLR
}

// NewMultiStepDecay returns MultiStepDecay(learning_rate=lr, milestones=milestones, gamma=gamma)
// (Paddle's default γ is 0.1). It panics if lr is negative or not finite, the milestones do not
// increase strictly, or γ is outside (0, 1).
func NewMultiStepDecay(lr float32, milestones []int, gamma float32) *MultiStepDecay {
	const op = "MultiStepDecay"
	checkBaseLR(op, lr)
	for i := 1; i < len(milestones); i++ {
		if milestones[i] <= milestones[i-1] {
			panicf(op, "milestones %v must increase", milestones)
		}
	}
	checkGamma(op, gamma)
	s := &MultiStepDecay{base: f64(lr), gamma: f64(gamma), milestones: append([]int(nil), milestones...)}
	s.lr = s.at(0)
	return s
}

func (s *MultiStepDecay) at(epoch int) float64 {
	k := len(s.milestones)
	for i, m := range s.milestones {
		if epoch < m {
			k = i
			break
		}
	}
	return s.base * math.Pow(s.gamma, float64(k))
}

// LR returns the current learning rate.
func (s *MultiStepDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *MultiStepDecay) Step() { s.epoch++; s.lr = s.at(s.epoch) }

// State returns last_epoch and last_lr.
func (s *MultiStepDecay) State() map[string]string { return s.state("MultiStepDecay") }

// SetState restores a MultiStepDecay's State.
func (s *MultiStepDecay) SetState(m map[string]string) error {
	return setEpochLR("MultiStepDecay", &s.epochLR, m)
}

// PiecewiseDecay is paddle.optimizer.lr.PiecewiseDecay: lr = values[i] for the first boundary
// boundaries[i] that epoch has not reached, and the last value after them all.
type PiecewiseDecay struct {
	boundaries []int
	values     []float64
	epochLR
}

// NewPiecewiseDecay returns PiecewiseDecay(boundaries, values). It panics unless there is at
// least one boundary, the boundaries increase strictly, and there is one more value than
// boundaries, each finite and >= 0.
func NewPiecewiseDecay(boundaries []int, values []float32) *PiecewiseDecay {
	const op = "PiecewiseDecay"
	if len(boundaries) == 0 || len(values) != len(boundaries)+1 {
		panicf(op, "%d boundaries and %d values: want at least one boundary and one more value", len(boundaries), len(values))
	}
	for i := 1; i < len(boundaries); i++ {
		if boundaries[i] <= boundaries[i-1] {
			panicf(op, "boundaries %v must increase", boundaries)
		}
	}
	s := &PiecewiseDecay{boundaries: append([]int(nil), boundaries...)}
	for _, v := range values {
		checkBaseLR(op, v)
		s.values = append(s.values, f64(v))
	}
	s.lr = s.at(0)
	return s
}

func (s *PiecewiseDecay) at(epoch int) float64 {
	for i, b := range s.boundaries {
		if epoch < b {
			return s.values[i]
		}
	}
	return s.values[len(s.values)-1]
}

// LR returns the current learning rate.
func (s *PiecewiseDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *PiecewiseDecay) Step() { s.epoch++; s.lr = s.at(s.epoch) }

// State returns last_epoch and last_lr.
func (s *PiecewiseDecay) State() map[string]string { return s.state("PiecewiseDecay") }

// SetState restores a PiecewiseDecay's State.
func (s *PiecewiseDecay) SetState(m map[string]string) error {
	return setEpochLR("PiecewiseDecay", &s.epochLR, m)
}

// ExponentialDecay is paddle.optimizer.lr.ExponentialDecay: lr = base·γ^epoch.
type ExponentialDecay struct {
	base, gamma float64
	epochLR
}

// NewExponentialDecay returns ExponentialDecay(learning_rate=lr, gamma=gamma). It panics if lr is
// negative or not finite, or γ is outside (0, 1).
func NewExponentialDecay(lr, gamma float32) *ExponentialDecay {
	const op = "ExponentialDecay"
	checkBaseLR(op, lr)
	checkGamma(op, gamma)
	return &ExponentialDecay{base: f64(lr), gamma: f64(gamma), epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *ExponentialDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *ExponentialDecay) Step() {
	s.epoch++
	s.lr = s.base * math.Pow(s.gamma, float64(s.epoch))
}

// State returns last_epoch and last_lr.
func (s *ExponentialDecay) State() map[string]string { return s.state("ExponentialDecay") }

// SetState restores an ExponentialDecay's State.
func (s *ExponentialDecay) SetState(m map[string]string) error {
	return setEpochLR("ExponentialDecay", &s.epochLR, m)
}

// CosineAnnealingDecay is paddle.optimizer.lr.CosineAnnealingDecay, the cosine part of SGDR:
// lr follows η_min + (base-η_min)·(1 + cos(π·epoch/T_max))/2 down to η_min at T_max and back up
// over the next T_max epochs. Like Paddle's get_lr it is computed recursively from last_lr,
//
//	lr_e = (1 + cos(πe/T)) / (1 + cos(π(e-1)/T)) · (lr_{e-1} - η_min) + η_min
//
// with lr_e = lr_{e-1} + (base-η_min)·(1 - cos(π/T))/2 when (e-1-T) is a multiple of 2T.
type CosineAnnealingDecay struct {
	base, etaMin float64
	tMax         int
	epochLR
}

// NewCosineAnnealingDecay returns CosineAnnealingDecay(learning_rate=lr, T_max=tMax,
// eta_min=etaMin). It panics if lr or etaMin is negative or not finite, or tMax < 1.
func NewCosineAnnealingDecay(lr float32, tMax int, etaMin float32) *CosineAnnealingDecay {
	const op = "CosineAnnealingDecay"
	checkBaseLR(op, lr)
	checkNonNeg(op, "eta_min", etaMin)
	if tMax < 1 {
		panicf(op, "T_max %d must be positive", tMax)
	}
	return &CosineAnnealingDecay{base: f64(lr), etaMin: f64(etaMin), tMax: tMax, epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *CosineAnnealingDecay) LR() float32 { return float32(s.lr) }

// Step advances one epoch.
func (s *CosineAnnealingDecay) Step() {
	s.epoch++
	e, t := float64(s.epoch), float64(s.tMax)
	if (s.epoch-1-s.tMax)%(2*s.tMax) == 0 { // Paddle: (last_epoch - 1 - T_max) % (2 * T_max) == 0
		s.lr += (s.base - s.etaMin) * (1 - math.Cos(math.Pi/t)) / 2
		return
	}
	s.lr = (1+math.Cos(math.Pi*e/t))/(1+math.Cos(math.Pi*(e-1)/t))*(s.lr-s.etaMin) + s.etaMin
}

// State returns last_epoch and last_lr.
func (s *CosineAnnealingDecay) State() map[string]string { return s.state("CosineAnnealingDecay") }

// SetState restores a CosineAnnealingDecay's State.
func (s *CosineAnnealingDecay) SetState(m map[string]string) error {
	return setEpochLR("CosineAnnealingDecay", &s.epochLR, m)
}

// LinearWarmup is paddle.optimizer.lr.LinearWarmup: for the first warmupSteps epochs lr rises
// linearly, start + (end-start)·epoch/warmupSteps; from then on it is the wrapped scheduler's
// (a ConstantLR for Paddle's float learning_rate), which LinearWarmup steps itself, starting at
// its epoch 0 when the warm-up ends, as Paddle does.
type LinearWarmup struct {
	after      Scheduler
	warmup     int
	start, end float64
	epochLR
}

// NewLinearWarmup returns LinearWarmup(learning_rate=after, warmup_steps=warmupSteps,
// start_lr=startLR, end_lr=endLR). after must be freshly made (at its epoch 0); pass
// ConstantLR(lr) for a float. It panics if after is nil or a MetricScheduler, warmupSteps < 1,
// startLR is negative or not finite, or endLR is not above startLR (Paddle's check).
func NewLinearWarmup(after Scheduler, warmupSteps int, startLR, endLR float32) *LinearWarmup {
	const op = "LinearWarmup"
	if after == nil {
		panicf(op, "nil scheduler to warm up to")
	}
	if _, ok := after.(MetricScheduler); ok {
		panicf(op, "cannot wrap %T, which is stepped with a metric", after)
	}
	if warmupSteps < 1 {
		panicf(op, "warmup steps %d must be positive", warmupSteps)
	}
	checkBaseLR(op, startLR)
	if !(endLR > startLR) || !finite(endLR) {
		panicf(op, "end_lr %v must be finite and greater than start_lr %v", endLR, startLR)
	}
	return &LinearWarmup{after: after, warmup: warmupSteps, start: f64(startLR), end: f64(endLR), epochLR: epochLR{lr: f64(startLR)}}
}

// LR returns the current learning rate.
func (s *LinearWarmup) LR() float32 { return float32(s.lr) }

// Step advances one epoch, and the wrapped scheduler once the warm-up is over.
func (s *LinearWarmup) Step() {
	s.epoch++
	if s.epoch < s.warmup {
		s.lr = (s.end-s.start)*float64(s.epoch)/float64(s.warmup) + s.start
		return
	}
	if s.epoch > s.warmup {
		s.after.Step()
	}
	s.lr = float64(s.after.LR())
}

// State returns last_epoch, last_lr and the wrapped scheduler's State under "after.".
func (s *LinearWarmup) State() map[string]string {
	m := s.state("LinearWarmup")
	for k, v := range s.after.State() {
		m["after."+k] = v
	}
	return m
}

// SetState restores a LinearWarmup's State, with the wrapped scheduler's.
func (s *LinearWarmup) SetState(m map[string]string) error {
	var errs []error
	e := parseEpochLR("LinearWarmup", m, &errs)
	sub := make(map[string]string)
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, "after."); ok {
			sub[rest] = v
		}
	}
	before := s.after.State()
	if err := s.after.SetState(sub); err != nil {
		errs = append(errs, err)
	} else if len(errs) > 0 {
		s.after.SetState(before) //nolint:errcheck // its own state always fits
	}
	if len(errs) == 0 {
		s.epochLR = e
	}
	return joinState("LinearWarmup", errs)
}

// ReduceOnPlateau is paddle.optimizer.lr.ReduceOnPlateau: it multiplies the learning rate by
// Factor when the metric given to StepMetric has not improved for more than Patience epochs, then
// waits Cooldown epochs before watching again; the rate never goes below MinLR, and a reduction
// smaller than Epsilon is skipped. NewReduceOnPlateau sets Paddle's defaults; change the fields
// before the first StepMetric.
type ReduceOnPlateau struct {
	// Max says the metric should increase (Paddle's mode='max'); the default watches a decrease.
	Max bool
	// Factor multiplies the learning rate on a plateau, in (0, 1); default 0.1.
	Factor float32
	// Patience is the number of epochs without improvement tolerated; default 10.
	Patience int
	// Threshold is the least change that counts as an improvement: relative to the best value
	// (best·Threshold) by default, absolute with AbsThreshold (Paddle's threshold_mode='abs').
	// Default 1e-4.
	Threshold    float32
	AbsThreshold bool
	// Cooldown is the number of epochs after a reduction during which the metric is ignored;
	// default 0.
	Cooldown int
	// MinLR is the lower bound of the learning rate; default 0.
	MinLR float32
	// Epsilon is the smallest reduction applied; default 1e-8.
	Epsilon float32

	epochLR
	best            float64
	hasBest         bool
	bad, cooldownAt int // num_bad_epochs, cooldown_counter
}

// NewReduceOnPlateau returns ReduceOnPlateau(learning_rate=lr) with Paddle's defaults: mode
// 'min', factor 0.1, patience 10, threshold 1e-4 relative, cooldown 0, min_lr 0, epsilon 1e-8.
// It panics if lr is negative or not finite.
func NewReduceOnPlateau(lr float32) *ReduceOnPlateau {
	checkBaseLR("ReduceOnPlateau", lr)
	return &ReduceOnPlateau{Factor: 0.1, Patience: 10, Threshold: 1e-4, Epsilon: 1e-8, epochLR: epochLR{lr: f64(lr)}}
}

// LR returns the current learning rate.
func (s *ReduceOnPlateau) LR() float32 { return float32(s.lr) }

// Step panics: ReduceOnPlateau needs the metric, given to StepMetric.
func (s *ReduceOnPlateau) Step() {
	panicf("ReduceOnPlateau", "Step without a metric: call StepMetric")
}

// StepMetric advances one epoch in which the watched metric was v. It panics if Factor is outside
// (0, 1), Patience or Cooldown is negative, or Threshold, MinLR or Epsilon is negative or not
// finite.
func (s *ReduceOnPlateau) StepMetric(v float32) {
	const op = "ReduceOnPlateau"
	if !(s.Factor > 0 && s.Factor < 1) {
		panicf(op, "Factor %v outside (0, 1)", s.Factor)
	}
	if s.Patience < 0 || s.Cooldown < 0 {
		panicf(op, "Patience %d and Cooldown %d must be >= 0", s.Patience, s.Cooldown)
	}
	checkNonNeg(op, "Threshold", s.Threshold)
	checkNonNeg(op, "MinLR", s.MinLR)
	checkNonNeg(op, "Epsilon", s.Epsilon)

	s.epoch++
	if s.cooldownAt > 0 {
		s.cooldownAt--
		return
	}
	cur := float64(v)
	if !s.hasBest || s.better(cur) {
		s.best, s.hasBest, s.bad = cur, true, 0
	} else {
		s.bad++
	}
	if s.bad > s.Patience {
		s.cooldownAt, s.bad = s.Cooldown, 0
		if lr := math.Max(s.lr*f64(s.Factor), f64(s.MinLR)); s.lr-lr > f64(s.Epsilon) {
			s.lr = lr
		}
	}
}

// better is Paddle's _is_better.
func (s *ReduceOnPlateau) better(cur float64) bool {
	th := f64(s.Threshold)
	switch {
	case !s.Max && !s.AbsThreshold:
		return cur < s.best-s.best*th
	case !s.Max:
		return cur < s.best-th
	case !s.AbsThreshold:
		return cur > s.best+s.best*th
	}
	return cur > s.best+th
}

// State returns Paddle's cooldown_counter, best (absent before the first metric),
// num_bad_epochs, last_epoch and last_lr.
func (s *ReduceOnPlateau) State() map[string]string {
	m := s.state("ReduceOnPlateau")
	m["cooldown_counter"] = strconv.Itoa(s.cooldownAt)
	m["num_bad_epochs"] = strconv.Itoa(s.bad)
	if s.hasBest {
		m["best"] = fmtF64(s.best)
	}
	return m
}

// SetState restores a ReduceOnPlateau's State.
func (s *ReduceOnPlateau) SetState(m map[string]string) error {
	var errs []error
	e := parseEpochLR("ReduceOnPlateau", m, &errs)
	cd, err := parseCount(m, "cooldown_counter")
	if err != nil {
		errs = append(errs, err)
	}
	bad, err := parseCount(m, "num_bad_epochs")
	if err != nil {
		errs = append(errs, err)
	}
	var best float64
	_, hasBest := m["best"]
	if hasBest {
		if best, err = parseF64(m, "best"); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		s.epochLR, s.cooldownAt, s.bad, s.best, s.hasBest = e, cd, bad, best, hasBest
	}
	return joinState("ReduceOnPlateau", errs)
}
