package nn

import (
	"fmt"
	"strconv"

	"github.com/oarlab/oar/tensor"
)

// Sequential runs its layers in order, each on the previous one's output, as
// paddle.nn.Sequential. Children are named by their index ("0", "1", ...) unless given names
// with NewSequentialNamed, and their parameters are prefixed with those names ("0.weight").
type Sequential struct {
	Hooks
	layers []Named
}

// NewSequential returns a Sequential of layers named by index.
func NewSequential(layers ...Layer) *Sequential {
	s := &Sequential{}
	for _, l := range layers {
		s.Append(l)
	}
	return s
}

// NewSequentialNamed returns a Sequential of named layers (Paddle's (name, layer) tuples). It
// panics if a name is empty or repeated.
func NewSequentialNamed(layers ...Named) *Sequential {
	s := &Sequential{}
	for _, l := range layers {
		s.add(l)
	}
	return s
}

// Append adds l at the end, named by one more than the largest numeric name: its index, unless
// Fuse merged earlier layers (then "0", "3" are followed by "4").
func (s *Sequential) Append(l Layer) {
	next := 0
	for _, c := range s.layers {
		if i, err := strconv.Atoi(c.Name); err == nil && i >= next {
			next = i + 1
		}
	}
	s.add(Named{strconv.Itoa(next), l})
}

func (s *Sequential) add(n Named) {
	if n.Name == "" || n.Layer == nil {
		panic(&Error{Layer: "Sequential", Msg: fmt.Sprintf("layer %d: empty name or nil layer", len(s.layers))})
	}
	for _, c := range s.layers {
		if c.Name == n.Name {
			panic(&Error{Layer: "Sequential", Msg: fmt.Sprintf("name %q repeated", n.Name)})
		}
	}
	s.layers = append(s.layers, n)
}

// Len returns the number of layers.
func (s *Sequential) Len() int { return len(s.layers) }

// At returns layer i; a negative i counts from the end. It panics if i is out of range.
func (s *Sequential) At(i int) Layer { return at("Sequential", s.layers, i) }

// at returns layers[i], a negative i counting from the end, panicking in container's name when i
// is out of range.
func at(container string, layers []Named, i int) Layer {
	if i < -len(layers) || i >= len(layers) {
		panic(&Error{Layer: container, Msg: fmt.Sprintf("index %d out of range for %d layers", i, len(layers))})
	}
	if i < 0 {
		i += len(layers)
	}
	return layers[i].Layer
}

// Forward runs the layers in order, each exactly as written (Fuse makes fused layers explicit).
// A panic in a layer names its path, e.g. "nn: 2 (Linear): input [64 785], weight [784 10]".
func (s *Sequential) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer s.Done(s, x, &y)
	for _, c := range s.layers {
		x = c.Forward(x)
	}
	return x
}

// Params returns the layers' parameters, prefixed with their names.
func (s *Sequential) Params() []Param { return CollectParams(s.layers) }

// Sublayers returns the named layers.
func (s *Sequential) Sublayers() []Named { return append([]Named(nil), s.layers...) }

// LayerList holds layers for a parent layer that runs them itself, as paddle.nn.LayerList: it
// names them by index and collects their parameters, but has no Forward of its own.
type LayerList struct {
	Hooks
	layers []Named
}

// NewLayerList returns a LayerList of layers.
func NewLayerList(layers ...Layer) *LayerList {
	l := &LayerList{}
	for _, x := range layers {
		l.Append(x)
	}
	return l
}

// Append adds x at the end.
func (l *LayerList) Append(x Layer) {
	l.layers = append(l.layers, Named{strconv.Itoa(len(l.layers)), x})
}

// Insert puts x at index i (0 ≤ i ≤ Len), renumbering the layers after it. It panics if i is out
// of range.
func (l *LayerList) Insert(i int, x Layer) {
	if i < 0 || i > len(l.layers) {
		panic(&Error{Layer: "LayerList", Msg: fmt.Sprintf("insert index %d out of range for %d layers", i, len(l.layers))})
	}
	l.layers = append(l.layers[:i], append([]Named{{Layer: x}}, l.layers[i:]...)...)
	for j := range l.layers {
		l.layers[j].Name = strconv.Itoa(j)
	}
}

// Len returns the number of layers.
func (l *LayerList) Len() int { return len(l.layers) }

// At returns layer i (negative counts from the end). It panics if i is out of range.
func (l *LayerList) At(i int) Layer { return at("LayerList", l.layers, i) }

// Forward panics: a LayerList is run by its parent, layer by layer.
func (l *LayerList) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	panicf(l, "a LayerList has no Forward; run its layers with At(i)")
	return nil
}

// Params returns the layers' parameters, prefixed with their indices.
func (l *LayerList) Params() []Param { return CollectParams(l.layers) }

// Sublayers returns the named layers.
func (l *LayerList) Sublayers() []Named { return append([]Named(nil), l.layers...) }
