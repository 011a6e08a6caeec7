package datasets

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// MATLAB's MAT-file format, level 5 (MATLAB 5 to 7.2, and scipy.io.savemat): a 128-byte header
// whose bytes 126..127 are "IM" (little-endian) or "MI" (big-endian), then data elements. An
// element is an 8-byte tag (type, byte count) and its data padded to 8 bytes, or, when the first
// word's upper half is not zero, a small element of at most 4 bytes packed with its tag into 8. A
// variable is a miMATRIX element (or a miCOMPRESSED element, a zlib stream holding one) made of
// sub-elements: array flags (class), dimensions, name, then the real part.

const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15

	matHeaderLen = 128
)

// matSize returns the byte size of an element of numeric type t, or 0.
func matSize(t uint32) int {
	switch t {
	case miINT8, miUINT8:
		return 1
	case miINT16, miUINT16:
		return 2
	case miINT32, miUINT32, miSINGLE:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

// matArray is a numeric variable of a MAT file: its dimensions and its values in column-major
// order, as float64.
type matArray struct {
	dims []int
	data []float64
}

// readMat returns the numeric variables of the level-5 MAT file b whose names are in want (other
// variables, and variables of other classes, are skipped). The compressed variables' bytes and
// the values returned (8 bytes each) may not exceed maxBytes in all. It allocates in proportion
// to the bytes it reads, within that budget.
func readMat(b []byte, want map[string]bool, maxBytes int64) (map[string]matArray, error) {
	if len(b) < matHeaderLen {
		return nil, fmt.Errorf("%d bytes: not a MAT file (its header has %d)", len(b), matHeaderLen)
	}
	var order binary.ByteOrder
	switch string(b[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		if bytes.HasPrefix(b, []byte("\x89HDF")) || bytes.Contains(b[:matHeaderLen], []byte("MATLAB 7.3")) {
			return nil, errors.New("a MAT file of version 7.3 (HDF5), which is not read: save it with -v7")
		}
		return nil, errors.New("not a MAT file of level 5 (no endian indicator at byte 126)")
	}
	out := map[string]matArray{}
	rest := b[matHeaderLen:]
	budget := maxBytes
	for len(rest) > 0 {
		if len(rest) < 8 {
			// MATLAB pads files to 8 bytes only after elements; a few stray bytes end the file.
			break
		}
		typ, body, next, err := matElement(rest, order)
		if err != nil {
			return nil, err
		}
		rest = next
		if typ == miCOMPRESSED {
			zr, err := zlib.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, fmt.Errorf("compressed variable: %w", err)
			}
			// One element: its tag first, which says how much to read.
			var tag [8]byte
			if _, err := io.ReadFull(zr, tag[:]); err != nil {
				return nil, fmt.Errorf("compressed variable: %w", unexpected(err))
			}
			n := int64(order.Uint32(tag[4:]))
			if order.Uint32(tag[:4]) != miMATRIX {
				continue
			}
			if n > budget {
				return nil, fmt.Errorf("a compressed variable of %d bytes, more than the budget of %d", n, maxBytes)
			}
			inner, err := readN(zr, int(n), int(max(1<<16, 8*int64(len(body)))))
			if err != nil {
				return nil, fmt.Errorf("compressed variable: %w", err)
			}
			budget -= n
			typ, body = miMATRIX, inner
		}
		if typ != miMATRIX {
			continue
		}
		name, arr, ok, err := matMatrix(body, order, want, &budget, maxBytes)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
		if ok {
			out[name] = arr
		}
	}
	return out, nil
}

// matElement splits the element at the start of b into its type and data, and returns what
// follows it.
func matElement(b []byte, order binary.ByteOrder) (typ uint32, body, rest []byte, err error) {
	if len(b) < 8 {
		return 0, nil, nil, fmt.Errorf("truncated element tag: %d of 8 bytes", len(b))
	}
	w := order.Uint32(b)
	if small := w >> 16; small != 0 {
		if small > 4 {
			return 0, nil, nil, fmt.Errorf("small element of %d bytes, at most 4", small)
		}
		return w & 0xffff, b[4 : 4+small], b[8:], nil
	}
	n := uint64(order.Uint32(b[4:]))
	padded := (n + 7) &^ 7
	if w == miCOMPRESSED {
		padded = n // MATLAB writes compressed variables back to back, unpadded
	}
	if padded > uint64(len(b)-8) {
		// The last element of a file may lack its padding.
		if n > uint64(len(b)-8) {
			return 0, nil, nil, fmt.Errorf("element of %d bytes, %d left in the file", n, len(b)-8)
		}
		padded = n
	}
	return w, b[8 : 8+n], b[8+padded:], nil
}

// matMatrix decodes a miMATRIX element's sub-elements; ok is false for a variable not in want or
// not numeric and real.
// The float64 values it returns count against *budget.
func matMatrix(b []byte, order binary.ByteOrder, want map[string]bool, budget *int64, maxBytes int64) (name string, arr matArray, ok bool, err error) {
	next := func() (uint32, []byte, error) {
		t, body, rest, err := matElement(b, order)
		b = rest
		return t, body, err
	}
	t, flags, err := next()
	if err != nil || t != miUINT32 || len(flags) != 8 {
		return "", arr, false, fmt.Errorf("bad array flags (type %d, %d bytes): %v", t, len(flags), err)
	}
	class := order.Uint32(flags) & 0xff
	complexPart := order.Uint32(flags)&0x800 != 0
	t, dimBytes, err := next()
	if err != nil || t != miINT32 || len(dimBytes)%4 != 0 || len(dimBytes) < 8 {
		return "", arr, false, fmt.Errorf("bad dimensions (type %d, %d bytes): %v", t, len(dimBytes), err)
	}
	t, nameBytes, err := next()
	if err != nil || (t != miINT8 && t != miUINT8) {
		return "", arr, false, fmt.Errorf("bad name (type %d): %v", t, err)
	}
	name = string(nameBytes)
	// Classes 6 (double) to 15 (uint64) are numeric; others (cell, struct, char, sparse) are
	// skipped, as are complex arrays.
	if !want[name] || class < 6 || class > 15 || complexPart {
		return name, arr, false, nil
	}
	dims := make([]int, len(dimBytes)/4)
	total := 1
	for i := range dims {
		d := int32(order.Uint32(dimBytes[4*i:]))
		if d < 0 || (d > 0 && total > len(b)/int(d)) {
			return name, arr, false, fmt.Errorf("dimensions beyond the %d bytes of data", len(b))
		}
		dims[i] = int(d)
		total *= int(d)
	}
	t, real, err := next()
	if err != nil {
		return name, arr, false, err
	}
	size := matSize(t)
	if size == 0 {
		return name, arr, false, fmt.Errorf("data of type %d, want a number type", t)
	}
	if len(real) != total*size {
		return name, arr, false, fmt.Errorf("%d bytes of data for dimensions %v of %d-byte values", len(real), dims, size)
	}
	if int64(total)*8 > *budget {
		return name, arr, false, fmt.Errorf("%d values, more than the budget of %d bytes", total, maxBytes)
	}
	*budget -= int64(total) * 8
	data := make([]float64, total)
	for i := range data {
		p := real[i*size:]
		switch t {
		case miINT8:
			data[i] = float64(int8(p[0]))
		case miUINT8:
			data[i] = float64(p[0])
		case miINT16:
			data[i] = float64(int16(order.Uint16(p)))
		case miUINT16:
			data[i] = float64(order.Uint16(p))
		case miINT32:
			data[i] = float64(int32(order.Uint32(p)))
		case miUINT32:
			data[i] = float64(order.Uint32(p))
		case miSINGLE:
			data[i] = float64(math.Float32frombits(order.Uint32(p)))
		case miDOUBLE:
			data[i] = math.Float64frombits(order.Uint64(p))
		case miINT64:
			data[i] = float64(int64(order.Uint64(p)))
		case miUINT64:
			data[i] = float64(order.Uint64(p))
		}
	}
	return name, matArray{dims: dims, data: data}, true, nil
}
