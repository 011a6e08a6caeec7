package oar_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
)

func TestLoadChangesNothingOnError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	saved := newClassifier() // Adam
	_, err := saved.Fit(context.Background(), blobs(rng, 16), oar.FitOptions{BatchSize: 8})
	require.NoError(t, err)
	require.NoError(t, saved.Save(filepath.Join(dir, "m")))

	sgd := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 32), nn.NewReLU(), nn.NewLinear(32, 4)))
	sgd.Prepare(optim.NewSGD(sgd.Params(), 0.1), losses.NewCrossEntropy(), metrics.NewAccuracy())
	before := append([]float32(nil), sgd.Params()[0].Data()...)
	err = sgd.Load(filepath.Join(dir, "m"))
	require.ErrorContains(t, err, `optimizer "Adam", want "SGD"`)
	require.Equal(t, before, sgd.Params()[0].Data(), "a failed Load changes no parameter")
	require.Equal(t, 0, sgd.Epochs())
	require.NoError(t, sgd.Load(filepath.Join(dir, "m"), oar.LoadOptions{ResetOptimizer: true}))
	require.Equal(t, 1, sgd.Epochs())

	// A pair of files from two different saves (a crash between the two writes) is refused.
	other := t.TempDir()
	require.NoError(t, saved.Save(filepath.Join(other, "m")))
	raw, err := os.ReadFile(filepath.Join(other, "m.opt.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "m.opt.safetensors"), raw, 0o644))
	fresh := newClassifier()
	require.ErrorContains(t, fresh.Load(filepath.Join(dir, "m")), "saved by another Save")
}

func TestEarlyStoppingMinDelta(t *testing.T) {
	// Paddle: an improvement must beat the best by more than MinDelta.
	es := &oar.EarlyStopping{Patience: 0, MinDelta: 0.5, Quiet: true, NoSaveBest: true}
	m := newClassifier()
	es.SetModel(m)
	es.OnTrainBegin(oar.Logs{})
	eval := func(loss float64) {
		es.OnEvalEnd(oar.Logs{Names: []string{"loss"}, Values: []float64{loss}})
	}
	eval(2.0)
	require.False(t, m.StopTraining)
	eval(1.8) // better, but by less than 0.5
	require.True(t, m.StopTraining)
	m.StopTraining = false
	es.OnTrainBegin(oar.Logs{})
	eval(2.0)
	eval(1.4) // better by 0.6
	require.False(t, m.StopTraining)
}

func TestStandaloneEvaluateLeavesTheScheduleAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 4)))
	opt := optim.NewAdam(m.Params(), 0.1)
	plateau := optim.NewReduceOnPlateau(0.1)
	plateau.Patience = 0
	opt.Scheduler = plateau
	m.Prepare(opt, losses.NewCrossEntropy())
	test := blobs(rng, 8)
	for range 4 {
		_, err := m.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 8})
		require.NoError(t, err)
	}
	require.Equal(t, float32(0.1), opt.LR())
}

func TestNumItersMidEpochIsNotAnEpoch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newClassifier()
	_, err := m.Fit(context.Background(), blobs(rng, 32), oar.FitOptions{BatchSize: 4, NumIters: 3})
	require.NoError(t, err)
	require.Equal(t, 0, m.Epochs(), "3 of 8 steps do not complete the epoch")
	_, err = m.Fit(context.Background(), blobs(rng, 32), oar.FitOptions{BatchSize: 4, NumIters: 8})
	require.NoError(t, err)
	require.Equal(t, 1, m.Epochs())
}

func TestFitReturnsCheckpointErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	file := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	m := newClassifier()
	_, err := m.Fit(context.Background(), blobs(rng, 8), oar.FitOptions{BatchSize: 4, SaveDir: file})
	require.ErrorContains(t, err, "oar: save: mkdir "+file)
}
