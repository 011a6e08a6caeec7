package optim

import (
	"fmt"
	"math"
	"strconv"

	"github.com/oarlab/oar/nn"
)

// Optimizer updates parameters from their gradients, as paddle.optimizer.Optimizer. A training
// step is loss.Backward(), opt.Step(), opt.ClearGrad().
type Optimizer interface {
	// Step updates every parameter that has a gradient once; parameters whose Grad is nil are
	// skipped, as Paddle skips parameters without gradients.
	Step()
	// ClearGrad zeroes every parameter's gradient, keeping its buffer (Paddle's clear_grad).
	ClearGrad()
	// LR returns the learning rate the next Step uses: the attached Scheduler's, if any.
	LR() float32
	// SetLR sets a constant learning rate (Paddle's set_lr). It panics if lr is not a positive
	// finite number or a Scheduler is attached.
	SetLR(lr float32)
	// State returns what a resumed run needs to continue exactly: moments, step counts, the
	// learning rate and the scheduler's state.
	State() State
	// SetState restores a State returned by State (or read by Load). It changes nothing and
	// returns an error listing every mismatch (errors.Join) if the state does not fit: another
	// optimizer type, missing, unexpected or mis-shaped tensors, bad numbers, or a different
	// scheduler.
	SetState(State) error
}

// State is an optimizer's resumable state in the form the safetensors format stores: tensors
// named after their parameter ("fc.weight.moment1") and string metadata for scalars (the
// optimizer type, learning rate, step counts, "scheduler.*" for the scheduler's state). The
// tensors returned by an optimizer's State share its buffers: save them before the next Step.
type State struct {
	Tensors []nn.Param
	Meta    map[string]string
}

// Scheduled is an optimizer whose learning rate may come from a Scheduler. Base implements it,
// so every optimizer of this package and every optimizer built on Base does. A training loop that
// steps schedulers, such as the root package's LRScheduler callback, finds the optimizer's
// scheduler through it: an optimizer not built on Base implements it to have its scheduler
// stepped.
type Scheduled interface {
	// LRScheduler returns the attached Scheduler, or nil if the learning rate is constant.
	LRScheduler() Scheduler
}

var (
	_ Optimizer = (*Base)(nil)
	_ Scheduled = (*Base)(nil)
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Momentum)(nil)
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*AdamW)(nil)
	_ Optimizer = (*RMSProp)(nil)
)

// Error is the value of every panic raised by this package for a programmer error: a learning
// rate or hyper-parameter out of range, parameters given twice. It names the optimizer or
// scheduler and the value, e.g. "optim: Adam: Beta1 1.5 outside [0, 1)".
type Error struct {
	Op  string // the optimizer, scheduler or clip, e.g. "Adam"
	Msg string // what was wrong
}

func (e *Error) Error() string { return "optim: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

func checkLR(op string, lr float32) { checkPositive(op, "learning rate", lr) }

// checkPositive panics unless v is finite and > 0.
func checkPositive(op, name string, v float32) {
	if !(v > 0) || !finite(v) {
		panicf(op, "%s %v must be positive and finite", name, v)
	}
}

// checkUnit panics unless 0 <= v < 1.
func checkUnit(op, name string, v float32) {
	if !(v >= 0 && v < 1) {
		panicf(op, "%s %v outside [0, 1)", name, v)
	}
}

// checkNonNeg panics unless v is finite and >= 0.
func checkNonNeg(op, name string, v float32) {
	if !(v >= 0) || !finite(v) {
		panicf(op, "%s %v must be finite and >= 0", name, v)
	}
}

// f64 returns the float64 of the shortest decimal that rounds to x: a hyper-parameter typed as
// 0.1 becomes the float64 0.1 that Paddle's and PyTorch's Python code computes with, not
// 0.10000000149011612. Schedules and bias corrections computed in float64 then match theirs.
func f64(x float32) float64 {
	var buf [32]byte
	v, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], float64(x), 'g', -1, 32)), 64)
	if err != nil {
		return float64(x) // ±Inf, NaN
	}
	return v
}

// dec caches f64 of a value that rarely changes, so that Step does not format numbers.
type dec struct {
	x  float32
	v  float64
	ok bool
}

func (d *dec) of(x float32) float64 {
	if !d.ok || math.Float32bits(x) != math.Float32bits(d.x) {
		d.x, d.v, d.ok = x, f64(x), true
	}
	return d.v
}

// bounds clamp gradient elements after scaling; on is false when there are none, so that the
// update loops can skip the comparisons (they would double the cost of SGD's loop).
type bounds struct {
	lo, hi float32
	on     bool
}

// clamp limits x to [lo, hi]; NaN passes through.
func clamp(x, lo, hi float32) float32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
