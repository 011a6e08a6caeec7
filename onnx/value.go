package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// dtype is an ONNX element type (onnxpb.TensorProto_DataType's value).
type dtype = int32

const (
	tUndefined = dtype(onnxpb.TensorProto_UNDEFINED)
	tFloat     = dtype(onnxpb.TensorProto_FLOAT)
	tUint8     = dtype(onnxpb.TensorProto_UINT8)
	tInt8      = dtype(onnxpb.TensorProto_INT8)
	tUint16    = dtype(onnxpb.TensorProto_UINT16)
	tInt16     = dtype(onnxpb.TensorProto_INT16)
	tInt32     = dtype(onnxpb.TensorProto_INT32)
	tInt64     = dtype(onnxpb.TensorProto_INT64)
	tBool      = dtype(onnxpb.TensorProto_BOOL)
	tUint32    = dtype(onnxpb.TensorProto_UINT32)
	tDouble    = dtype(onnxpb.TensorProto_DOUBLE) // only as constants cast to float32
)

// supportedType reports whether values of type t can flow through a graph: float32, and the
// integer types that fit int64 exactly. Float64, float16 and the others are refused at import.
func supportedType(t dtype) bool {
	switch t {
	case tFloat, tUint8, tInt8, tUint16, tInt16, tInt32, tInt64, tBool, tUint32:
		return true
	}
	return false
}

func typeName(t dtype) string {
	if s, ok := onnxpb.TensorProto_DataType_name[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// value is what flows along a graph's edges. Float tensors are oar tensors, so that every op on
// them runs oar's kernels and records autograd: gradients flow from the outputs to the
// parameters. Integer and bool tensors (Shape→Gather→Concat→Reshape chains, Reshape's shape,
// Gather's indices, axes inputs, Dropout's mask, the uint8 of some node tests) are int64 slices:
// exact where float32 is not (above 2^24), wrapped to their ONNX type after arithmetic (uint8
// wraps at 256), and never differentiable. dtype is the ONNX type, so that every result has the
// type ONNX gives it.
type value struct {
	dtype dtype
	f     *tensor.Tensor // dtype tFloat
	i     []int64        // every other dtype
	shape []int          // the shape of i (f carries its own)
}

func floatValue(t *tensor.Tensor) *value { return &value{dtype: tFloat, f: t} }

func intValue(t dtype, data []int64, shape []int) *value {
	return &value{dtype: t, i: data, shape: slices.Clone(shape)}
}

func (v *value) isFloat() bool { return v.dtype == tFloat }

// dims returns the value's shape (not a copy for integer values: do not modify).
func (v *value) dims() []int {
	if v.f != nil {
		return v.f.Shape()
	}
	return v.shape
}

func (v *value) len() int {
	if v.f != nil {
		return v.f.Len()
	}
	return len(v.i)
}

// asFloat returns the value as a float32 tensor: a float value itself, integers converted
// (exactly below 2^24).
func (v *value) asFloat() *tensor.Tensor {
	if v.f != nil {
		return v.f
	}
	d := make([]float32, len(v.i))
	for k, x := range v.i {
		d[k] = float32(x)
	}
	return tensor.New(d, v.shape...)
}

// ints returns the value's elements as int64 (a float value's are truncated).
func (v *value) ints() []int64 {
	if v.f == nil {
		return v.i
	}
	d := make([]int64, v.f.Len())
	for k, x := range v.f.Data() {
		d[k] = int64(x)
	}
	return d
}

// floats returns the value's elements as float64, for scalar hyper-parameters.
func (v *value) floats() []float64 {
	out := make([]float64, v.len())
	if v.f != nil {
		for k, x := range v.f.Data() {
			out[k] = float64(x)
		}
		return out
	}
	for k, x := range v.i {
		out[k] = float64(x)
	}
	return out
}

// wrap returns x as the integer type t stores it: two's-complement truncation for the sized
// types (uint8 255+1 = 0, as numpy), 0 or 1 for bool.
func wrap(t dtype, x int64) int64 {
	switch t {
	case tUint8:
		return int64(uint8(x))
	case tInt8:
		return int64(int8(x))
	case tUint16:
		return int64(uint16(x))
	case tInt16:
		return int64(int16(x))
	case tInt32:
		return int64(int32(x))
	case tUint32:
		return int64(uint32(x))
	case tBool:
		if x != 0 {
			return 1
		}
		return 0
	}
	return x
}

// maxElems caps the element count of any tensor the importer allocates from sizes it reads
// (attributes, shape inputs): 2^28 elements, a GiB of float32. A larger request is an error, not
// an out-of-memory crash.
const maxElems = 1 << 28

// checkedNumel returns the element count of dims, or an error if a dimension is negative or the
// count overflows.
func checkedNumel(dims []int64) (int, error) {
	n, zero := uint64(1), false
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in %v", dims)
		}
		if d == 0 {
			zero = true
			continue
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt32*4 {
			return 0, fmt.Errorf("dims %v hold too many elements", dims)
		}
		n = lo
	}
	if zero {
		return 0, nil
	}
	return int(n), nil
}

// elemSize is the byte size of one element of t in raw_data.
func elemSize(t dtype) int {
	switch t {
	case tFloat, tInt32, tUint32:
		return 4
	case tInt64:
		return 8
	case tUint16, tInt16:
		return 2
	}
	return 1 // uint8, int8, bool
}

// decodeTensor reads a TensorProto. Every count is checked against the data actually present
// before anything is allocated, so a hostile file cannot make it allocate more than a small
// multiple of its own size.
func decodeTensor(tp *onnxpb.TensorProto) (*value, error) {
	t := tp.GetDataType()
	if !supportedType(t) {
		return nil, fmt.Errorf("data type %s is not supported (float32 and integer types are)", typeName(t))
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(tp.GetExternalData()) > 0 {
		return nil, fmt.Errorf("external data is not supported")
	}
	if tp.GetSegment() != nil {
		return nil, fmt.Errorf("segmented tensors are not supported")
	}
	n, err := checkedNumel(tp.GetDims())
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(tp.GetDims()))
	for k, d := range tp.GetDims() {
		shape[k] = int(d)
	}
	raw := tp.GetRawData()
	have := func(what string, got int) error {
		if got != n {
			return fmt.Errorf("dims %v need %d values, %s holds %d", tp.GetDims(), n, what, got)
		}
		return nil
	}
	if raw != nil || n == 0 && len(tp.GetFloatData())+len(tp.GetInt32Data())+len(tp.GetInt64Data())+len(tp.GetUint64Data()) == 0 {
		size := elemSize(t)
		if len(raw)%size != 0 {
			return nil, fmt.Errorf("raw_data has %d bytes, not a multiple of %d (%s)", len(raw), size, typeName(t))
		}
		if err := have("raw_data", len(raw)/size); err != nil {
			return nil, err
		}
		if t == tFloat {
			d := make([]float32, n)
			for k := range d {
				d[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
			}
			return floatValue(tensor.New(d, shape...)), nil
		}
		d := make([]int64, n)
		for k := range d {
			b := raw[k*size:]
			switch t {
			case tInt64:
				d[k] = int64(binary.LittleEndian.Uint64(b))
			case tInt32:
				d[k] = int64(int32(binary.LittleEndian.Uint32(b)))
			case tUint32:
				d[k] = int64(binary.LittleEndian.Uint32(b))
			case tInt16:
				d[k] = int64(int16(binary.LittleEndian.Uint16(b)))
			case tUint16:
				d[k] = int64(binary.LittleEndian.Uint16(b))
			default:
				d[k] = wrap(t, int64(b[0]))
			}
		}
		return intValue(t, d, shape), nil
	}
	switch t {
	case tFloat:
		if err := have("float_data", len(tp.GetFloatData())); err != nil {
			return nil, err
		}
		return floatValue(tensor.New(slices.Clone(tp.GetFloatData()), shape...)), nil
	case tInt64:
		if err := have("int64_data", len(tp.GetInt64Data())); err != nil {
			return nil, err
		}
		return intValue(t, slices.Clone(tp.GetInt64Data()), shape), nil
	case tUint32:
		if err := have("uint64_data", len(tp.GetUint64Data())); err != nil {
			return nil, err
		}
		d := make([]int64, n)
		for k, x := range tp.GetUint64Data() {
			d[k] = wrap(t, int64(x))
		}
		return intValue(t, d, shape), nil
	}
	if err := have("int32_data", len(tp.GetInt32Data())); err != nil {
		return nil, err
	}
	d := make([]int64, n)
	for k, x := range tp.GetInt32Data() {
		d[k] = wrap(t, int64(x))
	}
	return intValue(t, d, shape), nil
}

// floatProto returns t as a float TensorProto named name, its data as raw_data.
func floatProto(name string, t *tensor.Tensor) *onnxpb.TensorProto {
	raw := make([]byte, 4*t.Len())
	for k, x := range t.Data() {
		binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(x))
	}
	dims := make([]int64, t.Rank())
	for k, d := range t.Shape() {
		dims[k] = int64(d)
	}
	return &onnxpb.TensorProto{Name: name, DataType: tFloat, Dims: dims, RawData: raw}
}

// indexTensor returns the float32 tensor [0, 1, ..., n-1] of the given shape. Moving it with a
// tensor op (Permute, Concat, Gather, Flatten) tells which element of an integer value goes
// where, so that integer values share the float ops' code. Indices are exact below 2^24.
func indexTensor(shape []int) *tensor.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n >= 1<<24 {
		panic(fmt.Errorf("integer tensor of shape %v is too large (at most 2^24 elements)", shape))
	}
	return tensor.Arange(n).Reshape(shape...)
}

// pick returns the integer value of type t whose elements are src at the float indices of idx.
func pick(t dtype, src []int64, idx *tensor.Tensor) *value {
	d := make([]int64, idx.Len())
	for k, x := range idx.Data() {
		d[k] = src[int(x)]
	}
	return intValue(t, d, idx.Shape())
}

// move applies a data-movement op (Reshape, Permute, Gather...) to v: directly to a float value,
// through its element indices to an integer one.
func move(v *value, f func(*tensor.Tensor) *tensor.Tensor) *value {
	if v.isFloat() {
		return floatValue(f(v.f))
	}
	return pick(v.dtype, v.i, f(indexTensor(v.shape)))
}

// decodeDouble reads a float64 tensor as float32, for the constants that only a cast to float32
// reads (see castToFloatOnly); Import refuses float64 anywhere else. Sizes are checked as in
// decodeTensor.
func decodeDouble(tp *onnxpb.TensorProto) (*value, error) {
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(tp.GetExternalData()) > 0 || tp.GetSegment() != nil {
		return nil, fmt.Errorf("external or segmented data is not supported")
	}
	n, err := checkedNumel(tp.GetDims())
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(tp.GetDims()))
	for k, d := range tp.GetDims() {
		shape[k] = int(d)
	}
	raw, typed := tp.GetRawData(), tp.GetDoubleData()
	got := len(typed)
	if raw != nil {
		if len(raw)%8 != 0 {
			return nil, fmt.Errorf("raw_data has %d bytes, not a multiple of 8 (DOUBLE)", len(raw))
		}
		got = len(raw) / 8
	}
	if got != n {
		return nil, fmt.Errorf("dims %v need %d values, the tensor holds %d", tp.GetDims(), n, got)
	}
	d := make([]float32, n)
	for k := range d {
		if raw != nil {
			d[k] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*k:])))
		} else {
			d[k] = float32(typed[k])
		}
	}
	return floatValue(tensor.New(d, shape...)), nil
}
