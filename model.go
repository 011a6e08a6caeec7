package oar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// Model trains, evaluates and runs a network, as paddle.Model: Prepare it with an optimizer, a
// loss and metrics, then Fit, Evaluate, Predict, Save and Load.
//
// The network takes field 0 of each batch as its input; the remaining fields are labels (the
// loss and metrics take field 1).
//
// A Model is not safe for concurrent use; two Models may train and evaluate on separate
// goroutines. Fit, Evaluate, Predict, TrainBatch, EvalBatch and PredictBatch check it: one of
// them called while another runs on the same Model (Predict on another goroutine during Fit,
// say, which would race with the optimizer and switch Dropout off in the running Fit) panics
// with an *Error naming both calls. This holds also for a callback calling them on the Model it
// is given, which runs inside Fit; Save and Load are not checked, since callbacks save.
type Model struct {
	Network nn.Layer
	// StopTraining, set by a callback (EarlyStopping), ends Fit after the current epoch.
	StopTraining bool
	// InputShape is the network's input shape with its batch dimension (Paddle's inputs
	// InputSpec), for Save with SaveOptions.Inference. When nil, Save uses the shape of the first
	// batch the model ran, as Paddle infers it.
	InputShape []int

	seenShape []int // the first batch's input shape

	opt     optim.Optimizer
	loss    losses.Loss
	metrics []metrics.Metric
	epochs  int // training epochs completed, saved with the model

	running atomic.Pointer[string] // the call running on the Model, nil for none
}

// Error is the panic value of this package for programmer errors: a Model used before Prepare,
// negative options, data of the wrong kind.
type Error struct {
	Op  string // e.g. "Fit"
	Msg string
}

func (e *Error) Error() string { return "oar: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// enter marks op as running on m and returns the function that ends it; it panics if another
// call runs on m.
func (m *Model) enter(op string) (leave func()) {
	if !m.running.CompareAndSwap(nil, &op) {
		other := "another call"
		if p := m.running.Load(); p != nil {
			other = *p
		}
		panicf(op, "called while %s is running on the same Model; a Model is not safe for concurrent use (use one Model per goroutine)", other)
	}
	return func() { m.running.Store(nil) }
}

// NewModel wraps net.
func NewModel(net nn.Layer) *Model { return &Model{Network: net} }

// Params returns the network's parameters (Paddle's model.parameters()).
func (m *Model) Params() []nn.Param { return m.Network.Params() }

// Prepare sets what training and evaluation use: the optimizer (nil to only evaluate or
// predict), the loss (nil to only predict) and metrics.
func (m *Model) Prepare(opt optim.Optimizer, loss losses.Loss, ms ...metrics.Metric) {
	m.opt, m.loss, m.metrics = opt, loss, ms
}

// Epochs returns the number of training epochs the model has completed, over every Fit and
// across Save and Load. Fit starts from it: its shuffling continues where the last run stopped.
func (m *Model) Epochs() int { return m.epochs }

// Optimizer returns the optimizer given to Prepare.
func (m *Model) Optimizer() optim.Optimizer { return m.opt }

// MetricNames returns the names of the logged values: "loss" (with a loss) then every metric's.
func (m *Model) MetricNames() []string {
	var names []string
	if m.loss != nil {
		names = append(names, "loss")
	}
	for _, mt := range m.metrics {
		names = append(names, mt.Name()...)
	}
	return names
}

// TrainBatch runs one training step on inputs x and labels y: forward, loss, backward, optimizer
// step, gradient clearing. It returns the batch's loss and each metric's running value (since the
// last reset, as Paddle logs them). It panics if Prepare gave no optimizer or loss, or on shapes
// the network or loss cannot take.
func (m *Model) TrainBatch(x, y *tensor.Tensor) (loss float64, metricValues []float64) {
	defer m.enter("TrainBatch")()
	return m.trainBatch(x, y)
}

func (m *Model) trainBatch(x, y *tensor.Tensor) (loss float64, metricValues []float64) {
	m.see(x)
	if m.opt == nil || m.loss == nil {
		panicf("TrainBatch", "Prepare the model with an optimizer and a loss first")
	}
	nn.Train(m.Network)
	out := m.Network.Forward(x)
	l := m.loss.Forward(out, y)
	l.Backward()
	m.opt.Step()
	m.opt.ClearGrad()
	return float64(l.Item()), m.updateMetrics(out, y)
}

// EvalBatch computes the loss and metrics of one batch without training and without a graph.
// The loss is NaN when Prepare gave none. It panics on shapes the network or loss cannot take.
func (m *Model) EvalBatch(x, y *tensor.Tensor) (loss float64, metricValues []float64) {
	defer m.enter("EvalBatch")()
	return m.evalBatch(x, y)
}

func (m *Model) evalBatch(x, y *tensor.Tensor) (loss float64, metricValues []float64) {
	m.see(x)
	nn.Eval(m.Network)
	out := m.Network.Forward(x.NoGrad())
	loss = math.NaN()
	if m.loss != nil {
		loss = float64(m.loss.Forward(out, y.NoGrad()).Item())
	}
	return loss, m.updateMetrics(out, y)
}

// PredictBatch returns the network's output for x, in evaluation mode and without a graph.
func (m *Model) PredictBatch(x *tensor.Tensor) *tensor.Tensor {
	defer m.enter("PredictBatch")()
	return m.predictBatch(x)
}

func (m *Model) predictBatch(x *tensor.Tensor) *tensor.Tensor {
	m.see(x)
	nn.Eval(m.Network)
	return m.Network.Forward(x.NoGrad()).Detach()
}

// see records the first input shape the model runs, for Save's inference export.
func (m *Model) see(x *tensor.Tensor) {
	if m.seenShape == nil {
		m.seenShape = x.Shape()
	}
}

func (m *Model) updateMetrics(out, y *tensor.Tensor) []float64 {
	var vals []float64
	for _, mt := range m.metrics {
		mt.Update(mt.Compute(out.Detach(), y))
		vals = append(vals, mt.Accumulate()...)
	}
	return vals
}

func (m *Model) resetMetrics() {
	for _, mt := range m.metrics {
		mt.Reset()
	}
}

// Source is what Fit, Evaluate and Predict read: a data.Dataset, which they batch with their
// options' BatchSize, Workers and shuffling, or a *data.Loader, used as it is (those options are
// then ignored, as in Paddle).
type Source interface{ Len() int }

// loaderFor returns src's loader; a dataset is wrapped with the given settings. It panics if src
// is neither.
func loaderFor(op string, src Source, batchSize, workers int, shuffle, dropLast bool, seed uint64, timeout time.Duration) *data.Loader {
	if batchSize < 0 || workers < 0 {
		panicf(op, "negative BatchSize %d or Workers %d", batchSize, workers)
	}
	switch s := src.(type) {
	case *data.Loader:
		return s
	case data.Dataset:
		return &data.Loader{Dataset: s, BatchSize: max(batchSize, 1), Workers: workers, Shuffle: shuffle, DropLast: dropLast,
			Seed: seed, Timeout: timeout}
	}
	panicf(op, "data of type %T is neither a data.Dataset nor a *data.Loader", src)
	return nil
}

// checkBatches returns an error if loader, made for src, yields no batch: an empty data set, or
// fewer samples than BatchSize with DropLast. what names the data ("the training data").
func checkBatches(op, what string, src Source, loader *data.Loader) error {
	if loader.Len() > 0 {
		return nil
	}
	desc := fmt.Sprintf("%T of %d samples", src, src.Len())
	if _, ok := src.(*data.Loader); ok {
		desc = fmt.Sprintf("*data.Loader over %T of %d samples", loader.Dataset, loader.Dataset.Len())
	}
	if loader.Sampler != nil {
		desc += fmt.Sprintf(", sampled by %T", loader.Sampler)
	}
	return fmt.Errorf("oar: %s: %s (%s) yields no batch with BatchSize %d and DropLast %t", op, what, desc, max(loader.BatchSize, 1), loader.DropLast)
}

// FitOptions are Fit's settings, Paddle's fit arguments. Zero values mean Paddle's defaults
// except where noted.
type FitOptions struct {
	Eval          Source // data evaluated every EvalFreq epochs; nil for none
	BatchSize     int    // samples per batch when the data is a Dataset; 0 means 1 (Paddle's default)
	EvalBatchSize int    // for Eval; 0 means BatchSize
	Epochs        int    // 0 means 1
	EvalFreq      int    // evaluate after every EvalFreq-th epoch; 0 means 1
	LogFreq       int    // progress every LogFreq steps; 0 means 10
	SaveDir       string // checkpoints go here (ModelCheckpoint); "" saves none
	SaveFreq      int    // checkpoint every SaveFreq epochs; 0 means 1
	// Verbose is 0 silent, 1 a progress bar, 2 one line per LogFreq steps. Unlike Paddle's
	// default (2), the zero value is silent.
	Verbose   int
	NoShuffle bool // Paddle's shuffle=False: read the training data in order (Paddle shuffles by default)
	DropLast  bool // drop the last, partial batch of each epoch
	Workers   int  // loader goroutines when the data is a Dataset (Paddle's num_workers)
	Seed      uint64
	Callbacks []Callback
	NumIters  int       // stop after this many training steps in all; 0 means no limit
	Output    io.Writer // where progress goes; nil means standard output
	// Timeout, if positive, ends Fit with a *data.TimeoutError when a batch takes longer to load
	// (a Get that never returns, say); see data.Loader.Timeout.
	Timeout time.Duration
	// DetectNonFinite checks the output of every op of the training forward pass (see
	// tensor.CheckFinite), so that a NonFiniteLossError names the first op and layer that
	// produced a NaN or an infinity. It costs a pass over every output.
	DetectNonFinite bool
}

// History is what Fit returns: the logs at the end of every training epoch and of every
// evaluation.
type History struct {
	Train []Logs
	Eval  []Logs
}

// NonFiniteLossError is returned by Fit when a training loss is NaN or infinite.
type NonFiniteLossError struct {
	Epoch, Step int // 1-based epoch, 0-based step within it
	Loss        float64
	// Cause, with FitOptions.DetectNonFinite, is the error of the first op whose output was not
	// finite, with its layer's path (an *nn.Error wrapping a *tensor.NonFiniteError).
	Cause error
}

func (e *NonFiniteLossError) Error() string {
	msg := fmt.Sprintf("oar: Fit: epoch %d step %d: loss is %v", e.Epoch, e.Step, e.Loss)
	if e.Cause != nil {
		msg += "; first non-finite output: " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the cause, so that errors.As finds the *tensor.NonFiniteError inside.
func (e *NonFiniteLossError) Unwrap() error { return e.Cause }

// Fit trains the network on train for opt.Epochs epochs, evaluating on opt.Eval every EvalFreq
// epochs, with Paddle's callbacks (progress, checkpoints, LR scheduling, early stopping). It
// returns the logs and the first error: a NonFiniteLossError when a loss is not finite, or ctx's
// error when ctx is cancelled, in which case training stops at a batch boundary and, with a
// SaveDir, the model is saved to SaveDir/interrupted first. Training or evaluation data that
// yields no batch (no samples, or fewer than BatchSize with DropLast) is an error naming the data
// and the batch settings, before any training. It panics if Prepare gave no optimizer or loss, or
// on data the network cannot take.
func (m *Model) Fit(ctx context.Context, train Source, opt FitOptions) (*History, error) {
	defer m.enter("Fit")()
	if m.opt == nil || m.loss == nil {
		panicf("Fit", "Prepare the model with an optimizer and a loss first")
	}
	epochs := max(opt.Epochs, 1)
	for _, o := range []struct {
		name string
		v    int
	}{{"Epochs", opt.Epochs}, {"EvalBatchSize", opt.EvalBatchSize}, {"EvalFreq", opt.EvalFreq},
		{"LogFreq", opt.LogFreq}, {"SaveFreq", opt.SaveFreq}, {"NumIters", opt.NumIters}} {
		if o.v < 0 {
			panicf("Fit", "negative %s %d", o.name, o.v)
		}
	}
	loader := loaderFor("Fit", train, opt.BatchSize, opt.Workers, !opt.NoShuffle, opt.DropLast, opt.Seed, opt.Timeout)
	if _, ok := train.(data.Dataset); ok {
		// A resumed run reads the epochs it has not seen, in the same order as an uninterrupted one.
		loader.SetEpoch(m.epochs)
	}
	if err := checkBatches("Fit", "the training data", train, loader); err != nil {
		return nil, err
	}
	var evalLoader *data.Loader
	if opt.Eval != nil {
		evalLoader = loaderFor("Fit", opt.Eval, orDefault(opt.EvalBatchSize, opt.BatchSize), opt.Workers, false, false, 0, opt.Timeout)
		if err := checkBatches("Fit", "the evaluation data (FitOptions.Eval)", opt.Eval, evalLoader); err != nil {
			return nil, err
		}
	}
	start := m.epochs // epochs are numbered over the model's whole training
	cbs := m.configCallbacks(opt.Callbacks, callbackConfig{
		verbose: opt.Verbose, logFreq: orDefault(opt.LogFreq, 10), saveDir: opt.SaveDir,
		saveFreq: orDefault(opt.SaveFreq, 1), out: opt.Output, fit: true,
	}, CallbackParams{BatchSize: max(opt.BatchSize, 1), Epochs: start + epochs, Steps: loader.Len(), Verbose: opt.Verbose, Metrics: m.MetricNames()})
	m.StopTraining = false
	hist := &History{}
	numIters := opt.NumIters
	cbs.OnTrainBegin(Logs{})
	var logs Logs
	for epoch := start; epoch < start+epochs; epoch++ {
		cbs.OnEpochBegin(epoch, Logs{})
		var err error
		var complete bool
		logs, complete, err = m.runEpoch(ctx, loader, cbs, modeTrain, epoch, &numIters, opt.DetectNonFinite)
		if err != nil {
			return hist, errors.Join(m.interrupted(err, opt.SaveDir), cbs.err())
		}
		if complete { // an epoch cut short by NumIters does not count: a resumed run redoes it
			m.epochs++
		}
		cbs.OnEpochEnd(epoch, logs)
		hist.Train = append(hist.Train, logs)
		if evalLoader != nil && epoch%orDefault(opt.EvalFreq, 1) == 0 {
			evalLogs, err := m.evaluate(ctx, evalLoader, cbs)
			if err != nil {
				return hist, errors.Join(m.interrupted(err, opt.SaveDir), cbs.err())
			}
			hist.Eval = append(hist.Eval, evalLogs)
		}
		if m.StopTraining {
			break
		}
	}
	cbs.OnTrainEnd(logs)
	return hist, cbs.err()
}

// interrupted saves a checkpoint after a cancellation, when there is a SaveDir. The checkpoint
// holds the epochs completed before the cancellation: a run resumed from it redoes the
// interrupted epoch from its start.
func (m *Model) interrupted(err error, saveDir string) error {
	if saveDir == "" || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if serr := m.Save(filepath.Join(saveDir, "interrupted")); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

type mode int

const (
	modeTrain mode = iota
	modeEval
	modePredict
)

// runEpoch runs one pass of loader in mode, calling the batch hooks, and returns the last logs.
// numIters, if positive, counts the steps left in Fit.
// It reports whether the epoch ran to its end (not cut short by NumIters).
func (m *Model) runEpoch(ctx context.Context, loader *data.Loader, cbs *callbackList, md mode, epoch int, numIters *int, detect bool) (logs Logs, complete bool, err error) {
	m.resetMetrics()
	defer m.resetMetrics()
	names := m.MetricNames()
	step := 0
	for b := range loader.All(ctx) {
		if len(b) < 2 {
			panicf("Fit", "batch has %d fields; training and evaluation need inputs and labels", len(b))
		}
		cbs.onBatchBegin(md, step, Logs{Step: step})
		var loss float64
		var vals []float64
		if md == modeTrain {
			var cause error
			loss, vals, cause = m.trainStep(b[0], b[1], detect)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return logs, false, &NonFiniteLossError{Epoch: epoch + 1, Step: step, Loss: loss, Cause: cause}
			}
		} else {
			loss, vals = m.evalBatch(b[0], b[1])
		}
		logs = Logs{Step: step, BatchSize: b[0].Dim(0), Names: names}
		if m.loss != nil {
			logs.Values = append(logs.Values, loss)
		}
		logs.Values = append(logs.Values, vals...)
		cbs.onBatchEnd(md, step, logs)
		step++
		if md == modeTrain && numIters != nil && *numIters > 0 {
			*numIters--
			if *numIters == 0 {
				m.StopTraining = true
				return logs, step == loader.Len(), loader.Err()
			}
		}
	}
	return logs, true, loader.Err()
}

// trainStep is TrainBatch; with detect it marks x with CheckFinite and turns the panic of the
// first op with a non-finite output into a NaN loss and that op's error.
func (m *Model) trainStep(x, y *tensor.Tensor, detect bool) (loss float64, vals []float64, cause error) {
	if !detect {
		loss, vals = m.trainBatch(x, y)
		return loss, vals, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err, ok := r.(error)
			var nf *tensor.NonFiniteError
			if !ok || !errors.As(err, &nf) {
				panic(r)
			}
			loss, vals, cause = math.NaN(), nil, err
		}
	}()
	loss, vals = m.trainBatch(x.CheckFinite(), y)
	return loss, vals, nil
}

// EvalOptions are Evaluate's settings, Paddle's evaluate arguments.
type EvalOptions struct {
	BatchSize int // 0 means 1 (Paddle's default)
	LogFreq   int // 0 means 10
	Verbose   int // 0 silent (the zero value), 1 bar, 2 lines; Paddle's default is 2
	Workers   int
	Callbacks []Callback
	Output    io.Writer
}

// Evaluate runs the loss and metrics over evalData without training and returns their values by
// name ("loss", "acc", ...): the loss of the last batch, as Paddle, and each metric over all
// batches. Paddle's result holds the loss as a list (one value per loss output); oar's Model has
// one loss, and the map holds it as a number: res["loss"], not res["loss"][0]. Printing the
// result (fmt.Println(res), Paddle's print(result)) shows Paddle's format, {'loss': [x], 'acc':
// y}; see EvalResult. It returns ctx's error if ctx is cancelled, and an error naming the data and
// the batch settings if evalData yields no batch. It panics if Prepare gave neither a loss nor a
// metric (there is nothing to compute), or on data the network cannot take.
func (m *Model) Evaluate(ctx context.Context, evalData Source, opt EvalOptions) (EvalResult, error) {
	defer m.enter("Evaluate")()
	if m.loss == nil && len(m.metrics) == 0 {
		panicf("Evaluate", "nothing to compute: Prepare the model with a loss or metrics first")
	}
	loader := loaderFor("Evaluate", evalData, opt.BatchSize, opt.Workers, false, false, 0, 0)
	if err := checkBatches("Evaluate", "the evaluation data", evalData, loader); err != nil {
		return nil, err
	}
	cbs := m.configCallbacks(opt.Callbacks, callbackConfig{verbose: opt.Verbose, logFreq: orDefault(opt.LogFreq, 10), out: opt.Output},
		CallbackParams{BatchSize: max(opt.BatchSize, 1), Verbose: opt.Verbose, Metrics: m.MetricNames()})
	logs, err := m.evaluate(ctx, loader, cbs)
	if err != nil {
		return nil, err
	}
	res := make(EvalResult, len(logs.Names))
	for i, n := range logs.Names {
		res[n] = logs.Values[i]
	}
	return res, nil
}

func (m *Model) evaluate(ctx context.Context, loader *data.Loader, cbs *callbackList) (Logs, error) {
	cbs.OnEvalBegin(Logs{Steps: loader.Len(), Names: m.MetricNames()})
	logs, _, err := m.runEpoch(ctx, loader, cbs, modeEval, 0, nil, false)
	if err != nil {
		return logs, err
	}
	cbs.OnEvalEnd(logs)
	return logs, nil
}

// PredictOptions are Predict's settings, Paddle's predict arguments.
type PredictOptions struct {
	BatchSize int  // 0 means 1 (Paddle's default)
	Stack     bool // concatenate each output's batches along axis 0 (Paddle's stack_outputs)
	Verbose   int  // 0 silent (the zero value), 1 bar, 2 lines; Paddle's default is 1
	LogFreq   int  // progress every LogFreq steps; 0 means 2 (Paddle's predict)
	Workers   int
	Callbacks []Callback
	Output    io.Writer
}

// Predict runs the network on field 0 of every batch of testData and returns its outputs as
// Paddle's predict does: one list per network output, holding that output for every batch,
// indexed [output][batch]. An nn.Layer maps one tensor to one, so there is one output and the
// result has length 1; result[0][i] is batch i's output. With the default BatchSize of 1, as in
// Paddle, batch i is sample i: the tutorial's np.argmax(result[0][idx]) is
// result[0][idx].ArgMax().Item(). With Stack, each output's batches are concatenated into one
// tensor, result[0][0] ([N, ...]; Paddle's result[0] is then that array), and sample idx is
// result[0][0].Index(0, idx); result[0][idx] for idx > 0 is then out of range, not another
// sample. It returns ctx's error if ctx is cancelled, and an error naming the data and the batch
// settings if testData yields no batch. It needs no Prepare: it uses neither the loss nor the
// metrics.
func (m *Model) Predict(ctx context.Context, testData Source, opt PredictOptions) ([][]*tensor.Tensor, error) {
	if opt.LogFreq < 0 {
		panicf("Predict", "negative LogFreq %d", opt.LogFreq)
	}
	defer m.enter("Predict")()
	loader := loaderFor("Predict", testData, opt.BatchSize, opt.Workers, false, false, 0, 0)
	if err := checkBatches("Predict", "the test data", testData, loader); err != nil {
		return nil, err
	}
	cbs := m.configCallbacks(opt.Callbacks, callbackConfig{verbose: opt.Verbose, logFreq: orDefault(opt.LogFreq, 2), out: opt.Output},
		CallbackParams{BatchSize: max(opt.BatchSize, 1), Verbose: opt.Verbose})
	cbs.OnPredictBegin(Logs{Steps: loader.Len()})
	var outs []*tensor.Tensor // the network's one output, per batch
	step := 0
	for b := range loader.All(ctx) {
		cbs.onBatchBegin(modePredict, step, Logs{Step: step})
		outs = append(outs, m.predictBatch(b[0]))
		cbs.onBatchEnd(modePredict, step, Logs{Step: step, BatchSize: b[0].Dim(0)})
		step++
	}
	if err := loader.Err(); err != nil {
		return nil, err
	}
	cbs.OnPredictEnd(Logs{})
	if opt.Stack && len(outs) > 0 {
		outs = []*tensor.Tensor{tensor.Concat(outs, 0)}
	}
	return [][]*tensor.Tensor{outs}, nil
}

// The files Save writes: parameters (and buffers) and optimizer state, both safetensors.
const (
	paramsExt = ".safetensors"
	optExt    = ".opt.safetensors"
)

// Metadata keys of the files Save writes: the epochs trained (parameters file) and an identifier
// of the Save call written into both files, so that a pair from two different saves (a crash
// between the two writes) is refused rather than silently mixed.
const (
	metaEpochs = "oar.epochs"
	metaSaveID = "oar.save_id"
)

// SaveOptions are Save's settings, Paddle's save arguments.
type SaveOptions struct {
	// Inference writes the inference model instead of a checkpoint (Paddle's training=False):
	// the network in evaluation mode as an ONNX file, path+".onnx", that ONNX Runtime, Triton and
	// onnx.Load run, with a dynamic batch dimension. It needs the input shape: Model.InputShape,
	// or else the first batch the model ran. No optimizer state is written.
	Inference bool
	// Opset is the ONNX opset of the inference model; 0 means onnx.Export's default (13).
	Opset int
	// Format is the checkpoint's files: CheckpointSafetensors (the default) or CheckpointPaddle,
	// path.pdparams and path.pdopt (see CheckpointPaddle).
	Format CheckpointFormat
	// PaddleNames maps state-dict keys to the Paddle parameter names a CheckpointPaddle save
	// uses in StructuredToParameterName@@ and in the .pdopt's accumulator names; a key it does
	// not list is its own name.
	PaddleNames map[string]string
}

// Save writes the network's state dict, its layers' random states (Dropout) and the number of
// completed epochs to path+".safetensors" and, when the model has an optimizer, the optimizer's
// state to path+".opt.safetensors" (Paddle's .pdparams and .pdopt), creating path's directory.
// With SaveOptions.Inference it writes the inference model, path+".onnx", instead, and with
// SaveOptions.Format CheckpointPaddle Paddle's path.pdparams and path.pdopt (see CheckpointPaddle).
// Both are safetensors files that carry the same save identifier. A model loaded from them
// continues training exactly as the saved one would.
//
// The two files change together: a crash, kill, power loss or full disk at any moment of Save
// leaves the complete old pair or the complete new one for Load, never a mix and never neither.
// On disk, beside <base>.safetensors and <base>.opt.safetensors, a save writes
// .<base>.opt.safetensors.<id>.tmp and .<base>.safetensors.<id>.tmp (id: 16 hex digits), fsyncs
// them, then commits by renaming a manifest .<base>.pair (naming those files; written as
// .<base>.pair.<id>.tmp and fsynced) into place; it then renames the two files over the old ones
// and removes the manifest. Load reads the files a valid manifest names while they exist, so
// after a crash past the commit it finds the new pair, and before it the old one. Save first
// completes the switch a crashed save committed and removes the temporary files killed saves
// of this checkpoint left (those patterns only, and atomicfile's .<name>.tmp<digits> of the
// two files, which earlier versions left); a save without an optimizer removes an old
// optimizer file as part of the switch. One Save at a time may write a given path.
//
// Errors name the file that could not be written; on error before the commit the old pair is
// untouched and the new files are removed.
func (m *Model) Save(path string, opts ...SaveOptions) error {
	var o SaveOptions
	if len(opts) > 0 {
		o = opts[len(opts)-1]
	}
	if o.Format == CheckpointPaddle && !o.Inference {
		return m.savePaddle(path, o)
	}
	path = trimExt(path)
	if o.Inference {
		return m.saveInference(path, o)
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("oar: save: %w", err)
	}
	fs := saveFS
	if err := finishPair(fs, path); err != nil {
		return fmt.Errorf("oar: save %s: completing the save the manifest %s commits: %w", path+paramsExt, filepath.Join(dir, manifestName(base)), err)
	}
	removeStaleTemps(fs, dir, base)

	id := newSaveID()
	man := pairManifest{ID: id}
	var written []string
	fail := func(name string, err error) error {
		for _, w := range written {
			fs.Remove(w)
		}
		return fmt.Errorf("oar: save %s: %w", name, err)
	}
	if m.opt != nil {
		st := m.opt.State()
		meta := maps.Clone(st.Meta)
		if meta == nil {
			meta = map[string]string{}
		}
		meta[metaSaveID] = id
		tmp := tempName(base+optExt, id)
		if err := writeNew(fs, filepath.Join(dir, tmp), func(w io.Writer) error { return nn.WriteSafetensors(w, st.Tensors, meta) }); err != nil {
			return fail(path+optExt, err)
		}
		written = append(written, filepath.Join(dir, tmp))
		man.Rename = append(man.Rename, [2]string{tmp, base + optExt})
	} else {
		man.Remove = append(man.Remove, base+optExt)
	}
	meta := map[string]string{metaEpochs: strconv.Itoa(m.epochs), metaSaveID: id}
	tmp := tempName(base+paramsExt, id)
	if err := writeNew(fs, filepath.Join(dir, tmp), func(w io.Writer) error { return nn.Write(w, m.Network, meta) }); err != nil {
		return fail(path+paramsExt, err)
	}
	written = append(written, filepath.Join(dir, tmp))
	man.Rename = append(man.Rename, [2]string{tmp, base + paramsExt})

	// Commit: the manifest, durable, then renamed into place.
	manifest := filepath.Join(dir, manifestName(base))
	manTmp := filepath.Join(dir, tempName(base+manifestExt, id))
	if err := writeNew(fs, manTmp, func(w io.Writer) error { _, err := w.Write(encodeManifest(man)); return err }); err != nil {
		return fail(manifest, err)
	}
	written = append(written, manTmp)
	if err := fs.SyncDir(dir); err != nil { // the temporary files exist before the manifest names them
		return fail(manifest, err)
	}
	if err := fs.Rename(manTmp, manifest); err != nil {
		return fail(manifest, err)
	}
	// Committed: from here on Load finds the new pair, and an error leaves it to the next Save
	// to finish the switch.
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("oar: save %s: %w", manifest, err)
	}
	if err := applyPair(fs, dir, &man); err != nil {
		return fmt.Errorf("oar: save %s: %w", path+paramsExt, err)
	}
	if err := fs.Remove(manifest); err != nil {
		return fmt.Errorf("oar: save %s: %w", manifest, err)
	}
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("oar: save %s: %w", manifest, err)
	}
	return nil
}

// saveInference writes path+".onnx" (see SaveOptions.Inference).
func (m *Model) saveInference(path string, o SaveOptions) error {
	shape := m.InputShape
	if shape == nil {
		shape = m.seenShape
	}
	if shape == nil {
		return fmt.Errorf("oar: save %s.onnx: the input shape is unknown: set Model.InputShape or run a batch first", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("oar: save: %w", err)
	}
	if err := onnx.Save(path+".onnx", m.Network, shape, onnx.ExportOptions{Opset: o.Opset}); err != nil {
		return fmt.Errorf("oar: save %s.onnx: %w", path, err)
	}
	return nil
}

// LoadOptions are Load's settings, Paddle's load arguments.
type LoadOptions struct {
	// SkipMismatch loads the entries that fit and skips missing, unexpected and mis-shaped ones
	// (Paddle's skip_mismatch); it fails only if nothing fits. An optimizer state that does not
	// fit is then ignored, leaving the optimizer fresh, as Paddle does.
	SkipMismatch bool
	// ResetOptimizer ignores the saved optimizer state (Paddle's reset_optimizer).
	ResetOptimizer bool
	// Format is the checkpoint's files: CheckpointSafetensors (the default) or CheckpointPaddle.
	Format CheckpointFormat
}

// Load reads what Save wrote at path (a ".safetensors" or ".opt.safetensors" suffix is
// stripped): the parameters, random states and epoch count, and the optimizer state when the
// model has an optimizer, the file exists and ResetOptimizer is false. It reads the last pair a
// Save committed (see Save), also after a crash mid-save, and the pairs of earlier versions; while
// another process saves the same path it reads again when the files move under it.
// Everything is read and checked before anything changes: on error (a missing or corrupt file, a
// mismatch, optimizer state from another Save) the model is unchanged, and the error names the
// file and every mismatch.
func (m *Model) Load(path string, opt ...LoadOptions) error {
	var o LoadOptions
	if len(opt) > 0 {
		o = opt[0]
	}
	if o.Format == CheckpointPaddle {
		return m.loadPaddle(path, o)
	}
	wantOpt := m.opt != nil && !o.ResetOptimizer
	paramsFile, optFile, sd, meta, optState, optErr, err := readPair(trimExt(path), wantOpt)
	if err != nil {
		return err
	}
	sd, epochs, err := m.checkLoaded(paramsFile, sd, meta, o.SkipMismatch)
	if err != nil {
		return err
	}
	if optErr != nil && !o.SkipMismatch {
		return optErr
	}

	return m.applyLoaded(paramsFile, optFile, sd, meta, optState, epochs, o.SkipMismatch)
}

// checkLoaded reads the epoch count from meta and checks sd against the network, keeping only
// the entries that fit (and the layer's own values for the rest) when skipMismatch: the checks
// Load makes, in either format, before anything changes.
func (m *Model) checkLoaded(paramsFile string, sd []nn.Param, meta map[string]string, skipMismatch bool) ([]nn.Param, int, error) {
	epochs := 0
	if v, ok := meta[metaEpochs]; ok {
		var err error
		if epochs, err = strconv.Atoi(v); err != nil || epochs < 0 {
			return nil, 0, fmt.Errorf("oar: load %s: %s %q is not a count of epochs", paramsFile, metaEpochs, v)
		}
	}
	if skipMismatch {
		sd = matching(m.Network, sd)
		if len(sd) == 0 {
			return nil, 0, fmt.Errorf("oar: load %s: no entry matches the network", paramsFile)
		}
		sd = append(sd, unmatched(m.Network, sd)...) // keep the layer's own values where the file had none
	}
	if err := nn.CheckStateDict(m.Network, sd); err != nil {
		return nil, 0, fmt.Errorf("oar: load %s: %w", paramsFile, err)
	}
	return sd, epochs, nil
}

// applyLoaded applies what checkLoaded accepted: the random states and the optimizer state each
// change all or nothing; the state dict was checked and cannot fail.
func (m *Model) applyLoaded(paramsFile, optFile string, sd []nn.Param, meta map[string]string, optState *optim.State, epochs int, skipMismatch bool) error {
	oldRNG := nn.RandomStates(m.Network)
	if err := nn.SetRandomStates(m.Network, meta); err != nil {
		return fmt.Errorf("oar: load %s: %w", paramsFile, err)
	}
	if optState != nil {
		if err := m.opt.SetState(*optState); err != nil && !skipMismatch {
			nn.SetRandomStates(m.Network, oldRNG)
			return fmt.Errorf("oar: load %s: %w", optFile, err)
		}
	}
	if err := nn.SetStateDict(m.Network, sd); err != nil {
		panic(err) // checked above
	}
	m.epochs = epochs
	return nil
}

// readPair reads the pair of files Save wrote at path (without extension): the parameters file
// and, with wantOpt, the optimizer state (nil when there is none, and optErr when it cannot be
// read). A Save of the same path in another process may move the files while they are read
// (the manifest's temporary file renamed, or a new pair in place between the two reads): a
// missing file or a pair from two saves is read again from the start, up to 10 times.
func readPair(path string, wantOpt bool) (paramsFile, optFile string, sd []nn.Param, meta map[string]string, optState *optim.State, optErr, err error) {
	for attempt := 1; ; attempt++ {
		paramsFile, optFile = pairFiles(path)
		sd, meta, err = readCheckpoint(paramsFile)
		optState, optErr = nil, nil
		if err == nil && wantOpt && optFile != "" {
			optState, optErr = readOptimizerState(optFile, meta[metaSaveID], optFile == path+optExt)
		}
		var mix *mixedPairError
		moved := errors.Is(err, os.ErrNotExist) || errors.Is(optErr, os.ErrNotExist) || errors.As(optErr, &mix)
		if !moved || attempt == 10 {
			return
		}
	}
}

// mixedPairError is an optimizer state file from another Save than the parameters file.
type mixedPairError struct{ path, got, want string }

func (e *mixedPairError) Error() string {
	return fmt.Sprintf("oar: load %s: saved by another Save (id %q) than the parameters (id %q); load with ResetOptimizer to use the parameters alone", e.path, e.got, e.want)
}

// readCheckpoint reads a safetensors file, naming it in errors.
func readCheckpoint(path string) ([]nn.Param, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("oar: load: %w", err)
	}
	defer f.Close()
	sd, meta, err := nn.ReadSafetensors(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("oar: load %s: %w", path, err)
	}
	return sd, meta, nil
}

// readOptimizerState reads the optimizer state file beside a parameters file saved as saveID. It
// returns nil and no error when there is no such file and it is optional (a model saved without
// an optimizer; not a temporary file a manifest names).
func readOptimizerState(path, saveID string, optional bool) (*optim.State, error) {
	if _, err := os.Stat(path); optional && errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	ts, meta, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if got := meta[metaSaveID]; got != saveID {
		return nil, &mixedPairError{path, got, saveID}
	}
	delete(meta, metaSaveID)
	return &optim.State{Tensors: ts, Meta: meta}, nil
}

// matching returns the entries of sd whose name and shape match l's state dict.
func matching(l nn.Layer, sd []nn.Param) []nn.Param {
	want := map[string][]int{}
	for _, p := range nn.StateDict(l) {
		want[p.Name] = p.Shape()
	}
	var out []nn.Param
	for _, p := range sd {
		if shape, ok := want[p.Name]; ok && slices.Equal(shape, p.Shape()) {
			out = append(out, p)
		}
	}
	return out
}

// unmatched returns l's own entries that sd does not name.
func unmatched(l nn.Layer, sd []nn.Param) []nn.Param {
	have := map[string]bool{}
	for _, p := range sd {
		have[p.Name] = true
	}
	var out []nn.Param
	for _, p := range nn.StateDict(l) {
		if !have[p.Name] {
			out = append(out, nn.Param{Name: p.Name, Tensor: p.Clone().Detach()})
		}
	}
	return out
}

func trimExt(path string) string {
	for _, ext := range []string{optExt, paramsExt} {
		if strings.HasSuffix(path, ext) {
			return strings.TrimSuffix(path, ext)
		}
	}
	return path
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
