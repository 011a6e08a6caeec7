package pickle

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// allocBound is what FuzzDecode allows Decode to allocate for an input of n bytes: the budget
// (16n + 1 MiB) plus the decoder's own fixed costs per opcode (stack and memo slots, boxing).
func allocBound(n int) uint64 { return uint64(Budget(n)) + 64*uint64(n) + 256<<10 }

// FuzzDecode feeds Decode arbitrary bytes: it must return a value or an error, never panic or
// hang, allocate at most allocBound(len(data)) bytes, and return arrays whose data fit their
// shape and dtype.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pkl"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var b bytes.Buffer
	for _, proto := range []int{2, 4} {
		b.Reset()
		Encode(&b, want(), proto)
		f.Add(bytes.Clone(b.Bytes()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Decode is linear in its input: far beyond a second is a hang, which crashes the
		// worker so that the fuzzer records the input.
		hang := time.AfterFunc(20*time.Second, func() { panic("pickle: Decode hangs") })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err := Decode(data)
		runtime.ReadMemStats(&after)
		hang.Stop()
		if got := after.TotalAlloc - before.TotalAlloc; got > allocBound(len(data)) {
			t.Fatalf("Decode of %d bytes allocated %d bytes, more than %d", len(data), got, allocBound(len(data)))
		}
		if err != nil {
			return
		}
		seen := map[any]bool{}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case *Array:
				if seen[v] {
					return
				}
				seen[v] = true
				if v.DType == "" {
					return // _reconstruct without BUILD: Float32s refuses it
				}
				if len(v.Data) != v.Len()*v.ItemSize() {
					t.Fatalf("array of shape %v and %s holds %d bytes", v.Shape, v.DType, len(v.Data))
				}
				if _, err := v.Float32s(); err != nil && v.Kind() == 'f' && v.ItemSize() == 4 {
					t.Fatalf("float32 array refused: %v", err)
				}
			case *List:
				if !seen[v] {
					seen[v] = true
					for _, x := range v.Items {
						walk(x)
					}
				}
			case *Dict:
				if !seen[v] {
					seen[v] = true
					for i := range v.Keys {
						walk(v.Keys[i])
						walk(v.Values[i])
					}
				}
			case *Set:
				if !seen[v] {
					seen[v] = true
					for _, x := range v.Items {
						walk(x)
					}
				}
			case Tuple:
				if len(v) > 0 && seen[&v[0]] {
					return
				}
				if len(v) > 0 {
					seen[&v[0]] = true
				}
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(v)
	})
}
