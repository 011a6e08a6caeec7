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
	"sort"

	"github.com/oarlab/oar/tensor"
)

// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON mapping each tensor name to {"dtype", "shape",
// "data_offsets": [begin, end]} (offsets into the data that follows) plus an optional
// "__metadata__" map of strings, then the raw little-endian data. oar writes and reads F32 only.

// maxHeaderLen bounds the JSON header a reader accepts, as the reference implementation does
// (100 MB), so that a hostile length cannot make it allocate without bound.
const maxHeaderLen = 100 << 20

type tensorInfo struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes tensors (in the given order) and string metadata (nil for none) to w in
// the safetensors format. It returns an error if a name is empty, repeated, or "__metadata__", or
// if w fails.
func WriteSafetensors(w io.Writer, tensors []Param, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	var off int64
	for _, p := range tensors {
		if p.Name == "" || p.Name == "__metadata__" {
			return fmt.Errorf("safetensors: bad tensor name %q", p.Name)
		}
		if _, dup := header[p.Name]; dup {
			return fmt.Errorf("safetensors: tensor name %q repeated", p.Name)
		}
		n := int64(p.Len()) * 4
		header[p.Name] = tensorInfo{DType: "F32", Shape: p.Shape(), DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	js, err := json.Marshal(header) // sorted keys: the same state writes the same bytes
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	// pad the header with spaces so that the data starts 8-byte aligned, as the reference writer
	if pad := (8 - len(js)%8) % 8; pad > 0 {
		js = append(js, bytes.Repeat([]byte(" "), pad)...)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	bw.Write(lenBuf[:])
	bw.Write(js)
	var b [4]byte
	for _, p := range tensors {
		for _, v := range p.Data() {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// ReadSafetensors reads a safetensors stream written by WriteSafetensors or any other writer of
// F32 tensors. Tensors come back sorted by data offset (the order they were written in), with the
// metadata. It returns an error, never a panic, for a truncated or corrupt stream: a header that is
// too long (over 100 MB) or not JSON, a repeated key, a string that is not valid UTF-8, more than
// 65,536 tensors, a dtype other than F32, a shape whose dimensions other than 0 multiply to more
// than 2^31-1, a shape that disagrees with its byte range, ranges that overlap, leave holes or run
// past the data, or trailing bytes. A problem in the header is reported with its byte offset in
// the header. Memory grows only with the bytes actually read, whatever the header claims.
func ReadSafetensors(r io.Reader) ([]Param, map[string]string, error) {
	raw, meta, err := readSafetensors(r, true)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Param, len(raw))
	for i, t := range raw {
		vals, _ := t.float32s() // F32: cannot fail
		out[i] = Param{Name: t.name, Tensor: tensor.New(vals, t.shape...)}
	}
	return out, meta, nil
}

// dtypeSizes holds the bytes per element of the safetensors dtypes.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// rawTensor is one tensor of a safetensors file, its bytes not yet decoded.
type rawTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// readSafetensors reads a safetensors stream with the checks ReadSafetensors lists: the header
// parser and its limits, byte ranges that agree with the shapes and cover the data exactly, no
// trailing bytes. It returns the tensors, undecoded, in the order of their data, and the metadata.
// With onlyF32 (ReadSafetensors) a dtype other than F32 is an error; otherwise (ReadPyTorch) every
// dtype of dtypeSizes is read, an unknown one is an error, and a byte range that disagrees with
// its shape is reported with the dtype.
func readSafetensors(r io.Reader, onlyF32 bool) ([]rawTensor, map[string]string, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: read header length: %w", noEOF(err))
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n < 2 || n > maxHeaderLen {
		return nil, nil, fmt.Errorf("safetensors: header length %d outside [2, %d]", n, maxHeaderLen)
	}
	p := &headerParser{r: bufio.NewReaderSize(io.LimitReader(r, int64(n)), 4096), n: int64(n)}
	entries, meta, err := p.header()
	if err != nil {
		var he *headerError
		if errors.As(err, &he) {
			return nil, nil, fmt.Errorf("safetensors: %w", err)
		}
		return nil, nil, fmt.Errorf("safetensors: read %d-byte header: %w", n, err)
	}
	for _, e := range entries {
		info := e.info
		size, ok := dtypeSizes[info.DType]
		shape := "shape" // how a range error names the shape: with the dtype when it may vary
		switch {
		case onlyF32 && info.DType != "F32":
			return nil, nil, fmt.Errorf("safetensors: tensor %q: dtype %q, oar reads only F32", e.name, info.DType)
		case !ok:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", e.name, info.DType)
		case !onlyF32:
			shape = info.DType + " shape"
		}
		elems := int64(1)
		for _, d := range info.Shape {
			elems *= int64(d) // at most maxElements: the parser checked
		}
		if b, e2 := info.DataOffsets[0], info.DataOffsets[1]; b < 0 || e2 < b || e2-b != elems*size {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %s %v needs %d bytes, data_offsets %v", e.name, shape, info.Shape, elems*size, info.DataOffsets)
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i].info.DataOffsets, entries[j].info.DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	var end int64 // the byte buffer must be covered exactly, without holes or overlaps
	for _, e := range entries {
		if e.info.DataOffsets[0] != end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q starts at byte %d, want %d (overlap or hole)", e.name, e.info.DataOffsets[0], end)
		}
		end = e.info.DataOffsets[1]
	}
	data, err := readUpTo(r, end)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read %d bytes of tensor data: %w", end, err)
	}
	if k, _ := io.ReadFull(r, lenBuf[:1]); k != 0 {
		return nil, nil, fmt.Errorf("safetensors: trailing bytes after %d bytes of tensor data", end)
	}
	out := make([]rawTensor, len(entries))
	for i, e := range entries {
		out[i] = rawTensor{name: e.name, dtype: e.info.DType, shape: e.info.Shape, data: data[e.info.DataOffsets[0]:e.info.DataOffsets[1]]}
	}
	return out, meta, nil
}

// float32s decodes t's data as float32: F32 as is, F16 and BF16 exactly, F64 rounded. It returns
// an error for another dtype or an F64 value beyond float32's range.
func (t rawTensor) float32s() ([]float32, error) {
	le := binary.LittleEndian
	var out []float32
	switch t.dtype {
	case "F32":
		out = make([]float32, len(t.data)/4)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.data[4*i:]))
		}
	case "BF16":
		out = make([]float32, len(t.data)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(t.data[2*i:])) << 16)
		}
	case "F16":
		out = make([]float32, len(t.data)/2)
		for i := range out {
			out[i] = float16(le.Uint16(t.data[2*i:]))
		}
	case "F64":
		out = make([]float32, len(t.data)/8)
		for i := range out {
			v := math.Float64frombits(le.Uint64(t.data[8*i:]))
			out[i] = float32(v)
			if math.IsInf(float64(out[i]), 0) && !math.IsInf(v, 0) {
				return nil, fmt.Errorf("F64 value %g at index %d is beyond float32's range", v, i)
			}
		}
	default:
		return nil, fmt.Errorf("dtype %s, want F32 (or F16, BF16, F64)", t.dtype)
	}
	return out, nil
}

// readUpTo reads exactly n bytes, growing its buffer only as bytes arrive.
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, r, n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("unexpected EOF after %d bytes", got)
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
