package oar

import (
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

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// CheckpointFormat selects the files Model.Save writes and Model.Load reads.
type CheckpointFormat int

const (
	// CheckpointSafetensors is oar's own pair, path.safetensors and path.opt.safetensors, saved
	// crash-safely together (see Model.Save). It is the default.
	CheckpointSafetensors CheckpointFormat = iota
	// CheckpointPaddle is Paddle's pair, what paddle.Model.save(path, training=True) writes and
	// paddle.Model.load(path) reads: path.pdparams, the network's state dict, and, with an
	// optimizer, path.pdopt, the optimizer's, each as paddle.save writes a state dict
	// (nn.WritePaddleState: a pickle, protocol 4, with StructuredToParameterName@@). A ".pdparams"
	// or ".pdopt" suffix of path is stripped.
	//
	// Names. Tensors are keyed by their structured names, as Paddle's Layer.state_dict() keys
	// them. Paddle's parameters also have unique names ("linear_0.w_0") that oar's lack: a
	// parameter's Paddle name is its structured name unless SaveOptions.PaddleNames maps it. The
	// .pdopt holds each optimizer buffer as Paddle's accumulator "<Paddle name>_<buffer>_0"
	// (Adam: _moment1_0, _moment2_0; Momentum: _velocity_0; RMSProp: _momentum_0,
	// _mean_square_0, _mean_grad_0; Adagrad, Adamax: _moment_0; Adamax: _inf_norm_0; Adadelta:
	// __avg_squared_grad_0, __avg_squared_update_0), the step counts of Adam, AdamW, Lamb and
	// Adamax as Paddle's "_beta1_pow_acc_0" (and "_beta2_pow_acc_0"), shape [1], holding β^(t+1)
	// after t steps, and a scheduler's progress as "LR_Scheduler" {last_epoch, last_lr}. Paddle's
	// Optimizer.set_state_dict finds the accumulators by its own parameters' names, so a .pdopt
	// meant for Paddle needs PaddleNames giving them; the .pdparams loads by structured name
	// either way.
	//
	// What oar adds: both files hold an "OarState@@" dict of strings (Paddle ignores it: it looks
	// entries up by name): the epoch count, the random states of Dropout layers and a save
	// identifier in the .pdparams; the optimizer's exact state (step counts, learning rate,
	// schedule) and the same identifier in the .pdopt. A model loaded from them continues
	// training exactly as the saved one would.
	//
	// Loading a pair Paddle wrote: the .pdparams must match the network by structured name;
	// accumulators are found under the Paddle names of its StructuredToParameterName@@ table (or
	// the structured names); step counts come from the beta pow accumulators (exact until they
	// underflow, after which the bias corrections are 1 anyway), the learning rate stays the
	// optimizer's own unless LR_Scheduler gives last_lr and last_epoch to its scheduler. An
	// optimizer Paddle keeps no step count for while oar does (Adagrad) cannot be loaded from a
	// Paddle .pdopt.
	//
	// Crash safety: each file is written atomically (temporary file, fsync, rename), the .pdopt
	// first, but the pair is not: a crash between the two leaves a new .pdopt beside the old
	// .pdparams, which Load refuses (their save identifiers differ) rather than mixing them. Use
	// CheckpointSafetensors where the pair must change together. A save without an optimizer
	// removes an old path.pdopt after writing the .pdparams.
	CheckpointPaddle
)

const (
	pdparamsExt = ".pdparams"
	pdoptExt    = ".pdopt"
	// paddleOarState is the entry oar adds to both files: a dict of str holding what Paddle's
	// files do not (epochs, random states, save id; the optimizer's exact step counts, learning
	// rate and schedule). Paddle ignores it: set_state_dict looks keys up by name, and "@@" marks
	// metadata entries in Paddle's own files.
	paddleOarState = "OarState@@"
	// paddleLRScheduler is the entry Paddle's Optimizer.state_dict() holds for an LRScheduler.
	paddleLRScheduler = "LR_Scheduler"
)

// paddleSlotNames are the accumulator names of Paddle's optimizers where they differ from oar's
// buffer names (python/paddle/optimizer/adadelta.py: _avg_squared_grad_acc_str).
var paddleSlotNames = map[string]string{
	"avg_squared_grad":   "_avg_squared_grad",
	"avg_squared_update": "_avg_squared_update",
}

// paddleAccumulator is the key of an accumulator in a .pdopt: Optimizer._add_accumulator names
// it unique_name.generate(param.name + "_" + name), "linear_0.w_0_moment1_0" for the first.
func paddleAccumulator(param, slot string) string {
	if s, ok := paddleSlotNames[slot]; ok {
		slot = s
	}
	return param + "_" + slot + "_0"
}

// paddleBetas returns the β of the optimizers whose step count Paddle keeps as accumulators
// beta1_pow_acc (and beta2_pow_acc): β^(t+1) after t steps, since they start at β and the
// kernel multiplies them by β after each step (adam.py, adamax.py, lamb.py).
func paddleBetas(o optim.Optimizer) []float32 {
	switch o := o.(type) {
	case *optim.Adam:
		return []float32{o.Beta1, o.Beta2}
	case *optim.AdamW:
		return []float32{o.Beta1, o.Beta2}
	case *optim.Lamb:
		return []float32{o.Beta1, o.Beta2}
	case *optim.Adamax:
		return []float32{o.Beta1}
	}
	return nil
}

// betaPow is Paddle's beta pow accumulator after t steps.
func betaPow(beta float32, t int64) float32 {
	return float32(math.Pow(float64(beta), float64(t+1)))
}

// stepsFromPow inverts betaPow: the nearest t with β^(t+1) = p. When the accumulator has
// underflowed to 0 (after about 900 steps for β = 0.9 and 100,000 for 0.999) it returns the
// first t at which it would have: the bias corrections 1 - β^t are then 1 in float32 and
// float64 alike, so the updates are the same.
func stepsFromPow(beta, p float32) (int64, error) {
	lb := math.Log(float64(beta))
	if !(beta > 0 && beta < 1) || p > 1 || math.IsNaN(float64(p)) || p < 0 {
		return 0, fmt.Errorf("beta pow %v for β = %v", p, beta)
	}
	if p == 0 {
		return int64(math.Ceil(math.Log(math.SmallestNonzeroFloat32) / lb)), nil
	}
	t := int64(math.Round(math.Log(float64(p))/lb)) - 1
	if t < 0 {
		return 0, fmt.Errorf("beta pow %v for β = %v is before the first step", p, beta)
	}
	return t, nil
}

func trimPaddleExt(path string) string {
	for _, ext := range []string{pdoptExt, pdparamsExt} {
		if strings.HasSuffix(path, ext) {
			return strings.TrimSuffix(path, ext)
		}
	}
	return path
}

// savePaddle writes path.pdparams and path.pdopt (SaveOptions.Format CheckpointPaddle).
func (m *Model) savePaddle(path string, o SaveOptions) error {
	path = trimPaddleExt(path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("oar: save: %w", err)
	}
	id := newSaveID()
	paddleName := func(p string) string {
		if n, ok := o.PaddleNames[p]; ok {
			return n
		}
		return p
	}
	if m.opt != nil {
		sd, extra := paddleOptimizerState(m.opt, paddleName)
		extra[paddleOarState].(map[string]string)[metaSaveID] = id
		if err := atomicfile.Write(path+pdoptExt, func(w io.Writer) error {
			return nn.WritePaddleState(w, sd, extra)
		}); err != nil {
			return fmt.Errorf("oar: save %s: %w", path+pdoptExt, err)
		}
	}
	meta := nn.RandomStates(m.Network)
	meta[metaEpochs] = strconv.Itoa(m.epochs)
	meta[metaSaveID] = id
	if err := atomicfile.Write(path+pdparamsExt, func(w io.Writer) error {
		return nn.WritePaddleState(w, nn.StateDict(m.Network), map[string]any{paddleOarState: meta}, nn.PaddleOptions{Names: o.PaddleNames})
	}); err != nil {
		return fmt.Errorf("oar: save %s: %w", path+pdparamsExt, err)
	}
	if m.opt == nil {
		if err := os.Remove(path + pdoptExt); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("oar: save %s: removing the old optimizer state: %w", path+pdparamsExt, err)
		}
	}
	return nil
}

// paddleOptimizerState returns what Paddle's Optimizer.state_dict() holds for opt: every buffer
// as the accumulator "<param name>_<buffer>_0", the beta pow accumulators of the optimizers that
// have them, "LR_Scheduler" {last_epoch, last_lr} with a scheduler, and oar's own state.
func paddleOptimizerState(opt optim.Optimizer, paddleName func(string) string) ([]nn.Param, map[string]any) {
	st := opt.State()
	var sd []nn.Param
	var params []string
	seen := map[string]bool{}
	for _, t := range st.Tensors {
		i := strings.LastIndexByte(t.Name, '.') // "<param>.<buffer>"; buffer names have no dot
		p, slot := t.Name[:i], t.Name[i+1:]
		if !seen[p] {
			seen[p] = true
			params = append(params, p)
		}
		sd = append(sd, nn.Param{Name: paddleAccumulator(paddleName(p), slot), Tensor: t.Tensor})
	}
	if betas := paddleBetas(opt); betas != nil {
		for _, k := range slices.Sorted(maps.Keys(st.Meta)) {
			if p, ok := strings.CutSuffix(k, ".step"); ok && !seen[p] {
				seen[p] = true
				params = append(params, p)
			}
		}
		for i, beta := range betas {
			for _, p := range params {
				t, err := strconv.ParseInt(st.Meta[p+".step"], 10, 64)
				if err != nil {
					continue // no step count: the optimizer has none for p
				}
				acc := fmt.Sprintf("%s_beta%d_pow_acc_0", paddleName(p), i+1)
				sd = append(sd, nn.Param{Name: acc, Tensor: tensor.New([]float32{betaPow(beta, t)}, 1)})
			}
		}
	}
	extra := map[string]any{paddleOarState: maps.Clone(st.Meta)}
	if st.Meta == nil {
		extra[paddleOarState] = map[string]string{}
	}
	if e, err := strconv.Atoi(st.Meta["scheduler.last_epoch"]); err == nil {
		lr, _ := strconv.ParseFloat(st.Meta["scheduler.last_lr"], 64)
		extra[paddleLRScheduler] = map[string]any{"last_epoch": e, "last_lr": lr}
	}
	return sd, extra
}

// loadPaddle reads path.pdparams and path.pdopt (LoadOptions.Format CheckpointPaddle).
func (m *Model) loadPaddle(path string, o LoadOptions) error {
	path = trimPaddleExt(path)
	paramsFile, optFile := path+pdparamsExt, path+pdoptExt
	sd, names, meta, err := readPaddleFile(paramsFile)
	if err != nil {
		return err
	}
	sd, epochs, err := m.checkLoaded(paramsFile, sd, meta, o.SkipMismatch)
	if err != nil {
		return err
	}
	var optState *optim.State
	if m.opt != nil && !o.ResetOptimizer {
		if _, statErr := os.Stat(optFile); statErr == nil {
			st, err := m.paddleOptState(optFile, names, meta[metaSaveID])
			if err != nil && !o.SkipMismatch {
				return err
			}
			optState = st
		}
	}
	return m.applyLoaded(paramsFile, optFile, sd, meta, optState, epochs, o.SkipMismatch)
}

// readPaddleFile reads a .pdparams or .pdopt: its tensors, name table, and oar's metadata (nil
// if Paddle wrote it). Entries other than arrays are errors, except Paddle's and oar's "@@"
// entries and, in a .pdopt, "LR_Scheduler" (returned in meta as "LR_Scheduler.<key>").
func readPaddleFile(name string) (sd []nn.Param, names map[string]string, meta map[string]string, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("oar: load: %w", err)
	}
	defer f.Close()
	sd, names, extra, err := nn.ReadPaddleState(f)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("oar: load %s: %w", name, err)
	}
	meta = map[string]string{}
	var bad []string
	for k, v := range extra {
		switch {
		case k == paddleOarState:
			mv, ok := v.(map[string]any)
			if !ok {
				return nil, nil, nil, fmt.Errorf("oar: load %s: %s is not a dict", name, k)
			}
			for mk, x := range mv {
				s, ok := x.(string)
				if !ok {
					return nil, nil, nil, fmt.Errorf("oar: load %s: %s[%q] is not a str", name, k, mk)
				}
				meta[mk] = s
			}
		case k == paddleLRScheduler:
			mv, ok := v.(map[string]any)
			if !ok {
				return nil, nil, nil, fmt.Errorf("oar: load %s: %s is not a dict", name, k)
			}
			for mk, x := range mv {
				switch x := x.(type) {
				case int64:
					meta[k+"."+mk] = strconv.FormatInt(x, 10)
				case float64:
					meta[k+"."+mk] = strconv.FormatFloat(x, 'g', -1, 64)
				case string:
					meta[k+"."+mk] = x
				}
			}
		case strings.HasSuffix(k, "@@"):
		default:
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, nil, nil, fmt.Errorf("oar: load %s: entries that are not arrays: %s", name, strings.Join(bad, ", "))
	}
	return sd, names, meta, nil
}

// paddleOptState reads a .pdopt into a State for m's optimizer. The accumulators of parameter p
// are looked up under p's Paddle name from the .pdparams name table (Paddle's own files use
// names like "linear_0.w_0"), then under p itself (oar's). With oar's metadata (a file oar
// wrote) the step counts, learning rate and schedule are exact; for a file Paddle wrote, the
// step counts come from the beta pow accumulators (see stepsFromPow), the learning rate stays the
// optimizer's own (a .pdopt holds none unless scheduled) and LR_Scheduler's last_epoch and
// last_lr replace the scheduler's.
func (m *Model) paddleOptState(optFile string, names map[string]string, paramsID string) (*optim.State, error) {
	fail := func(err error) (*optim.State, error) { return nil, fmt.Errorf("oar: load %s: %w", optFile, err) }
	sd, _, meta, err := readPaddleFile(optFile)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]nn.Param, len(sd))
	for _, p := range sd {
		byKey[p.Name] = p
	}
	cur := m.opt.State()
	out := optim.State{Meta: maps.Clone(cur.Meta)}
	oar := meta[metaSaveID] != ""
	if oar {
		if paramsID != "" && meta[metaSaveID] != paramsID {
			return fail(fmt.Errorf("optimizer state from another Save than %s (save id %s, want %s): the pair is not written atomically, and a crash between its two files leaves them mixed", optFile[:len(optFile)-len(pdoptExt)]+pdparamsExt, meta[metaSaveID], paramsID))
		}
		out.Meta = map[string]string{}
		for k, v := range meta {
			if k != metaSaveID && !strings.HasPrefix(k, paddleLRScheduler+".") {
				out.Meta[k] = v
			}
		}
	}
	lookup := func(p, slot string) (string, bool) {
		if n, ok := names[p]; ok {
			if _, found := byKey[paddleAccumulator(n, slot)]; found {
				return paddleAccumulator(n, slot), true
			}
		}
		k := paddleAccumulator(p, slot)
		_, found := byKey[k]
		return k, found
	}
	used := map[string]bool{}
	var errs []error
	for _, t := range cur.Tensors {
		i := strings.LastIndexByte(t.Name, '.')
		key, ok := lookup(t.Name[:i], t.Name[i+1:])
		if !ok {
			errs = append(errs, fmt.Errorf("missing accumulator %q (for %s)", key, t.Name))
			continue
		}
		used[key] = true
		out.Tensors = append(out.Tensors, nn.Param{Name: t.Name, Tensor: byKey[key].Tensor})
	}
	betas := paddleBetas(m.opt)
	for k := range cur.Meta {
		p, ok := strings.CutSuffix(k, ".step")
		if !ok {
			continue
		}
		var steps []int64
		for i, beta := range betas {
			key, found := lookup(p, fmt.Sprintf("beta%d_pow_acc", i+1))
			if !found {
				errs = append(errs, fmt.Errorf("missing accumulator %q (the step count of %s)", key, p))
				continue
			}
			used[key] = true
			acc := byKey[key].Data()
			if len(acc) != 1 {
				errs = append(errs, fmt.Errorf("accumulator %q has %d elements, want 1", key, len(acc)))
				continue
			}
			t, err := stepsFromPow(beta, acc[0])
			if err != nil {
				errs = append(errs, fmt.Errorf("accumulator %q: %w", key, err))
				continue
			}
			steps = append(steps, t)
		}
		if oar {
			continue // the exact counts are in oar's metadata
		}
		switch {
		case betas == nil:
			errs = append(errs, fmt.Errorf("no step count for %s: Paddle keeps none for this optimizer", p))
		case len(steps) == len(betas):
			t := steps[len(steps)-1] // β2's lasts longest before underflowing
			out.Meta[k] = strconv.FormatInt(t, 10)
		}
	}
	if !oar {
		for _, k := range []string{"last_epoch", "last_lr"} {
			if v, ok := meta[paddleLRScheduler+"."+k]; ok {
				if _, sched := cur.Meta["scheduler."+k]; sched {
					out.Meta["scheduler."+k] = v
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		if !used[k] {
			errs = append(errs, fmt.Errorf("unexpected accumulator %q", k))
		}
	}
	if len(errs) > 0 {
		return fail(errors.Join(errs...))
	}
	return &out, nil
}
