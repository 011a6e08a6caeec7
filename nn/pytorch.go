package nn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/oarlab/oar/internal/atomicfile"
)

// PyTorchOptions are the optional settings of ReadPyTorch, LoadPyTorch, WritePyTorch and
// SavePyTorch, which read and write PyTorch state dicts in the safetensors format: what
// safetensors.torch.save_file(model.state_dict(), path) writes and
// model.load_state_dict(safetensors.torch.load_file(path)) reads. PyTorch and Paddle both name a
// tensor by its attribute path ("features.0.weight"), so the keys of an oar network built like
// the torch one match, except for three differences of layout that these functions translate,
// deciding from the layer tree (Walk), never from shapes:
//
//   - a *Linear's weight is [in, out] in oar and [out, in] in PyTorch: it is transposed;
//   - a *BatchNorm2D's buffers "_mean" and "_variance" are PyTorch's "running_mean" and
//     "running_var";
//   - PyTorch's BatchNorm2d also has "num_batches_tracked", an int64 counter that oar does not
//     keep (it only matters to PyTorch's momentum=None): it is ignored when read, and written as a
//     0-d I64 zero so that load_state_dict(strict=True) finds it.
//
// Conv2D weights ([out, in/groups, kh, kw]) and all biases have the same layout in both.
type PyTorchOptions struct {
	// Names maps oar state-dict keys ("fc.0.weight", "bn._mean") to the PyTorch keys they are
	// stored under, for networks whose attribute names differ. Keys it does not list get the
	// default name (the oar key, with a BatchNorm2D's "_mean"/"_variance" renamed). A BatchNorm2D's
	// "num_batches_tracked" goes beside its running mean: the PyTorch name of "<bn>._mean" with
	// the last dotted part replaced. Naming a key the network does not have, or two keys the same
	// PyTorch name, is an error.
	Names map[string]string
}

// torchEntry is one tensor of a layer's state dict as PyTorch stores it.
type torchEntry struct {
	Param            // the layer's own tensor, in oar's layout
	torch     string // its PyTorch key
	transpose bool   // a Linear weight: [in, out] here, [out, in] in PyTorch
}

// torchShape is the shape PyTorch gives e's tensor.
func (e torchEntry) torchShape() []int {
	s := e.Shape()
	if e.transpose {
		s[0], s[1] = s[1], s[0]
	}
	return s
}

// torchLayout returns l's state dict (StateDict) under PyTorch's names and layout, and the keys
// of the BatchNorm counters ("num_batches_tracked") PyTorch has beside it.
func torchLayout(l Layer, opts []PyTorchOptions) (entries []torchEntry, counters []string, err error) {
	o := oneOptions("PyTorchOptions", opts)
	transposed := map[string]bool{}
	renamed := map[string]string{} // default PyTorch names that are not the oar key
	var means []string             // the "_mean" key of every BatchNorm2D, for its counter
	Walk(l, func(path string, l Layer) {
		switch l.(type) {
		case *Linear:
			transposed[joinPath(path, "weight")] = true
		case *BatchNorm2D:
			renamed[joinPath(path, "_mean")] = joinPath(path, "running_mean")
			renamed[joinPath(path, "_variance")] = joinPath(path, "running_var")
			means = append(means, joinPath(path, "_mean"))
		}
	})
	sd := StateDict(l)
	var errs []error
	known := make(map[string]bool, len(sd))
	for _, p := range sd {
		known[p.Name] = true
	}
	for _, k := range sortedKeys(o.Names) {
		if !known[k] {
			errs = append(errs, fmt.Errorf("PyTorchOptions.Names: %q is not a key of the network's state dict", k))
		}
	}
	torchName := func(key string) string {
		if n, ok := o.Names[key]; ok {
			return n
		}
		if n, ok := renamed[key]; ok {
			return n
		}
		return key
	}
	owner := map[string]string{} // PyTorch key -> the oar key it stands for
	claim := func(torch, key string) {
		if prev, dup := owner[torch]; dup {
			errs = append(errs, fmt.Errorf("PyTorch key %q given to both %q and %q", torch, prev, key))
		}
		owner[torch] = key
	}
	for _, p := range sd {
		e := torchEntry{Param: p, torch: torchName(p.Name), transpose: transposed[p.Name] && p.Rank() == 2}
		claim(e.torch, p.Name)
		entries = append(entries, e)
	}
	for _, m := range means {
		mean := torchName(m)
		c := "num_batches_tracked"
		if i := strings.LastIndexByte(mean, '.'); i >= 0 {
			c = mean[:i+1] + c
		}
		claim(c, m+"'s num_batches_tracked")
		counters = append(counters, c)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return entries, counters, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WritePyTorch writes l's state dict (parameters and buffers) to w as PyTorch's state dict of the
// same network in the safetensors format, with the metadata {"format": "pt"} that PyTorch's
// writers add: Linear weights transposed to [out, in], BatchNorm2D's statistics named
// running_mean and running_var with a num_batches_tracked of 0 (a 0-d I64) beside them, every
// other tensor as it is, all F32 (see PyTorchOptions). The result loads
// with model.load_state_dict(safetensors.torch.load_file(path), strict=True). opts (at most one)
// renames keys. It returns an error if the names clash or if w fails, and panics if more than one
// opts is given.
func WritePyTorch(w io.Writer, l Layer, opts ...PyTorchOptions) error {
	entries, counters, err := torchLayout(l, opts)
	if err != nil {
		return fmt.Errorf("nn: WritePyTorch: %w", err)
	}
	header := make(map[string]any, len(entries)+len(counters)+1)
	var off int64
	for _, e := range entries {
		n := int64(e.Len()) * 4
		header[e.torch] = tensorInfo{DType: "F32", Shape: e.torchShape(), DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	for _, c := range counters {
		header[c] = tensorInfo{DType: "I64", Shape: []int{}, DataOffsets: [2]int64{off, off + 8}}
		off += 8
	}
	header["__metadata__"] = map[string]string{"format": "pt"}
	js, err := json.Marshal(header) // sorted keys: the same state writes the same bytes
	if err != nil {
		return fmt.Errorf("nn: WritePyTorch: %w", err)
	}
	if pad := (8 - len(js)%8) % 8; pad > 0 { // 8-byte aligned data, as the reference writer
		js = append(js, bytes.Repeat([]byte(" "), pad)...)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(js)))
	bw.Write(b[:])
	bw.Write(js)
	for _, e := range entries {
		data := e.Data()
		if e.transpose {
			data = transpose2D(data, e.Dim(0), e.Dim(1))
		}
		for _, v := range data {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			bw.Write(b[:4])
		}
	}
	clear(b[:])
	for range counters {
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("nn: WritePyTorch: write: %w", err)
	}
	return nil
}

// SavePyTorch writes l's state dict in PyTorch's layout (see WritePyTorch) to the file path,
// atomically: a crash leaves the old file or the new one.
func SavePyTorch(path string, l Layer, opts ...PyTorchOptions) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WritePyTorch(w, l, opts...) }); err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}

// ReadPyTorch reads a PyTorch state dict in the safetensors format (as
// safetensors.torch.save_file(model.state_dict(), path) writes it) from r into l's parameters and
// buffers: each of l's keys is looked up under its PyTorch name, Linear weights are transposed
// from [out, in], BatchNorm2D's statistics come from running_mean and running_var, and
// num_batches_tracked is ignored (see PyTorchOptions). opts (at most one)
// renames keys. Tensors may be F32, or F16, BF16 (converted exactly) or F64 (rounded to the
// nearest float32; a value beyond float32's range is an error). A corrupt or truncated stream is
// an error (never a panic); otherwise one error lists every problem: missing and unexpected keys,
// a shape that differs (naming the PyTorch and oar keys and both shapes), another dtype. On error
// l is unchanged. The layers are found by Walk: a Linear that a custom layer holds without
// listing it in Sublayers is not transposed. It panics if more than one opts is given.
func ReadPyTorch(r io.Reader, l Layer, opts ...PyTorchOptions) error {
	entries, counters, err := torchLayout(l, opts)
	if err != nil {
		return fmt.Errorf("nn: ReadPyTorch: %w", err)
	}
	file, _, err := readSafetensors(r, false)
	if err != nil {
		return fmt.Errorf("nn: ReadPyTorch: %w", err)
	}
	byName := make(map[string]rawTensor, len(file))
	for _, t := range file {
		byName[t.name] = t
	}
	var errs []error
	used := map[string]bool{}
	for _, c := range counters {
		used[c] = true // PyTorch's counter, of any dtype, if present: oar has no use for it
	}
	values := make([][]float32, len(entries))
	for i, e := range entries {
		used[e.torch] = true
		t, ok := byName[e.torch]
		what := fmt.Sprintf("key %q", e.torch)
		if e.torch != e.Name {
			what += fmt.Sprintf(" (oar's %q)", e.Name)
		}
		want := e.torchShape()
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("missing %s, shape %v", what, want))
		case !slices.Equal(t.shape, want):
			layout := ""
			if e.transpose {
				layout = fmt.Sprintf(", Linear's [in, out] %v transposed", e.Shape())
			}
			errs = append(errs, fmt.Errorf("%s: shape %v in the file, want %v%s", what, t.shape, want, layout))
		default:
			v, err := t.float32s()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				break
			}
			if e.transpose {
				v = transpose2D(v, want[0], want[1])
			}
			values[i] = v
		}
	}
	for _, t := range file {
		if !used[t.name] {
			errs = append(errs, fmt.Errorf("unexpected key %q (%s %v)", t.name, t.dtype, t.shape))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("nn: ReadPyTorch: %w", errors.Join(errs...))
	}
	for i, e := range entries {
		copy(e.Data(), values[i])
	}
	return nil
}

// LoadPyTorch reads the PyTorch state dict in the safetensors file path into l (see
// ReadPyTorch). Errors name the file and every problem; on error l is unchanged.
func LoadPyTorch(path string, l Layer, opts ...PyTorchOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nn: load: %w", err)
	}
	defer f.Close()
	if err := ReadPyTorch(f, l, opts...); err != nil {
		return fmt.Errorf("nn: load %s: %w", path, err)
	}
	return nil
}

// transpose2D returns the [cols, rows] transpose of the row-major [rows, cols] matrix a.
func transpose2D(a []float32, rows, cols int) []float32 {
	out := make([]float32, len(a))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = a[i*cols+j]
		}
	}
	return out
}

// float16 returns the IEEE 754 half-precision number of bits h as a float32 (exact).
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0: // zero, subnormal: frac·2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
