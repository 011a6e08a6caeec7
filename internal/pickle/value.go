// Package pickle reads and writes the subset of Python's pickle format that checkpoints and data
// sets made with NumPy use (Paddle's .pdparams/.pdopt, the CIFAR batches), without ever running
// code.
//
// Decode reads protocols 0 to 5 (the binary opcodes of every protocol and the text ones of
// protocol 0 for numbers, memo and globals) into a small Go value model:
//
//	Python                     Go
//	None                       nil
//	bool                       bool
//	int                        int64 (larger integers are an error)
//	float                      float64
//	str                        string (Python 2 str is decoded as Latin-1, as encoding='latin1')
//	bytes, bytearray           []byte
//	tuple                      Tuple
//	list                       *List
//	dict, OrderedDict          *Dict (insertion order kept)
//	set, frozenset             *Set
//	numpy.ndarray, np scalar   *Array
//
// A global (a class or function named by the pickle) is looked up in a fixed whitelist: NumPy's
// array and scalar reconstruction (numpy.core.multiarray._reconstruct and scalar,
// numpy.core.numeric._frombuffer, and NumPy 2's numpy._core.* spellings of the three),
// numpy.ndarray, numpy.dtype, collections.OrderedDict, the builtins containers (dict, list,
// tuple, set, frozenset, bytes, bytearray; module "builtins" or Python 2's "__builtin__"), and
// _codecs.encode, which protocol 2 uses to write bytes. Each is interpreted by this package; no
// other global is accepted, and the error names it. Persistent ids, extension codes, out-of-band
// buffers and object construction (INST, OBJ, NEWOBJ) are errors.
//
// Decode is meant for hostile input: every length is checked against the bytes present before
// anything is allocated, the stack, mark stack and memo are bounded, and the memory Decode
// allocates is bounded by a small multiple of the input's size (see Decode). Arrays' data alias
// the input when it is stored contiguously.
//
// Encode writes the same value model at protocol 2, 3 or 4, as Python's pickle.dumps would for the
// corresponding Python values (without memo entries), arrays as numpy 1.x writes them.
package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list.
type List struct{ Items []any }

// Set is a Python set or frozenset; Items holds its elements in the order the pickle gave them
// (a repeated element is not removed).
type Set struct {
	Items  []any
	Frozen bool
}

// Dict is a Python dict or collections.OrderedDict, in insertion order. Keys are str, int,
// float, bool or None (other key types are an error when decoding); a repeated key replaces the
// value and keeps its first position, as in Python.
type Dict struct {
	Keys, Values []any
	Ordered      bool // a collections.OrderedDict
	index        map[any]int
}

// NewDict returns an empty dict.
func NewDict() *Dict { return &Dict{} }

// dictKey is the Go map key of a hashable Python key; ok is false for unsupported key types.
// Python's 1 == 1.0 == True: numbers that compare equal are one key.
func dictKey(k any) (any, bool) {
	switch k := k.(type) {
	case nil, string:
		return k, true
	case bool:
		if k {
			return int64(1), true
		}
		return int64(0), true
	case int64:
		return k, true
	case float64:
		if k == math.Trunc(k) && math.Abs(k) < 1<<63 {
			return int64(k), true
		}
		return k, true
	}
	return nil, false
}

// Set sets d[k] = v. It returns an error if k is not a supported key type.
func (d *Dict) Set(k, v any) error {
	mk, ok := dictKey(k)
	if !ok {
		return fmt.Errorf("unsupported dict key of type %s", TypeName(k))
	}
	if d.index == nil {
		d.index = make(map[any]int)
	}
	if i, dup := d.index[mk]; dup {
		d.Values[i] = v
		return nil
	}
	d.index[mk] = len(d.Keys)
	d.Keys = append(d.Keys, k)
	d.Values = append(d.Values, v)
	return nil
}

// Get returns d[k] and whether k is present.
func (d *Dict) Get(k any) (any, bool) {
	mk, ok := dictKey(k)
	if !ok || d.index == nil {
		return nil, false
	}
	i, ok := d.index[mk]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

// Delete removes k from d if present, in time linear in d's size (see DeleteAll for many keys).
func (d *Dict) Delete(k any) {
	mk, ok := dictKey(k)
	if !ok || d.index == nil {
		return
	}
	i, ok := d.index[mk]
	if !ok {
		return
	}
	d.Keys = slices.Delete(d.Keys, i, i+1)
	d.Values = slices.Delete(d.Values, i, i+1)
	delete(d.index, mk)
	for j := i; j < len(d.Keys); j++ {
		m, _ := dictKey(d.Keys[j])
		d.index[m] = j
	}
}

// DeleteAll removes every key for which drop returns true, in one pass.
func (d *Dict) DeleteAll(drop func(k any) bool) {
	keys, values := d.Keys[:0], d.Values[:0]
	if d.index == nil {
		d.index = make(map[any]int)
	}
	clear(d.index)
	for i, k := range d.Keys {
		if drop(k) {
			continue
		}
		m, _ := dictKey(k)
		d.index[m] = len(keys)
		keys = append(keys, k)
		values = append(values, d.Values[i])
	}
	clear(d.Keys[len(keys):])
	clear(d.Values[len(values):])
	d.Keys, d.Values = keys, values
}

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// Array is a NumPy array (or, with Scalar, a NumPy scalar such as np.float32(1.5)).
type Array struct {
	// DType is NumPy's type string with its byte order, as numpy.dtype.str gives it: "<f4",
	// ">f8", "|u1", "|b1", "<i8", "<f2", ...
	DType string
	// Shape is the array's shape; empty for a 0-d array or a scalar.
	Shape []int
	// Fortran is true if Data is in column-major order.
	Fortran bool
	// Scalar is true for a NumPy scalar (numpy.core.multiarray.scalar) rather than an array.
	Scalar bool
	// Data holds the elements, len = Len()·ItemSize(), in DType's byte order.
	Data []byte
}

// Len returns the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Kind returns the dtype's kind letter: 'f' float, 'i' signed, 'u' unsigned, 'b' bool; 0 for an
// array whose state the pickle never gave (DType "").
func (a *Array) Kind() byte {
	if len(a.DType) < 2 {
		return 0
	}
	return a.DType[1]
}

// ItemSize returns the bytes per element.
func (a *Array) ItemSize() int { n, _ := itemSize(a.DType); return n }

// dtypes lists the dtype kinds and sizes an Array may have.
var dtypes = map[string]bool{
	"f2": true, "f4": true, "f8": true,
	"i1": true, "i2": true, "i4": true, "i8": true,
	"u1": true, "u2": true, "u4": true, "u8": true,
	"b1": true,
}

func itemSize(dtype string) (int, bool) {
	if len(dtype) != 3 || !dtypes[dtype[1:]] {
		return 0, false
	}
	return int(dtype[2] - '0'), true
}

// Float32s returns the elements as float32 in row-major (C) order: float16 and integers exactly
// when they fit (integers beyond ±2^24 are an error, as float32 cannot hold them all), float64
// rounded to the nearest float32 (a finite value beyond float32's range is an error), bools as 0
// and 1.
func (a *Array) Float32s() ([]float32, error) {
	size, ok := itemSize(a.DType)
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q", a.DType)
	}
	n := a.Len()
	if len(a.Data) != n*size {
		return nil, fmt.Errorf("array of %d elements of %s has %d bytes", n, a.DType, len(a.Data))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if a.DType[0] == '>' {
		order = binary.BigEndian
	}
	out := make([]float32, n)
	d := a.Data
	for i := range out {
		b := d[i*size : (i+1)*size]
		switch a.DType[1:] {
		case "f4":
			out[i] = math.Float32frombits(order.Uint32(b))
		case "f8":
			v := math.Float64frombits(order.Uint64(b))
			f := float32(v)
			if math.IsInf(float64(f), 0) && !math.IsInf(v, 0) {
				return nil, fmt.Errorf("float64 element %d (%g) is beyond float32's range", i, v)
			}
			out[i] = f
		case "f2":
			out[i] = halfToFloat32(order.Uint16(b))
		case "b1", "u1":
			out[i] = float32(b[0])
		case "i1":
			out[i] = float32(int8(b[0]))
		default:
			var v int64
			switch a.DType[1:] {
			case "i2":
				v = int64(int16(order.Uint16(b)))
			case "u2":
				v = int64(order.Uint16(b))
			case "i4":
				v = int64(int32(order.Uint32(b)))
			case "u4":
				v = int64(order.Uint32(b))
			case "i8":
				v = int64(order.Uint64(b))
			case "u8":
				u := order.Uint64(b)
				if u > 1<<24 {
					return nil, fmt.Errorf("integer element %d (%d) is beyond float32's exact range ±2^24", i, u)
				}
				v = int64(u)
			}
			if v > 1<<24 || v < -(1<<24) {
				return nil, fmt.Errorf("integer element %d (%d) is beyond float32's exact range ±2^24", i, v)
			}
			out[i] = float32(v)
		}
	}
	if a.Fortran && len(a.Shape) > 1 {
		out = fortranToC(out, a.Shape)
	}
	return out, nil
}

// fortranToC reorders column-major data to row-major.
func fortranToC(src []float32, shape []int) []float32 {
	dst := make([]float32, len(src))
	r := len(shape)
	idx := make([]int, r)
	for i := range dst { // i walks C order; compute its Fortran offset
		off, stride := 0, 1
		for k := 0; k < r; k++ {
			off += idx[k] * stride
			stride *= shape[k]
		}
		dst[i] = src[off]
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// halfToFloat32 converts IEEE 754 binary16 bits exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		// subnormal (or zero): frac·2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Float32Array returns a little-endian float32 array of the given shape holding data.
func Float32Array(data []float32, shape ...int) *Array {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return &Array{DType: "<f4", Shape: slices.Clone(shape), Data: b}
}

// TypeName returns the Python type name of a decoded value, for error messages.
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		if v.Ordered {
			return "OrderedDict"
		}
		return "dict"
	case *Set:
		if v.Frozen {
			return "frozenset"
		}
		return "set"
	case *Array:
		if v.Scalar {
			return "numpy scalar " + v.DType
		}
		return "numpy.ndarray " + v.DType
	case *global:
		return "global " + v.String()
	case *dtype:
		return "numpy.dtype"
	}
	return fmt.Sprintf("%T", v)
}
