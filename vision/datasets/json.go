package datasets

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/tensor"
)

// The tutorial's mnist.json.gz is a gzip-compressed JSON list [train, valid, eval]; each split is
// [images, labels], images a list of 784-number lists (one per image, row by row) and labels a
// list of integers 0..9. The tutorial's file has 50,000, 10,000 and 10,000 items.

// The budgets of the mnist.json.gz reader, when MNISTJSONOptions leaves them zero.
const (
	// DefaultMNISTJSONMaxBytes bounds the JSON text, decompressed: 1 GiB, four times the
	// 243,199,236 bytes that SaveMNISTJSON writes for the tutorial's 70,000 images, leaving room
	// for writers that spell the numbers with more digits or separate them with spaces.
	DefaultMNISTJSONMaxBytes = 1 << 30
	// DefaultMNISTJSONMaxItems bounds the items of one split: 60,000, MNIST's training set (the
	// tutorial's largest split has 50,000).
	DefaultMNISTJSONMaxItems = 60_000
	// DefaultMNISTJSONMaxRatio bounds the bytes of JSON per byte of a gzip-compressed file: 100.
	// The tutorial's file as SaveMNISTJSON writes it has a ratio of 8, and of 12.7 at gzip's best
	// compression; a decompression bomb has hundreds (deflate reaches 1032).
	DefaultMNISTJSONMaxRatio = 100
	// ratioGrace is the JSON a gzip file may give before its ratio is checked.
	ratioGrace = 1 << 20
)

// MNISTJSONOptions are the budgets of LoadMNISTJSON and ReadMNISTJSON, which refuse a file that
// exceeds one as soon as it does, so that a hostile file (a decompression bomb) costs little
// memory and time. The zero value gives the defaults, which admit the tutorial's file with room to
// spare; raise a budget to read a larger file.
type MNISTJSONOptions struct {
	// MaxBytes is the most bytes of JSON the file may hold, once decompressed; 0 (or less) means
	// DefaultMNISTJSONMaxBytes (1 GiB).
	MaxBytes int64
	// MaxItems is the most items (images, and labels) one split may hold; 0 (or less) means
	// DefaultMNISTJSONMaxItems (60,000).
	MaxItems int
	// MaxRatio is the most bytes of JSON a gzip-compressed file may give per compressed byte,
	// checked once 1 MiB of JSON has been read; 0 (or less) means DefaultMNISTJSONMaxRatio (100).
	MaxRatio int
}

// jsonOptions returns the one MNISTJSONOptions of a variadic argument, with defaults filled in.
func jsonOptions(op string, opts []MNISTJSONOptions) MNISTJSONOptions {
	var o MNISTJSONOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		panicf(op, "%d MNISTJSONOptions, want at most one", len(opts))
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMNISTJSONMaxBytes
	}
	if o.MaxItems <= 0 {
		o.MaxItems = DefaultMNISTJSONMaxItems
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMNISTJSONMaxRatio
	}
	// Caps far beyond any real file, so that products and sums of the budgets cannot overflow.
	o.MaxBytes, o.MaxItems, o.MaxRatio = min(o.MaxBytes, maxMaxBytes), min(o.MaxItems, 1<<30), min(o.MaxRatio, 1<<12)
	return o
}

// JSONSplit is one split of the tutorial's mnist.json.gz: item i is {image [784], label [1]},
// the image a flat vector of float32 values as the file holds them and the label a float32 class
// id 0..9, as the tutorial's MnistDataset gives. It is a data.Batcher and safe for concurrent use.
type JSONSplit struct {
	images []float32 // n*784
	labels []byte
}

// Len returns the number of items.
func (s *JSONSplit) Len() int { return len(s.labels) }

// Label returns the class id of item i. It panics if i is out of range.
func (s *JSONSplit) Label(i int) int {
	s.check("Label", i)
	return int(s.labels[i])
}

// Get returns item i: {image [784], label [1]}. It panics if i is out of range.
func (s *JSONSplit) Get(i int) data.Sample {
	s.check("Get", i)
	img := append([]float32(nil), s.images[i*mnistPixels:(i+1)*mnistPixels]...)
	return data.Sample{tensor.New(img, mnistPixels), tensor.New([]float32{float32(s.labels[i])}, 1)}
}

// GetBatch returns the items at indices stacked: {images [N,784], labels [N,1]}. It panics if
// indices is empty or an index is out of range.
func (s *JSONSplit) GetBatch(indices []int) data.Batch {
	if len(indices) == 0 {
		panicf("JSONSplit.GetBatch", "no indices")
	}
	n := len(indices)
	img := make([]float32, n*mnistPixels)
	lab := make([]float32, n)
	for k, i := range indices {
		s.check("GetBatch", i)
		copy(img[k*mnistPixels:(k+1)*mnistPixels], s.images[i*mnistPixels:(i+1)*mnistPixels])
		lab[k] = float32(s.labels[i])
	}
	return data.Batch{tensor.New(img, n, mnistPixels), tensor.New(lab, n, 1)}
}

func (s *JSONSplit) check(op string, i int) {
	if i < 0 || i >= len(s.labels) {
		panicf("JSONSplit."+op, "index %d out of range [0, %d)", i, len(s.labels))
	}
}

// LoadMNISTJSON reads the tutorial's mnist.json.gz (gzip-compressed, or plain JSON) and returns
// its three splits. It rejects any file that is not exactly that format: not three splits of
// [images, labels], an image of other than 784 numbers, a number that is not a finite float32, a
// label that is not an integer 0..9, different numbers of images and labels, or anything after
// the list; and it refuses, as soon as it exceeds one, a file over the budgets of opts (at most
// one; see MNISTJSONOptions): more JSON than MaxBytes, more items in a split than MaxItems, or a
// gzip file that decompresses more than MaxRatio times. The error names the file, the problem and
// where it is, e.g. "mnist: read work/mnist.json.gz: valid: images[17]: 783 numbers, want 784 (at
// byte 1234 of the JSON)". Memory grows with the JSON read, never beyond what the budgets allow.
func LoadMNISTJSON(path string, opts ...MNISTJSONOptions) (train, valid, eval *JSONSplit, err error) {
	o := jsonOptions("LoadMNISTJSON", opts)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	// Neither plain JSON nor gzip (whose stored blocks cost 5 bytes per 65,535, besides a header)
	// can be much larger than the JSON it holds: refuse a larger file before reading it.
	if st, err := f.Stat(); err == nil && st.Size() > o.MaxBytes+o.MaxBytes/1000+1<<16 {
		return nil, nil, nil, fmt.Errorf("mnist: read %s: %d bytes, more than a file within the budget of %d bytes of JSON can have "+
			"(set MNISTJSONOptions.MaxBytes to read a larger file)", path, st.Size(), o.MaxBytes)
	}
	splits, err := ReadMNISTJSON(f, o)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mnist: read %s: %w", path, err)
	}
	return splits[0], splits[1], splits[2], nil
}

// ReadMNISTJSON reads the tutorial's format from r, as LoadMNISTJSON does, within the budgets of
// opts (at most one), and returns the splits train, valid and eval. Its errors do not name a file.
func ReadMNISTJSON(r io.Reader, opts ...MNISTJSONOptions) ([3]*JSONSplit, error) {
	o := jsonOptions("ReadMNISTJSON", opts)
	var out [3]*JSONSplit
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<16)
	head, err := br.Peek(2)
	if len(head) == 0 {
		if err == io.EOF {
			return out, errEmpty
		}
		return out, err
	}
	var src io.Reader = br
	p := &jsonParser{opt: o, buf: make([]byte, 0, 1<<16), cache: make(map[string]float32)}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return out, fmt.Errorf("gzip: %w", unexpected(err))
		}
		defer zr.Close()
		src = zr
		p.compressed = cr
	}
	p.src = src
	if err := p.file(&out); err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return [3]*JSONSplit{}, err
		}
		if p.off == 0 && errors.Is(err, io.EOF) {
			return [3]*JSONSplit{}, errEmpty // a gzip stream of nothing
		}
		return [3]*JSONSplit{}, p.wrapIO(err)
	}
	return out, nil
}

// syntaxError is a problem with the content, at a byte offset of the decompressed JSON.
type syntaxError struct {
	where string
	msg   string
	off   int64
}

func (e *syntaxError) Error() string {
	if e.where == "" {
		return fmt.Sprintf("%s (at byte %d of the JSON)", e.msg, e.off)
	}
	return fmt.Sprintf("%s: %s (at byte %d of the JSON)", e.where, e.msg, e.off)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// budgetError is the error of a file that exceeds a budget of MNISTJSONOptions.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

type jsonParser struct {
	opt        MNISTJSONOptions
	compressed *countingReader // the gzip file's bytes, or nil for plain JSON
	read       int64           // bytes of JSON read from src
	src        io.Reader
	buf        []byte // read from src; buf[pos:] is not consumed yet
	pos        int
	rerr       error // the error that ended src, once buf is drained
	off        int64 // bytes consumed
	where      string
	tok        []byte
	cache      map[string]float32 // parsed numbers, for the few distinct values real files hold
	last       []byte             // the last number found in cache, and its value
	lastV      float32
}

var splitNames = [3]string{"train", "valid", "eval"}

func (p *jsonParser) fail(format string, args ...any) error {
	return &syntaxError{where: p.where, msg: fmt.Sprintf(format, args...), off: p.off}
}

// wrapIO turns a read error (a truncated stream, a gzip problem) into one that says where it
// happened.
func (p *jsonParser) wrapIO(err error) error {
	err = unexpected(err)
	if p.where != "" {
		return fmt.Errorf("%s: at byte %d of the JSON: %w", p.where, p.off, err)
	}
	return fmt.Errorf("at byte %d of the JSON: %w", p.off, err)
}

// fill reads more of src into buf; it returns false, with p.rerr set, at the end of src.
func (p *jsonParser) fill() bool {
	if p.rerr != nil {
		return false
	}
	p.buf = p.buf[:cap(p.buf)]
	n, err := io.ReadAtLeast(p.src, p.buf, 1)
	p.buf, p.pos = p.buf[:n], 0
	if n == 0 {
		p.rerr = err
		return false
	}
	p.read += int64(n)
	if p.read > p.opt.MaxBytes {
		p.buf, p.rerr = p.buf[:0], &budgetError{fmt.Sprintf("more than the budget of %d bytes of JSON "+
			"(the tutorial's file has 243,199,236; set MNISTJSONOptions.MaxBytes to read a larger file)", p.opt.MaxBytes)}
		return false
	}
	if c := p.compressed; c != nil && p.read > ratioGrace && p.read > int64(p.opt.MaxRatio)*c.n {
		p.buf, p.rerr = p.buf[:0], &budgetError{fmt.Sprintf("gzip: %d bytes of JSON from %d compressed bytes, more than the budget of %d per byte: "+
			"a decompression bomb? (the tutorial's file has 8 to 13; set MNISTJSONOptions.MaxRatio to read this file)", p.read, c.n, p.opt.MaxRatio)}
		return false
	}
	return true
}

// next returns the next byte that is not JSON whitespace.
func (p *jsonParser) next() (byte, error) {
	for {
		if p.pos == len(p.buf) && !p.fill() {
			return 0, p.rerr
		}
		c := p.buf[p.pos]
		p.pos++
		p.off++
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func (p *jsonParser) expect(want byte, what string) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != want {
		return p.fail("%s, want %s", describe(c), what)
	}
	return nil
}

func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("found %q", c)
	}
	return fmt.Sprintf("found byte 0x%02x", c)
}

// file parses [train, valid, eval] and the end of the input.
func (p *jsonParser) file(out *[3]*JSONSplit) error {
	if err := p.expect('[', "'[' opening the list of splits"); err != nil {
		return err
	}
	n, err := p.listBody(func(k int, c byte) error {
		if k >= 3 {
			p.where = ""
			return p.fail("more than 3 splits")
		}
		p.where = splitNames[k]
		if c != '[' {
			return p.fail("%s, want '[' opening the split [images, labels]", describe(c))
		}
		s, err := p.split()
		out[k] = s
		return err
	})
	if err != nil {
		return err
	}
	p.where = ""
	if n != 3 {
		return p.fail("%d splits, want 3 (train, valid, eval)", n)
	}
	if c, err := p.next(); err != io.EOF {
		if err != nil {
			return err
		}
		return p.fail("%s after the list of splits: trailing data", describe(c))
	}
	return nil
}

// listBody parses the elements of a list whose '[' was consumed, up to its ']', calling elem with
// each element's index and first byte. It returns the number of elements.
func (p *jsonParser) listBody(elem func(i int, first byte) error) (int, error) {
	c, err := p.next()
	if err != nil {
		return 0, err
	}
	if c == ']' {
		return 0, nil
	}
	for i := 0; ; i++ {
		if err := elem(i, c); err != nil {
			return i, err
		}
		if c, err = p.next(); err != nil {
			return i, err
		}
		if c == ']' {
			return i + 1, nil
		}
		if c != ',' {
			return i, p.fail("%s, want ',' or ']' after element %d", describe(c), i)
		}
		if c, err = p.next(); err != nil {
			return i, err
		}
	}
}

// split parses the rest of [images, labels], its '[' consumed.
func (p *jsonParser) split() (*JSONSplit, error) {
	s := &JSONSplit{}
	n, err := p.listBody(func(k int, c byte) error {
		switch k {
		case 0:
			if c != '[' {
				return p.fail("%s, want '[' opening the list of images", describe(c))
			}
			return p.images(s)
		case 1:
			if c != '[' {
				return p.fail("%s, want '[' opening the list of labels", describe(c))
			}
			return p.labels(s)
		}
		return p.fail("more than 2 elements, want [images, labels]")
	})
	if err != nil {
		return nil, err
	}
	if n != 2 {
		return nil, p.fail("%d elements, want 2: [images, labels]", n)
	}
	if len(s.images) != len(s.labels)*mnistPixels {
		return nil, p.fail("%d images but %d labels", len(s.images)/mnistPixels, len(s.labels))
	}
	return s, nil
}

// images parses the rest of the list of images, its '[' consumed.
func (p *jsonParser) images(s *JSONSplit) error {
	_, err := p.listBody(func(i int, c byte) error {
		if i >= p.opt.MaxItems {
			return p.fail("more than %d images, the budget of one split (set MNISTJSONOptions.MaxItems to read more)", p.opt.MaxItems)
		}
		if c != '[' {
			return p.fail("images[%d]: %s, want '[' opening an image", i, describe(c))
		}
		if cap(s.images)-len(s.images) < mnistPixels {
			// Double (growing by append's 1.25 for large slices costs many copies), but not past
			// the budget.
			s.images = slices.Grow(s.images, min(max(len(s.images), 64*mnistPixels), p.opt.MaxItems*mnistPixels-len(s.images)))
		}
		return p.image(s, i)
	})
	return err
}

// image parses the numbers of images[i], its '[' consumed, appending them to s.images.
func (p *jsonParser) image(s *JSONSplit, i int) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c == ']' {
		return p.fail("images[%d]: 0 numbers, want %d", i, mnistPixels)
	}
	for j := 0; ; j++ {
		if j == mnistPixels {
			return p.fail("images[%d]: more than %d numbers", i, mnistPixels)
		}
		v, err := p.number(c)
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				se.msg = fmt.Sprintf("images[%d][%d]: %s", i, j, se.msg)
			}
			return err
		}
		s.images = append(s.images, v)
		if c, err = p.next(); err != nil {
			return err
		}
		if c == ']' {
			if j+1 != mnistPixels {
				return p.fail("images[%d]: %d numbers, want %d", i, j+1, mnistPixels)
			}
			return nil
		}
		if c != ',' {
			return p.fail("images[%d]: %s, want ',' or ']' after number %d", i, describe(c), j)
		}
		if c, err = p.next(); err != nil {
			return err
		}
	}
}

// labels parses the rest of the list of labels, its '[' consumed.
func (p *jsonParser) labels(s *JSONSplit) error {
	_, err := p.listBody(func(i int, c byte) error {
		if i >= p.opt.MaxItems {
			return p.fail("more than %d labels, the budget of one split (set MNISTJSONOptions.MaxItems to read more)", p.opt.MaxItems)
		}
		v, err := p.number(c)
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				se.msg = fmt.Sprintf("labels[%d]: %s", i, se.msg)
			}
			return err
		}
		if v != float32(math.Trunc(float64(v))) || v < 0 || v > 9 {
			return p.fail("labels[%d]: %v, want an integer 0..9", i, v)
		}
		s.labels = append(s.labels, byte(v))
		return nil
	})
	return err
}

// number parses one JSON number whose first byte, already consumed, is first.
func (p *jsonParser) number(first byte) (float32, error) {
	if first != '-' && (first < '0' || first > '9') {
		return 0, p.fail("%s, want a number", describe(first))
	}
	// The token, in buf when it is all there, else copied to tok.
	start := p.pos - 1
	end := p.pos
	for end < len(p.buf) && end-start <= 64 && numberByte[p.buf[end]] {
		end++
	}
	if end < len(p.buf) && end-start <= 64 { // the common case: the whole token is in buf
		p.off += int64(end - p.pos)
		p.pos = end
		return p.parse(p.buf[start:end])
	}
	tok := p.buf[start:p.pos]
	copied := false
	for {
		if p.pos == len(p.buf) {
			if !copied {
				p.tok = append(p.tok[:0], tok...)
				copied = true
			}
			if !p.fill() {
				if p.rerr != io.EOF {
					return 0, p.rerr
				}
				break
			}
			start = 0
		}
		c := p.buf[p.pos]
		if !numberByte[c] {
			break
		}
		if (copied && len(p.tok) >= 64) || (!copied && len(tok) >= 64) {
			return 0, p.fail("a number longer than 64 bytes")
		}
		p.pos++
		p.off++
		if copied {
			p.tok = append(p.tok, c)
		} else {
			tok = p.buf[start:p.pos]
		}
	}
	if copied {
		tok = p.tok
	}
	return p.parse(tok)
}

// numberByte marks the bytes that may appear in a JSON number.
var numberByte = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true,
	'7': true, '8': true, '9': true, '-': true, '+': true, '.': true, 'e': true, 'E': true}

// parse returns the value of the number token tok.
func (p *jsonParser) parse(tok []byte) (float32, error) {
	if len(tok) > 64 {
		return 0, p.fail("a number longer than 64 bytes")
	}
	if string(tok) == string(p.last) {
		return p.lastV, nil
	}
	if v, ok := p.cache[string(tok)]; ok {
		p.last, p.lastV = append(p.last[:0], tok...), v
		return v, nil
	}
	if !validNumber(tok) {
		return 0, p.fail("%q is not a JSON number", tok)
	}
	f, err := strconv.ParseFloat(string(tok), 32)
	if err != nil || math.IsInf(f, 0) {
		return 0, p.fail("%s is out of float32 range", tok)
	}
	if len(p.cache) < 4096 {
		p.cache[string(tok)] = float32(f)
	}
	return float32(f), nil
}

// validNumber reports whether b is a number of JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// WriteMNISTJSON writes train, valid and eval in the tutorial's mnist.json.gz format to w,
// gzip-compressed, streaming (it holds no more than a buffer in memory). The pixels are written as
// (p - 127.5) / 127.5, values in [-1, 1] (exactly the float32 values MNIST gives with
// transforms.Normalize([]float32{127.5}, []float32{127.5})), with the fewest digits that read
// back as the same float32. For the tutorial's splits of the real data:
//
//	WriteMNISTJSON(w, train.Slice(0, 50000), train.Slice(50000, 60000), test)
func WriteMNISTJSON(w io.Writer, train, valid, eval *MNIST) error {
	var text [256][]byte
	for b := range text {
		v := (float32(b) - 127.5) / 127.5
		text[b] = strconv.AppendFloat(nil, float64(v), 'g', -1, 32)
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(zw, 1<<16)
	bw.WriteByte('[')
	for k, m := range []*MNIST{train, valid, eval} {
		if k > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("[[")
		for i := range m.Len() {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('[')
			for j, b := range m.Image(i) {
				if j > 0 {
					bw.WriteByte(',')
				}
				bw.Write(text[b])
			}
			bw.WriteByte(']')
		}
		bw.WriteString("],[")
		for i := range m.Len() {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('0' + byte(m.Label(i)))
		}
		bw.WriteString("]]")
	}
	bw.WriteByte(']')
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// SaveMNISTJSON writes the splits to the file path as WriteMNISTJSON does, atomically: to a
// temporary file in the same directory, synced, then renamed to path.
func SaveMNISTJSON(path string, train, valid, eval *MNIST) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return WriteMNISTJSON(w, train, valid, eval) })
	if err != nil {
		return fmt.Errorf("mnist: write %s: %w", path, err)
	}
	return nil
}
