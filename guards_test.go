package oar_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// TestNoBatchIsAnError: data that yields no batch (no samples, or fewer than BatchSize with
// DropLast) is an error naming the data and the batch settings, for Fit (training and evaluation
// data), Evaluate and Predict, before anything runs.
func TestNoBatchIsAnError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	empty := &data.Subset{Dataset: blobs(rng, 4)}
	five := blobs(rng, 5)

	m := newClassifier()
	before := append([]float32(nil), m.Params()[0].Data()...)
	_, err := m.Fit(ctx, empty, oar.FitOptions{BatchSize: 8})
	require.EqualError(t, err, "oar: Fit: the training data (*data.Subset of 0 samples) yields no batch with BatchSize 8 and DropLast false")
	_, err = m.Fit(ctx, five, oar.FitOptions{BatchSize: 8, DropLast: true})
	require.EqualError(t, err, "oar: Fit: the training data (*data.TensorDataset of 5 samples) yields no batch with BatchSize 8 and DropLast true")
	_, err = m.Fit(ctx, &data.Loader{Dataset: five, BatchSize: 6, DropLast: true}, oar.FitOptions{})
	require.EqualError(t, err, "oar: Fit: the training data (*data.Loader over *data.TensorDataset of 5 samples) yields no batch with BatchSize 6 and DropLast true")
	_, err = m.Fit(ctx, five, oar.FitOptions{BatchSize: 4, Eval: empty})
	require.EqualError(t, err, "oar: Fit: the evaluation data (FitOptions.Eval) (*data.Subset of 0 samples) yields no batch with BatchSize 4 and DropLast false")
	require.Equal(t, before, m.Params()[0].Data(), "no training before the error")
	require.Equal(t, 0, m.Epochs())

	_, err = m.Evaluate(ctx, empty, oar.EvalOptions{})
	require.EqualError(t, err, "oar: Evaluate: the evaluation data (*data.Subset of 0 samples) yields no batch with BatchSize 1 and DropLast false")
	_, err = m.Predict(ctx, empty, oar.PredictOptions{BatchSize: 2})
	require.EqualError(t, err, "oar: Predict: the test data (*data.Subset of 0 samples) yields no batch with BatchSize 2 and DropLast false")
	_, err = m.Predict(ctx, &data.Loader{Dataset: five, BatchSize: 8, DropLast: true}, oar.PredictOptions{})
	require.EqualError(t, err, "oar: Predict: the test data (*data.Loader over *data.TensorDataset of 5 samples) yields no batch with BatchSize 8 and DropLast true")

	// One batch is enough.
	_, err = m.Fit(ctx, five, oar.FitOptions{BatchSize: 5, DropLast: true})
	require.NoError(t, err)
}

// TestEvaluateNeedsALossOrMetric: Evaluate without Prepare has nothing to compute and panics,
// as Fit does; Predict needs no Prepare.
func TestEvaluateNeedsALossOrMetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	m := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 4)))
	require.PanicsWithError(t, "oar: Evaluate: nothing to compute: Prepare the model with a loss or metrics first", func() {
		m.Evaluate(ctx, blobs(rng, 4), oar.EvalOptions{})
	})
	out, err := m.Predict(ctx, blobs(rng, 4), oar.PredictOptions{BatchSize: 4})
	require.NoError(t, err)
	require.Equal(t, []int{4, 4}, out[0][0].Shape())
	m.Prepare(nil, nil, metrics.NewAccuracy())
	res, err := m.Evaluate(ctx, blobs(rng, 4), oar.EvalOptions{BatchSize: 4})
	require.NoError(t, err)
	require.Contains(t, res, "acc", "metrics alone are enough")
}

// blockAt is a callback that, at its first training batch, says so and waits to be released.
type blockAt struct {
	oar.BaseCallback
	started, release chan struct{}
}

func (b *blockAt) OnTrainBatchBegin(step int, _ oar.Logs) {
	if step == 0 {
		close(b.started)
		<-b.release
	}
}

// TestConcurrentUsePanics: Predict (or any other run) on one goroutine while Fit runs on another
// panics with both calls named, before it touches the network; the Model is usable again once
// Fit returns. Run it with -race: the guard itself must not race.
func TestConcurrentUsePanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	m := newClassifier()
	train, test := blobs(rng, 16), blobs(rng, 4)
	x := data.GetBatch(test, []int{0, 1})[0]
	block := &blockAt{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := m.Fit(ctx, train, oar.FitOptions{BatchSize: 4, Callbacks: []oar.Callback{block}})
		done <- err
	}()
	<-block.started
	msg := " while Fit is running on the same Model; a Model is not safe for concurrent use (use one Model per goroutine)"
	require.PanicsWithError(t, "oar: Predict: called"+msg, func() { m.Predict(ctx, test, oar.PredictOptions{}) })
	require.PanicsWithError(t, "oar: PredictBatch: called"+msg, func() { m.PredictBatch(x) })
	require.PanicsWithError(t, "oar: Evaluate: called"+msg, func() { m.Evaluate(ctx, test, oar.EvalOptions{}) })
	require.PanicsWithError(t, "oar: EvalBatch: called"+msg, func() { m.EvalBatch(x, x) })
	require.PanicsWithError(t, "oar: TrainBatch: called"+msg, func() { m.TrainBatch(x, x) })
	require.PanicsWithError(t, "oar: Fit: called"+msg, func() { m.Fit(ctx, train, oar.FitOptions{}) })
	close(block.release)
	require.NoError(t, <-done)

	_, err := m.Predict(ctx, test, oar.PredictOptions{})
	require.NoError(t, err, "usable after Fit")
	// A panic inside a call ends it too.
	require.Panics(t, func() { m.PredictBatch(tensor.New(make([]float32, 3), 1, 3)) })
	_, err = m.Evaluate(ctx, test, oar.EvalOptions{})
	require.NoError(t, err, "usable after a panic")
}

// predictInCallback calls Predict on its model at the end of each epoch.
type predictInCallback struct {
	oar.BaseCallback
	data data.Dataset
}

func (p *predictInCallback) OnEpochEnd(int, oar.Logs) {
	p.Model.Predict(context.Background(), p.data, oar.PredictOptions{})
}

// TestCallbackMayNotRunTheModel: a callback runs inside Fit, so calling Predict on its model is
// the same overlap, and panics the same way.
func TestCallbackMayNotRunTheModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newClassifier()
	cb := &predictInCallback{data: blobs(rng, 4)}
	require.PanicsWithError(t, "oar: Predict: called while Fit is running on the same Model; a Model is not safe for concurrent use (use one Model per goroutine)", func() {
		m.Fit(context.Background(), blobs(rng, 8), oar.FitOptions{BatchSize: 4, Callbacks: []oar.Callback{cb}})
	})
}
