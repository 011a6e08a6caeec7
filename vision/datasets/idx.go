package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian magic number 0x0000TTDD with
// the element type TT (0x08: unsigned byte) and the number of dimensions DD, DD big-endian
// uint32 sizes, then the elements in row-major order. Files may be gzip-compressed.

const (
	idxImagesMagic = 0x00000803 // unsigned bytes, 3 dimensions: [n, rows, cols]
	idxLabelsMagic = 0x00000801 // unsigned bytes, 1 dimension: [n]

	// maxIDXBytes bounds the data an IDX file may declare (MNIST's largest file holds 47 MB).
	maxIDXBytes = 1 << 30
	// maxDeflateRatio is the largest ratio of output to input that deflate can reach (258 bytes
	// from 2 bits, rounded up): a gzip file of n bytes cannot hold more than n*1032 bytes.
	maxDeflateRatio = 1032
)

// errEmpty is the error of a file with no bytes at all.
var errEmpty = errors.New("empty file")

// decodeIDX decodes an IDX file, gzip-compressed or raw, whose magic number must be magic. It
// returns the dimensions and the elements; the error, if any, says what is wrong without naming
// the file.
func decodeIDX(b []byte, magic uint32) (dims []int, data []byte, err error) {
	if len(b) == 0 {
		return nil, nil, errEmpty
	}
	size := int64(len(b))
	var src io.Reader = bytes.NewReader(b)
	gz := len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(bufio.NewReaderSize(src, 1<<16))
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", unexpected(err))
		}
		defer zr.Close()
		src = zr
	}

	var hdr [4]byte
	if n, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("truncated header: %d of 4 magic-number bytes: %w", n, unexpected(err))
	}
	got := binary.BigEndian.Uint32(hdr[:])
	if got != magic {
		switch {
		case got>>16 != 0:
			return nil, nil, fmt.Errorf("magic number 0x%08x, want 0x%08x: not an IDX file", got, magic)
		case hdr[2] != byte(magic>>8):
			return nil, nil, fmt.Errorf("magic number 0x%08x, want 0x%08x: element type 0x%02x, want 0x%02x (unsigned byte)", got, magic, hdr[2], byte(magic>>8))
		default:
			return nil, nil, fmt.Errorf("magic number 0x%08x, want 0x%08x: %d dimensions, want %d", got, magic, hdr[3], byte(magic))
		}
	}
	nd := int(hdr[3])
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, nil, fmt.Errorf("truncated header: %d of %d dimension bytes: %w", n, 4*nd, unexpected(err))
	}
	dims = make([]int, nd)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(dimBytes[4*i:]))
	}
	total := int64(1)
	for _, d := range dims {
		total *= int64(d) // at most maxIDXBytes * 2^32 before the check: no overflow
		if total > maxIDXBytes {
			return nil, nil, fmt.Errorf("dimensions %v declare more than the limit of %d bytes", dims, maxIDXBytes)
		}
	}
	headerLen := int64(4 + 4*nd)
	switch {
	case !gz && headerLen+total != size:
		return nil, nil, fmt.Errorf("dimensions %v declare %d data bytes, the file has %d after the %d-byte header", dims, total, size-headerLen, headerLen)
	case gz && headerLen+total > size*maxDeflateRatio:
		return nil, nil, fmt.Errorf("dimensions %v declare %d data bytes, more than a %d-byte gzip file can hold", dims, total, size)
	}
	// A gzip file ends with its uncompressed size mod 2^32: when it agrees with the header, the
	// buffer can be allocated at once.
	exact := !gz || (size >= 18 && binary.LittleEndian.Uint32(b[size-4:]) == uint32(headerLen+total))
	data, err = readN(src, int(total), exact)
	if err != nil {
		return nil, nil, err
	}
	// The stream must end here; reading to its end also checks the gzip CRC.
	var one [1]byte
	n, err := io.ReadFull(src, one[:])
	if n > 0 {
		return nil, nil, fmt.Errorf("trailing data after the %d bytes that dimensions %v declare", total, dims)
	}
	if err != io.EOF {
		if gz {
			return nil, nil, fmt.Errorf("gzip: %w", unexpected(err))
		}
		return nil, nil, err
	}
	return dims, data, nil
}

// readN reads exactly n bytes. Unless exact says that n is known to be right, it grows the buffer
// as data arrives, so that a header that lies about the size cannot make it allocate much more
// than the stream holds.
func readN(r io.Reader, n int, exact bool) ([]byte, error) {
	first := 1 << 20
	if exact {
		first = n
	}
	buf := make([]byte, 0, min(n, first))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), cap(buf)))
		}
		k, err := io.ReadFull(r, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+k]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("truncated data: %d of %d bytes: %w", len(buf), n, io.ErrUnexpectedEOF)
			}
			return nil, err
		}
	}
	return buf, nil
}

// unexpected turns io.EOF, which reads as a clean end, into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readIDXFile reads the IDX file at path; its errors name the file.
func readIDXFile(path string, magic uint32) ([]int, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	dims, data, err := decodeIDX(b, magic)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: read %s: %w", path, err)
	}
	return dims, data, nil
}
