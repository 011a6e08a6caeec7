package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestMoreSchedulers checks 20 steps of each scheduler of lr_more.go against Paddle's get_lr
// (python/paddle/optimizer/lr.py), written here again as plain float64 closed forms,
// independently of the code under test.
func TestMoreSchedulers(t *testing.T) {
	const n = 20
	cycleLR := func(base, max, up, down float64, scale func(cycle, it float64) float64) func(int) float64 {
		// CyclicLR.get_lr
		return func(e int) float64 {
			it := float64(e)
			cycle := 1 + math.Floor(it/(up+down))
			x := 1.0 + it/(up+down) - cycle
			var f float64
			if x <= up/(up+down) {
				f = x / (up / (up + down))
			} else {
				f = (1 - x) / (1 - up/(up+down))
			}
			return base + (max-base)*f*scale(cycle, it)
		}
	}
	cosAnneal := func(start, end, pct float64) float64 { return end + (start-end)/2.0*(math.Cos(math.Pi*pct)+1) }
	for _, tc := range []struct {
		name string
		s    Scheduler
		want func(e int) float64
	}{
		// NoamDecay(d_model=64, warmup_steps=8, learning_rate=2): the docstring's formula
		{"NoamDecay", NewNoamDecay(64, 8, 2), func(e int) float64 {
			if e == 0 {
				return 0
			}
			return 2 / 8.0 * math.Min(1/math.Sqrt(float64(e)), float64(e)/math.Pow(8, 1.5))
		}},
		{"NaturalExpDecay", NewNaturalExpDecay(0.5, 0.1), func(e int) float64 { return 0.5 * math.Exp(-0.1*float64(e)) }},
		{"InverseTimeDecay", NewInverseTimeDecay(0.5, 0.1), func(e int) float64 { return 0.5 / (1 + 0.1*float64(e)) }},
		// PolynomialDecay(0.5, decay_steps=8): linear to 0.0001 at epoch 8, then flat
		{"PolynomialDecay", NewPolynomialDecay(0.5, 8), func(e int) float64 {
			return (0.5-0.0001)*(1-math.Min(float64(e), 8)/8) + 0.0001
		}},
		{"PolynomialDecay power cycle", func() Scheduler {
			s := NewPolynomialDecay(0.5, 6)
			s.Power, s.Cycle, s.EndLR = 2, true, 0.01
			return s
		}(), func(e int) float64 {
			steps := 6.0
			if e > 0 {
				steps = 6 * math.Ceil(float64(e)/6)
			}
			return (0.5-0.01)*math.Pow(1-float64(e)/steps, 2) + 0.01
		}},
		{"LambdaDecay", NewLambdaDecay(0.5, func(e int) float64 { return math.Pow(0.95, float64(e)) }),
			func(e int) float64 { return 0.5 * math.Pow(0.95, float64(e)) }},
		// MultiplicativeDecay: base times the product of lr_lambda(1..e), recomputed from base
		{"MultiplicativeDecay", NewMultiplicativeDecay(0.5, func(e int) float64 { return 1 - 0.01*float64(e) }),
			func(e int) float64 {
				lr := 0.5
				for k := 1; k <= e; k++ {
					lr *= 1 - 0.01*float64(k)
				}
				return lr
			}},
		// OneCycleLR(1.0, 20): phases 0→5 (0.04→1) and 5→19 (1→0.0001), epoch 20 extrapolated
		{"OneCycleLR", NewOneCycleLR(1, 20), func(e int) float64 {
			if e <= 5 {
				return cosAnneal(0.04, 1, float64(e)/5)
			}
			return cosAnneal(1, 0.0001, (float64(e)-5)/14)
		}},
		// three phases, linear, phase_pct 0.25, divide_factor 10: 0→4 (0.1→1), 4→8 (1→0.1),
		// 8→19 (0.1→0.001)
		{"OneCycleLR three phase linear", func() Scheduler {
			s := NewOneCycleLR(1, 20)
			s.ThreePhase, s.Linear, s.PhasePct, s.DivideFactor, s.EndLR = true, true, 0.25, 10, 0.001
			return s
		}(), func(e int) float64 {
			x := float64(e)
			switch {
			case e <= 4:
				return (1-0.1)*x/4 + 0.1
			case e <= 8:
				return (0.1-1)*(x-4)/4 + 1
			}
			return (0.001-0.1)*(x-8)/11 + 0.1
		}},
		// LinearLR: Paddle's recursion equals base·(start + (end-start)·min(e, total)/total) up to
		// rounding
		{"LinearLR", NewLinearLR(0.5, 8), func(e int) float64 {
			return 0.5 * (1.0/3 + (1-1.0/3)*math.Min(float64(e), 8)/8)
		}},
		{"LinearLR down", func() Scheduler {
			s := NewLinearLR(0.5, 10)
			s.StartFactor, s.EndFactor = 1, 0.1
			return s
		}(), func(e int) float64 { return 0.5 * (1 + (0.1-1)*math.Min(float64(e), 10)/10) }},
		{"CyclicLR triangular", NewCyclicLR(0.5, 1, 3), cycleLR(0.5, 1, 3, 3, func(float64, float64) float64 { return 1 })},
		{"CyclicLR triangular2", func() Scheduler {
			s := NewCyclicLR(0.1, 1, 3)
			s.StepSizeDown, s.Mode = 2, CyclicTriangular2
			return s
		}(), cycleLR(0.1, 1, 3, 2, func(c, _ float64) float64 { return 1 / math.Pow(2, c-1) })},
		{"CyclicLR exp_range", func() Scheduler {
			s := NewCyclicLR(0.1, 1, 4)
			s.Mode, s.ExpGamma = CyclicExpRange, 0.9
			return s
		}(), cycleLR(0.1, 1, 4, 4, func(_, it float64) float64 { return math.Pow(0.9, it) })},
		{"CyclicLR scale_fn iterations", func() Scheduler {
			s := NewCyclicLR(0.1, 1, 4)
			s.ScaleFn, s.ScaleIterations = func(x float64) float64 { return 1 / (1 + x) }, true
			return s
		}(), cycleLR(0.1, 1, 4, 4, func(_, it float64) float64 { return 1 / (1 + it) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := lrs(tc.s, n), closed(n, tc.want)
			require.InDeltaSlice(t, want, got, 1e-7)
		})
	}
}

// TestMoreSchedulersHand spells out first values by hand.
func TestMoreSchedulersHand(t *testing.T) {
	// Noam, d_model 4, warmup 4, lr 1: 4^-0.5 = 0.5; epoch 1: min(1, 1/8) = 0.125 → 0.0625;
	// epoch 4: min(0.5, 4/8) → 0.25; epoch 16: min(0.25, 2) → 0.125
	require.Equal(t, []float32{0, 0.0625, 0.125, 0.1875, 0.25}, lrs(NewNoamDecay(4, 4, 1), 4))
	// Polynomial 1 → 0.0001 over 4 steps, linear: 1, 0.750025, 0.50005, 0.250075, 0.0001, 0.0001
	require.InDeltaSlice(t, []float32{1, 0.750025, 0.50005, 0.250075, 0.0001, 0.0001}, lrs(NewPolynomialDecay(1, 4), 5), 1e-7)
	// one cycle of 10 steps: initial 0.4, peak 10 at epoch 2 (0.3·10-1), half way down at
	// epoch 2 + 3.5 cannot be hit; epoch 9 is the end 0.0001
	s := NewOneCycleLR(10, 10)
	got := lrs(s, 10)
	require.InDelta(t, 0.4, got[0], 1e-7)
	require.InDelta(t, (0.4+10)/2, got[1], 1e-6) // cos(π/2) = 0 half way up
	require.InDelta(t, 10, got[2], 1e-6)
	require.InDelta(t, 0.0001, got[9], 1e-9)
	require.PanicsWithError(t, "optim: OneCycleLR: stepped 11 times, beyond total steps 10", s.Step)
	// triangular cycle 0.5 ↔ 1 over 2 up, 2 down: 0.5, 0.75, 1, 0.75, 0.5, 0.75
	require.Equal(t, []float32{0.5, 0.75, 1, 0.75, 0.5, 0.75}, lrs(NewCyclicLR(0.5, 1, 2), 5))
	// LinearLR 0.3 over 2 steps from 1/3: 0.1, ×(1 + (2/3)/(2/3)) = 0.2, ×(1 + (2/3)/(4/3)) = 0.3, stays
	require.InDeltaSlice(t, []float32{0.1, 0.2, 0.3, 0.3}, lrs(NewLinearLR(0.3, 2), 3), 1e-7)
	// inverse time: 1/(1+0.5e): 1, 2/3, 1/2
	require.InDeltaSlice(t, []float32{1, 2.0 / 3, 0.5}, lrs(NewInverseTimeDecay(1, 0.5), 2), 1e-7)
	// multiplicative by 0.5 each epoch
	require.Equal(t, []float32{1, 0.5, 0.25}, lrs(NewMultiplicativeDecay(1, func(int) float64 { return 0.5 }), 2))
}

// TestMoreSchedulersResume trains with each scheduler attached to an optimizer, saves after 10
// steps and checks that resuming equals 20 uninterrupted steps bit for bit.
func TestMoreSchedulersResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() Scheduler
	}{
		{"NoamDecay", func() Scheduler { return NewNoamDecay(16, 5, 0.5) }},
		{"NaturalExpDecay", func() Scheduler { return NewNaturalExpDecay(0.1, 0.1) }},
		{"InverseTimeDecay", func() Scheduler { return NewInverseTimeDecay(0.1, 0.3) }},
		{"PolynomialDecay", func() Scheduler { s := NewPolynomialDecay(0.1, 6); s.Cycle = true; return s }},
		{"LambdaDecay", func() Scheduler { return NewLambdaDecay(0.1, func(e int) float64 { return 1 / float64(1+e) }) }},
		{"MultiplicativeDecay", func() Scheduler { return NewMultiplicativeDecay(0.1, func(int) float64 { return 0.9 }) }},
		{"OneCycleLR", func() Scheduler { return NewOneCycleLR(0.1, 20) }},
		{"CyclicLR", func() Scheduler { s := NewCyclicLR(0.01, 0.1, 3); s.Mode = CyclicTriangular2; return s }},
		{"LinearLR", func() Scheduler { return NewLinearLR(0.1, 15) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireResumeBitwise(t, func(ps []nn.Param) (Optimizer, Scheduler) {
				o := NewMomentum(ps, 0.1)
				o.Scheduler = tc.make()
				return o, o.Scheduler
			})
		})
	}
}

func TestMoreSchedulersStateErrors(t *testing.T) {
	s := NewOneCycleLR(1, 5)
	st := s.State()
	// Paddle's get_lr at epoch 0 is the annealing formula too: 1 + (0.04-1)/2·(cos 0 + 1)
	require.Equal(t, map[string]string{"type": "OneCycleLR", "last_epoch": "0", "last_lr": "0.040000000000000036"}, st)
	st["last_epoch"] = "6"
	require.EqualError(t, s.SetState(st), "OneCycleLR state: last_epoch 6 beyond total steps 5")
	require.ErrorContains(t, NewNoamDecay(1, 1, 1).SetState(NewCyclicLR(1, 2, 1).State()),
		`NoamDecay state: type "CyclicLR", want "NoamDecay"`)
}

func TestMoreSchedulersPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"noam d_model", func() { NewNoamDecay(0, 1, 1) }, "optim: NoamDecay: d_model 0 must be positive and finite"},
		{"noam warmup", func() { NewNoamDecay(1, 0, 1) }, "optim: NoamDecay: warmup steps 0 must be positive"},
		{"natural gamma", func() { NewNaturalExpDecay(1, 0) }, "optim: NaturalExpDecay: gamma 0 must be positive and finite"},
		{"inverse gamma", func() { NewInverseTimeDecay(1, -1) }, "optim: InverseTimeDecay: gamma -1 must be finite and >= 0"},
		{"poly steps", func() { NewPolynomialDecay(1, 0) }, "optim: PolynomialDecay: decay steps 0 must be positive"},
		{"poly power", func() { s := NewPolynomialDecay(1, 2); s.Power = 0; s.Step() },
			"optim: PolynomialDecay: Power 0 must be positive and finite"},
		{"lambda nil", func() { NewLambdaDecay(1, nil) }, "optim: LambdaDecay: nil lr_lambda"},
		{"lambda negative", func() { NewLambdaDecay(1, func(e int) float64 { return float64(1 - 2*e) }).Step() },
			"optim: LambdaDecay: learning rate -1 at epoch 1 must be finite and >= 0"},
		{"multiplicative nil", func() { NewMultiplicativeDecay(1, nil) }, "optim: MultiplicativeDecay: nil lr_lambda"},
		{"one cycle total", func() { NewOneCycleLR(1, 0) }, "optim: OneCycleLR: total steps 0 must be positive"},
		{"one cycle pct", func() { s := NewOneCycleLR(1, 10); s.ThreePhase = true; s.PhasePct = 0.5; s.LR() },
			"optim: OneCycleLR: PhasePct 0.5 outside [0, 1] (or not below 0.5 with ThreePhase)"},
		{"one cycle zero phase", func() { s := NewOneCycleLR(1, 10); s.PhasePct = 0.1; s.LR() },
			"optim: OneCycleLR: phase 1 of 10 steps has zero length (PhasePct 0.1)"},
		{"linear total", func() { NewLinearLR(1, 0) }, "optim: LinearLR: total steps 0 must be positive"},
		{"linear start", func() { s := NewLinearLR(1, 5); s.StartFactor = 0; s.LR() }, "optim: LinearLR: StartFactor 0 outside (0, 1]"},
		{"linear end", func() { s := NewLinearLR(1, 5); s.EndFactor = 2; s.Step() }, "optim: LinearLR: EndFactor 2 outside [0, 1]"},
		{"cyclic up", func() { NewCyclicLR(1, 2, 0) }, "optim: CyclicLR: step_size_up 0 must be positive"},
		{"cyclic mode", func() { s := NewCyclicLR(1, 2, 1); s.Mode = 7; s.Step() }, "optim: CyclicLR: unknown CyclicMode(7)"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}
