package nn_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

func seedCheckpoints(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, nn.Write(&buf, smallNet()))
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:12])
	f.Add([]byte{})
	for _, h := range []string{
		`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`,
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
		`{"__metadata__":{"rng.0":"zz"},"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`,
		`{"w":{"dtype":"F32","shape":[0,9223372036854775807,9223372036854775807],"data_offsets":[0,0]}}`,
		`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
		"{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
		`{"\ud834\udd1e \u00e9\n":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "__metadata__": {"a\"b": "\ud800"}}`,
		manyTensors(100),
	} {
		f.Add(withHeader(h, 4))
	}
}

// manyTensors returns a header of n tensors of no elements.
func manyTensors(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"t%07d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
	}
	b.WriteString("}")
	return b.String()
}

// allocated returns the bytes that f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allocBound is the most that reading a checkpoint of n bytes may allocate: memory grows with
// the bytes read (the header's entries, the tensors' data), not with what the header claims.
// Twice that under the race detector, whose instrumentation allocates too.
func allocBound(n int) uint64 {
	bound := 64<<10 + 32*uint64(n)
	if raceEnabled {
		bound *= 2
	}
	return bound
}

// withHeader returns a safetensors stream with header h and n zero bytes of data.
func withHeader(h string, n int) []byte {
	b := make([]byte, 8, 8+len(h)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	return append(append(b, h...), make([]byte, n)...)
}

// FuzzReadSafetensors feeds arbitrary bytes to the checkpoint reader: it must return an error
// or tensors that round-trip, never panic, and allocate no more than allocBound.
func FuzzReadSafetensors(f *testing.F) {
	seedCheckpoints(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ts []nn.Param
		var meta map[string]string
		var err error
		if a := allocated(func() { ts, meta, err = nn.ReadSafetensors(bytes.NewReader(raw)) }); a > allocBound(len(raw)) {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", a, len(raw), allocBound(len(raw)))
		}
		if err != nil {
			return
		}
		var buf bytes.Buffer
		require.NoError(t, nn.WriteSafetensors(&buf, ts, meta))
		again, meta2, err := nn.ReadSafetensors(&buf)
		require.NoError(t, err)
		require.Equal(t, len(ts), len(again))
		for i := range ts {
			require.Equal(t, ts[i].Name, again[i].Name)
			require.Equal(t, ts[i].Shape(), again[i].Shape())
		}
		require.Equal(t, len(meta), len(meta2))
	})
}

// FuzzLoadStateDict feeds arbitrary bytes to nn.Read on a network: an error leaves it as it was,
// success means every entry fitted; it may allocate no more than allocBound.
func FuzzLoadStateDict(f *testing.F) {
	seedCheckpoints(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		net := smallNet()
		before := nn.StateDict(net)[0].Data()[0]
		var err error
		if a := allocated(func() { _, err = nn.Read(bytes.NewReader(raw), net) }); a > allocBound(len(raw)) {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", a, len(raw), allocBound(len(raw)))
		}
		if err != nil {
			require.Equal(t, before, nn.StateDict(net)[0].Data()[0], "a failed load must change nothing")
		}
	})
}

// TestHostileHeadersAllocateLittle checks that headers claiming huge tensors are rejected, or
// fail at the end of the stream, without allocating what they claim.
func TestHostileHeadersAllocateLittle(t *testing.T) {
	cases := map[string][]byte{
		"4 GB tensor":       withHeader(`{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`, 64),
		"100 MB header":     binary.LittleEndian.AppendUint64(nil, 100<<20),
		"huge shape":        withHeader(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, 0),
		"many tiny tensors": withHeader(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[536870912],"data_offsets":[0,2147483648]}}`, 8),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := nn.ReadSafetensors(bytes.NewReader(raw))
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
		})
	}
}

// TestHostileHeaders checks that each hostile header is refused with an error that names the
// problem and where it is, allocating at most 64 MB in at most 2 s.
func TestHostileHeaders(t *testing.T) {
	const entry = `{"dtype":"F32","shape":[1],"data_offsets":[0,4]}`
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"1M tensors", withHeader(manyTensors(1_000_000), 0), "safetensors: more than 65536 tensors (at byte 3932162 of the header)"},
		{"shape overflow past a zero", withHeader(`{"w":{"dtype":"F32","shape":[0,9223372036854775807,9223372036854775807],"data_offsets":[0,0]}}`, 0),
			`safetensors: tensor "w": bad shape [0 9223372036854775807 9223372036854775807]: its dimensions other than 0 multiply to more than 2147483647 (at byte 21 of the header)`},
		{"shape overflow before a zero", withHeader(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, 0),
			`safetensors: tensor "w": bad shape [4294967296 4294967296 0]: its dimensions other than 0 multiply to more than 2147483647 (at byte 21 of the header)`},
		{"shape beyond int64", withHeader(`{"w":{"dtype":"F32","shape":[0,99999999999999999999],"data_offsets":[0,0]}}`, 0),
			`safetensors: tensor "w": shape: 99999999999999999999 overflows a 64-bit integer (at byte 52 of the header)`},
		{"negative dimension", withHeader(`{"w":{"dtype":"F32","shape":[0,-1],"data_offsets":[0,0]}}`, 0), `safetensors: tensor "w": bad shape [0 -1]: a negative dimension (at byte 21 of the header)`},
		{"repeated tensor", withHeader(`{"w":`+entry+`,"w":`+entry+`}`, 4), `safetensors: tensor name "w" repeated (at byte 55 of the header)`},
		{"repeated metadata", withHeader(`{"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}}`, 0), `safetensors: tensor name "__metadata__" repeated (at byte 27 of the header)`},
		{"repeated metadata key", withHeader(`{"__metadata__":{"a":"1","a":"2"}}`, 0), `safetensors: __metadata__ key "a" repeated (at byte 26 of the header)`},
		{"repeated field", withHeader(`{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), `safetensors: tensor "w": field "dtype" repeated (at byte 21 of the header)`},
		{"name not UTF-8", withHeader("{\"ok\xff\xfe\":"+entry+"}", 4), `safetensors: tensor name is not valid UTF-8: "ok\xff\xfe" (at byte 2 of the header)`},
		{"name of a lone surrogate", withHeader(`{"a\udc00":`+entry+`}`, 4), `safetensors: tensor name is not valid UTF-8: a lone surrogate \udc00 (at byte 9 of the header)`},
		{"metadata not UTF-8", withHeader("{\"__metadata__\":{\"k\":\"\xc3\"}}", 0), `safetensors: __metadata__["k"] is not valid UTF-8: "\xc3" (at byte 22 of the header)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var err error
			start := time.Now()
			alloc := allocated(func() { _, _, err = nn.ReadSafetensors(bytes.NewReader(tc.raw)) })
			took := time.Since(start)
			t.Logf("%d-byte input refused after allocating %.1f MB in %v: %v", len(tc.raw), float64(alloc)/1e6, took.Round(time.Millisecond), err)
			require.EqualError(t, err, tc.want)
			require.LessOrEqual(t, alloc, uint64(64<<20))
			limit := 2 * time.Second
			if raceEnabled {
				limit *= 10
			}
			require.Less(t, took, limit)
		})
	}

	// Names with escapes, and metadata, that are valid UTF-8 are read as JSON says.
	ts, meta, err := nn.ReadSafetensors(bytes.NewReader(withHeader(`{"\ud834\udd1e \u00e9\n\/":`+entry+`, "__metadata__": {"a\"b": "\u0041"}}  `, 4)))
	require.NoError(t, err)
	require.Equal(t, "\U0001D11E é\n/", ts[0].Name)
	require.Equal(t, map[string]string{"a\"b": "A"}, meta)
}
