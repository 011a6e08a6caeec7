package optim

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoadState feeds arbitrary bytes to the optimizer-state reader: it must return an error
// and leave the optimizer as it was, or load a state that fits, never panic, and allocate in
// proportion to the input: at most 64 KiB plus 32 bytes per byte (twice that under the race
// detector).
func FuzzLoadState(f *testing.F) {
	good := adamFile(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:9])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, _ := freshAdam()
		before := o.State()
		var before2, after runtime.MemStats
		runtime.ReadMemStats(&before2)
		err := Read(bytes.NewReader(raw), o)
		runtime.ReadMemStats(&after)
		bound := 64<<10 + 32*uint64(len(raw))
		if raceEnabled {
			bound *= 2 // the race detector's instrumentation allocates too
		}
		if a := after.TotalAlloc - before2.TotalAlloc; a > bound {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", a, len(raw), bound)
		}
		if err != nil {
			require.Equal(t, before.Meta, o.State().Meta, "a failed load must change nothing")
		}
	})
}
