package pickle

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Encode writes v as one pickle of the given protocol, 2, 3 or 4, to w. v is made of the types of
// the package's value model (int is accepted beside int64); Arrays are written as numpy 1.x
// pickles them (numpy.core.multiarray._reconstruct and a BUILD state, dtype with its byte order),
// so that pickle.load with NumPy 1.x or 2.x returns numpy.ndarray values. Protocol 2 writes bytes
// as _codecs.encode(latin-1 str), as Python 3 does, and cannot hold a str or bytes of 4 GiB or
// more. No memo is written, so a value reached twice is written twice, and a cyclic value is an
// error.
func Encode(w io.Writer, v any, protocol int) error {
	if protocol < 2 || protocol > 4 {
		return fmt.Errorf("pickle: Encode: protocol %d, want 2, 3 or 4", protocol)
	}
	e := &encoder{w: bufio.NewWriterSize(w, 1<<16), proto: protocol, active: map[any]bool{}}
	e.w.Write([]byte{opProto, byte(protocol)})
	if err := e.value(v); err != nil {
		return err
	}
	e.w.WriteByte(opStop)
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("pickle: Encode: %w", err)
	}
	return nil
}

type encoder struct {
	w      *bufio.Writer
	proto  int
	active map[any]bool // containers being written, to refuse cycles
}

func (e *encoder) u32(n int) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	e.w.Write(b[:])
}

func (e *encoder) u64(n uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	e.w.Write(b[:])
}

func (e *encoder) str(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("pickle: Encode: str %.40q is not valid UTF-8", s)
	}
	switch {
	case e.proto >= 4 && len(s) < 256:
		e.w.WriteByte(opShortBinUnicode)
		e.w.WriteByte(byte(len(s)))
	case len(s) <= math.MaxUint32:
		e.w.WriteByte(opBinUnicode)
		e.u32(len(s))
	case e.proto >= 4:
		e.w.WriteByte(opBinUnicode8)
		e.u64(uint64(len(s)))
	default:
		return fmt.Errorf("pickle: Encode: a str of %d bytes needs protocol 4", len(s))
	}
	e.w.WriteString(s)
	return nil
}

func (e *encoder) bytes(b []byte) error {
	if e.proto < 3 {
		// _codecs.encode(b.decode('latin1'), 'latin1'), as Python 3 writes bytes at protocol 2.
		e.w.WriteString("c_codecs\nencode\n")
		var sb strings.Builder
		sb.Grow(len(b) + len(b)/2)
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		if err := e.str(sb.String()); err != nil {
			return err
		}
		e.str("latin1")
		e.w.WriteByte(opTuple2)
		e.w.WriteByte(opReduce)
		return nil
	}
	switch {
	case len(b) < 256:
		e.w.WriteByte(opShortBinBytes)
		e.w.WriteByte(byte(len(b)))
	case len(b) <= math.MaxUint32:
		e.w.WriteByte(opBinBytes)
		e.u32(len(b))
	case e.proto >= 4:
		e.w.WriteByte(opBinBytes8)
		e.u64(uint64(len(b)))
	default:
		return fmt.Errorf("pickle: Encode: bytes of %d bytes need protocol 4", len(b))
	}
	e.w.Write(b)
	return nil
}

func (e *encoder) global(mod, name string) error {
	if e.proto >= 4 {
		e.str(mod)
		e.str(name)
		e.w.WriteByte(opStackGlobal)
		return nil
	}
	e.w.WriteByte(opGlobal)
	e.w.WriteString(mod + "\n" + name + "\n")
	return nil
}

func (e *encoder) int(v int64) {
	switch {
	case v >= 0 && v < 256:
		e.w.WriteByte(opBinInt1)
		e.w.WriteByte(byte(v))
	case v >= 0 && v < 65536:
		e.w.WriteByte(opBinInt2)
		e.w.WriteByte(byte(v))
		e.w.WriteByte(byte(v >> 8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		e.w.WriteByte(opBinInt)
		e.u32(int(int32(v)))
	default:
		e.w.WriteByte(opLong1)
		e.w.WriteByte(8)
		e.u64(uint64(v))
	}
}

func (e *encoder) enter(key any) error {
	if e.active[key] {
		return fmt.Errorf("pickle: Encode: the value holds itself")
	}
	e.active[key] = true
	return nil
}

func (e *encoder) items(items []any) error {
	for _, it := range items {
		if err := e.value(it); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.w.WriteByte(opNone)
	case bool:
		if v {
			e.w.WriteByte(opNewTrue)
		} else {
			e.w.WriteByte(opNewFalse)
		}
	case int:
		e.int(int64(v))
	case int64:
		e.int(v)
	case float64:
		e.w.WriteByte(opBinFloat)
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
		e.w.Write(b[:])
	case string:
		return e.str(v)
	case []byte:
		return e.bytes(v)
	case Tuple:
		switch len(v) {
		case 0:
			e.w.WriteByte(opEmptyTuple)
			return nil
		case 1, 2, 3:
			if err := e.items(v); err != nil {
				return err
			}
			e.w.WriteByte(opTuple1 + byte(len(v)-1))
			return nil
		}
		e.w.WriteByte(opMark)
		if err := e.items(v); err != nil {
			return err
		}
		e.w.WriteByte(opTuple)
	case *List:
		if err := e.enter(v); err != nil {
			return err
		}
		defer delete(e.active, v)
		e.w.WriteByte(opEmptyList)
		for i := 0; i < len(v.Items); i += 1000 { // batches of 1000, as Python's pickler
			e.w.WriteByte(opMark)
			if err := e.items(v.Items[i:min(i+1000, len(v.Items))]); err != nil {
				return err
			}
			e.w.WriteByte(opAppends)
		}
	case *Dict:
		if err := e.enter(v); err != nil {
			return err
		}
		defer delete(e.active, v)
		if v.Ordered {
			e.global("collections", "OrderedDict")
			e.w.WriteByte(opEmptyTuple)
			e.w.WriteByte(opReduce)
		} else {
			e.w.WriteByte(opEmptyDict)
		}
		for i := 0; i < len(v.Keys); i += 1000 {
			e.w.WriteByte(opMark)
			for j := i; j < min(i+1000, len(v.Keys)); j++ {
				if err := e.value(v.Keys[j]); err != nil {
					return err
				}
				if err := e.value(v.Values[j]); err != nil {
					return err
				}
			}
			e.w.WriteByte(opSetItems)
		}
	case *Set:
		if err := e.enter(v); err != nil {
			return err
		}
		defer delete(e.active, v)
		kind := "set"
		if v.Frozen {
			kind = "frozenset"
		}
		if e.proto < 4 { // set([items]), as Python's reduce of a set
			mod := "builtins"
			if e.proto < 3 {
				mod = "__builtin__" // Python 2's name, which protocol 2 writes (fix_imports)
			}
			e.global(mod, kind)
			if err := e.value(&List{Items: v.Items}); err != nil {
				return err
			}
			e.w.WriteByte(opTuple1)
			e.w.WriteByte(opReduce)
			return nil
		}
		if v.Frozen {
			e.w.WriteByte(opMark)
			if err := e.items(v.Items); err != nil {
				return err
			}
			e.w.WriteByte(opFrozenSet)
			return nil
		}
		e.w.WriteByte(opEmptySet)
		for i := 0; i < len(v.Items); i += 1000 {
			e.w.WriteByte(opMark)
			if err := e.items(v.Items[i:min(i+1000, len(v.Items))]); err != nil {
				return err
			}
			e.w.WriteByte(opAddItems)
		}
	case *Array:
		return e.array(v)
	default:
		return fmt.Errorf("pickle: Encode: unsupported value of type %T", v)
	}
	return nil
}

func (e *encoder) dtype(t string) error {
	size, ok := itemSize(t)
	if !ok {
		return fmt.Errorf("pickle: Encode: unsupported dtype %q", t)
	}
	order := t[:1]
	if size == 1 {
		order = "|"
	}
	// numpy.dtype('f4', False, True) with the state (3, '<', None, None, None, -1, -1, 0).
	e.global("numpy", "dtype")
	e.str(t[1:])
	e.w.WriteByte(opNewFalse)
	e.w.WriteByte(opNewTrue)
	e.w.WriteByte(opTuple3)
	e.w.WriteByte(opReduce)
	return e.value(Tuple{int64(3), order, nil, nil, nil, int64(-1), int64(-1), int64(0)}) // then BUILD
}

func (e *encoder) array(a *Array) error {
	size, ok := itemSize(a.DType)
	if !ok {
		return fmt.Errorf("pickle: Encode: unsupported dtype %q", a.DType)
	}
	if len(a.Data) != a.Len()*size {
		return fmt.Errorf("pickle: Encode: array of shape %v and dtype %s has %d bytes", a.Shape, a.DType, len(a.Data))
	}
	if a.Scalar {
		e.global("numpy.core.multiarray", "scalar")
		if err := e.dtype(a.DType); err != nil {
			return err
		}
		e.w.WriteByte(opBuild)
		if err := e.bytes(a.Data); err != nil {
			return err
		}
		e.w.WriteByte(opTuple2)
		e.w.WriteByte(opReduce)
		return nil
	}
	// _reconstruct(ndarray, (0,), b'b') then BUILD (1, shape, dtype, is_fortran, data).
	e.global("numpy.core.multiarray", "_reconstruct")
	e.global("numpy", "ndarray")
	e.value(Tuple{int64(0)})
	e.bytes([]byte("b"))
	e.w.WriteByte(opTuple3)
	e.w.WriteByte(opReduce)
	e.w.WriteByte(opMark)
	e.int(1)
	shape := make(Tuple, len(a.Shape))
	for i, d := range a.Shape {
		shape[i] = int64(d)
	}
	e.value(shape)
	if err := e.dtype(a.DType); err != nil {
		return err
	}
	e.w.WriteByte(opBuild)
	e.value(a.Fortran)
	if err := e.bytes(a.Data); err != nil {
		return err
	}
	e.w.WriteByte(opTuple)
	e.w.WriteByte(opBuild)
	return nil
}
