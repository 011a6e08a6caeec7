package oar

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/oarlab/oar/optim"
)

// Logs are the values a callback hook receives, Paddle's logs dict: after a batch, its step, its
// size and the logged values in Names order ("loss" for the batch, then each metric's running
// value); at the start of an evaluation or prediction, its number of steps.
type Logs struct {
	Step      int
	BatchSize int
	Steps     int
	Names     []string
	Values    []float64
}

// Get returns the value named name.
func (l Logs) Get(name string) (float64, bool) {
	for i, n := range l.Names {
		if n == name && i < len(l.Values) {
			return l.Values[i], true
		}
	}
	return 0, false
}

// CallbackParams describe a run to its callbacks, Paddle's callback params.
type CallbackParams struct {
	BatchSize, Epochs, Steps, Verbose int
	Metrics                           []string // the logged names: "loss" then the metrics'
}

// Callback receives Paddle's hooks from Fit, Evaluate and Predict. Embed BaseCallback to
// implement only the hooks you need. Hooks run in this order: SetParams, SetModel, then
// OnTrainBegin, for each epoch OnEpochBegin, OnTrainBatchBegin/End per step, OnEpochEnd, then the
// evaluation's OnEvalBegin, OnEvalBatchBegin/End, OnEvalEnd, and finally OnTrainEnd.
type Callback interface {
	SetParams(CallbackParams)
	SetModel(*Model)
	OnTrainBegin(Logs)
	OnTrainEnd(Logs)
	OnEvalBegin(Logs)
	OnEvalEnd(Logs)
	OnPredictBegin(Logs)
	OnPredictEnd(Logs)
	OnEpochBegin(epoch int, logs Logs)
	OnEpochEnd(epoch int, logs Logs)
	OnTrainBatchBegin(step int, logs Logs)
	OnTrainBatchEnd(step int, logs Logs)
	OnEvalBatchBegin(step int, logs Logs)
	OnEvalBatchEnd(step int, logs Logs)
	OnPredictBatchBegin(step int, logs Logs)
	OnPredictBatchEnd(step int, logs Logs)
}

// BaseCallback implements every hook as a no-op and keeps the model and params.
type BaseCallback struct {
	Model  *Model
	Params CallbackParams
}

// SetParams records the run's parameters.
func (b *BaseCallback) SetParams(p CallbackParams) { b.Params = p }

// SetModel records the model.
func (b *BaseCallback) SetModel(m *Model) { b.Model = m }

// OnTrainBegin does nothing.
func (*BaseCallback) OnTrainBegin(Logs) {}

// OnTrainEnd does nothing.
func (*BaseCallback) OnTrainEnd(Logs) {}

// OnEvalBegin does nothing.
func (*BaseCallback) OnEvalBegin(Logs) {}

// OnEvalEnd does nothing.
func (*BaseCallback) OnEvalEnd(Logs) {}

// OnPredictBegin does nothing.
func (*BaseCallback) OnPredictBegin(Logs) {}

// OnPredictEnd does nothing.
func (*BaseCallback) OnPredictEnd(Logs) {}

// OnEpochBegin does nothing.
func (*BaseCallback) OnEpochBegin(int, Logs) {}

// OnEpochEnd does nothing.
func (*BaseCallback) OnEpochEnd(int, Logs) {}

// OnTrainBatchBegin does nothing.
func (*BaseCallback) OnTrainBatchBegin(int, Logs) {}

// OnTrainBatchEnd does nothing.
func (*BaseCallback) OnTrainBatchEnd(int, Logs) {}

// OnEvalBatchBegin does nothing.
func (*BaseCallback) OnEvalBatchBegin(int, Logs) {}

// OnEvalBatchEnd does nothing.
func (*BaseCallback) OnEvalBatchEnd(int, Logs) {}

// OnPredictBatchBegin does nothing.
func (*BaseCallback) OnPredictBatchBegin(int, Logs) {}

// OnPredictBatchEnd does nothing.
func (*BaseCallback) OnPredictBatchEnd(int, Logs) {}

// errReporter is implemented by callbacks whose work can fail (saving, logging); Fit returns
// their errors.
type errReporter interface{ Err() error }

// err joins the errors the callbacks report.
func (c *callbackList) err() error {
	var errs []error
	for _, cb := range c.cbs {
		if r, ok := cb.(errReporter); ok {
			errs = append(errs, r.Err())
		}
	}
	return errors.Join(errs...)
}

// callbackList fans every hook out to its callbacks in order.
type callbackList struct{ cbs []Callback }

func (c *callbackList) each(f func(Callback)) {
	for _, cb := range c.cbs {
		f(cb)
	}
}

func (c *callbackList) OnTrainBegin(l Logs)   { c.each(func(cb Callback) { cb.OnTrainBegin(l) }) }
func (c *callbackList) OnTrainEnd(l Logs)     { c.each(func(cb Callback) { cb.OnTrainEnd(l) }) }
func (c *callbackList) OnEvalBegin(l Logs)    { c.each(func(cb Callback) { cb.OnEvalBegin(l) }) }
func (c *callbackList) OnEvalEnd(l Logs)      { c.each(func(cb Callback) { cb.OnEvalEnd(l) }) }
func (c *callbackList) OnPredictBegin(l Logs) { c.each(func(cb Callback) { cb.OnPredictBegin(l) }) }
func (c *callbackList) OnPredictEnd(l Logs)   { c.each(func(cb Callback) { cb.OnPredictEnd(l) }) }
func (c *callbackList) OnEpochBegin(e int, l Logs) {
	c.each(func(cb Callback) { cb.OnEpochBegin(e, l) })
}
func (c *callbackList) OnEpochEnd(e int, l Logs) { c.each(func(cb Callback) { cb.OnEpochEnd(e, l) }) }

func (c *callbackList) onBatchBegin(md mode, step int, l Logs) {
	c.each(func(cb Callback) {
		switch md {
		case modeTrain:
			cb.OnTrainBatchBegin(step, l)
		case modeEval:
			cb.OnEvalBatchBegin(step, l)
		default:
			cb.OnPredictBatchBegin(step, l)
		}
	})
}

func (c *callbackList) onBatchEnd(md mode, step int, l Logs) {
	c.each(func(cb Callback) {
		switch md {
		case modeTrain:
			cb.OnTrainBatchEnd(step, l)
		case modeEval:
			cb.OnEvalBatchEnd(step, l)
		default:
			cb.OnPredictBatchEnd(step, l)
		}
	})
}

type callbackConfig struct {
	verbose, logFreq, saveFreq int
	saveDir                    string
	out                        io.Writer
	fit                        bool // Fit adds a ModelCheckpoint and an LRScheduler
}

// configCallbacks is Paddle's config_callbacks: a ProgBarLogger first when verbose and none was
// given, the user's callbacks, then, for Fit, a ModelCheckpoint and an LRScheduler when absent;
// the save directory is passed to EarlyStopping.
func (m *Model) configCallbacks(user []Callback, cfg callbackConfig, params CallbackParams) *callbackList {
	var cbs []Callback
	has := func(pred func(Callback) bool) bool {
		for _, cb := range user {
			if pred(cb) {
				return true
			}
		}
		return false
	}
	if cfg.verbose != 0 && !has(func(cb Callback) bool { _, ok := cb.(*ProgBarLogger); return ok }) {
		cbs = append(cbs, &ProgBarLogger{LogFreq: cfg.logFreq, Verbose: cfg.verbose, Output: cfg.out})
	}
	cbs = append(cbs, user...)
	if cfg.fit && !has(func(cb Callback) bool { _, ok := cb.(*ModelCheckpoint); return ok }) {
		cbs = append(cbs, &ModelCheckpoint{SaveFreq: cfg.saveFreq, SaveDir: cfg.saveDir, Output: cfg.out})
	}
	if cfg.fit && !has(func(cb Callback) bool { _, ok := cb.(*LRScheduler); return ok }) {
		cbs = append(cbs, &LRScheduler{})
	}
	for _, cb := range cbs {
		if es, ok := cb.(*EarlyStopping); ok && es.SaveDir == "" {
			es.SaveDir = cfg.saveDir
		}
		cb.SetParams(params)
		cb.SetModel(m)
	}
	return &callbackList{cbs}
}

func output(w io.Writer) io.Writer {
	if w == nil {
		return os.Stdout
	}
	return w
}

// ModelCheckpoint saves the model to SaveDir/<epoch> every SaveFreq epochs (epochs counted
// over the model's whole training, so a resumed run does not overwrite earlier checkpoints) and
// to SaveDir/final when training ends, as Paddle's; with no SaveDir it does nothing. A failed
// save does not stop training; Fit returns the error at its end.
type ModelCheckpoint struct {
	BaseCallback
	SaveFreq int // 0 means 1
	SaveDir  string
	Output   io.Writer // where "save checkpoint at ..." goes; nil means standard output
	err      error
}

// Err returns the first save error.
func (c *ModelCheckpoint) Err() error { return c.err }

func (c *ModelCheckpoint) save(name string) {
	path := filepath.Join(c.SaveDir, name)
	if abs, err := filepath.Abs(path); err == nil && c.Params.Verbose != 0 {
		fmt.Fprintf(output(c.Output), "save checkpoint at %s\n", abs)
	}
	if err := c.Model.Save(path); err != nil && c.err == nil {
		c.err = err
	}
}

// OnEpochEnd saves SaveDir/<epoch> every SaveFreq epochs.
func (c *ModelCheckpoint) OnEpochEnd(epoch int, _ Logs) {
	if c.SaveDir != "" && (epoch+1)%orDefault(c.SaveFreq, 1) == 0 {
		c.save(fmt.Sprint(epoch))
	}
}

// OnTrainEnd saves SaveDir/final.
func (c *ModelCheckpoint) OnTrainEnd(Logs) {
	if c.SaveDir != "" {
		c.save("final")
	}
}

// EarlyStopping stops Fit when the monitored evaluation value has not improved by more than
// MinDelta for more than Patience evaluations, as Paddle's; it needs evaluation data. It saves
// the best model to SaveDir/best_model (SaveDir defaults to Fit's) unless NoSaveBest is set, and
// prints "Epoch N: Early stopping." unless Quiet. The zero value monitors "loss".
type EarlyStopping struct {
	BaseCallback
	Monitor  string  // the logged value to watch; "" means "loss"
	Mode     string  // "min", "max" or "auto"/"" (max if Monitor contains "acc", else min)
	Patience int     // evaluations without improvement to tolerate
	MinDelta float64 // how much better than the best a value must be to count as an improvement
	// Baseline, if set, is the value to beat at first instead of the first evaluation's.
	Baseline *float64
	// NoSaveBest disables saving the best model (Paddle's save_best_model=False; Paddle saves it
	// by default).
	NoSaveBest bool
	SaveDir    string    // where best_model goes; "" means Fit's SaveDir
	Quiet      bool      // do not print the stopping message (Paddle's verbose=0)
	Output     io.Writer // where the message goes; nil means standard output

	best    float64
	wait    int
	stopped int
	err     error
}

// Err returns the first error saving the best model.
func (e *EarlyStopping) Err() error { return e.err }

func (e *EarlyStopping) monitor() string {
	if e.Monitor == "" {
		return "loss"
	}
	return e.Monitor
}

func (e *EarlyStopping) maximize() bool {
	switch e.Mode {
	case "max":
		return true
	case "min":
		return false
	}
	return strings.Contains(e.monitor(), "acc")
}

// OnTrainBegin resets the best value.
func (e *EarlyStopping) OnTrainBegin(Logs) {
	e.wait, e.stopped = 0, 0
	switch {
	case e.Baseline != nil:
		e.best = *e.Baseline
	case e.maximize():
		e.best = math.Inf(-1)
	default:
		e.best = math.Inf(1)
	}
}

// OnEvalEnd compares the monitored value with the best so far.
func (e *EarlyStopping) OnEvalEnd(logs Logs) {
	cur, ok := logs.Get(e.monitor())
	if !ok {
		return
	}
	// Paddle: monitor_op(current - min_delta, best) with min_delta negated for "min"
	improved := cur+e.MinDelta < e.best
	if e.maximize() {
		improved = cur-e.MinDelta > e.best
	}
	if improved {
		e.best, e.wait = cur, 0
		if !e.NoSaveBest && e.SaveDir != "" {
			if err := e.Model.Save(filepath.Join(e.SaveDir, "best_model")); err != nil && e.err == nil {
				e.err = err
			}
		}
	} else {
		e.wait++
	}
	if e.wait > e.Patience {
		e.Model.StopTraining = true
		if !e.Quiet {
			fmt.Fprintf(output(e.Output), "Epoch %d: Early stopping.\n", e.stopped+1)
		}
	}
	e.stopped++
}

// LRScheduler steps the optimizer's learning-rate scheduler, as Paddle's LRScheduler callback:
// after every training batch, or with ByEpoch after every epoch. A scheduler stepped with a
// metric (optim.MetricScheduler, such as ReduceOnPlateau) is stepped after each evaluation with
// the monitored value instead. Fit adds one when none is given. It finds the scheduler through
// optim.Scheduled, which every optimizer built on optim.Base implements; it does nothing when the
// optimizer has no scheduler or does not implement optim.Scheduled.
type LRScheduler struct {
	BaseCallback
	ByEpoch bool
	Monitor string // for a MetricScheduler; "" means "loss"
	inFit   bool   // only Fit's evaluations step a MetricScheduler, not a standalone Evaluate
}

// OnTrainBegin notes that a Fit runs.
func (c *LRScheduler) OnTrainBegin(Logs) { c.inFit = true }

// OnTrainEnd notes that the Fit ended.
func (c *LRScheduler) OnTrainEnd(Logs) { c.inFit = false }

func (c *LRScheduler) scheduler() optim.Scheduler {
	if c.Model == nil {
		return nil
	}
	if o, ok := c.Model.Optimizer().(optim.Scheduled); ok {
		return o.LRScheduler()
	}
	return nil
}

func (c *LRScheduler) step() {
	s := c.scheduler()
	if _, metric := s.(optim.MetricScheduler); s != nil && !metric {
		s.Step()
	}
}

// OnTrainBatchEnd steps the scheduler unless ByEpoch.
func (c *LRScheduler) OnTrainBatchEnd(int, Logs) {
	if !c.ByEpoch {
		c.step()
	}
}

// OnEpochEnd steps the scheduler with ByEpoch.
func (c *LRScheduler) OnEpochEnd(int, Logs) {
	if c.ByEpoch {
		c.step()
	}
}

// OnEvalEnd steps a MetricScheduler with the monitored value, during Fit.
func (c *LRScheduler) OnEvalEnd(logs Logs) {
	if s, ok := c.scheduler().(optim.MetricScheduler); ok && c.inFit {
		name := c.Monitor
		if name == "" {
			name = "loss"
		}
		if v, ok := logs.Get(name); ok {
			s.StepMetric(float32(v))
		}
	}
}

// ScalarLogger appends one JSON object per line to Output for every finished training epoch
// ({"mode":"train","epoch":1,"loss":...,"acc":...}) and evaluation ("mode":"eval"), for plotting
// or later analysis. Use NewScalarLogger to write to a file.
type ScalarLogger struct {
	BaseCallback
	Output io.Writer
	err    error
	epoch  int
}

// Err returns the first write error.
func (s *ScalarLogger) Err() error { return s.err }

// NewScalarLogger creates (or truncates) the file path and returns a ScalarLogger writing to it,
// with a function that closes the file.
func NewScalarLogger(path string) (*ScalarLogger, func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("oar: scalar log: %w", err)
	}
	return &ScalarLogger{Output: f}, f.Close, nil
}

func (s *ScalarLogger) write(md string, logs Logs) {
	rec := map[string]any{"mode": md, "epoch": s.epoch + 1}
	for i, n := range logs.Names {
		if i < len(logs.Values) {
			rec[n] = logs.Values[i]
		}
	}
	b, err := json.Marshal(rec)
	if err == nil {
		_, err = s.Output.Write(append(b, '\n'))
	}
	if err != nil && s.err == nil {
		s.err = err
	}
}

// OnEpochBegin records the epoch number.
func (s *ScalarLogger) OnEpochBegin(epoch int, _ Logs) { s.epoch = epoch }

// OnEpochEnd writes the epoch's training values.
func (s *ScalarLogger) OnEpochEnd(_ int, logs Logs) { s.write("train", logs) }

// OnEvalEnd writes the evaluation's values.
func (s *ScalarLogger) OnEvalEnd(logs Logs) { s.write("eval", logs) }
