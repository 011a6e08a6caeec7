package oar_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/nn"
)

// TestDeterminism: one seed gives bitwise-identical parameters after the same steps, whatever the
// number of loader workers and of threads (GOMAXPROCS). Parallel kernels split work in chunks
// fixed by the problem size and reduce them in a fixed order, and the loader's batch order depends
// on the seed and epoch alone.
func TestDeterminism(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	x, y := bars(rand.New(rand.NewPCG(3, 4)), 160)
	var want [][]float32
	for _, procs := range []int{1, 2, 4} {
		for _, workers := range []int{0, 1, 4} {
			runtime.GOMAXPROCS(procs)
			m := resumeModel("adam") // Dropout, Adam and a schedule: every source of randomness
			_, err := m.Fit(context.Background(), data.NewTensorDataset(x, y),
				oar.FitOptions{Epochs: 2, BatchSize: 32, Workers: workers, Seed: 9})
			require.NoError(t, err)
			var got [][]float32
			for _, p := range nn.StateDict(m.Network) {
				got = append(got, p.Data())
			}
			if want == nil {
				want = got
				continue
			}
			require.Equal(t, want, got, "GOMAXPROCS %d, Workers %d", procs, workers)
		}
	}
}

// TestCancelDuringFitLeavesNoGoroutine cancels Fit mid-epoch with loader workers running.
func TestCancelDuringFitLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	m := newClassifier()
	stopper := &cancelAfter{n: 5, cancel: cancel}
	_, err := m.Fit(ctx, slowDataset{blobs(rand.New(rand.NewPCG(1, 2)), 400)},
		oar.FitOptions{Epochs: 3, BatchSize: 4, Workers: 4, Callbacks: []oar.Callback{stopper}})
	require.ErrorIs(t, err, context.Canceled)
	time.Sleep(10 * time.Millisecond) // kernel helper goroutines finish their short spin
}

// TestEvaluateWhileAnotherModelTrains runs Evaluate on one model while a second trains, on two
// goroutines; run with -race. NoGrad evaluation shares no state with training.
func TestEvaluateWhileAnotherModelTrains(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	train, test := blobs(rng, 64), blobs(rng, 64)
	trainer, evaluator := newClassifier(), newClassifier()
	want, err := evaluator.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 16})
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := trainer.Fit(context.Background(), train, oar.FitOptions{Epochs: 3, BatchSize: 8, Workers: 2})
		if err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		for i := range 5 {
			got, err := evaluator.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 16, Workers: 1})
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("evaluation %d: %v, %v; want %v", i, got, err, want)
			}
		}
	})
	wg.Wait()
}
