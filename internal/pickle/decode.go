package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of Decode, besides the allocation budget.
const (
	maxStack   = 1 << 22 // values on the stack
	maxMarks   = 1 << 16 // nested MARKs
	maxMemo    = 1 << 22 // memo entries
	maxIntText = 64      // digits of a text INT/LONG
)

// Opcodes, named as in Python's pickletools.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	// protocol 2
	opProto    = 0x80
	opNewObj   = 0x81
	opExt1     = 0x82
	opExt2     = 0x83
	opExt4     = 0x84
	opTuple1   = 0x85
	opTuple2   = 0x86
	opTuple3   = 0x87
	opNewTrue  = 0x88
	opNewFalse = 0x89
	opLong1    = 0x8a
	opLong4    = 0x8b
	// protocol 3
	opBinBytes      = 'B'
	opShortBinBytes = 'C'
	// protocol 4
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opBinBytes8       = 0x8e
	opEmptySet        = 0x8f
	opAddItems        = 0x90
	opFrozenSet       = 0x91
	opNewObjEx        = 0x92
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
	// protocol 5
	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadOnlyBuffer = 0x98
)

// global kinds: what a whitelisted global does when called (REDUCE).
type globalKind int

const (
	gReconstruct globalKind = iota + 1 // numpy.core.multiarray._reconstruct
	gScalar                            // numpy.core.multiarray.scalar
	gFromBuffer                        // numpy.core.numeric._frombuffer
	gNDArray                           // numpy.ndarray: only an argument of _reconstruct
	gDType                             // numpy.dtype
	gOrderedDict                       // collections.OrderedDict
	gDict
	gList
	gTuple
	gSet
	gFrozenSet
	gBytes
	gByteArray
	gEncode // _codecs.encode
)

var whitelist = map[string]globalKind{
	"numpy.core.multiarray._reconstruct":  gReconstruct,
	"numpy._core.multiarray._reconstruct": gReconstruct,
	"numpy.core.multiarray.scalar":        gScalar,
	"numpy._core.multiarray.scalar":       gScalar,
	"numpy.core.numeric._frombuffer":      gFromBuffer,
	"numpy._core.numeric._frombuffer":     gFromBuffer,
	"numpy.ndarray":                       gNDArray,
	"numpy.dtype":                         gDType,
	"collections.OrderedDict":             gOrderedDict,
	"_codecs.encode":                      gEncode,
}

func init() {
	for _, m := range []string{"builtins", "__builtin__"} {
		whitelist[m+".dict"] = gDict
		whitelist[m+".list"] = gList
		whitelist[m+".tuple"] = gTuple
		whitelist[m+".set"] = gSet
		whitelist[m+".frozenset"] = gFrozenSet
		whitelist[m+".bytes"] = gBytes
		whitelist[m+".bytearray"] = gByteArray
	}
}

// global is a whitelisted class or function the pickle named.
type global struct {
	Module, Name string
	kind         globalKind
}

func (g *global) String() string { return g.Module + "." + g.Name }

// dtype is a numpy.dtype under construction or built: kind and size ("f4") and byte order.
type dtype struct {
	code  string // "f4"
	order byte   // '<', '>', '|', '='
	built bool
}

// str returns numpy's dtype.str: the byte order ('|' for one-byte types, '<' for native) and code.
func (t *dtype) str() string {
	o := t.order
	if t.code[1] == '1' {
		o = '|'
	} else if o == '=' || o == '|' {
		o = '<'
	}
	return string(o) + t.code
}

// SyntaxError is a malformed or unsupported pickle: Offset is the position of the opcode at fault.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("pickle: at byte %d: %s", e.Offset, e.Msg) }

// ErrBudget is wrapped by the error of a pickle that would need more memory than Decode allows.
var ErrBudget = errors.New("allocation budget exceeded")

// Budget returns the bytes Decode may allocate for values it builds beyond those it reads
// (strings copied from the input, bytes decoded from text, container slots): 16·n + 1 MiB for an
// input of n bytes. With the fixed per-opcode overheads of the decoder itself, Decode allocates
// O(n) in all.
func Budget(n int) int { return 16*n + 1<<20 }

type decoder struct {
	data   []byte
	pos    int
	op     int // the current opcode's offset
	stack  []any
	marks  []int
	memo   []any
	sparse map[uint32]any // memo entries at indices beyond len(memo)
	budget int
	proto  int
}

// Decode reads one pickle from data (which must hold exactly one pickle, possibly followed by
// bytes it ignores, as pickle.loads does) and returns its value (see the package doc for the
// value model). Arrays' Data may alias data. Values may share parts, and a hostile pickle can
// make a container hold itself: walk decoded values with care. It never panics and never
// allocates more than about Budget(len(data)) plus a constant times len(data).
func Decode(data []byte) (v any, err error) {
	d := &decoder{data: data, budget: Budget(len(data))}
	return d.run()
}

func (d *decoder) errf(format string, args ...any) error {
	return &SyntaxError{Offset: d.op, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) charge(n int) error {
	if n < 0 || n > d.budget {
		return d.errf("%v", ErrBudget)
	}
	d.budget -= n
	return nil
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || n > len(d.data)-d.pos {
		return nil, d.errf("truncated: %d bytes needed, %d left", n, len(d.data)-d.pos)
	}
	b := d.data[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) line() (string, error) {
	i := slices.Index(d.data[d.pos:], '\n')
	if i < 0 {
		return "", d.errf("truncated: no end of line")
	}
	s := string(d.data[d.pos : d.pos+i])
	d.pos += i + 1
	return s, d.charge(len(s))
}

func (d *decoder) push(v any) error {
	if len(d.stack) >= maxStack {
		return d.errf("stack deeper than %d", maxStack)
	}
	if len(d.stack) == cap(d.stack) {
		if err := d.charge(16 * (cap(d.stack) + 8)); err != nil {
			return err
		}
	}
	d.stack = append(d.stack, v)
	return nil
}

func (d *decoder) pop() (any, error) {
	if len(d.stack) == 0 || (len(d.marks) > 0 && len(d.stack) <= d.marks[len(d.marks)-1]) {
		return nil, d.errf("stack underflow")
	}
	v := d.stack[len(d.stack)-1]
	d.stack[len(d.stack)-1] = nil
	d.stack = d.stack[:len(d.stack)-1]
	return v, nil
}

func (d *decoder) top() (any, error) {
	if len(d.stack) == 0 || (len(d.marks) > 0 && len(d.stack) <= d.marks[len(d.marks)-1]) {
		return nil, d.errf("stack underflow")
	}
	return d.stack[len(d.stack)-1], nil
}

// popMark returns the values above the last mark (sharing the stack's memory until the next
// push) and removes them and the mark.
func (d *decoder) popMark() ([]any, error) {
	if len(d.marks) == 0 {
		return nil, d.errf("no MARK on the stack")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	items := d.stack[m:]
	d.stack = d.stack[:m]
	return items, nil
}

func (d *decoder) tuple(items []any) (Tuple, error) {
	if err := d.charge(16*len(items) + 24); err != nil {
		return nil, err
	}
	return Tuple(slices.Clone(items)), nil
}

func (d *decoder) memoPut(idx uint64, v any) error {
	switch {
	case idx < uint64(len(d.memo)):
		d.memo[idx] = v
		return nil
	case len(d.memo)+len(d.sparse) >= maxMemo:
		return d.errf("memo larger than %d entries", maxMemo)
	case idx == uint64(len(d.memo)):
		if len(d.memo) == cap(d.memo) {
			if err := d.charge(16 * (cap(d.memo) + 8)); err != nil {
				return err
			}
		}
		d.memo = append(d.memo, v)
		if d.sparse != nil { // pull in entries that have become contiguous
			for {
				w, ok := d.sparse[uint32(len(d.memo))]
				if !ok {
					break
				}
				delete(d.sparse, uint32(len(d.memo)))
				d.memo = append(d.memo, w)
			}
		}
		return nil
	case idx > math.MaxUint32:
		return d.errf("memo index %d too large", idx)
	}
	if err := d.charge(64); err != nil {
		return err
	}
	if d.sparse == nil {
		d.sparse = map[uint32]any{}
	}
	d.sparse[uint32(idx)] = v
	return nil
}

func (d *decoder) memoGet(idx uint64) error {
	if idx < uint64(len(d.memo)) {
		return d.push(d.memo[idx])
	}
	if idx <= math.MaxUint32 {
		if v, ok := d.sparse[uint32(idx)]; ok {
			return d.push(v)
		}
	}
	return d.errf("memo index %d not defined", idx)
}

// latin1 decodes bytes as Latin-1 into a string (as pickle.loads(..., encoding='latin1')).
func (d *decoder) latin1(b []byte) (string, error) {
	if err := d.charge(2 * len(b)); err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String(), nil
}

// encodeLatin1 is str.encode('latin1').
func (d *decoder) encodeLatin1(s string) ([]byte, error) {
	if err := d.charge(len(s)); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, d.errf("str holds %U, which Latin-1 cannot encode", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

func (d *decoder) utf8(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", d.errf("invalid UTF-8 in a str")
	}
	if err := d.charge(len(b)); err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *decoder) run() (any, error) {
	for {
		if d.pos >= len(d.data) {
			return nil, &SyntaxError{Offset: d.pos, Msg: "truncated: no STOP opcode"}
		}
		d.op = d.pos
		op := d.data[d.pos]
		d.pos++
		if op == opStop {
			if len(d.marks) > 0 {
				return nil, d.errf("STOP with an open MARK")
			}
			if len(d.stack) != 1 {
				return nil, d.errf("STOP with %d values on the stack, want 1", len(d.stack))
			}
			return d.stack[0], nil
		}
		if err := d.step(op); err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return nil, err
			}
			return nil, d.errf("%v", err)
		}
	}
}

func (d *decoder) uint(n int) (uint64, error) {
	b, err := d.need(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (d *decoder) step(op byte) error {
	switch op {
	case opProto:
		v, err := d.uint(1)
		if err != nil {
			return err
		}
		if v > 5 {
			return d.errf("unsupported protocol %d", v)
		}
		d.proto = int(v)
		return nil
	case opFrame:
		_, err := d.uint(8) // a hint for buffering: the opcodes follow as usual
		return err
	case opMark:
		if len(d.marks) >= maxMarks {
			return d.errf("more than %d nested MARKs", maxMarks)
		}
		if err := d.charge(8); err != nil {
			return err
		}
		d.marks = append(d.marks, len(d.stack))
		return nil
	case opPop:
		if len(d.marks) > 0 && len(d.stack) == d.marks[len(d.marks)-1] {
			// POP of a MARK (Python allows it).
			d.marks = d.marks[:len(d.marks)-1]
			return nil
		}
		_, err := d.pop()
		return err
	case opPopMark:
		_, err := d.popMark()
		return err
	case opDup:
		v, err := d.top()
		if err != nil {
			return err
		}
		return d.push(v)
	case opNone:
		return d.push(nil)
	case opNewTrue:
		return d.push(true)
	case opNewFalse:
		return d.push(false)
	case opBinInt:
		v, err := d.uint(4)
		if err != nil {
			return err
		}
		return d.push(int64(int32(uint32(v))))
	case opBinInt1:
		v, err := d.uint(1)
		if err != nil {
			return err
		}
		return d.push(int64(v))
	case opBinInt2:
		v, err := d.uint(2)
		if err != nil {
			return err
		}
		return d.push(int64(v))
	case opLong1, opLong4:
		size := 1
		if op == opLong4 {
			size = 4
		}
		n, err := d.uint(size)
		if err != nil {
			return err
		}
		if op == opLong4 && int32(uint32(n)) < 0 {
			return d.errf("LONG4 with negative length")
		}
		if n > 8 {
			return d.errf("integer of %d bytes: only integers that fit in 64 bits are supported", n)
		}
		b, err := d.need(int(n))
		if err != nil {
			return err
		}
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if n > 0 && n < 8 && b[n-1]&0x80 != 0 { // sign-extend
			v |= ^uint64(0) << (8 * n)
		}
		return d.push(int64(v))
	case opInt, opLong:
		s, err := d.line()
		if err != nil {
			return err
		}
		if op == opInt && (s == "00" || s == "01") {
			return d.push(s == "01")
		}
		s = strings.TrimSuffix(s, "L")
		if len(s) > maxIntText {
			return d.errf("integer literal too long")
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return d.errf("bad integer %q (only 64-bit integers are supported)", s)
		}
		return d.push(v)
	case opFloat:
		s, err := d.line()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return d.errf("bad float %q", s)
		}
		return d.push(v)
	case opBinFloat:
		b, err := d.need(8)
		if err != nil {
			return err
		}
		return d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUnicode, opBinUnicode, opBinUnicode8:
		n, err := d.uint(map[byte]int{opShortBinUnicode: 1, opBinUnicode: 4, opBinUnicode8: 8}[op])
		if err != nil {
			return err
		}
		if n > uint64(len(d.data)) {
			return d.errf("truncated: str of %d bytes", n)
		}
		b, err := d.need(int(n))
		if err != nil {
			return err
		}
		s, err := d.utf8(b)
		if err != nil {
			return err
		}
		return d.push(s)
	case opUnicode:
		s, err := d.line()
		if err != nil {
			return err
		}
		u, err := d.rawUnicodeEscape(s)
		if err != nil {
			return err
		}
		return d.push(u)
	case opShortBinString, opBinString:
		size := 1
		if op == opBinString {
			size = 4
		}
		n, err := d.uint(size)
		if err != nil {
			return err
		}
		if op == opBinString && int32(uint32(n)) < 0 {
			return d.errf("BINSTRING with negative length")
		}
		b, err := d.need(int(n))
		if err != nil {
			return err
		}
		s, err := d.latin1(b)
		if err != nil {
			return err
		}
		return d.push(s)
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		size := map[byte]int{opShortBinBytes: 1, opBinBytes: 4, opBinBytes8: 8, opByteArray8: 8}[op]
		n, err := d.uint(size)
		if err != nil {
			return err
		}
		if n > uint64(len(d.data)) {
			return d.errf("truncated: bytes of %d bytes", n)
		}
		b, err := d.need(int(n))
		if err != nil {
			return err
		}
		return d.push(b)
	case opEmptyTuple:
		return d.push(Tuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(d.stack) < n || (len(d.marks) > 0 && len(d.stack)-n < d.marks[len(d.marks)-1]) {
			return d.errf("stack underflow")
		}
		t, err := d.tuple(d.stack[len(d.stack)-n:])
		if err != nil {
			return err
		}
		d.stack = d.stack[:len(d.stack)-n]
		return d.push(t)
	case opTuple:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		t, err := d.tuple(items)
		if err != nil {
			return err
		}
		return d.push(t)
	case opEmptyList:
		if err := d.charge(32); err != nil {
			return err
		}
		return d.push(&List{})
	case opList:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		t, err := d.tuple(items)
		if err != nil {
			return err
		}
		return d.push(&List{Items: t})
	case opEmptyDict:
		if err := d.charge(64); err != nil {
			return err
		}
		return d.push(&Dict{})
	case opDict:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		dict := &Dict{}
		if err := d.setItems(dict, items); err != nil {
			return err
		}
		return d.push(dict)
	case opEmptySet:
		if err := d.charge(32); err != nil {
			return err
		}
		return d.push(&Set{})
	case opFrozenSet:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		t, err := d.tuple(items)
		if err != nil {
			return err
		}
		return d.push(&Set{Items: t, Frozen: true})
	case opAppend, opAppends, opAddItems:
		var items []any
		if op == opAppend {
			v, err := d.pop()
			if err != nil {
				return err
			}
			items = []any{v}
		} else {
			var err error
			if items, err = d.popMark(); err != nil {
				return err
			}
		}
		target, err := d.top()
		if err != nil {
			return err
		}
		if err := d.charge(16 * len(items)); err != nil {
			return err
		}
		switch t := target.(type) {
		case *List:
			if op == opAddItems {
				return d.errf("ADDITEMS to a list")
			}
			t.Items = append(t.Items, items...)
		case *Set:
			if op != opAddItems || t.Frozen {
				return d.errf("%s to a %s", opName(op), TypeName(t))
			}
			t.Items = append(t.Items, items...)
		default:
			return d.errf("%s to a %s", opName(op), TypeName(target))
		}
		return nil
	case opSetItem, opSetItems:
		var items []any
		if op == opSetItem {
			v, err := d.pop()
			if err != nil {
				return err
			}
			k, err := d.pop()
			if err != nil {
				return err
			}
			items = []any{k, v}
		} else {
			var err error
			if items, err = d.popMark(); err != nil {
				return err
			}
		}
		target, err := d.top()
		if err != nil {
			return err
		}
		dict, ok := target.(*Dict)
		if !ok {
			return d.errf("%s on a %s", opName(op), TypeName(target))
		}
		return d.setItems(dict, items)
	case opPut:
		s, err := d.line()
		if err != nil {
			return err
		}
		idx, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return d.errf("bad memo index %q", s)
		}
		v, err := d.top()
		if err != nil {
			return err
		}
		return d.memoPut(idx, v)
	case opBinPut, opLongBinPut:
		size := 1
		if op == opLongBinPut {
			size = 4
		}
		idx, err := d.uint(size)
		if err != nil {
			return err
		}
		v, err := d.top()
		if err != nil {
			return err
		}
		return d.memoPut(idx, v)
	case opMemoize:
		v, err := d.top()
		if err != nil {
			return err
		}
		return d.memoPut(uint64(len(d.memo)+len(d.sparse)), v)
	case opGet:
		s, err := d.line()
		if err != nil {
			return err
		}
		idx, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return d.errf("bad memo index %q", s)
		}
		return d.memoGet(idx)
	case opBinGet, opLongBinGet:
		size := 1
		if op == opLongBinGet {
			size = 4
		}
		idx, err := d.uint(size)
		if err != nil {
			return err
		}
		return d.memoGet(idx)
	case opGlobal:
		mod, err := d.line()
		if err != nil {
			return err
		}
		name, err := d.line()
		if err != nil {
			return err
		}
		return d.global(mod, name)
	case opStackGlobal:
		name, err := d.pop()
		if err != nil {
			return err
		}
		mod, err := d.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return d.errf("STACK_GLOBAL with a %s and a %s, want two str", TypeName(mod), TypeName(name))
		}
		return d.global(ms, ns)
	case opReduce:
		args, err := d.pop()
		if err != nil {
			return err
		}
		fn, err := d.pop()
		if err != nil {
			return err
		}
		t, ok := args.(Tuple)
		if !ok {
			return d.errf("REDUCE with arguments of type %s, want tuple", TypeName(args))
		}
		g, ok := fn.(*global)
		if !ok {
			return d.errf("REDUCE calls a %s, not a whitelisted global", TypeName(fn))
		}
		v, err := d.call(g, t)
		if err != nil {
			return err
		}
		return d.push(v)
	case opBuild:
		state, err := d.pop()
		if err != nil {
			return err
		}
		obj, err := d.top()
		if err != nil {
			return err
		}
		return d.build(obj, state)
	case opNextBuffer:
		return d.errf("out-of-band buffers (NEXT_BUFFER) are not supported")
	case opReadOnlyBuffer:
		_, err := d.top()
		return err
	case opPersID, opBinPersID:
		return d.errf("persistent ids (%s) are not supported", opName(op))
	case opExt1, opExt2, opExt4:
		return d.errf("extension registry codes (%s) are not supported", opName(op))
	case opInst, opObj, opNewObj, opNewObjEx:
		return d.errf("object construction (%s) is not supported", opName(op))
	case opString:
		return d.errf("protocol 0 STRING is not supported")
	}
	return d.errf("unknown opcode 0x%02x", op)
}

func opName(op byte) string {
	names := map[byte]string{
		opAppend: "APPEND", opAppends: "APPENDS", opAddItems: "ADDITEMS", opSetItem: "SETITEM",
		opSetItems: "SETITEMS", opPersID: "PERSID", opBinPersID: "BINPERSID", opExt1: "EXT1",
		opExt2: "EXT2", opExt4: "EXT4", opInst: "INST", opObj: "OBJ", opNewObj: "NEWOBJ",
		opNewObjEx: "NEWOBJ_EX",
	}
	if n, ok := names[op]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", op)
}

func (d *decoder) setItems(dict *Dict, items []any) error {
	if len(items)%2 != 0 {
		return d.errf("odd number of items (%d) for a dict", len(items))
	}
	if err := d.charge(48 * len(items)); err != nil {
		return err
	}
	for i := 0; i < len(items); i += 2 {
		if err := dict.Set(items[i], items[i+1]); err != nil {
			return d.errf("%v", err)
		}
	}
	return nil
}

// rawUnicodeEscape decodes protocol 0's UNICODE argument.
func (d *decoder) rawUnicodeEscape(s string) (string, error) {
	if err := d.charge(2 * len(s)); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return "", d.errf("truncated \\%c escape", s[i+1])
			}
			v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", d.errf("bad \\%c escape", s[i+1])
			}
			sb.WriteRune(rune(v))
			i += 1 + n
			continue
		}
		sb.WriteRune(rune(c))
	}
	return sb.String(), nil
}

func (d *decoder) global(mod, name string) error {
	k, ok := whitelist[mod+"."+name]
	if !ok {
		return d.errf("global %s.%s is not allowed (only NumPy arrays, OrderedDict and builtins containers are)", mod, name)
	}
	if err := d.charge(48); err != nil {
		return err
	}
	return d.push(&global{Module: mod, Name: name, kind: k})
}

// iterItems returns the items of a container given as an argument.
func (d *decoder) iterItems(v any) ([]any, error) {
	switch v := v.(type) {
	case Tuple:
		return v, nil
	case *List:
		return v.Items, nil
	case *Set:
		return v.Items, nil
	}
	return nil, d.errf("expected a tuple, list or set, got a %s", TypeName(v))
}

func (d *decoder) call(g *global, args Tuple) (any, error) {
	argc := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return d.errf("%s called with %d arguments", g, len(args))
		}
		return nil
	}
	switch g.kind {
	case gReconstruct:
		if err := argc(3, 3); err != nil {
			return nil, err
		}
		if c, ok := args[0].(*global); !ok || c.kind != gNDArray {
			return nil, d.errf("%s of a %s, want numpy.ndarray", g, TypeName(args[0]))
		}
		if err := d.charge(96); err != nil {
			return nil, err
		}
		return &Array{}, nil
	case gDType:
		if err := argc(1, 3); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, d.errf("numpy.dtype of a %s, want str", TypeName(args[0]))
		}
		t := &dtype{code: s, order: '='}
		if len(s) == 3 && strings.ContainsRune("<>|=", rune(s[0])) {
			t.code, t.order = s[1:], s[0]
		}
		if !dtypes[t.code] {
			return nil, d.errf("unsupported dtype %q (supported: float, int, uint and bool)", s)
		}
		return t, d.charge(48)
	case gScalar:
		if err := argc(2, 2); err != nil {
			return nil, err
		}
		t, err := d.builtDType(args[0])
		if err != nil {
			return nil, err
		}
		b, err := d.bytesOf(args[1])
		if err != nil {
			return nil, err
		}
		if size, _ := itemSize(t.str()); len(b) != size {
			return nil, d.errf("numpy scalar of %s with %d bytes", t.str(), len(b))
		}
		return &Array{DType: t.str(), Scalar: true, Data: b}, d.charge(96)
	case gFromBuffer:
		if err := argc(4, 4); err != nil {
			return nil, err
		}
		b, ok := args[0].([]byte)
		if !ok {
			return nil, d.errf("%s of a %s, want bytes", g, TypeName(args[0]))
		}
		t, err := d.builtDType(args[1])
		if err != nil {
			return nil, err
		}
		order, ok := args[3].(string)
		if !ok || (order != "C" && order != "F") {
			return nil, d.errf("%s with order %v, want 'C' or 'F'", g, args[3])
		}
		a := &Array{DType: t.str(), Fortran: order == "F"}
		if err := d.setShape(a, args[2], b); err != nil {
			return nil, err
		}
		return a, nil
	case gOrderedDict, gDict:
		if err := argc(0, 1); err != nil {
			return nil, err
		}
		dict := &Dict{Ordered: g.kind == gOrderedDict}
		if len(args) == 1 {
			if src, ok := args[0].(*Dict); ok {
				if err := d.charge(48 * src.Len()); err != nil {
					return nil, err
				}
				for i, k := range src.Keys {
					dict.Set(k, src.Values[i])
				}
				return dict, nil
			}
			items, err := d.iterItems(args[0])
			if err != nil {
				return nil, err
			}
			pairs := make([]any, 0, 2*len(items))
			if err := d.charge(32 * len(items)); err != nil {
				return nil, err
			}
			for _, it := range items {
				p, ok := it.(Tuple)
				if !ok || len(p) != 2 {
					if l, isList := it.(*List); isList && len(l.Items) == 2 {
						p = Tuple(l.Items)
					} else {
						return nil, d.errf("%s of an item that is not a pair", g)
					}
				}
				pairs = append(pairs, p[0], p[1])
			}
			if err := d.setItems(dict, pairs); err != nil {
				return nil, err
			}
		}
		return dict, d.charge(64)
	case gList, gTuple, gSet, gFrozenSet:
		if err := argc(0, 1); err != nil {
			return nil, err
		}
		var items []any
		if len(args) == 1 {
			var err error
			if items, err = d.iterItems(args[0]); err != nil {
				return nil, err
			}
		}
		t, err := d.tuple(items)
		if err != nil {
			return nil, err
		}
		switch g.kind {
		case gList:
			return &List{Items: t}, nil
		case gTuple:
			return t, nil
		}
		return &Set{Items: t, Frozen: g.kind == gFrozenSet}, nil
	case gBytes, gByteArray:
		if err := argc(0, 2); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return []byte{}, nil
		}
		if b, ok := args[0].([]byte); ok && len(args) == 1 {
			if err := d.charge(len(b)); err != nil {
				return nil, err
			}
			return slices.Clone(b), nil
		}
		if s, ok := args[0].(string); ok && len(args) == 2 && isLatin1(args[1]) {
			return d.encodeLatin1(s)
		}
		return nil, d.errf("%s with unsupported arguments", g)
	case gEncode:
		if err := argc(2, 2); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		if !ok || !isLatin1(args[1]) {
			return nil, d.errf("%s supports only (str, 'latin1')", g)
		}
		return d.encodeLatin1(s)
	}
	return nil, d.errf("%s cannot be called", g)
}

func isLatin1(v any) bool {
	s, ok := v.(string)
	return ok && (s == "latin1" || s == "latin-1" || s == "iso-8859-1" || s == "iso8859-1")
}

func (d *decoder) builtDType(v any) (*dtype, error) {
	t, ok := v.(*dtype)
	if !ok {
		return nil, d.errf("expected a numpy.dtype, got a %s", TypeName(v))
	}
	return t, nil
}

// bytesOf returns array data given as bytes or, by Python 2 pickles, as a Latin-1 str.
func (d *decoder) bytesOf(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return d.encodeLatin1(v)
	case *List:
		return nil, d.errf("arrays of Python objects are not supported")
	}
	return nil, d.errf("array data of type %s, want bytes", TypeName(v))
}

// setShape checks shape against data and sets a's shape and data.
func (d *decoder) setShape(a *Array, shape any, data []byte) error {
	dims, ok := shape.(Tuple)
	if !ok {
		if n, isInt := shape.(int64); isInt { // numpy accepts an int for a 1-d shape
			dims = Tuple{n}
		} else {
			return d.errf("array shape of type %s, want tuple", TypeName(shape))
		}
	}
	if len(dims) > 64 {
		return d.errf("array of rank %d", len(dims))
	}
	if err := d.charge(8*len(dims) + 8); err != nil {
		return err
	}
	size, _ := itemSize(a.DType)
	a.Shape = make([]int, len(dims))
	zero := false
	for i, v := range dims {
		k, ok := v.(int64)
		if !ok || k < 0 {
			return d.errf("array shape %v: dimensions must be integers >= 0", dims)
		}
		if k > math.MaxInt32*int64(math.MaxInt32) {
			return d.errf("array dimension %d too large", k)
		}
		a.Shape[i] = int(k)
		zero = zero || k == 0
	}
	// The element count, refused as soon as it exceeds what the data can hold (so that the
	// product never overflows).
	n := 0
	if !zero {
		limit := len(data) / size
		n = 1
		for _, k := range a.Shape {
			if k > limit/n {
				return d.errf("array of shape %v and dtype %s needs more than the %d bytes it has", a.Shape, a.DType, len(data))
			}
			n *= k
		}
	}
	if n*size != len(data) {
		return d.errf("array of shape %v and dtype %s needs %d bytes, has %d", a.Shape, a.DType, n*size, len(data))
	}
	a.Data = data
	return nil
}

func (d *decoder) build(obj, state any) error {
	switch o := obj.(type) {
	case *Array:
		if o.DType != "" || o.Scalar {
			return d.errf("BUILD of an array already built")
		}
		st, ok := state.(Tuple)
		if !ok || (len(st) != 5 && len(st) != 4) {
			return d.errf("array state of type %s, want a tuple of 4 or 5", TypeName(state))
		}
		if len(st) == 5 {
			st = st[1:] // the version
		}
		t, err := d.builtDType(st[1])
		if err != nil {
			return err
		}
		fortran, ok := st[2].(bool)
		if !ok {
			if i, isInt := st[2].(int64); isInt {
				fortran, ok = i != 0, true
			}
		}
		if !ok {
			return d.errf("array state: is_fortran of type %s", TypeName(st[2]))
		}
		data, err := d.bytesOf(st[3])
		if err != nil {
			return err
		}
		o.DType = t.str()
		o.Fortran = fortran
		if err := d.setShape(o, st[0], data); err != nil {
			o.DType = ""
			return err
		}
		return nil
	case *dtype:
		if o.built {
			return d.errf("BUILD of a numpy.dtype already built")
		}
		st, ok := state.(Tuple)
		if !ok || len(st) < 2 {
			return d.errf("numpy.dtype state of type %s, want a tuple", TypeName(state))
		}
		order, ok := st[1].(string)
		if !ok || len(order) != 1 || !strings.Contains("<>|=", order) {
			return d.errf("numpy.dtype byte order %v", st[1])
		}
		if len(st) >= 4 && (st[2] != nil || st[3] != nil) {
			return d.errf("structured or sub-array dtypes are not supported")
		}
		o.order, o.built = order[0], true
		return nil
	case []byte, *Dict, *List, *Set:
		// bytearray and containers carry an instance __dict__ (None or empty) as their state.
		if state == nil {
			return nil
		}
		if sd, ok := state.(*Dict); ok && sd.Len() == 0 {
			return nil
		}
	}
	return d.errf("BUILD of a %s with a %s state is not supported", TypeName(obj), TypeName(state))
}
