package nn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/internal/pickle"
	"github.com/oarlab/oar/tensor"
)

// Keys of the dict paddle.save writes for a state dict (python/paddle/framework/io.py and
// io_utils.py).
const (
	// PaddleNameTable is the entry paddle.save adds to a state dict: a dict from each
	// structured name ("fc.weight") to the tensor's Paddle name ("linear_0.w_0").
	PaddleNameTable = "StructuredToParameterName@@"
	// paddleUnpackInfo lists, at protocols 2 and 3, the arrays split in slices "<key>@@.<i>":
	// {key: {"OriginShape": shape, "slices": [names]}}.
	paddleUnpackInfo = "UnpackBigParamInfor@@"
)

// paddleSliceBytes is the size above which paddle.save splits an array at protocols 2 and 3:
// arrays of more than (2^30-1)/itemsize elements (io_utils.py _unpack_saved_dict). Tests lower
// it.
var paddleSliceBytes = 1<<30 - 1

// PaddleOptions are the optional settings of WritePaddle and SavePaddle (and of
// WritePaddleState). The zero value writes what paddle.save(layer.state_dict(), path) writes by
// default.
type PaddleOptions struct {
	// Protocol is the pickle protocol, 2, 3 or 4 as paddle.save accepts; 0 means 4, paddle.save's
	// default. At 2 and 3, arrays of 1 GiB or more are split into slices, as paddle.save splits
	// them, and paddle.load joins them again.
	Protocol int
	// Names maps state-dict keys to the Paddle parameter names written in the
	// StructuredToParameterName@@ table (e.g. "fc.weight" → "linear_0.w_0"). A key it does not
	// list is written with its own key as its name: oar parameters have no Paddle-style unique
	// names. paddle.load only gives the names to the tensors it returns; Layer.set_state_dict
	// matches by key, so the names do not matter for loading into a Paddle network.
	Names map[string]string
}

// ReadPaddleState reads a file that paddle.save wrote from a state dict (a Layer's .pdparams, an
// Optimizer's .pdopt), as paddle.load(path, return_numpy=True) reads it: the pickled dict
// (protocols 2 to 5) of NumPy arrays, with the arrays that protocols 2 and 3 split into slices
// ("<key>@@.0", "<key>@@.1", ... listed in "UnpackBigParamInfor@@") joined again. It returns the
// arrays as float32 tensors in the file's order (float16 and integer arrays converted exactly,
// float64 rounded; an integer beyond ±2^24 or a float64 beyond float32's range is an error),
// the name table (StructuredToParameterName@@; nil if absent), and the other entries (such as a
// .pdopt's "LR_Scheduler") converted to Go values: nil, bool, int64, float64, string, []byte,
// []any (lists and tuples), map[string]any (dicts with str keys) and *tensor.Tensor (arrays).
// Paddle 2.1's (name, array) tuples are read as arrays with that name. Nothing in the file is
// executed (see internal/pickle): a pickle naming any class or function other than NumPy's array
// reconstruction, OrderedDict and the builtins containers is an error naming it.
func ReadPaddleState(r io.Reader) (sd []Param, names map[string]string, extra map[string]any, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := pickle.Decode(data)
	if err != nil {
		return nil, nil, nil, err
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, nil, nil, fmt.Errorf("the pickle holds a %s, not the dict of a state dict", pickle.TypeName(v))
	}
	for _, k := range d.Keys {
		if _, ok := k.(string); !ok {
			return nil, nil, nil, fmt.Errorf("state dict key %v is a %s, not a str", k, pickle.TypeName(k))
		}
	}
	if err := joinSlices(d); err != nil {
		return nil, nil, nil, err
	}
	// A hostile pickle can give many arrays the same bytes (memo), cheaply: converting them is
	// refused beyond the input's size, which a file whose arrays hold their own bytes never
	// exceeds.
	conv := &convBudget{left: len(data)}
	if t, ok := d.Get(PaddleNameTable); ok {
		td, ok := t.(*pickle.Dict)
		if !ok {
			return nil, nil, nil, fmt.Errorf("%s is a %s, not a dict", PaddleNameTable, pickle.TypeName(t))
		}
		names = make(map[string]string, td.Len())
		for i, k := range td.Keys {
			ks, ok1 := k.(string)
			vs, ok2 := td.Values[i].(string)
			if !ok1 || !ok2 {
				return nil, nil, nil, fmt.Errorf("%s maps a %s to a %s, want str to str", PaddleNameTable, pickle.TypeName(k), pickle.TypeName(td.Values[i]))
			}
			names[ks] = vs
		}
		d.Delete(PaddleNameTable)
	}
	var errs []error
	for i, k := range d.Keys {
		key := k.(string)
		val := d.Values[i]
		if t, ok := val.(pickle.Tuple); ok && len(t) == 2 { // Paddle 2.1: (tensor.name, array)
			if n, ok := t[0].(string); ok {
				if a, ok := t[1].(*pickle.Array); ok {
					if names == nil {
						names = map[string]string{}
					}
					if _, set := names[key]; !set {
						names[key] = n
					}
					val = a
				}
			}
		}
		if a, ok := val.(*pickle.Array); ok {
			t, err := conv.tensor(a)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q: %w", key, err))
				continue
			}
			sd = append(sd, Param{Name: key, Tensor: t})
			continue
		}
		g, err := goValue(val, 0, conv)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", key, err))
			continue
		}
		if extra == nil {
			extra = map[string]any{}
		}
		extra[key] = g
	}
	if len(errs) > 0 {
		return nil, nil, nil, errors.Join(errs...)
	}
	return sd, names, extra, nil
}

// joinSlices is io_utils.py's _pack_loaded_dict: it replaces the slices of every split array
// by the array, reshaped to its OriginShape, and removes the UnpackBigParamInfor@@ entry.
func joinSlices(d *pickle.Dict) error {
	infoV, ok := d.Get(paddleUnpackInfo)
	if !ok {
		return nil
	}
	info, ok := infoV.(*pickle.Dict)
	if !ok {
		return fmt.Errorf("%s is a %s, not a dict", paddleUnpackInfo, pickle.TypeName(infoV))
	}
	used := map[string]bool{}
	for i, k := range info.Keys {
		key, ok := k.(string)
		spec, ok2 := info.Values[i].(*pickle.Dict)
		if !ok || !ok2 {
			return fmt.Errorf("%s: entry %v is not a str with a dict", paddleUnpackInfo, k)
		}
		shapeV, _ := spec.Get("OriginShape")
		slicesV, _ := spec.Get("slices")
		shapeT, ok1 := shapeV.(pickle.Tuple)
		if l, isList := shapeV.(*pickle.List); isList {
			shapeT, ok1 = pickle.Tuple(l.Items), true
		}
		sl, ok2 := slicesV.(*pickle.List)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s[%q]: want an OriginShape tuple and a slices list", paddleUnpackInfo, key)
		}
		shape := make([]int, len(shapeT))
		n := 1
		for j, s := range shapeT {
			v, ok := s.(int64)
			if !ok || v < 0 || v > math.MaxInt32 {
				return fmt.Errorf("%s[%q]: bad OriginShape %v", paddleUnpackInfo, key, shapeT)
			}
			shape[j] = int(v)
			if n > 0 && int(v) > math.MaxInt/max(n, 1) {
				return fmt.Errorf("%s[%q]: OriginShape %v too large", paddleUnpackInfo, key, shapeT)
			}
			n *= int(v)
		}
		var joined *pickle.Array
		var data [][]byte
		total := 0
		for _, p := range sl.Items {
			part, ok := p.(string)
			if !ok {
				return fmt.Errorf("%s[%q]: slice name of type %s", paddleUnpackInfo, key, pickle.TypeName(p))
			}
			if used[part] || part == key {
				return fmt.Errorf("%s[%q]: slice %q used twice", paddleUnpackInfo, key, part)
			}
			used[part] = true
			av, found := d.Get(part)
			a, isArr := av.(*pickle.Array)
			if !found || !isArr {
				return fmt.Errorf("%s[%q]: slice %q is missing or not an array", paddleUnpackInfo, key, part)
			}
			if joined == nil {
				joined = &pickle.Array{DType: a.DType}
			} else if a.DType != joined.DType {
				return fmt.Errorf("%s[%q]: slices of dtypes %s and %s", paddleUnpackInfo, key, joined.DType, a.DType)
			}
			if a.Fortran && len(a.Shape) > 1 {
				return fmt.Errorf("%s[%q]: slice %q is not 1-d", paddleUnpackInfo, key, part)
			}
			data = append(data, a.Data)
			total += a.Len()
		}
		if joined == nil {
			return fmt.Errorf("%s[%q]: no slices", paddleUnpackInfo, key)
		}
		if total != n {
			return fmt.Errorf("%s[%q]: slices of %d elements in all for OriginShape %v", paddleUnpackInfo, key, total, shape)
		}
		joined.Shape = shape
		joined.Data = bytes.Join(data, nil)
		if err := d.Set(key, joined); err != nil {
			return err
		}
	}
	d.DeleteAll(func(k any) bool { s, _ := k.(string); return used[s] || s == paddleUnpackInfo })
	return nil
}

// convBudget bounds the bytes of array data converted to tensors.
type convBudget struct{ left int }

// tensor converts an array to a float32 tensor of its shape.
func (c *convBudget) tensor(a *pickle.Array) (*tensor.Tensor, error) {
	if c.left -= len(a.Data); c.left < 0 {
		return nil, fmt.Errorf("arrays hold more data than the file (they share bytes)")
	}
	v, err := a.Float32s()
	if err != nil {
		return nil, err
	}
	if len(a.Shape) == 0 {
		return tensor.New(v), nil
	}
	for _, d := range a.Shape {
		if d == 0 {
			return nil, fmt.Errorf("empty array of shape %v", a.Shape)
		}
	}
	return tensor.New(v, a.Shape...), nil
}

// goValue converts a decoded pickle value to the Go values ReadPaddleState documents.
func goValue(v any, depth int, conv *convBudget) (any, error) {
	if depth > 32 {
		return nil, fmt.Errorf("values nested deeper than 32")
	}
	switch v := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v, nil
	case pickle.Tuple:
		return goList(v, depth, conv)
	case *pickle.List:
		return goList(v.Items, depth, conv)
	case *pickle.Dict:
		if conv.left -= 32 * v.Len(); conv.left < 0 {
			return nil, fmt.Errorf("dicts hold more items than the file has bytes (they share items)")
		}
		m := make(map[string]any, v.Len())
		for i, k := range v.Keys {
			ks, ok := k.(string)
			if !ok {
				if n, isInt := k.(int64); isInt {
					ks = strconv.FormatInt(n, 10)
				} else {
					return nil, fmt.Errorf("dict key of type %s", pickle.TypeName(k))
				}
			}
			g, err := goValue(v.Values[i], depth+1, conv)
			if err != nil {
				return nil, err
			}
			m[ks] = g
		}
		return m, nil
	case *pickle.Array:
		if v.Scalar {
			f, err := v.Float32s() // one element
			if err != nil {
				return nil, err
			}
			if v.Kind() == 'f' {
				return float64(f[0]), nil
			}
			return int64(f[0]), nil
		}
		return conv.tensor(v)
	}
	return nil, fmt.Errorf("unsupported value of type %s", pickle.TypeName(v))
}

func goList(items []any, depth int, conv *convBudget) ([]any, error) {
	if conv.left -= 16 * len(items); conv.left < 0 {
		return nil, fmt.Errorf("lists hold more items than the file has bytes (they share items)")
	}
	out := make([]any, len(items))
	for i, it := range items {
		g, err := goValue(it, depth+1, conv)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

// pickleValue converts the Go values of WritePaddleState's extra to pickle values.
func pickleValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, int64, float64, string, []byte:
		return v, nil
	case int:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case []any:
		l := &pickle.List{Items: make([]any, len(v))}
		for i, it := range v {
			p, err := pickleValue(it)
			if err != nil {
				return nil, err
			}
			l.Items[i] = p
		}
		return l, nil
	case map[string]any:
		d := pickle.NewDict()
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, err := pickleValue(v[k])
			if err != nil {
				return nil, err
			}
			d.Set(k, p)
		}
		return d, nil
	case map[string]string:
		d := pickle.NewDict()
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.Set(k, v[k])
		}
		return d, nil
	case *tensor.Tensor:
		return pickle.Float32Array(v.Data(), v.Shape()...), nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// WritePaddleState writes sd as paddle.save(state_dict, path) writes a state dict: a pickled
// dict of the tensors as float32 NumPy arrays under their names, in sd's order, then the extra
// entries (sorted by key; the values ReadPaddleState returns, plus int, float32 and
// map[string]string; a tensor only inside a list or map: at the top it belongs in sd), then StructuredToParameterName@@ (each key's name from opts' Names, or the
// key). At protocols 2 and 3 an array of 1 GiB or more is split into slices as paddle.save
// splits it (io_utils.py _unpack_saved_dict). It returns an error for a repeated key, an extra
// key that is also a tensor's, an unsupported value, or a failing w.
func WritePaddleState(w io.Writer, sd []Param, extra map[string]any, opts ...PaddleOptions) error {
	o := oneOptions("PaddleOptions", opts)
	proto := o.Protocol
	if proto == 0 {
		proto = 4
	}
	if proto < 2 || proto > 4 {
		return fmt.Errorf("protocol %d: paddle.save accepts 2, 3 and 4", proto)
	}
	d := pickle.NewDict()
	table := pickle.NewDict()
	seen := map[string]bool{}
	for _, p := range sd {
		if seen[p.Name] {
			return fmt.Errorf("key %q repeated", p.Name)
		}
		seen[p.Name] = true
		d.Set(p.Name, pickle.Float32Array(p.Data(), p.Shape()...))
		name := p.Name
		if n, ok := o.Names[p.Name]; ok {
			name = n
		}
		table.Set(p.Name, name)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if seen[k] || k == PaddleNameTable || k == paddleUnpackInfo {
			return fmt.Errorf("extra key %q is also a tensor's or Paddle's", k)
		}
		if _, ok := extra[k].(*tensor.Tensor); ok {
			return fmt.Errorf("extra %q is a tensor: give it in sd", k)
		}
		v, err := pickleValue(extra[k])
		if err != nil {
			return fmt.Errorf("extra %q: %w", k, err)
		}
		d.Set(k, v)
	}
	d.Set(PaddleNameTable, table)
	if proto < 4 {
		splitLarge(d)
	}
	return pickle.Encode(w, d, proto)
}

// splitLarge is io_utils.py's _unpack_saved_dict at protocols 2 and 3: every array of more
// than paddleSliceBytes/itemsize elements is replaced by 1-d slices "<key>@@.<i>" of at most
// that many elements, appended at the end of the dict, and UnpackBigParamInfor@@ records them.
func splitLarge(d *pickle.Dict) {
	info := pickle.NewDict()
	type part struct {
		name string
		a    *pickle.Array
	}
	var parts []part
	for i, k := range d.Keys {
		a, ok := d.Values[i].(*pickle.Array)
		if !ok {
			continue
		}
		maxN := paddleSliceBytes / a.ItemSize()
		n := a.Len()
		if n <= maxN {
			continue
		}
		key := k.(string)
		spec := pickle.NewDict()
		shape := make(pickle.Tuple, len(a.Shape))
		for j, s := range a.Shape {
			shape[j] = int64(s)
		}
		spec.Set("OriginShape", shape)
		names := &pickle.List{}
		size := a.ItemSize()
		for j := 0; j*maxN < n; j++ {
			name := key + "@@." + strconv.Itoa(j)
			names.Items = append(names.Items, name)
			lo, hi := j*maxN, min((j+1)*maxN, n)
			parts = append(parts, part{name, &pickle.Array{DType: a.DType, Shape: []int{hi - lo}, Data: a.Data[lo*size : hi*size]}})
		}
		spec.Set("slices", names)
		info.Set(key, spec)
	}
	if info.Len() == 0 {
		return
	}
	d.DeleteAll(func(k any) bool { _, split := info.Get(k); return split })
	for _, p := range parts {
		d.Set(p.name, p.a)
	}
	d.Set(paddleUnpackInfo, info)
}

// ReadPaddle reads a .pdparams stream that Paddle 2.x's paddle.save(layer.state_dict(), path)
// wrote (see ReadPaddleState) into l's parameters and buffers, matched by structured name as
// Paddle's set_state_dict matches them ("features.0.weight", a BatchNorm2D's "_mean" and
// "_variance"): oar layers name and lay out their tensors as Paddle's do (a Linear's weight is
// [in, out] in both), so no translation is needed. The name table is not used, nor are other
// entries whose key ends in "@@" (metadata, such as the "OarState@@" of oar's Model.Save). On
// error (a corrupt or hostile file, missing or unexpected keys, shapes that differ, other
// entries that are not arrays) l is unchanged, and one error lists every mismatch.
func ReadPaddle(r io.Reader, l Layer) error {
	sd, _, extra, err := ReadPaddleState(r)
	if err != nil {
		return fmt.Errorf("nn: ReadPaddle: %w", err)
	}
	var keys []string
	for k := range extra {
		if !strings.HasSuffix(k, "@@") { // "@@" marks metadata, as Paddle's own entries
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		return fmt.Errorf("nn: ReadPaddle: entries that are not arrays: %s", strings.Join(keys, ", "))
	}
	if err := SetStateDict(l, sd); err != nil {
		return fmt.Errorf("nn: ReadPaddle: %w", err)
	}
	return nil
}

// LoadPaddle reads the .pdparams file path (see ReadPaddle) into l. The issue that asked for it
// wrote nn.LoadPaddle(layer, path); it takes (path, layer) like Load and LoadPyTorch, as
// CONTRIBUTING.md's Save and Load convention says. Errors name the file.
func LoadPaddle(path string, l Layer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nn: load: %w", err)
	}
	defer f.Close()
	if err := ReadPaddle(f, l); err != nil {
		return fmt.Errorf("%w (file %s)", err, path)
	}
	return nil
}

// WritePaddle writes l's state dict (StateDict: parameters, then buffers) to w as
// paddle.save(layer.state_dict(), path) writes it (see WritePaddleState): Paddle's
// paddle.load returns the same arrays, and layer.set_state_dict(paddle.load(path)) loads them
// into the Paddle network of the same structure. opts (at most one) sets the pickle protocol
// and the parameter names. It panics if more than one opts is given.
func WritePaddle(w io.Writer, l Layer, opts ...PaddleOptions) error {
	o := oneOptions("PaddleOptions", opts)
	if err := WritePaddleState(w, StateDict(l), nil, o); err != nil {
		return fmt.Errorf("nn: WritePaddle: %w", err)
	}
	return nil
}

// SavePaddle writes l's state dict to the file path as paddle.save does (see WritePaddle),
// atomically: a crash leaves the old file or the new one. Paddle's convention names it
// "<name>.pdparams".
func SavePaddle(path string, l Layer, opts ...PaddleOptions) error {
	o := oneOptions("PaddleOptions", opts)
	if err := atomicfile.Write(path, func(w io.Writer) error { return WritePaddle(w, l, o) }); err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}
