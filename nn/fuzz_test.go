package nn_test

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

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
	} {
		f.Add(withHeader(h, 4))
	}
}

// withHeader returns a safetensors stream with header h and n zero bytes of data.
func withHeader(h string, n int) []byte {
	b := make([]byte, 8, 8+len(h)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	return append(append(b, h...), make([]byte, n)...)
}

// FuzzReadSafetensors feeds arbitrary bytes to the checkpoint reader: it must return an error
// or tensors that round-trip, never panic.
func FuzzReadSafetensors(f *testing.F) {
	seedCheckpoints(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ts, meta, err := nn.ReadSafetensors(bytes.NewReader(raw))
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
// success means every entry fitted.
func FuzzLoadStateDict(f *testing.F) {
	seedCheckpoints(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		net := smallNet()
		before := nn.StateDict(net)[0].Data()[0]
		if _, err := nn.Read(bytes.NewReader(raw), net); err != nil {
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
