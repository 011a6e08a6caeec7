package nn

import (
	"github.com/oarlab/oar/tensor"
)

// Layer is a network building block: it maps one input tensor to one output and owns trainable
// parameters. Layers hold state; the math is the tensor ops they call.
type Layer interface {
	// Forward computes the layer's output. It panics on inputs of the wrong shape with a message
	// naming the layer and the shapes.
	Forward(x *tensor.Tensor) *tensor.Tensor
	// Params returns the trainable parameters with dotted names relative to the layer
	// ("weight", "0.bias", "features.0.weight"), in a fixed order.
	Params() []Param
}

// Param is a named trainable tensor. The name is its state-dict key, like Paddle's structured
// names ("features.0.weight").
type Param struct {
	Name string
	*tensor.Tensor
}

// Parent is implemented by layers that hold other layers, so that Train, Eval, StateDict and
// Summary can walk the tree. Sublayers returns the direct children with their names.
type Parent interface {
	Sublayers() []Named
}

// Named is a layer with its name inside its parent ("0", "features", "fc").
type Named struct {
	Name string
	Layer
}

// Buffered is implemented by layers with state that is saved but not trained, such as
// BatchNorm2D's running mean and variance. Buffers returns it with names as Params does.
type Buffered interface {
	Buffers() []Param
}

// Trainer is implemented by layers that behave differently in training and evaluation (Dropout,
// BatchNorm2D). Train and Eval set the mode through it. Layers start in training mode, as in
// Paddle.
type Trainer interface {
	SetTraining(training bool)
	Training() bool
}

// RandomSource is implemented by layers that draw from a generator of their own (Dropout). A
// checkpoint keeps the generator's state, so that a resumed run draws the same numbers as an
// uninterrupted one.
type RandomSource interface {
	RandomState() []byte
	SetRandomState(state []byte) error
}

// Prefixed returns params with prefix and a dot prepended to each name.
func Prefixed(prefix string, params []Param) []Param {
	out := make([]Param, len(params))
	for i, p := range params {
		out[i] = Param{Name: prefix + "." + p.Name, Tensor: p.Tensor}
	}
	return out
}

// CollectParams returns the parameters of children, each prefixed with its child's name: the
// Params of a container.
func CollectParams(children []Named) []Param {
	var out []Param
	for _, c := range children {
		out = append(out, Prefixed(c.Name, c.Params())...)
	}
	return out
}

// Train puts l and every layer below it in training mode (Paddle's layer.train()).
func Train(l Layer) { setTraining(l, true) }

// Eval puts l and every layer below it in evaluation mode (Paddle's layer.eval()): Dropout passes
// its input through and BatchNorm2D uses its running statistics.
func Eval(l Layer) { setTraining(l, false) }

func setTraining(l Layer, training bool) {
	Walk(l, func(_ string, l Layer) {
		if t, ok := l.(Trainer); ok {
			t.SetTraining(training)
		}
	})
}

// Walk calls fn for l and every layer below it, parents before children, with the dotted path
// of each ("" for l itself).
func Walk(l Layer, fn func(path string, l Layer)) {
	type item struct {
		path string
		l    Layer
	}
	stack := []item{{"", l}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(it.path, it.l)
		if p, ok := it.l.(Parent); ok {
			subs := p.Sublayers()
			for i := len(subs) - 1; i >= 0; i-- { // reversed so that children pop in order
				path := subs[i].Name
				if it.path != "" {
					path = it.path + "." + path
				}
				stack = append(stack, item{path, subs[i].Layer})
			}
		}
	}
}
