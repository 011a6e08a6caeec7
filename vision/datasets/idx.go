package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
)

// IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian magic number 0x0000TTDD with
// the element type TT (0x08: unsigned byte) and the number of dimensions DD, DD big-endian
// uint32 sizes, then the elements in row-major order. Files may be gzip-compressed.

const (
	idxImagesMagic = 0x00000803 // unsigned bytes, 3 dimensions: [n, rows, cols]
	idxLabelsMagic = 0x00000801 // unsigned bytes, 1 dimension: [n]

	// DefaultMNISTMaxBytes is the decompressed size an IDX file may have unless
	// MNISTOptions.MaxBytes says otherwise: that of MNIST's largest file, train-images-idx3-ubyte
	// (16 header bytes and 60,000 images of 784 bytes; Fashion-MNIST's is the same size).
	DefaultMNISTMaxBytes = 47_040_016
	// maxMaxBytes caps any budget, so that sums and products of sizes cannot overflow.
	maxMaxBytes = 1 << 48
	// maxDeflateRatio is the largest ratio of output to input that deflate can reach (258 bytes
	// from 2 bits, rounded up): a gzip file of n bytes cannot hold more than n*1032 bytes.
	maxDeflateRatio = 1032
	// allocPerByte is how many bytes of data decodeIDX allocates at first per byte of a gzip file
	// (the real images decompress 4.75 times, the labels 2 times): it grows the buffer as more
	// data arrives.
	allocPerByte = 8
)

// errEmpty is the error of a file with no bytes at all.
var errEmpty = errors.New("empty file")

// decodeIDX decodes an IDX file, gzip-compressed or raw, whose magic number must be magic and
// which may not decompress to more than maxBytes bytes. It returns the dimensions and the
// elements; the error, if any, says what is wrong without naming the file. It allocates in
// proportion to the bytes it reads, whatever the header or the gzip size trailer claim; a raw
// file's elements are a subslice of b.
func decodeIDX(b []byte, magic uint32, maxBytes int64) (dims []int, data []byte, err error) {
	if len(b) == 0 {
		return nil, nil, errEmpty
	}
	size := int64(len(b))
	var src io.Reader = bytes.NewReader(b)
	gz := len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(b))
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
	headerLen := int64(4 + 4*nd)
	budget := min(maxBytes, maxMaxBytes) - headerLen
	total, over := int64(1), budget < 0
	for _, d := range dims {
		if d != 0 && total > budget/int64(d) {
			over = true
			break
		}
		total *= int64(d)
	}
	if over {
		return nil, nil, fmt.Errorf("dimensions %v declare %s bytes, more than the budget of %d bytes "+
			"(MNIST's largest file has %d; set MNISTOptions.MaxBytes to read a larger file)",
			dims, declared(headerLen, dims), maxBytes, DefaultMNISTMaxBytes)
	}
	switch {
	case !gz && headerLen+total != size:
		return nil, nil, fmt.Errorf("dimensions %v declare %d data bytes, the file has %d after the %d-byte header", dims, total, size-headerLen, headerLen)
	case gz && headerLen+total > size*maxDeflateRatio:
		return nil, nil, fmt.Errorf("dimensions %v declare %d data bytes, more than a %d-byte gzip file can hold", dims, total, size)
	case !gz:
		return dims, b[headerLen:size:size], nil
	}
	data, err = readN(src, int(total), int(max(1<<16, allocPerByte*size)))
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
		return nil, nil, fmt.Errorf("gzip: %w", unexpected(err))
	}
	return dims, data, nil
}

// declared returns the size that dims declare with a header of headerLen bytes, in decimal, as
// exact as it can be said.
func declared(headerLen int64, dims []int) string {
	v := new(big.Int).SetInt64(1)
	for _, d := range dims {
		v.Mul(v, big.NewInt(int64(d)))
	}
	return v.Add(v, big.NewInt(headerLen)).String()
}

// readN reads exactly n bytes. Its buffer starts at no more than first bytes and doubles as data
// arrives, so that a header or size trailer that lies cannot make it allocate much more than the
// stream holds.
func readN(r io.Reader, n, first int) ([]byte, error) {
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

// readIDXFile reads the IDX file at path, which may not decompress to more than maxBytes bytes
// and, unless wantSHA is empty, must have that SHA-256 (hex); fix says how to recover from a
// mismatch. Its errors name the file.
func readIDXFile(path string, magic uint32, maxBytes int64, wantSHA, fix string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	// Neither a raw file nor a gzip file (whose stored blocks cost 5 bytes per 65,535, besides a
	// header) can be much larger than what it holds: refuse a larger one before reading it.
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	if limit := min(maxBytes, maxMaxBytes) + min(maxBytes, maxMaxBytes)/1000 + 1<<16; st.Size() > limit {
		return nil, nil, fmt.Errorf("mnist: read %s: %d bytes, more than an IDX file within the budget of %d decompressed bytes can have "+
			"(MNIST's largest file has %d; set MNISTOptions.MaxBytes to read a larger file)", path, st.Size(), maxBytes, DefaultMNISTMaxBytes)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, fmt.Errorf("mnist: read %s: %w", path, err)
	}
	if wantSHA != "" {
		sum := sha256.Sum256(b)
		if err := checkSum(path, sum[:], wantSHA); err != nil {
			return nil, nil, fmt.Errorf("%w; %s", err, fix)
		}
	}
	dims, data, err := decodeIDX(b, magic, maxBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: read %s: %w", path, err)
	}
	return dims, data, nil
}
