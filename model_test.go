package oar_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// blobs returns n points in 8 dimensions from 4 well-separated classes, labels [n, 1].
func blobs(rng *rand.Rand, n int) *data.TensorDataset {
	x := tensor.Randn(rng, n, 8).Scale(0.3)
	y := make([]float32, n)
	for i := range n {
		c := rng.IntN(4)
		y[i] = float32(c)
		x.Data()[i*8+2*c] += 2
	}
	return data.NewTensorDataset(x, tensor.New(y, n, 1))
}

func newClassifier() *oar.Model {
	m := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 32), nn.NewReLU(), nn.NewLinear(32, 4)))
	m.Prepare(optim.NewAdam(m.Params(), 0.01), losses.NewCrossEntropy(), metrics.NewAccuracy())
	return m
}

func TestFitOverfits64Samples(t *testing.T) {
	nn.Seed(1)
	train := blobs(rand.New(rand.NewPCG(1, 2)), 64)
	m := newClassifier()
	hist, err := m.Fit(context.Background(), train, oar.FitOptions{Epochs: 30, BatchSize: 16, Seed: 1})
	require.NoError(t, err)
	require.Len(t, hist.Train, 30)
	res, err := m.Evaluate(context.Background(), train, oar.EvalOptions{BatchSize: 64})
	require.NoError(t, err)
	require.Equal(t, 1.0, res["acc"], "Fit must fit 64 samples exactly")
	acc, _ := hist.Train[29].Get("acc")
	require.Equal(t, 1.0, acc)
}

func TestEvaluateMatchesHandComputation(t *testing.T) {
	nn.Seed(2)
	rng := rand.New(rand.NewPCG(3, 4))
	ds := blobs(rng, 50)
	m := newClassifier()
	res, err := m.Evaluate(context.Background(), ds, oar.EvalOptions{BatchSize: 20})
	require.NoError(t, err)
	// by hand: accuracy over all 50, loss of the last batch (items 40..49), as Paddle
	all := data.GetBatch(ds, seq(0, 50))
	logits := m.Network.Forward(all[0].NoGrad())
	correct := 0
	for i := range 50 {
		if logits.Index(0, i).ArgMax(0).Item() == all[1].Data()[i] {
			correct++
		}
	}
	require.InDelta(t, float64(correct)/50, res["acc"], 1e-12)
	last := data.GetBatch(ds, seq(40, 50))
	want := losses.NewCrossEntropy().Forward(m.Network.Forward(last[0].NoGrad()), last[1]).Item()
	require.InDelta(t, float64(want), res["loss"], 1e-6)
	require.Equal(t, []string{"loss", "acc"}, m.MetricNames())
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// recorder logs every hook it receives.
type recorder struct {
	oar.BaseCallback
	log []string
}

func (r *recorder) add(s string)                   { r.log = append(r.log, s) }
func (r *recorder) OnTrainBegin(oar.Logs)          { r.add("train_begin") }
func (r *recorder) OnTrainEnd(oar.Logs)            { r.add("train_end") }
func (r *recorder) OnEvalBegin(oar.Logs)           { r.add("eval_begin") }
func (r *recorder) OnEvalEnd(oar.Logs)             { r.add("eval_end") }
func (r *recorder) OnEpochBegin(e int, _ oar.Logs) { r.add(fmt.Sprint("epoch_begin ", e)) }
func (r *recorder) OnEpochEnd(e int, _ oar.Logs)   { r.add(fmt.Sprint("epoch_end ", e)) }
func (r *recorder) OnTrainBatchBegin(s int, _ oar.Logs) {
	r.add(fmt.Sprint("train_batch_begin ", s))
}
func (r *recorder) OnTrainBatchEnd(s int, _ oar.Logs) { r.add(fmt.Sprint("train_batch_end ", s)) }
func (r *recorder) OnEvalBatchBegin(s int, _ oar.Logs) {
	r.add(fmt.Sprint("eval_batch_begin ", s))
}
func (r *recorder) OnEvalBatchEnd(s int, _ oar.Logs) { r.add(fmt.Sprint("eval_batch_end ", s)) }

func TestCallbackOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rec := &recorder{}
	m := newClassifier()
	_, err := m.Fit(context.Background(), blobs(rng, 8), oar.FitOptions{
		Epochs: 2, BatchSize: 4, Eval: blobs(rng, 4), EvalBatchSize: 4, EvalFreq: 2, Callbacks: []oar.Callback{rec},
	})
	require.NoError(t, err)
	require.Equal(t, []string{
		"train_begin",
		"epoch_begin 0", "train_batch_begin 0", "train_batch_end 0", "train_batch_begin 1", "train_batch_end 1", "epoch_end 0",
		"eval_begin", "eval_batch_begin 0", "eval_batch_end 0", "eval_end", // epoch 0 % 2 == 0, as Paddle
		"epoch_begin 1", "train_batch_begin 0", "train_batch_end 0", "train_batch_begin 1", "train_batch_end 1", "epoch_end 1",
		"train_end",
	}, rec.log)
	require.Equal(t, 2, rec.Params.Epochs)
	require.Equal(t, 2, rec.Params.Steps)
	require.Same(t, m, rec.Model)
}

func TestEarlyStoppingStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newClassifier()
	m.Prepare(optim.NewSGD(m.Params(), 1e-9), losses.NewCrossEntropy(), metrics.NewAccuracy()) // cannot improve
	dir := t.TempDir()
	es := &oar.EarlyStopping{Monitor: "acc", Patience: 1, Quiet: true}
	hist, err := m.Fit(context.Background(), blobs(rng, 16), oar.FitOptions{
		Epochs: 10, BatchSize: 8, Eval: blobs(rng, 8), Callbacks: []oar.Callback{es}, SaveDir: dir,
	})
	require.NoError(t, err)
	// Paddle's rule: the first evaluation sets the best value; each one without improvement adds
	// to a wait count, and training stops once it exceeds the patience: after epoch 3.
	require.Len(t, hist.Train, 3)
	require.FileExists(t, filepath.Join(dir, "best_model.safetensors"))
	require.FileExists(t, filepath.Join(dir, "final.safetensors"))
	require.FileExists(t, filepath.Join(dir, "0.safetensors"))
}

func TestSaveLoadEvaluateIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	train, test := blobs(rng, 32), blobs(rng, 32)
	m := newClassifier()
	_, err := m.Fit(context.Background(), train, oar.FitOptions{Epochs: 2, BatchSize: 8})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "out", "mnist")
	require.NoError(t, m.Save(path))
	require.FileExists(t, path+".safetensors")
	require.FileExists(t, path+".opt.safetensors")
	want, err := m.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 8})
	require.NoError(t, err)

	fresh := newClassifier()
	require.NoError(t, fresh.Load(path+".safetensors"))
	got, err := fresh.Evaluate(context.Background(), test, oar.EvalOptions{BatchSize: 8})
	require.NoError(t, err)
	require.Equal(t, want, got)

	other := oar.NewModel(nn.NewSequential(nn.NewLinear(8, 16), nn.NewReLU(), nn.NewLinear(16, 4)))
	err = other.Load(path)
	require.ErrorContains(t, err, `key "0.weight": shape [8 32] in the state dict, [8 16] in the layer`)
	require.NoError(t, other.Load(path, oar.LoadOptions{SkipMismatch: true}), "the last layer's bias fits")
}

// slowDataset sleeps in Get so that a cancellation lands mid-epoch.
type slowDataset struct{ data.Dataset }

func (s slowDataset) Get(i int) data.Sample {
	time.Sleep(2 * time.Millisecond)
	return s.Dataset.Get(i)
}

func TestFitCancelReturnsPromptly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newClassifier()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	stopper := &cancelAfter{n: 3, cancel: cancel}
	start := time.Now()
	_, err := m.Fit(ctx, slowDataset{blobs(rng, 1000)}, oar.FitOptions{
		Epochs: 100, BatchSize: 4, SaveDir: dir, Callbacks: []oar.Callback{stopper},
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 10*time.Second)
	require.FileExists(t, filepath.Join(dir, "interrupted.safetensors"))
}

type cancelAfter struct {
	oar.BaseCallback
	n      int
	cancel func()
}

func (c *cancelAfter) OnTrainBatchEnd(step int, _ oar.Logs) {
	if step+1 == c.n {
		c.cancel()
	}
}

func TestFitNaNLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ds := blobs(rng, 16)
	x := data.GetBatch(ds, seq(0, 16))[0]
	x.Data()[5*8] = float32(math.NaN()) // item 5: the second batch of 4 without shuffling
	m := newClassifier()
	_, err := m.Fit(context.Background(), data.NewTensorDataset(x, data.GetBatch(ds, seq(0, 16))[1]),
		oar.FitOptions{Epochs: 1, BatchSize: 4, NoShuffle: true})
	var nf *oar.NonFiniteLossError
	require.True(t, errors.As(err, &nf), "%v", err)
	require.EqualError(t, err, "oar: Fit: epoch 1 step 1: loss is NaN")
}

func TestFitNaNDetectorNamesLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := newClassifier()
	m.Network.(*nn.Sequential).At(2).(*nn.Linear).Weight.Data()[5] = float32(math.NaN())
	_, err := m.Fit(context.Background(), blobs(rng, 8), oar.FitOptions{Epochs: 1, BatchSize: 4, DetectNonFinite: true})
	require.EqualError(t, err, "oar: Fit: epoch 1 step 0: loss is NaN; first non-finite output: "+
		"nn: 2 (Linear): tensor: Linear: output [4 4] has NaN at element 1 (inputs [[4 32] [32 4] [4]])")
	var nf *tensor.NonFiniteError
	require.True(t, errors.As(err, &nf))
	require.Equal(t, "Linear", nf.Op)
}

func TestPredict(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ds := blobs(rng, 10)
	m := newClassifier()
	outs, err := m.Predict(context.Background(), ds, oar.PredictOptions{BatchSize: 4})
	require.NoError(t, err)
	require.Len(t, outs, 1, "one list per network output")
	require.Len(t, outs[0], 3, "one tensor per batch")
	require.Equal(t, []int{2, 4}, outs[0][2].Shape())
	stacked, err := m.Predict(context.Background(), ds, oar.PredictOptions{BatchSize: 4, Stack: true})
	require.NoError(t, err)
	require.Len(t, stacked, 1)
	require.Len(t, stacked[0], 1)
	require.Equal(t, []int{10, 4}, stacked[0][0].Shape())
	require.False(t, stacked[0][0].RequiresGrad())

	// Paddle's default batch size is 1, so that result[0][idx] is sample idx's output.
	var buf bytes.Buffer
	single, err := m.Predict(context.Background(), ds, oar.PredictOptions{Verbose: 2, Output: &buf})
	require.NoError(t, err)
	require.Len(t, single[0], 10)
	for idx := range 10 {
		require.Equal(t, []int{1, 4}, single[0][idx].Shape())
		require.Equal(t, stacked[0][0].Index(0, idx).Data(), single[0][idx].Data(), "sample %d", idx)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Equal(t, "Predict begin...", lines[0])
	require.Len(t, lines, 1+5+1, "a line every 2 steps (Paddle's predict log_freq), then the sample count")
	require.Equal(t, "Predict samples: 10", lines[len(lines)-1])
}

func TestEvalResultPrintsAsPaddle(t *testing.T) {
	res := oar.EvalResult{"loss": 1.1920928955078125e-07, "acc": 0.9859}
	require.Equal(t, "{'loss': [1.1920929e-07], 'acc': 0.9859}", res.String())
	require.Equal(t, "{'loss': [0.0123], 'acc': 1.0}", fmt.Sprint(oar.EvalResult{"loss": float64(float32(0.0123)), "acc": 1}))
	require.Equal(t, "{'loss': [2.0], 'acc_top1': 0.5, 'acc_top2': 0.75}",
		fmt.Sprint(oar.EvalResult{"acc_top2": 0.75, "loss": 2, "acc_top1": 0.5}))
	require.Equal(t, "{'acc': 1234567.0}", oar.EvalResult{"acc": 1234567}.String())
	require.Equal(t, "{'loss': [nan]}", oar.EvalResult{"loss": math.NaN()}.String())
}

func TestProgressTextIsPaddles(t *testing.T) {
	var buf bytes.Buffer
	m := newClassifier()
	rng := rand.New(rand.NewPCG(1, 2))
	_, err := m.Fit(context.Background(), blobs(rng, 8), oar.FitOptions{
		Epochs: 1, BatchSize: 4, Verbose: 1, LogFreq: 1, Output: &buf, Eval: blobs(rng, 4), EvalBatchSize: 4,
	})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Equal(t, "The loss value printed in the log is the current step, and the metric is the average value of previous steps.", lines[0])
	require.Equal(t, "Epoch 1/1", lines[1])
	value := `\d\.\d{4}(e[+-]\d\d)?`
	require.Regexp(t, `^step 1/2 \[==============>\.{15}\] - loss: `+value+` - acc: `+value+` - ETA: 0s - \d+(us|ms|s)/step$`, lines[2])
	require.Regexp(t, `^step 2/2 \[={30}\] - loss: `+value+` - acc: `+value+` - \d+(us|ms|s)/step$`, lines[3])
	require.Equal(t, "Eval begin...", lines[4])
	require.Regexp(t, `^step 1/1 \[={30}\] - loss: `+value+` - acc: `+value+` - \d+(us|ms|s)/step$`, lines[5])
	require.Equal(t, "Eval samples: 4", lines[6])
}
