package optim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// Metadata keys of a saved state. Tensors are "<param name>.<buffer>" (moment1, moment2,
// velocity, ...: the rule's Slots.Buffers); per-parameter step counts are "<param name>.step"; the scheduler's keys are its own
// State keys prefixed with "scheduler.".
const (
	metaOptimizer = "optimizer" // the optimizer's name given to NewBase: "SGD", "Adam", ...
	metaLR        = "lr"        // the constant learning rate (SetLR's)
	metaScheduler = "scheduler."
)

// State returns what a resumed run needs to continue exactly: the rule's buffers as tensors
// "<param name>.<buffer>" sharing the optimizer's memory, the step counts "<param name>.step", the
// learning rate and the scheduler's state.
func (b *Base) State() State {
	meta := map[string]string{metaOptimizer: b.op, metaLR: fmtF32(b.lr)}
	var ts []nn.Param
	for i, p := range b.params {
		for k, name := range b.slots {
			ts = append(ts, nn.Param{Name: p.Name + "." + name, Tensor: view(b.bufs[i][k], p.Shape())})
		}
		if b.steps != nil {
			meta[p.Name+".step"] = strconv.FormatInt(b.steps[i], 10)
		}
	}
	if b.Scheduler != nil {
		for k, v := range b.Scheduler.State() {
			meta[metaScheduler+k] = v
		}
	}
	return State{Tensors: ts, Meta: meta}
}

// view returns a tensor of the given shape over buf.
func view(buf []float32, shape []int) *tensor.Tensor {
	return tensor.New(buf, shape...)
}

// SetState restores a State saved from an optimizer of the same type, parameters and kind of
// scheduler. It checks everything first and changes nothing on error (see Optimizer.SetState).
func (b *Base) SetState(st State) error {
	s, steps := b.Scheduler, b.steps
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if got, ok := st.Meta[metaOptimizer]; !ok {
		bad("no %q entry in the metadata", metaOptimizer)
	} else if got != b.op {
		bad("optimizer %q, want %q", got, b.op)
	}
	lr, err := parseF32(st.Meta, metaLR)
	if err != nil {
		bad("%v", err)
	} else if !(lr > 0) || !finite(lr) {
		bad("%s %v must be positive and finite", metaLR, lr)
	}

	byName := make(map[string]*tensor.Tensor, len(st.Tensors))
	for _, t := range st.Tensors {
		if _, dup := byName[t.Name]; dup {
			bad("tensor %q repeated", t.Name)
		}
		byName[t.Name] = t.Tensor
	}
	used := make(map[string]bool, len(byName))
	newSteps := make([]int64, len(steps))
	for i, p := range b.params {
		for _, slot := range b.slots {
			name := p.Name + "." + slot
			t, ok := byName[name]
			if !ok {
				bad("missing tensor %q", name)
				continue
			}
			used[name] = true
			if !slices.Equal(t.Shape(), p.Shape()) {
				bad("tensor %q has shape %v, want %v", name, t.Shape(), p.Shape())
			}
		}
		if steps != nil {
			key := p.Name + ".step"
			v, ok := st.Meta[key]
			n, err := strconv.ParseInt(v, 10, 64)
			switch {
			case !ok:
				bad("missing step count %q", key)
			case err != nil || n < 0:
				bad("step count %q is %q, want an integer >= 0", key, v)
			}
			newSteps[i] = n
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if !used[name] {
			bad("unexpected tensor %q", name)
		}
	}

	sub := make(map[string]string)
	for k, v := range st.Meta {
		if rest, ok := strings.CutPrefix(k, metaScheduler); ok {
			sub[rest] = v
		}
	}
	var restore map[string]string // the scheduler's state before, if SetState changed it
	switch {
	case s == nil && len(sub) > 0:
		bad("the state has a %s scheduler, the optimizer none", sub["type"])
	case s != nil && len(sub) == 0:
		bad("the state has no scheduler, the optimizer a %T", s)
	case s != nil:
		before := s.State()
		if err := s.SetState(sub); err != nil {
			bad("scheduler: %w", err)
		} else {
			restore = before
		}
	}

	if len(errs) > 0 {
		if restore != nil {
			s.SetState(restore) //nolint:errcheck // its own state always fits
		}
		return fmt.Errorf("%s state: %w", b.op, errors.Join(errs...))
	}
	for i, p := range b.params {
		for k, slot := range b.slots {
			copy(b.bufs[i][k], byName[p.Name+"."+slot].Data())
		}
	}
	copy(steps, newSteps)
	b.lr = lr
	return nil
}

func fmtF32(x float32) string { return strconv.FormatFloat(float64(x), 'g', -1, 32) }
func fmtF64(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func parseF32(meta map[string]string, key string) (float32, error) {
	v, ok := meta[key]
	if !ok {
		return 0, fmt.Errorf("missing %q", key)
	}
	f, err := strconv.ParseFloat(v, 32)
	if err != nil {
		return 0, fmt.Errorf("%s is %q, want a number", key, v)
	}
	return float32(f), nil
}

func parseF64(meta map[string]string, key string) (float64, error) {
	v, ok := meta[key]
	if !ok {
		return 0, fmt.Errorf("missing %q", key)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is %q, want a finite number", key, v)
	}
	return f, nil
}

func parseCount(meta map[string]string, key string) (int, error) {
	v, ok := meta[key]
	if !ok {
		return 0, fmt.Errorf("missing %q", key)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s is %q, want an integer >= 0", key, v)
	}
	return n, nil
}

// Write writes o's state to w in the safetensors format: the tensors of State plus its metadata.
func Write(w io.Writer, o Optimizer) error {
	st := o.State()
	if err := nn.WriteSafetensors(w, st.Tensors, st.Meta); err != nil {
		return fmt.Errorf("optim: write: %w", err)
	}
	return nil
}

// Read reads a state written by Write from r into o. It returns an error, never a panic, for a
// truncated or corrupt stream or a state that does not fit o (see Optimizer.SetState); o is then
// unchanged.
func Read(r io.Reader, o Optimizer) error {
	if err := read(r, o); err != nil {
		return fmt.Errorf("optim: read: %w", err)
	}
	return nil
}

func read(r io.Reader, o Optimizer) error {
	ts, meta, err := nn.ReadSafetensors(r)
	if err != nil {
		return err
	}
	return o.SetState(State{Tensors: ts, Meta: meta})
}

// Save writes o's state to the file path atomically (temporary file, sync, rename), so that a
// crash leaves the old file or the new one.
func Save(path string, o Optimizer) error {
	st := o.State()
	err := atomicfile.Write(path, func(w io.Writer) error { return nn.WriteSafetensors(w, st.Tensors, st.Meta) })
	if err != nil {
		return fmt.Errorf("optim: save %s: %w", path, err)
	}
	return nil
}

// Load reads a state written by Save into o. Its errors name the file and the problem, e.g.
// "optim: load out/opt.safetensors: Adam state: missing tensor "fc.weight.moment1"". o is
// unchanged on error.
func Load(path string, o Optimizer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("optim: load: %w", err)
	}
	defer f.Close()
	if err := read(bufio.NewReader(f), o); err != nil {
		return fmt.Errorf("optim: load %s: %w", path, err)
	}
	return nil
}
