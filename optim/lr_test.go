package optim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// lrs returns the scheduler's rate at construction and after each of n Steps.
func lrs(s Scheduler, n int) []float32 {
	out := []float32{s.LR()}
	for range n {
		s.Step()
		out = append(out, s.LR())
	}
	return out
}

// closed evaluates a closed-form schedule at epochs 0..n, rounded to float32 as Paddle's
// optimizer rounds its learning rate.
func closed(n int, f func(e int) float64) []float32 {
	out := make([]float32, n+1)
	for e := range out {
		out[e] = float32(f(e))
	}
	return out
}

// TestSchedulers checks 20 steps of each scheduler against the formulas of Paddle's
// python/paddle/optimizer/lr.py (get_lr of each class, evaluated here in closed form in float64),
// using the configurations of Paddle's docstrings.
func TestSchedulers(t *testing.T) {
	const n = 20
	cosine := func(base, etaMin float64, tMax int) func(int) float64 {
		// CosineAnnealingDecay._get_closed_form_lr
		return func(e int) float64 {
			return etaMin + (base-etaMin)*(1+math.Cos(math.Pi*float64(e)/float64(tMax)))/2
		}
	}
	for _, tc := range []struct {
		name  string
		s     Scheduler
		want  func(e int) float64
		exact bool
	}{
		// StepDecay.get_lr: base_lr * gamma**(last_epoch // step_size)
		{"StepDecay", NewStepDecay(0.5, 5, 0.8), func(e int) float64 { return 0.5 * math.Pow(0.8, float64(e/5)) }, true},
		// MultiStepDecay.get_lr: base_lr * gamma**i for the first milestone i not reached
		{"MultiStepDecay", NewMultiStepDecay(0.5, []int{2, 4, 6}, 0.8), func(e int) float64 {
			k := 0
			for _, m := range []int{2, 4, 6} {
				if e >= m {
					k++
				}
			}
			return 0.5 * math.Pow(0.8, float64(k))
		}, true},
		// PiecewiseDecay.get_lr: values[i] for the first boundary not reached, else values[-1]
		{"PiecewiseDecay", NewPiecewiseDecay([]int{3, 6, 9}, []float32{0.1, 0.2, 0.3, 0.4}), func(e int) float64 {
			switch {
			case e < 3:
				return 0.1
			case e < 6:
				return 0.2
			case e < 9:
				return 0.3
			}
			return 0.4
		}, true},
		// ExponentialDecay.get_lr: base_lr * gamma**last_epoch
		{"ExponentialDecay", NewExponentialDecay(0.5, 0.9), func(e int) float64 { return 0.5 * math.Pow(0.9, float64(e)) }, true},
		// CosineAnnealingDecay: Paddle's recursive get_lr equals the closed form up to rounding;
		// T_max 10 over 20 steps goes down to eta_min and back up through the (e-1-T) % 2T branch.
		{"CosineAnnealingDecay", NewCosineAnnealingDecay(0.5, 10, 0), cosine(0.5, 0, 10), false},
		{"CosineAnnealingDecay eta_min", NewCosineAnnealingDecay(0.5, 7, 0.1), cosine(0.5, 0.1, 7), false},
		// LinearWarmup.get_lr: (end_lr - start_lr) * last_epoch / warmup_steps + start_lr while
		// last_epoch < warmup_steps, then the float learning_rate
		{"LinearWarmup float", NewLinearWarmup(ConstantLR(0.5), 20, 0, 0.5), func(e int) float64 {
			if e < 20 {
				return 0.5 * float64(e) / 20
			}
			return float64(float32(0.5))
		}, true},
		// ... or the wrapped scheduler stepped to last_epoch - warmup_steps
		{"LinearWarmup StepDecay", NewLinearWarmup(NewStepDecay(0.5, 5, 0.8), 4, 0.1, 0.5), func(e int) float64 {
			if e < 4 {
				return (0.5-0.1)*float64(e)/4 + 0.1
			}
			return 0.5 * math.Pow(0.8, float64((e-4)/5))
		}, true},
		{"LinearWarmup Cosine", NewLinearWarmup(NewCosineAnnealingDecay(0.5, 8, 0), 5, 0, 0.5), func(e int) float64 {
			if e < 5 {
				return 0.5 * float64(e) / 5
			}
			return cosine(0.5, 0, 8)(e - 5)
		}, false},
		{"Constant", ConstantLR(0.25), func(int) float64 { return 0.25 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := lrs(tc.s, n), closed(n, tc.want)
			if tc.exact {
				require.Equal(t, want, got)
			} else {
				require.InDeltaSlice(t, want, got, 1e-7)
			}
		})
	}
}

// TestReduceOnPlateau traces Paddle's ReduceOnPlateau.step by hand.
func TestReduceOnPlateau(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(*ReduceOnPlateau)
		metrics []float32
		want    []float32
	}{
		// min mode, factor 0.5, patience 2, cooldown 1:
		// 10 best; 9 < 10-10·1e-4 best; 9,9 bad 1,2; 9 bad 3 > 2: lr 0.5, cooldown 1;
		// 8 in cooldown (ignored); 8 < 9 best; 8,8 bad 1,2; 8 bad 3: lr 0.25; 8 cooldown
		{"min", func(s *ReduceOnPlateau) { s.Factor, s.Patience, s.Cooldown = 0.5, 2, 1 },
			[]float32{10, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8},
			[]float32{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25}},
		// the same with MinLR 0.3: the second reduction stops at max(0.25, 0.3)
		{"min_lr", func(s *ReduceOnPlateau) { s.Factor, s.Patience, s.Cooldown, s.MinLR = 0.5, 2, 1, 0.3 },
			[]float32{10, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8},
			[]float32{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3}},
		// max mode with an absolute threshold 0.05, patience 1: 0.5 best; 0.54 is not > 0.55:
		// bad 1; 0.56 > 0.55 best; 0.58 bad 1; 0.6 bad 2 > 1: lr 0.1; 0.7 best; 0.7, 0.7: lr 0.01
		{"max abs", func(s *ReduceOnPlateau) { s.Max, s.AbsThreshold, s.Threshold, s.Patience = true, true, 0.05, 1 },
			[]float32{0.5, 0.54, 0.56, 0.58, 0.6, 0.7, 0.7, 0.7},
			[]float32{1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01}},
		// default patience 10: eleven bad epochs after the first reduce once
		{"defaults", func(*ReduceOnPlateau) {},
			[]float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
			[]float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewReduceOnPlateau(1)
			tc.setup(s)
			var got []float32
			for _, m := range tc.metrics {
				s.StepMetric(m)
				got = append(got, s.LR())
			}
			require.InDeltaSlice(t, tc.want, got, 1e-7)
		})
	}
}

func TestSchedulerStateRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() Scheduler
	}{
		{"StepDecay", func() Scheduler { return NewStepDecay(0.5, 3, 0.5) }},
		{"MultiStepDecay", func() Scheduler { return NewMultiStepDecay(0.5, []int{2, 5}, 0.5) }},
		{"PiecewiseDecay", func() Scheduler { return NewPiecewiseDecay([]int{2, 5}, []float32{1, 0.5, 0.1}) }},
		{"ExponentialDecay", func() Scheduler { return NewExponentialDecay(0.5, 0.9) }},
		{"CosineAnnealingDecay", func() Scheduler { return NewCosineAnnealingDecay(0.5, 6, 0.01) }},
		{"LinearWarmup", func() Scheduler { return NewLinearWarmup(NewCosineAnnealingDecay(0.5, 6, 0), 3, 0, 0.5) }},
		{"ReduceOnPlateau", func() Scheduler { s := NewReduceOnPlateau(1); s.Patience, s.Cooldown = 1, 1; return s }},
		{"Constant", func() Scheduler { return ConstantLR(0.5) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := func(s Scheduler, i int) {
				if m, ok := s.(MetricScheduler); ok {
					m.StepMetric(float32(10 - i%4))
				} else {
					s.Step()
				}
			}
			a := tc.make()
			for i := range 7 {
				step(a, i)
			}
			b := tc.make()
			require.NoError(t, b.SetState(a.State()))
			require.Equal(t, a.State(), b.State())
			for i := 7; i < 20; i++ {
				step(a, i)
				step(b, i)
				require.Equal(t, a.LR(), b.LR(), "step %d", i)
			}
		})
	}
}

func TestSchedulerStateErrors(t *testing.T) {
	s := NewStepDecay(0.5, 3, 0.5)
	s.Step()
	before := s.State()
	err := s.SetState(map[string]string{"type": "ExponentialDecay", "last_epoch": "-3", "last_lr": "x"})
	require.EqualError(t, err, "StepDecay state: type \"ExponentialDecay\", want \"StepDecay\"\n"+
		"last_epoch is \"-3\", want an integer >= 0\nlast_lr is \"x\", want a finite number")
	require.Equal(t, before, s.State(), "unchanged on error")

	w := NewLinearWarmup(NewStepDecay(0.5, 3, 0.5), 2, 0, 0.5)
	w.Step()
	before = w.State()
	state := w.State()
	state["after.last_lr"] = "NaN"
	state["last_epoch"] = "1"
	require.ErrorContains(t, w.SetState(state), "StepDecay state: last_lr is \"NaN\", want a finite number")
	state = w.State()
	state["last_epoch"] = "?"
	state["after.last_epoch"] = "5"
	require.ErrorContains(t, w.SetState(state), "LinearWarmup state: last_epoch is \"?\"")
	require.Equal(t, before, w.State(), "neither it nor the wrapped scheduler changed")

	r := NewReduceOnPlateau(1)
	require.ErrorContains(t, r.SetState(map[string]string{"type": "ReduceOnPlateau", "last_epoch": "1", "last_lr": "1"}),
		`missing "cooldown_counter"`)
	require.ErrorContains(t, ConstantLR(1).SetState(map[string]string{}), `Constant state: type "", want "Constant"`)
}
