package nn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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

// SetStateDict copies the tensors of sd into l's parameters and buffers, matched by name. It
// checks everything first and returns one error listing every missing key, unexpected key and
// shape mismatch (errors.Join); then l is unchanged. With no error, every entry was copied.
func SetStateDict(l Layer, sd []Param) error {
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
	for _, w := range want {
		known[w.Name] = true
		g, ok := given[w.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("missing key %q (shape %v)", w.Name, w.Shape()))
		case !slices.Equal(g.Shape(), w.Shape()):
			errs = append(errs, fmt.Errorf("key %q: shape %v in the state dict, %v in the layer", w.Name, g.Shape(), w.Shape()))
		}
	}
	for _, p := range sd {
		if !known[p.Name] {
			errs = append(errs, fmt.Errorf("unexpected key %q (shape %v)", p.Name, p.Shape()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("nn: SetStateDict: %w", errors.Join(errs...))
	}
	for _, w := range want {
		copy(w.Data(), given[w.Name].Data())
	}
	return nil
}

// Write writes l's state dict to w in the safetensors format.
func Write(w io.Writer, l Layer) error { return WriteSafetensors(w, StateDict(l), nil) }

// Read loads a state dict in the safetensors format from r into l (see SetStateDict). A corrupt
// or truncated stream, or one that does not match l, is an error and leaves l unchanged.
func Read(r io.Reader, l Layer) error {
	sd, _, err := ReadSafetensors(r)
	if err != nil {
		return err
	}
	return SetStateDict(l, sd)
}

// Save writes l's state dict to the file path (safetensors, readable by PyTorch's and NumPy's
// safetensors libraries). The write is atomic: a crash leaves the old file or the new one.
func Save(path string, l Layer) error {
	if err := WriteFileAtomic(path, func(w io.Writer) error { return Write(w, l) }); err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return nil
}

// Load reads the file path written by Save into l. Errors name the file and the problem; on
// error l is unchanged.
func Load(path string, l Layer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nn: load: %w", err)
	}
	defer f.Close()
	if err := Read(f, l); err != nil {
		return fmt.Errorf("nn: load %s: %w", path, err)
	}
	return nil
}
