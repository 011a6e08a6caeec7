package nn

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/oarlab/oar/tensor"
)

// Sequential runs its layers in order, each on the previous one's output, as
// paddle.nn.Sequential. Children are named by their index ("0", "1", ...) unless given names
// with NewSequentialNamed, and their parameters are prefixed with those names ("0.weight").
type Sequential struct {
	layers   []Named
	observer func(path string, l Layer, in, out *tensor.Tensor) // set by Observe, for Summary
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

// Append adds l at the end, named by its index.
func (s *Sequential) Append(l Layer) { s.add(Named{strconv.Itoa(len(s.layers)), l}) }

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

// Forward runs the layers in order. A panic in a layer names its path, e.g.
// "nn: 2 (Linear): input [64 785], weight [784 10]".
//
// A Conv2D followed by a ReLU and a MaxPool2D runs as one tensor.Conv2DReLUMaxPool, whose values
// and gradients are bit for bit those of the three layers, but which never stores the two
// full-size intermediate outputs (unless Observe watches the layers: then each runs on its own).
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	for i := 0; i < len(s.layers); i++ {
		if s.observer == nil {
			if y, ok := convReLUPool(s.layers[i:], x); ok {
				x = y
				i += 2
				continue
			}
		}
		c := s.layers[i]
		y := Run(c.Name, c.Layer, x)
		if s.observer != nil {
			s.observer(c.Name, c.Layer, x, y)
		}
		x = y
	}
	return x
}

// convReLUPool runs layers[:3] as one tensor.Conv2DReLUMaxPool if they are a Conv2D, a ReLU and a
// MaxPool2D. ok is false if they are not, or if the fused op rejects x (a tensor error): the
// layers then run one by one, so that the error names the layer at fault.
func convReLUPool(layers []Named, x *tensor.Tensor) (y *tensor.Tensor, ok bool) {
	if len(layers) < 3 {
		return nil, false
	}
	conv, isConv := layers[0].Layer.(*Conv2D)
	pool, isPool := layers[2].Layer.(*MaxPool2D)
	switch r := layers[1].Layer.(type) {
	case ReLU:
	case *ReLU:
		if r == nil {
			return nil, false
		}
	default:
		return nil, false
	}
	if !isConv || !isPool || conv == nil || pool == nil {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			var te *tensor.Error
			if err, isErr := r.(error); !isErr || !errors.As(err, &te) {
				panic(r)
			}
			y, ok = nil, false
		}
	}()
	return x.Conv2DReLUMaxPool(conv.Weight, conv.Bias, conv.Options, pool.Options), true
}

// Params returns the layers' parameters, prefixed with their names.
func (s *Sequential) Params() []Param { return CollectParams(s.layers) }

// Sublayers returns the named layers.
func (s *Sequential) Sublayers() []Named { return append([]Named(nil), s.layers...) }

// LayerList holds layers for a parent layer that runs them itself, as paddle.nn.LayerList: it
// names them by index and collects their parameters, but has no Forward of its own.
type LayerList struct{ layers []Named }

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
func (l *LayerList) Forward(*tensor.Tensor) *tensor.Tensor {
	panic(&Error{Layer: "LayerList", Msg: "a LayerList has no Forward; run its layers with At(i)"})
}

// Params returns the layers' parameters, prefixed with their indices.
func (l *LayerList) Params() []Param { return CollectParams(l.layers) }

// Sublayers returns the named layers.
func (l *LayerList) Sublayers() []Named { return append([]Named(nil), l.layers...) }

// Observe calls fn after every layer that a Sequential inside root (or root itself) runs, with
// the layer's dotted path from root, its input and its output, until the returned function is
// called. It is
// how Summary records output shapes (Paddle's forward post-hooks). It is not safe to use while root
// runs on another goroutine.
func Observe(root Layer, fn func(path string, l Layer, in, out *tensor.Tensor)) (stop func()) {
	var seqs []*Sequential
	Walk(root, func(path string, l Layer) {
		if s, ok := l.(*Sequential); ok {
			prefix := path
			s.observer = func(name string, l Layer, in, out *tensor.Tensor) { fn(joinPath(prefix, name), l, in, out) }
			seqs = append(seqs, s)
		}
	})
	return func() {
		for _, s := range seqs {
			s.observer = nil
		}
	}
}
