package nn

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/oarlab/oar/internal/atomicfile"
)

// StateDict returns what a checkpoint of l holds: its parameters (l.Params) followed by the
// buffers of every Buffered layer below it (BatchNorm2D's running statistics), all with dotted
// names. The tensors are l's own, not copies.
func StateDict(l Layer) []Param {
	sd := l.Params()
	Walk(l, func(path string, l Layer) {
		if b, ok := l.(Buffered); ok {
			for _, p := range b.Buffers() {
				sd = append(sd, Param{Name: joinPath(path, p.Name), Tensor: p.Tensor})
			}
		}
	})
	return sd
}

// CheckStateDict reports, as one error, every missing key, unexpected key, repeated key and
// shape mismatch between sd and l's state dict (errors.Join), changing nothing.
func CheckStateDict(l Layer, sd []Param) error {
	_, err := matchStateDict(l, sd)
	return err
}

// SetStateDict copies the tensors of sd into l's parameters and buffers, matched by name. It
// checks everything first (CheckStateDict) and on error returns it with l unchanged; with no
// error, every entry was copied.
func SetStateDict(l Layer, sd []Param) error {
	pairs, err := matchStateDict(l, sd)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		copy(p.dst.Data(), p.src.Data())
	}
	return nil
}

type statePair struct{ dst, src Param }

// matchStateDict pairs every entry of l's state dict with the one of sd of the same name and
// shape, or reports every mismatch.
func matchStateDict(l Layer, sd []Param) ([]statePair, error) {
	given := make(map[string]Param, len(sd))
	var errs []error
	for _, p := range sd {
		if _, dup := given[p.Name]; dup {
			errs = append(errs, fmt.Errorf("key %q repeated", p.Name))
		}
		given[p.Name] = p
	}
	want := StateDict(l)
	known := make(map[string]bool, len(want))
	pairs := make([]statePair, 0, len(want))
	for _, w := range want {
		known[w.Name] = true
		g, ok := given[w.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("missing key %q (shape %v)", w.Name, w.Shape()))
		case !slices.Equal(g.Shape(), w.Shape()):
			errs = append(errs, fmt.Errorf("key %q: shape %v in the state dict, %v in the layer", w.Name, g.Shape(), w.Shape()))
		default:
			pairs = append(pairs, statePair{w, g})
		}
	}
	for _, p := range sd {
		if !known[p.Name] {
			errs = append(errs, fmt.Errorf("unexpected key %q (shape %v)", p.Name, p.Shape()))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nn: SetStateDict: %w", errors.Join(errs...))
	}
	return pairs, nil
}

// rngPrefix starts the metadata key of a layer's random state: "rng.<path>".
const rngPrefix = "rng."

// RandomStates returns the generator state of every RandomSource layer in l, keyed "rng.<path>"
// (hex-encoded), as a checkpoint's metadata holds them.
func RandomStates(l Layer) map[string]string {
	states := map[string]string{}
	Walk(l, func(path string, l Layer) {
		if r, ok := l.(RandomSource); ok {
			states[rngPrefix+path] = hex.EncodeToString(r.RandomState())
		}
	})
	return states
}

// SetRandomStates restores the states RandomStates returned (other keys of meta are ignored).
// A RandomSource layer without a state in meta keeps its own. If a state does not decode or fit,
// it returns an error naming every such state and leaves every layer's generator as it was.
func SetRandomStates(l Layer, meta map[string]string) error {
	var errs []error
	type restore struct {
		r   RandomSource
		old []byte
	}
	var done []restore
	Walk(l, func(path string, l Layer) {
		r, ok := l.(RandomSource)
		v, found := meta[rngPrefix+path]
		if !ok || !found {
			return
		}
		old := r.RandomState()
		b, err := hex.DecodeString(v)
		if err == nil {
			err = r.SetRandomState(b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s: %w", rngPrefix, path, err))
			return
		}
		done = append(done, restore{r, old})
	})
	if len(errs) > 0 {
		for _, d := range done {
			d.r.SetRandomState(d.old) // a state it gave back always fits
		}
	}
	return errors.Join(errs...)
}

// Write writes l's state dict to w in the safetensors format, with the random state of its
// layers (RandomStates) and extra (nil for none) as string metadata.
func Write(w io.Writer, l Layer, extra ...map[string]string) error {
	meta := RandomStates(l)
	for _, m := range extra {
		maps.Copy(meta, m)
	}
	return WriteSafetensors(w, StateDict(l), meta)
}

// Read loads a state dict in the safetensors format from r into l (see SetStateDict), restores
// the random states it holds (SetRandomStates), and returns its metadata. A corrupt or truncated
// stream, or one that does not match l, is an error and leaves l unchanged.
func Read(r io.Reader, l Layer) (map[string]string, error) {
	sd, meta, err := ReadSafetensors(r)
	if err != nil {
		return nil, err
	}
	if err := CheckStateDict(l, sd); err != nil {
		return nil, err
	}
	if err := SetRandomStates(l, meta); err != nil {
		return nil, err
	}
	return meta, SetStateDict(l, sd) // checked above: it cannot fail
}

// Save writes l's state dict (and its layers' random states, and extra metadata) to the file
// path in the safetensors format, readable by PyTorch's and NumPy's safetensors libraries. The
// write is atomic: a crash leaves the old file or the new one.
func Save(path string, l Layer, extra ...map[string]string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, l, extra...) }); err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}

// Load reads the file path written by Save into l and returns its metadata. Errors name the file
// and the problem; on error l is unchanged.
func Load(path string, l Layer) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load: %w", err)
	}
	defer f.Close()
	meta, err := Read(f, l)
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return meta, nil
}
