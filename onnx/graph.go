package onnx

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// Graph is an imported ONNX model: an nn.Layer that runs the model's graph on oar's tensor ops,
// so that gradients flow through it to its parameters.
//
// Its parameters (Params) are the float initializers that nodes consume as data (weights,
// biases, BatchNormalization's scale and bias), named by their ONNX names ("features.0.weight",
// "onnx::Conv_12"), in the file's order, requiring gradients: an optimizer built on them
// fine-tunes the model. Its buffers (Buffers) are BatchNormalization's running mean and variance.
// Integer initializers (shapes, axes, indices) and float ones read only as hyper-parameters
// (Clip's bounds, Pow's exponent) are constants.
//
// Import returns a Graph that runs as the model file says: Dropout and BatchNormalization nodes
// are in evaluation mode (Dropout passes its input through, BatchNormalization uses the running
// statistics) unless their own training_mode says otherwise, as in a model exported in training
// mode. SetTraining (nn.Train, nn.Eval) then sets every such node's mode: in training, Dropout
// nodes drop with their ratio and BatchNormalization nodes normalize with the batch's statistics
// and update the running ones in Buffers, as nn.Dropout and nn.BatchNorm2D do; in evaluation
// they do neither.
//
// Integer inputs and outputs (Reshape's shape, Gather's indices, Shape's result) travel as
// float32 tensors through Forward and Run; they are exact below 2^24.
//
// Several goroutines may run a Graph at once while no node trains; a training Dropout draws from
// the graph's generator and a training BatchNormalization writes its buffers.
type Graph struct {
	nn.Hooks
	model    *onnxpb.ModelProto
	opset    int
	nodes    []*node           // in an order where inputs are computed first
	inits    map[string]*value // every initializer by name
	inputs   []port            // the inputs fed by the caller (initializers excluded)
	outputs  []port
	params   []nn.Param
	buffers  []nn.Param
	training bool // the mode SetTraining set, if modeSet
	modeSet  bool
	pcg      *rand.PCG  // the generator of Dropout's masks (fixed seed: a graph drops as the last import did)
	rng      *rand.Rand // drawing from pcg
}

// Forward runs the graph on its one input x and returns its first output. It panics (with an
// *nn.Error naming the graph and the node at fault) if the graph does not have exactly one
// input, or where Run returns an error.
func (g *Graph) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer g.Done(g, x, &y)
	if len(g.inputs) != 1 {
		panic(&nn.Error{Layer: "Graph", Msg: fmt.Sprintf("Forward needs a graph of one input, this one has %d (%v): use Run", len(g.inputs), g.InputNames())})
	}
	outs, err := g.Run(x)
	if err != nil {
		panic(&nn.Error{Layer: "Graph", Msg: err.Error(), Err: errors.Unwrap(err)})
	}
	return outs[0]
}

// Run runs the graph on inputs, one per graph input in the order of InputNames, and returns one
// tensor per graph output in the order of OutputNames. The shapes are the model's (see
// InputShapes); an input for an integer graph input holds integers. The float outputs record
// autograd, so a loss computed from them backpropagates to Params.
//
// It returns an error if the number of inputs differs from the graph's, an input's shape
// contradicts a fixed dimension of the model, an integer input holds a non-integer, or a node
// cannot compute its output (shapes that do not fit, an index out of range); the error names the
// node: `onnx: node "conv1" (Conv): tensor: Conv2D: ...`.
func (g *Graph) Run(inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(inputs) != len(g.inputs) {
		return nil, fmt.Errorf("onnx: Run got %d inputs, the graph takes %d (%v)", len(inputs), len(g.inputs), g.InputNames())
	}
	vals := make([]*value, len(inputs))
	for k, x := range inputs {
		p := g.inputs[k]
		if x == nil {
			return nil, fmt.Errorf("onnx: input %q is nil", p.name)
		}
		if err := p.fits(x.Shape()); err != nil {
			return nil, err
		}
		if p.dtype == tFloat || p.dtype == tUndefined {
			vals[k] = floatValue(x)
			continue
		}
		d := make([]int64, x.Len())
		for i, f := range x.Data() {
			if f != float32(math.Trunc(float64(f))) {
				return nil, fmt.Errorf("onnx: input %q is %s, element %d is %v", p.name, typeName(p.dtype), i, f)
			}
			d[i] = wrap(p.dtype, int64(f))
		}
		vals[k] = intValue(p.dtype, d, x.Shape())
	}
	outs, err := g.run(vals)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(outs))
	for k, v := range outs {
		res[k] = v.asFloat()
	}
	return res, nil
}

func (p port) fits(shape []int) error {
	if p.shape == nil {
		return nil
	}
	ok := len(shape) == len(p.shape)
	for d := 0; ok && d < len(shape); d++ {
		ok = p.shape[d] < 0 || p.shape[d] == shape[d]
	}
	if !ok {
		return fmt.Errorf("onnx: input %q has shape %v, the model wants %v (-1: any)", p.name, shape, p.shape)
	}
	return nil
}

// nodeError is a failure of one node at run time.
type nodeError struct {
	label string
	err   error
}

func (e *nodeError) Error() string { return "onnx: " + e.label + ": " + e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// run evaluates the graph on values for its inputs. A node's panic (a tensor op given shapes
// that do not fit, or the node's own check) becomes an error naming the node.
func (g *Graph) run(inputs []*value) (outs []*value, err error) {
	env := make(map[string]*value, len(g.inits)+len(g.nodes))
	for name, v := range g.inits {
		env[name] = v
	}
	for k, p := range g.inputs {
		env[p.name] = inputs[k]
	}
	for _, n := range g.nodes {
		in := make([]*value, len(n.in))
		for k, name := range n.in {
			if name != "" {
				in[k] = env[name]
			}
		}
		res, err := g.runNode(n, in)
		if err != nil {
			return nil, err
		}
		for k, name := range n.out {
			if name != "" && k < len(res) {
				env[name] = res[k]
			}
		}
	}
	outs = make([]*value, len(g.outputs))
	for k, p := range g.outputs {
		if outs[k] = env[p.name]; outs[k] == nil {
			return nil, fmt.Errorf("onnx: graph output %q was not computed", p.name)
		}
	}
	return outs, nil
}

func (g *Graph) runNode(n *node, in []*value) (res []*value, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			var re runtimeError
			if errors.As(e, &re) {
				panic(r) // a bug in Go, not in the model
			}
			err = &nodeError{n.label, e}
		}
	}()
	x := &exec{g: g, n: n}
	return n.spec.run(x, in), nil
}

type runtimeError interface {
	error
	RuntimeError()
}

// exec is the context of one node's run.
type exec struct {
	g *Graph
	n *node
}

// failf stops the node with an error (Run turns it into an error naming the node).
func (x *exec) failf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}

// Params returns the trainable parameters: the float initializers consumed as data, named by
// their ONNX names, in the file's order. They require gradients.
func (g *Graph) Params() []nn.Param { return slices.Clone(g.params) }

// Buffers returns BatchNormalization's running means and variances, by their ONNX names.
func (g *Graph) Buffers() []nn.Param { return slices.Clone(g.buffers) }

// SetTraining puts every Dropout and BatchNormalization node in training or evaluation mode,
// whatever their training_mode says (see Graph).
func (g *Graph) SetTraining(training bool) { g.training, g.modeSet = training, true }

// Training reports whether SetTraining put the graph in training mode. It is false for a graph
// just imported, whose nodes run as the file says.
func (g *Graph) Training() bool { return g.training }

// nodeTraining returns whether a Dropout or BatchNormalization node runs in training mode: as
// SetTraining said, or else as the node's own training_mode says.
func (g *Graph) nodeTraining(own bool) bool {
	if g.modeSet {
		return g.training
	}
	return own
}

// Opset returns the version of the default ONNX operator set the model uses.
func (g *Graph) Opset() int { return g.opset }

// InputNames returns the names of the inputs Run takes, in order (initializers excluded).
func (g *Graph) InputNames() []string { return portNames(g.inputs) }

// OutputNames returns the names of the outputs Run returns, in order.
func (g *Graph) OutputNames() []string { return portNames(g.outputs) }

// InputShapes returns the shape the model declares for each input, -1 for a dimension it leaves
// free (a symbolic batch size); nil for an input whose shape it does not give.
func (g *Graph) InputShapes() [][]int { return portShapes(g.inputs) }

// OutputShapes returns the shape the model declares for each output, as InputShapes.
func (g *Graph) OutputShapes() [][]int { return portShapes(g.outputs) }

func portNames(ps []port) []string {
	s := make([]string, len(ps))
	for k, p := range ps {
		s[k] = p.name
	}
	return s
}

func portShapes(ps []port) [][]int {
	s := make([][]int, len(ps))
	for k, p := range ps {
		s[k] = slices.Clone(p.shape)
	}
	return s
}

// RandomState returns the state of the generator of the Dropout nodes' masks (nn.RandomSource),
// so that a checkpoint resumes the same masks.
func (g *Graph) RandomState() []byte {
	b, _ := g.pcg.MarshalBinary() // a PCG always marshals
	return b
}

// SetRandomState restores a state returned by RandomState. It returns an error, and changes
// nothing, if state is not one.
func (g *Graph) SetRandomState(state []byte) error {
	var p rand.PCG
	if err := p.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("onnx: Graph random state: %w", err)
	}
	*g.pcg = p
	return nil
}

var (
	_ nn.RandomSource = (*Graph)(nil)
	_ nn.Layer        = (*Graph)(nil)
	_ nn.Buffered     = (*Graph)(nil)
	_ nn.Trainer      = (*Graph)(nil)
)
