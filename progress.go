package oar

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// ProgBarLogger prints training progress in Paddle's format (hapi ProgBarLogger and
// ProgressBar):
//
//	Epoch 1/5
//	step 938/938 [==============================] - loss: 0.0519 - acc: 0.9344 - 14ms/step
//	Eval begin...
//	step 157/157 [==============================] - loss: 1.7577e-04 - acc: 0.9844 - 6ms/step
//	Eval samples: 10000
//
// With Verbose 1 the bar is redrawn in place on a terminal; when Output is not a terminal each
// update (every LogFreq steps, and at the end) is a line of its own. Verbose 2 prints lines
// without the bar. Fit adds one when Verbose is not 0.
type ProgBarLogger struct {
	BaseCallback
	LogFreq int       // steps between updates; 0 means 1
	Verbose int       // 1 bar, 2 lines; 0 prints nothing
	Output  io.Writer // nil means standard output

	epochs      int
	bar         *progressBar
	step        int
	samples     int
	names       []string
	now         func() time.Time // for tests
	interactive *bool            // for tests: overrides terminal detection
}

func (p *ProgBarLogger) out() io.Writer { return output(p.Output) }

func (p *ProgBarLogger) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *ProgBarLogger) newBar(steps int) *progressBar {
	tty := isTerminal(p.out())
	if p.interactive != nil {
		tty = *p.interactive
	}
	return &progressBar{w: p.out(), num: steps, width: 30, verbose: p.Verbose, dynamic: tty, start: p.clock(), now: p.clock}
}

// OnTrainBegin prints Paddle's note on the logged values.
func (p *ProgBarLogger) OnTrainBegin(Logs) {
	p.epochs = p.Params.Epochs
	if p.Verbose != 0 {
		fmt.Fprintln(p.out(), "The loss value printed in the log is the current step, and the metric is the average value of previous steps.")
	}
}

// OnEpochBegin prints "Epoch e/n" and starts a bar.
func (p *ProgBarLogger) OnEpochBegin(epoch int, _ Logs) {
	p.step = 0
	p.names = p.Params.Metrics
	if p.Verbose != 0 && p.epochs > 0 {
		fmt.Fprintf(p.out(), "Epoch %d/%d\n", epoch+1, p.epochs)
	}
	p.bar = p.newBar(p.Params.Steps)
}

func (p *ProgBarLogger) batchEnd(logs Logs) {
	p.step++
	p.samples += logs.BatchSize
	if p.Verbose != 0 && p.step%orDefault(p.LogFreq, 1) == 0 && (p.bar.num <= 0 || p.step < p.bar.num) {
		p.bar.update(p.step, logs)
	}
}

func (p *ProgBarLogger) end(logs Logs) {
	if p.Verbose != 0 && p.bar != nil && p.bar.num > 0 {
		p.bar.update(p.step, logs)
	}
}

// OnTrainBatchEnd updates the bar every LogFreq steps.
func (p *ProgBarLogger) OnTrainBatchEnd(_ int, logs Logs) { p.batchEnd(logs) }

// OnEpochEnd completes the bar.
func (p *ProgBarLogger) OnEpochEnd(_ int, logs Logs) { p.end(logs) }

// begin prints "<phase> begin..." and starts a bar for an evaluation or a prediction.
func (p *ProgBarLogger) begin(phase string, steps int) {
	p.step, p.samples = 0, 0
	if p.Verbose != 0 {
		fmt.Fprintf(p.out(), "%s begin...\n", phase)
	}
	p.bar = p.newBar(steps)
}

// finish completes the bar and prints "<phase> samples: N".
func (p *ProgBarLogger) finish(phase string, logs Logs) {
	p.end(logs)
	if p.Verbose != 0 {
		fmt.Fprintf(p.out(), "%s samples: %d\n", phase, p.samples)
	}
}

// OnEvalBegin prints "Eval begin..." and starts a bar.
func (p *ProgBarLogger) OnEvalBegin(logs Logs) { p.begin("Eval", logs.Steps) }

// OnEvalBatchEnd updates the bar every LogFreq steps.
func (p *ProgBarLogger) OnEvalBatchEnd(_ int, logs Logs) { p.batchEnd(logs) }

// OnEvalEnd completes the bar and prints the number of samples.
func (p *ProgBarLogger) OnEvalEnd(logs Logs) { p.finish("Eval", logs) }

// OnPredictBegin prints "Predict begin..." and starts a bar.
func (p *ProgBarLogger) OnPredictBegin(logs Logs) { p.begin("Predict", logs.Steps) }

// OnPredictBatchEnd updates the bar every LogFreq steps.
func (p *ProgBarLogger) OnPredictBatchEnd(_ int, logs Logs) { p.batchEnd(logs) }

// OnPredictEnd completes the bar and prints the number of samples.
func (p *ProgBarLogger) OnPredictEnd(logs Logs) { p.finish("Predict", logs) }

// isTerminal reports whether w is a character device (a terminal), where the bar is redrawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar is Paddle's hapi ProgressBar.
type progressBar struct {
	w          io.Writer
	num        int // total steps; 0 if unknown
	width      int
	verbose    int
	dynamic    bool
	start      time.Time
	now        func() time.Time
	totalWidth int
}

// update draws the bar at step current with the logged values, as ProgressBar.update.
func (b *progressBar) update(current int, logs Logs) {
	perStep := 0.0
	if current > 0 {
		perStep = b.now().Sub(b.start).Seconds() / float64(current)
	}
	var fps string
	switch {
	case perStep >= 1 || perStep == 0:
		fps = fmt.Sprintf(" - %.0fs/step", perStep)
	case perStep >= 1e-3:
		fps = fmt.Sprintf(" - %.0fms/step", perStep*1e3)
	default:
		fps = fmt.Sprintf(" - %.0fus/step", perStep*1e6)
	}
	var values strings.Builder
	for i, n := range logs.Names {
		if i < len(logs.Values) {
			fmt.Fprintf(&values, " - %s: %s", n, formatValue(logs.Values[i]))
		}
	}
	var sb strings.Builder
	if b.verbose == 1 {
		prev := b.totalWidth
		if b.dynamic {
			sb.WriteString("\r") // redraw in place; off a terminal each update is a line
		}
		var bar string
		if b.num > 0 {
			digits := int(math.Log10(float64(b.num))) + 1
			bar = fmt.Sprintf("step %*d/%d [", digits, current, b.num)
			progWidth := int(float64(b.width) * float64(current) / float64(b.num))
			if progWidth > 0 {
				bar += strings.Repeat("=", progWidth-1)
				if current < b.num {
					bar += ">"
				} else {
					bar += "="
				}
			}
			bar += strings.Repeat(".", max(b.width-progWidth, 0)) + "]"
		} else {
			bar = fmt.Sprintf("step %3d", current)
		}
		b.totalWidth = len(bar)
		info := values.String()
		if b.num > 0 && current < b.num {
			info += " - ETA: " + formatETA(perStep*float64(b.num-current))
		}
		info += fps
		b.totalWidth += len(info)
		if b.dynamic && prev > b.totalWidth {
			info += strings.Repeat(" ", prev-b.totalWidth)
		}
		sb.WriteString(bar + info)
		if !b.dynamic || b.num <= 0 || current >= b.num {
			sb.WriteString("\n")
		}
	} else {
		if b.num > 0 {
			digits := int(math.Log10(float64(b.num))) + 1
			fmt.Fprintf(&sb, "step %*d/%d", digits, current, b.num)
		} else {
			fmt.Fprintf(&sb, "step %3d", current)
		}
		sb.WriteString(values.String() + fps + "\n")
	}
	io.WriteString(b.w, sb.String())
}

// formatValue is Paddle's: %.4f, or %.4e for |v| <= 1e-3.
func formatValue(v float64) string {
	if math.Abs(v) > 1e-3 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4e", v)
}

func formatETA(eta float64) string {
	switch {
	case eta > 3600:
		return fmt.Sprintf("%d:%02d:%02d", int(eta)/3600, int(eta)%3600/60, int(eta)%60)
	case eta > 60:
		return fmt.Sprintf("%d:%02d", int(eta)/60, int(eta)%60)
	}
	return fmt.Sprintf("%ds", int(eta))
}
