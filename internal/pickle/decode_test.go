package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func f8Array(vals ...float64) *Array {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return &Array{DType: "<f8", Shape: []int{len(vals)}, Data: b}
}

// want mirrors testdata/make_pickles.py's value().
func want() *Dict {
	d := NewDict()
	set := func(k string, v any) { d.Set(k, v) }
	set("none", nil)
	set("true", true)
	set("false", false)
	ints := []any{}
	for _, v := range []int64{0, 1, 255, 256, 65535, 65536, -1, -129, 1<<31 - 1, -(1 << 31), 1 << 40, -(1 << 62), math.MaxInt64} {
		ints = append(ints, v)
	}
	set("ints", &List{Items: ints})
	set("float", 1.5)
	set("neg_float", -2.25e-300)
	set("str", "héllo ☃")
	set("bytes", []byte{0, 1, 0xff})
	set("empty_bytes", []byte{})
	set("bytearray", []byte("ab"))
	set("tuple", Tuple{int64(1), "two", Tuple{3.0}})
	set("long_tuple", Tuple{int64(1), int64(2), int64(3), int64(4), int64(5)})
	set("set", &Set{Items: []any{int64(7)}})
	set("frozenset", &Set{Items: []any{int64(8)}, Frozen: true})
	od := &Dict{Ordered: true}
	od.Set("b", int64(1))
	od.Set("a", int64(2))
	set("ordered", od)
	inner := NewDict()
	inner.Set("z", nil)
	nested := NewDict()
	nested.Set("k", &List{Items: []any{int64(1), inner}})
	set("nested", nested)
	ik := NewDict()
	ik.Set(int64(1), "one")
	set("int_key", ik)
	set("f4", Float32Array([]float32{0, 0.25, 0.5, 0.75, 1, 1.25}, 2, 3))
	set("f8", f8Array(1.0/3, math.Copysign(0, -1), math.Inf(1)))
	set("f2", &Array{DType: "<f2", Shape: []int{3}, Data: []byte{0x00, 0x38, 0xff, 0xfb, 0x01, 0x00}})
	i8 := make([]byte, 16)
	m3 := int64(-3)
	binary.LittleEndian.PutUint64(i8, uint64(m3))
	binary.LittleEndian.PutUint64(i8[8:], 1<<24)
	set("i8", &Array{DType: "<i8", Shape: []int{2, 1}, Data: i8})
	set("u1", &Array{DType: "|u1", Shape: []int{2}, Data: []byte{0, 200}})
	set("b1", &Array{DType: "|b1", Shape: []int{2}, Data: []byte{1, 0}})
	be := make([]byte, 8)
	binary.BigEndian.PutUint32(be, math.Float32bits(1.25))
	binary.BigEndian.PutUint32(be[4:], math.Float32bits(-3))
	set("be_f4", &Array{DType: ">f4", Shape: []int{2}, Data: be})
	fo := Float32Array([]float32{0, 3, 1, 4, 2, 5}, 2, 3)
	fo.Fortran = true
	set("fortran", fo)
	set("zero_d", Float32Array([]float32{2.5}))
	set("empty", Float32Array(nil, 0, 3))
	sc := Float32Array([]float32{0.75})
	sc.Scalar = true
	set("scalar", sc)
	set("shared", d.Values[d.index["f4"]])
	return d
}

// diff returns "" if got equals want, or where they differ.
func diff(path string, got, want any) string {
	switch w := want.(type) {
	case *Dict:
		g, ok := got.(*Dict)
		if !ok {
			return fmt.Sprintf("%s: %s, want %s", path, TypeName(got), TypeName(want))
		}
		if g.Ordered != w.Ordered || !slices.EqualFunc(g.Keys, w.Keys, func(a, b any) bool { return diff("", a, b) == "" }) {
			return fmt.Sprintf("%s: keys %v (ordered %v), want %v (ordered %v)", path, g.Keys, g.Ordered, w.Keys, w.Ordered)
		}
		for i, k := range w.Keys {
			if s := diff(fmt.Sprintf("%s[%v]", path, k), g.Values[i], w.Values[i]); s != "" {
				return s
			}
		}
		return ""
	case *List:
		g, ok := got.(*List)
		if !ok {
			return fmt.Sprintf("%s: %s, want list", path, TypeName(got))
		}
		return diff(path, Tuple(g.Items), Tuple(w.Items))
	case *Set:
		g, ok := got.(*Set)
		if !ok || g.Frozen != w.Frozen {
			return fmt.Sprintf("%s: %s, want %s", path, TypeName(got), TypeName(want))
		}
		return diff(path, Tuple(g.Items), Tuple(w.Items))
	case Tuple:
		g, ok := got.(Tuple)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
		}
		for i := range w {
			if s := diff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); s != "" {
				return s
			}
		}
		return ""
	case *Array:
		g, ok := got.(*Array)
		if !ok || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) || g.Fortran != w.Fortran || g.Scalar != w.Scalar || !bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("%s: %+v, want %+v", path, got, want)
		}
		return ""
	case []byte:
		g, ok := got.([]byte)
		if !ok || !bytes.Equal(g, w) {
			return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
		}
		return ""
	case float64:
		g, ok := got.(float64)
		if !ok || math.Float64bits(g) != math.Float64bits(w) {
			return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
		}
		return ""
	}
	if got != want {
		return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
	}
	return ""
}

func TestDecodeProtocols(t *testing.T) {
	for proto := 0; proto <= 5; proto++ {
		data, err := os.ReadFile(filepath.Join("testdata", fmt.Sprintf("value_p%d.pkl", proto)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := Decode(data)
		if err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		if s := diff("value", v, want()); s != "" {
			t.Errorf("protocol %d: %s", proto, s)
		}
		d := v.(*Dict)
		f4, _ := d.Get("f4")
		shared, _ := d.Get("shared")
		if f4 != shared {
			t.Errorf("protocol %d: the memo's alias is a copy", proto)
		}
	}
}

func TestFloat32s(t *testing.T) {
	data, _ := os.ReadFile("testdata/value_p4.pkl")
	v, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	for _, c := range []struct {
		key  string
		want []float32
	}{
		{"f4", []float32{0, 0.25, 0.5, 0.75, 1, 1.25}},
		{"f8", []float32{1.0 / 3, float32(math.Copysign(0, -1)), float32(math.Inf(1))}},
		{"f2", []float32{0.5, -65504, 1.0 / (1 << 24)}},
		{"i8", []float32{-3, 1 << 24}},
		{"u1", []float32{0, 200}},
		{"b1", []float32{1, 0}},
		{"be_f4", []float32{1.25, -3}},
		{"fortran", []float32{0, 1, 2, 3, 4, 5}},
		{"zero_d", []float32{2.5}},
		{"scalar", []float32{0.75}},
	} {
		a, _ := d.Get(c.key)
		got, err := a.(*Array).Float32s()
		if err != nil {
			t.Errorf("%s: %v", c.key, err)
			continue
		}
		if !slices.EqualFunc(got, c.want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("%s: %v, want %v", c.key, got, c.want)
		}
	}
	big := &Array{DType: "<i8", Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, 1<<24+1)}
	if _, err := big.Float32s(); err == nil || !strings.Contains(err.Error(), "2^24") {
		t.Errorf("int64 2^24+1: %v, want an error", err)
	}
	huge := f8Array(1e39)
	if _, err := huge.Float32s(); err == nil || !strings.Contains(err.Error(), "range") {
		t.Errorf("float64 1e39: %v, want an error", err)
	}
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0400: 1.0 / (1 << 14), 0x03ff: 1023.0 / (1 << 24), 0x8000: float32(math.Copysign(0, -1)), 0x7c00: float32(math.Inf(1))} {
		if got := halfToFloat32(h); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("half %#04x: %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(float64(halfToFloat32(0x7e00))) {
		t.Error("half NaN is not NaN")
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"evil", mustRead(t, "testdata/evil_global.pkl"), "global posix.system is not allowed"},
		{"object array", mustRead(t, "testdata/object_array.pkl"), `unsupported dtype "O8"`},
		{"empty", nil, "truncated"},
		{"no stop", []byte{0x80, 2, 'N'}, "no STOP"},
		{"two values", []byte{0x80, 2, 'N', 'N', '.'}, "2 values on the stack"},
		{"underflow", []byte{0x80, 2, '0', '.'}, "underflow"},
		{"mark underflow", []byte{0x80, 2, 'N', '(', 0x85, '.'}, "underflow"},
		{"open mark", []byte{0x80, 2, '(', 'N', '.'}, "open MARK"},
		{"long bytes", []byte{0x80, 3, 'B', 0xff, 0xff, 0xff, 0x7f, 'x', '.'}, "truncated"},
		{"bytes8", []byte{0x80, 4, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '.'}, "truncated"},
		{"unicode8", []byte{0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80, '.'}, "truncated"},
		{"long4", []byte{0x80, 2, 0x8b, 9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}, "64 bits"},
		{"memo", []byte{0x80, 2, 'h', 3, '.'}, "memo index 3 not defined"},
		{"reduce non-global", []byte{0x80, 2, 'N', ')', 'R', '.'}, "REDUCE calls a None"},
		{"stack global", []byte{0x80, 4, 0x8c, 2, 'o', 's', 0x8c, 6, 's', 'y', 's', 't', 'e', 'm', 0x93, '.'}, "global os.system is not allowed"},
		{"builtins eval", []byte("\x80\x02c__builtin__\neval\n."), "global __builtin__.eval is not allowed"},
		{"persid", []byte("\x80\x02N\x51."), "persistent ids"},
		{"inst", []byte("\x80\x02(i__main__\nX\n."), "object construction"},
		{"newobj", []byte("\x80\x02N)\x81."), "object construction"},
		{"ext", []byte{0x80, 2, 0x82, 1, '.'}, "extension"},
		{"protocol", []byte{0x80, 6, 'N', '.'}, "unsupported protocol 6"},
		{"bad utf8", []byte{0x80, 4, 0x8c, 1, 0xff, '.'}, "UTF-8"},
		{"set on list", []byte{0x80, 2, ']', 'N', 'N', 's', '.'}, "SETITEM on a list"},
		{"unhashable key", []byte{0x80, 2, '}', ']', 'N', 's', '.'}, "unsupported dict key"},
		{"append to tuple", []byte{0x80, 2, ')', 'N', 'a', '.'}, "APPEND to a tuple"},
		{"next buffer", []byte{0x80, 5, 0x97, '.'}, "out-of-band"},
		{"unknown", []byte{0x80, 2, 0xff, '.'}, "unknown opcode 0xff"},
	} {
		_, err := Decode(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// arrayPickle is a protocol 4 pickle of an array of the given shape, dtype and data, built by the
// encoder, for tests of the checks on arrays.
func arrayPickle(t *testing.T, a *Array) []byte {
	var b bytes.Buffer
	data, shape := a.Data, a.Shape
	// Encode checks len(Data); write a consistent array and patch the shape and data after.
	if err := Encode(&b, &Array{DType: a.DType, Shape: []int{len(data) / a.ItemSize()}, Data: data}, 4); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	// Replace the TUPLE1 shape (BININT1 n, TUPLE1) after "MARK BININT1 1" with the wanted shape.
	i := bytes.Index(p, []byte{'(', 'K', 1, 'K', byte(len(data) / a.ItemSize()), 0x85})
	if i < 0 {
		t.Fatal("shape not found")
	}
	var sh bytes.Buffer
	sh.Write([]byte{'(', 'K', 1, '('})
	for _, d := range shape {
		sh.WriteByte(0x8a)
		sh.WriteByte(8)
		sh.Write(binary.LittleEndian.AppendUint64(nil, uint64(d)))
	}
	sh.WriteByte('t')
	out := append(append(slices.Clone(p[:i]), sh.Bytes()...), p[i+6:]...)
	return out
}

func TestDecodeArrayChecks(t *testing.T) {
	four := make([]byte, 16)
	for _, c := range []struct {
		shape []int
		want  string
	}{
		{[]int{5}, "needs more than the 16 bytes"},
		{[]int{2}, "needs 8 bytes, has 16"},
		{[]int{1 << 40, 1 << 40}, "needs more than"},
		{[]int{1<<63 - 1}, "too large"},
		{[]int{-1, -4}, ">= 0"},
		{[]int{1 << 31, 1 << 31, 0}, "needs 0 bytes, has 16"},
		{[]int{1 << 30, 1 << 30}, "needs more than"},
	} {
		_, err := Decode(arrayPickle(t, &Array{DType: "<f4", Shape: c.shape, Data: four}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("shape %v: %v, want an error with %q", c.shape, err, c.want)
		}
	}
	v, err := Decode(arrayPickle(t, &Array{DType: "<f4", Shape: []int{2, 2}, Data: four}))
	if err != nil || !slices.Equal(v.(*Array).Shape, []int{2, 2}) {
		t.Errorf("shape [2 2]: %v %v", v, err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBudget(t *testing.T) {
	// A 1000-byte str encoded to bytes again and again from the memo: each copy costs the budget.
	var p bytes.Buffer
	p.Write([]byte{0x80, 2})
	p.WriteString("c_codecs\nencode\nq\x00")
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, 1000))
	p.Write(bytes.Repeat([]byte("a"), 1000))
	p.WriteString("X\x06\x00\x00\x00latin1\x86q\x01") // (s, 'latin1') in memo 1
	p.WriteString("]q\x02")                           // a list
	for range 10000 {
		p.WriteString("h\x00h\x01Ra") // list.append(encode(*args))
	}
	p.WriteByte('.')
	_, err := Decode(p.Bytes())
	if !errors.Is(err, ErrBudget) && (err == nil || !strings.Contains(err.Error(), ErrBudget.Error())) {
		t.Fatalf("%d bytes that decode to 10 MB: %v, want the budget error", p.Len(), err)
	}
}

func TestDictDeleteAll(t *testing.T) {
	d := NewDict()
	for i := range 10 {
		d.Set(int64(i), fmt.Sprint(i))
	}
	d.DeleteAll(func(k any) bool { return k.(int64)%3 == 0 })
	if !slices.Equal(d.Keys, []any{int64(1), int64(2), int64(4), int64(5), int64(7), int64(8)}) {
		t.Fatalf("keys %v", d.Keys)
	}
	for i, k := range d.Keys {
		if v, ok := d.Get(k); !ok || v != d.Values[i] || v != fmt.Sprint(k) {
			t.Errorf("Get(%v) = %v %v", k, v, ok)
		}
	}
	if _, ok := d.Get(int64(3)); ok {
		t.Error("3 still present")
	}
	d.Delete(int64(4))
	if v, _ := d.Get(int64(8)); v != "8" || d.Len() != 5 {
		t.Errorf("after Delete: %v, %d", v, d.Len())
	}
}
