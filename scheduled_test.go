package oar_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
)

// plainSGD is a custom optimizer built on optim.Base outside package optim.
type plainSGD struct{ optim.Base }

func (o *plainSGD) Slots() optim.Slots { return optim.Slots{} }
func (o *plainSGD) Prepare()           {}
func (o *plainSGD) Update(u *optim.Update) {
	for i, p := range u.P {
		u.P[i] = p - u.LR*u.Grad(i)
	}
}

// wrapped is an optimizer not built on Base that declares its scheduler through optim.Scheduled.
type wrapped struct {
	optim.Optimizer
	s optim.Scheduler
}

func (w wrapped) LRScheduler() optim.Scheduler { return w.s }

// TestLRSchedulerCallbackFindsCustomSchedulers checks that Fit's LRScheduler callback steps the
// scheduler of any optim.Scheduled optimizer: 32 samples in batches of 8 are 4 steps, each
// halving the rate of StepDecay(0.1, 1, 0.5): 0.1·0.5⁴ = 0.00625.
func TestLRSchedulerCallbackFindsCustomSchedulers(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(ps []nn.Param, s optim.Scheduler) optim.Optimizer
	}{
		{"built on Base", func(ps []nn.Param, s optim.Scheduler) optim.Optimizer {
			o := &plainSGD{}
			o.Base = optim.NewBase("plainSGD", ps, 0.1, o)
			o.Scheduler = s
			return o
		}},
		{"wrapper", func(ps []nn.Param, s optim.Scheduler) optim.Optimizer {
			return wrapped{optim.NewSGD(ps, 0.1), s}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 4)))
			s := optim.NewStepDecay(0.1, 1, 0.5)
			m.Prepare(tc.make(m.Params(), s), losses.NewCrossEntropy())
			_, err := m.Fit(context.Background(), blobs(rng, 32), oar.FitOptions{BatchSize: 8})
			require.NoError(t, err)
			require.Equal(t, float32(0.00625), s.LR())
		})
	}
}
