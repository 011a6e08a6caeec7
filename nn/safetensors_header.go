package nn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxTensors bounds the tensors of one safetensors file (large language models have a few
// thousand per file), so that a header of millions of tiny entries is refused after a few MB
// rather than parsed in full.
const maxTensors = 1 << 16

// maxElements bounds the elements of one tensor: its dimensions, zeros left out, must multiply to
// no more than this, so that a shape such as [0, 2^63-1, 2^63-1] is refused.
const maxElements = math.MaxInt32

// headerEntry is one tensor of a header, as parsed.
type headerEntry struct {
	name string
	info tensorInfo
}

// headerParser reads a safetensors JSON header as it arrives, in memory proportional to what it
// has read. It accepts exactly JSON (RFC 8259, with strings of valid UTF-8) and refuses repeated
// keys.
type headerParser struct {
	r   *bufio.Reader // the header's n bytes
	n   int64
	off int64  // bytes consumed
	buf []byte // scratch for strings
}

// headerError is a problem with the header, at a byte offset of it.
type headerError struct {
	msg string
	off int64
}

func (e *headerError) Error() string {
	return fmt.Sprintf("%s (at byte %d of the header)", e.msg, e.off)
}

func (p *headerParser) fail(format string, args ...any) error {
	return &headerError{msg: fmt.Sprintf(format, args...), off: p.off}
}

// byte returns the next byte of the header.
func (p *headerParser) byte() (byte, error) {
	c, err := p.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("unexpected EOF after %d bytes", p.off)
		}
		return 0, err
	}
	p.off++
	return c, nil
}

// next returns the next byte that is not JSON whitespace.
func (p *headerParser) next() (byte, error) {
	for {
		c, err := p.byte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *headerParser) expect(want byte, what string) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != want {
		return p.fail("found %s, want %s", describeByte(c), what)
	}
	return nil
}

// object parses the members of an object whose '{' was consumed, calling member with each key
// and its offset; member parses the value. It refuses a key that repeated reports as repeated;
// what names the object and keyWhat its keys in errors (keyWhat is called only on an error).
func (p *headerParser) object(what, keyWhat func() string, repeated func(key string) bool, member func(key string, at int64) error) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c == '}' {
		return nil
	}
	for {
		at := p.off
		if c != '"' {
			return p.fail("%s: found %s, want '\"' opening a key", what(), describeByte(c))
		}
		key, err := p.str(keyWhat)
		if err != nil {
			return err
		}
		if repeated(key) {
			p.off = at
			return p.fail("%s %q repeated", keyWhat(), key)
		}
		if c, err = p.next(); err != nil {
			return err
		} else if c != ':' {
			return p.fail("found %s, want ':' after %s %q", describeByte(c), keyWhat(), key)
		}
		if err := member(key, at); err != nil {
			return err
		}
		if c, err = p.next(); err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return p.fail("%s: found %s, want ',' or '}' after the value of %q", what(), describeByte(c), key)
		}
		if c, err = p.next(); err != nil {
			return err
		}
	}
}

// seenIn returns a function that reports whether a key was seen before, remembering it in m.
func seenIn(m map[string]struct{}) func(string) bool {
	return func(key string) bool {
		if _, ok := m[key]; ok {
			return true
		}
		m[key] = struct{}{}
		return false
	}
}

// str parses the rest of a string whose '"' was consumed. It refuses control characters, bad
// escapes and text that is not valid UTF-8, raw or escaped (a lone surrogate); whatf names the
// string in errors (it is called only on an error).
func (p *headerParser) str(whatf func() string) (string, error) {
	start := p.off // of the opening '"', counting from 1
	b := p.buf[:0]
	defer func() { p.buf = b[:0] }()
	for {
		c, err := p.byte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				p.off = start
				return "", p.fail("%s is not valid UTF-8: %q", whatf(), b)
			}
			return string(b), nil
		case c < 0x20:
			return "", p.fail("%s: control character 0x%02x in a string", whatf(), c)
		case c != '\\':
			b = append(b, c)
			continue
		}
		if c, err = p.byte(); err != nil {
			return "", err
		}
		switch c {
		case '"', '\\', '/':
			b = append(b, c)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := p.hex4(whatf)
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				// A surrogate must be a high one followed by an escaped low one.
				r2 := rune(-1)
				if r < 0xdc00 {
					if c1, err := p.byte(); err != nil {
						return "", err
					} else if c2, err := p.byte(); err != nil {
						return "", err
					} else if c1 == '\\' && c2 == 'u' {
						if r2, err = p.hex4(whatf); err != nil {
							return "", err
						}
					}
				}
				lone := r
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", p.fail("%s is not valid UTF-8: a lone surrogate \\u%04x", whatf(), lone)
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.fail("%s: bad escape \\%c", whatf(), c)
		}
	}
}

// hex4 parses the 4 hex digits of a \u escape.
func (p *headerParser) hex4(whatf func() string) (rune, error) {
	var r rune
	for range 4 {
		c, err := p.byte()
		if err != nil {
			return 0, err
		}
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.fail("%s: bad \\u escape: found %s, want a hex digit", whatf(), describeByte(c))
		}
		r = r<<4 | rune(d)
	}
	return r, nil
}

// int parses a JSON integer whose first byte, c, was consumed, and returns it with the byte after
// it.
func (p *headerParser) int(c byte, whatf func() string) (int64, byte, error) {
	var buf [24]byte
	tok := buf[:0]
	for c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9') {
		if len(tok) == 24 {
			return 0, 0, p.fail("%s: a number longer than 24 bytes", whatf())
		}
		tok = append(tok, c)
		var err error
		if c, err = p.byte(); err != nil {
			return 0, 0, err
		}
	}
	digits := tok
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, 0, p.fail("%s: %q is not an integer", whatf(), string(tok))
		}
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, 0, p.fail("%s: %q is not a JSON integer", whatf(), string(tok))
	}
	v, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		return 0, 0, p.fail("%s: %s overflows a 64-bit integer", whatf(), string(tok))
	}
	return v, c, nil
}

// ints parses a list of integers, its '[' not yet consumed.
func (p *headerParser) ints(whatf func() string) ([]int64, error) {
	if c, err := p.next(); err != nil {
		return nil, err
	} else if c != '[' {
		return nil, p.fail("%s: found %s, want '['", whatf(), describeByte(c))
	}
	var out []int64
	c, err := p.next()
	if err != nil {
		return nil, err
	}
	if c == ']' {
		return []int64{}, nil
	}
	for {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if c, err = p.next(); err != nil {
				return nil, err
			}
		}
		v, after, err := p.int(c, whatf)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		c = after
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if c, err = p.next(); err != nil {
				return nil, err
			}
		}
		switch c {
		case ']':
			return out, nil
		case ',':
			if c, err = p.next(); err != nil {
				return nil, err
			}
		default:
			return nil, p.fail("%s: found %s, want ',' or ']'", whatf(), describeByte(c))
		}
	}
}

// header parses the whole header: the tensors, in the order they appear, and the metadata.
func (p *headerParser) header() ([]headerEntry, map[string]string, error) {
	if err := p.expect('{', "'{': the header is not a JSON object"); err != nil {
		return nil, nil, err
	}
	var entries []headerEntry
	var meta map[string]string
	names := make(map[string]struct{})
	err := p.object(func() string { return "header" }, func() string { return "tensor name" }, seenIn(names), func(name string, at int64) error {
		if name == "__metadata__" {
			var err error
			meta, err = p.metadata()
			return err
		}
		if len(entries) == maxTensors {
			p.off = at
			return p.fail("more than %d tensors", maxTensors)
		}
		info, err := p.tensor(name)
		if err != nil {
			return err
		}
		entries = append(entries, headerEntry{name, info})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Only whitespace (the writers' padding) may follow.
	for p.off < p.n {
		c, err := p.byte()
		if err != nil {
			return nil, nil, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			p.off--
			return nil, nil, p.fail("found %s after the header's object", describeByte(c))
		}
	}
	return entries, meta, nil
}

// metadata parses the value of __metadata__: null, or an object of strings.
func (p *headerParser) metadata() (map[string]string, error) {
	c, err := p.next()
	if err != nil {
		return nil, err
	}
	if c == 'n' {
		for _, want := range []byte("ull") {
			if c, err := p.byte(); err != nil {
				return nil, err
			} else if c != want {
				return nil, p.fail("__metadata__: found %s, want null or an object of strings", describeByte(c))
			}
		}
		return nil, nil
	}
	if c != '{' {
		return nil, p.fail("__metadata__: found %s, want an object of strings", describeByte(c))
	}
	meta := make(map[string]string)
	err = p.object(func() string { return "__metadata__" }, func() string { return "__metadata__ key" }, seenIn(make(map[string]struct{})), func(key string, _ int64) error {
		if c, err := p.next(); err != nil {
			return err
		} else if c != '"' {
			return p.fail("__metadata__[%q]: found %s, want a string", key, describeByte(c))
		}
		v, err := p.str(func() string { return fmt.Sprintf("__metadata__[%q]", key) })
		meta[key] = v
		return err
	})
	return meta, err
}

// tensor parses the entry of the tensor name: {"dtype", "shape", "data_offsets"}. It allocates
// only what it returns.
func (p *headerParser) tensor(name string) (tensorInfo, error) {
	var info tensorInfo
	var field string
	what := func() string { return "tensor " + strconv.Quote(name) }
	fieldf := func() string { return what() + ": " + field }
	if c, err := p.next(); err != nil {
		return info, err
	} else if c != '{' {
		return info, p.fail("%s: found %s, want '{' opening its entry", what(), describeByte(c))
	}
	var have [3]bool
	repeated := func(key string) bool {
		for i, f := range [...]string{"dtype", "shape", "data_offsets"} {
			if key == f {
				r := have[i]
				have[i] = true
				return r
			}
		}
		return false
	}
	err := p.object(what, func() string { return what() + ": field" }, repeated, func(key string, at int64) error {
		field = key
		switch key {
		case "dtype":
			if c, err := p.next(); err != nil {
				return err
			} else if c != '"' {
				return p.fail("%s: found %s, want a string", fieldf(), describeByte(c))
			}
			s, err := p.str(fieldf)
			info.DType = s
			return err
		case "shape":
			dims, err := p.ints(fieldf)
			if err != nil {
				return err
			}
			info.Shape = make([]int, len(dims))
			elems := int64(1) // the dimensions that are not 0 multiply to at most maxElements
			for i, d := range dims {
				if d < 0 {
					p.off = at
					return p.fail("%s: bad shape %v: a negative dimension", what(), dims)
				}
				if d > 0 && elems > maxElements/d {
					p.off = at
					return p.fail("%s: bad shape %v: its dimensions other than 0 multiply to more than %d", what(), dims, maxElements)
				}
				if d > 0 {
					elems *= d
				}
				info.Shape[i] = int(d)
			}
			return nil
		case "data_offsets":
			offs, err := p.ints(fieldf)
			if err != nil {
				return err
			}
			if len(offs) != 2 {
				p.off = at
				return p.fail("%s: data_offsets %v, want [begin, end]", what(), offs)
			}
			info.DataOffsets = [2]int64{offs[0], offs[1]}
			return nil
		}
		p.off = at
		return p.fail("%s: unknown field %q", what(), key)
	})
	if err != nil {
		return info, err
	}
	for i, f := range []string{"dtype", "shape", "data_offsets"} {
		if !have[i] {
			return info, p.fail("%s: no %s", what(), f)
		}
	}
	return info, nil
}
