package optim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoadState feeds arbitrary bytes to the optimizer-state reader: it must return an error
// and leave the optimizer as it was, or load a state that fits, never panic.
func FuzzLoadState(f *testing.F) {
	good := adamFile(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:9])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, _ := freshAdam()
		before := o.State()
		if err := Read(bytes.NewReader(raw), o); err != nil {
			require.Equal(t, before.Meta, o.State().Meta, "a failed load must change nothing")
		}
	})
}
