package tensor

import (
	"fmt"
	"slices"
)

// node records how a tensor was computed, for Backward.
type node struct {
	op     string    // the op's name, for messages and debugging
	inputs []*Tensor // the op's tensor inputs, in order
	// backward adds the gradient with respect to each input into gin[i], given the gradient g of
	// the output. gin[i] is nil when input i needs no gradient. Rules must add (+=), never assign:
	// the same tensor may appear as several inputs (x.Mul(x)), and then gin entries alias.
	backward func(g []float32, gin [][]float32)
}

// record attaches a graph node to out when some input requires a gradient and none is marked
// NoGrad; a NoGrad input makes out NoGrad too, so a whole forward pass started from a NoGrad input
// records nothing. It returns out.
func (out *Tensor) record(op string, backward func(g []float32, gin [][]float32), inputs ...*Tensor) *Tensor {
	need := false
	for _, in := range inputs {
		if in == nil {
			continue
		}
		if in.checkFinite && !out.checkFinite {
			out.checkFinite = true
			out.requireFinite(op, inputs)
		}
		if in.noGrad {
			out.noGrad = true
		}
		need = need || in.requiresGrad
	}
	if out.noGrad {
		return out
	}
	if need {
		out.requiresGrad = true
		out.node = &node{op: op, inputs: inputs, backward: backward}
	}
	return out
}

// RequiresGrad reports whether a gradient will be computed for t by Backward.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad sets whether Backward computes a gradient for the leaf t (Paddle's
// stop_gradient = !b) and returns t. It panics if t is the result of a recorded op: detach it first.
func (t *Tensor) SetRequiresGrad(b bool) *Tensor {
	if t.node != nil {
		panicf("SetRequiresGrad", "tensor of shape %v is the result of %s, not a leaf; use Detach", t.shape, t.node.op)
	}
	t.requiresGrad = b
	return t
}

// IsLeaf reports whether t was not computed by a recorded op (it was created directly, detached,
// or computed without a graph).
func (t *Tensor) IsLeaf() bool { return t.node == nil }

// Op returns the name of the op that produced t, or "" for a leaf.
func (t *Tensor) Op() string {
	if t.node == nil {
		return ""
	}
	return t.node.op
}

// Grad returns the gradient accumulated by Backward (same shape as t), or nil if none was.
func (t *Tensor) Grad() *Tensor { return t.grad }

// ClearGrad sets the accumulated gradient to zero, keeping its buffer (Paddle's clear_grad).
func (t *Tensor) ClearGrad() {
	if t.grad != nil {
		clear(t.grad.data)
	}
}

// Detach returns a tensor that shares t's data but has no graph and requires no gradient.
func (t *Tensor) Detach() *Tensor { return &Tensor{data: t.data, shape: t.shape} }

// NoGrad returns a view of t (same data) marked so that no op computed from it, directly or
// through other ops, records a graph: every such result is itself NoGrad and requires no gradient,
// even when the layer's parameters do. Use it for evaluation and prediction:
//
//	logits := net.Forward(x.NoGrad()) // no graph, no gradient memory
//
// The mark travels with the tensors, not with the goroutine or a global flag, so one goroutine can
// evaluate while another trains the same kind of model.
func (t *Tensor) NoGrad() *Tensor {
	return &Tensor{data: t.data, shape: t.shape, noGrad: true, checkFinite: t.checkFinite}
}

// IsNoGrad reports whether t carries the NoGrad mark.
func (t *Tensor) IsNoGrad() bool { return t.noGrad }

// CheckFinite returns t marked so that every op computed from it, directly or through other ops,
// checks its output and panics with a *NonFiniteError naming the op and its input shapes when an
// element is NaN or ±Inf: the first op that produced one. The result shares t's data and its
// gradient flows to t. Like NoGrad, the mark travels with the tensors, so it concerns only the
// computations that start from the marked input; it costs one pass over every output.
func (t *Tensor) CheckFinite() *Tensor {
	out := &Tensor{data: t.data, shape: t.shape, noGrad: t.noGrad, checkFinite: true}
	return out.record("CheckFinite", func(g []float32, gin [][]float32) { addTo(gin[0], g) }, t)
}

// NonFiniteError is the panic value of an op computed from a CheckFinite tensor whose output has
// a NaN or an infinity. errors.As also finds it as a *Error.
type NonFiniteError struct {
	Op    string  // the op whose output is not finite
	Msg   string  // the output's shape, the element and the inputs' shapes
	Index int     // the first non-finite element of the output
	Value float32 // its value
}

func (e *NonFiniteError) Error() string { return "tensor: " + e.Op + ": " + e.Msg }

// Unwrap returns the error as a plain *Error.
func (e *NonFiniteError) Unwrap() error { return &Error{Op: e.Op, Msg: e.Msg} }

// requireFinite panics with a *NonFiniteError if out has a NaN or an infinity.
func (out *Tensor) requireFinite(op string, inputs []*Tensor) {
	for i, v := range out.data {
		if v-v != 0 { // NaN or ±Inf
			shapes := make([][]int, 0, len(inputs))
			for _, in := range inputs {
				if in != nil {
					shapes = append(shapes, in.shape)
				}
			}
			panic(&NonFiniteError{Op: op, Msg: fmt.Sprintf("output %v has %v at element %d (inputs %v)", out.shape, v, i, shapes),
				Index: i, Value: v})
		}
	}
}

// BackwardOption changes how Backward runs.
type BackwardOption int

const (
	// RetainGraph keeps the graph after Backward so that it can be backpropagated again
	// (Paddle's retain_graph=True). Without it the graph is released as Backward walks it.
	RetainGraph BackwardOption = iota + 1
)

// Backward computes the gradient of the scalar t with respect to every leaf of its graph that
// requires one, adding it (+=) to the leaf's Grad until ClearGrad. The graph is released unless
// RetainGraph is given.
//
// It panics if t has more than one element (use BackwardWith), if t requires no gradient, or if
// the graph was already released by an earlier Backward.
func (t *Tensor) Backward(opts ...BackwardOption) {
	if len(t.data) != 1 {
		panicf("Backward", "output has shape %v, want one element; use BackwardWith to give its gradient", t.shape)
	}
	t.backward("Backward", []float32{1}, opts)
}

// BackwardWith is Backward for a tensor of any shape, seeded with grad (Paddle's grad_tensor):
// the leaves receive the vector-Jacobian product grad·∂t/∂leaf. A nil grad means ones.
// It panics if grad's shape differs from t's, and as Backward does.
func (t *Tensor) BackwardWith(grad *Tensor, opts ...BackwardOption) {
	var seed []float32
	if grad == nil {
		seed = make([]float32, len(t.data))
		for i := range seed {
			seed[i] = 1
		}
	} else {
		if !slices.Equal(grad.shape, t.shape) {
			panicf("BackwardWith", "grad shape %v differs from output shape %v", grad.shape, t.shape)
		}
		seed = slices.Clone(grad.data)
	}
	t.backward("BackwardWith", seed, opts)
}

func (t *Tensor) backward(op string, seed []float32, opts []BackwardOption) {
	retain := slices.Contains(opts, RetainGraph)
	if t.released {
		panicf(op, "the graph of this %v tensor was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", t.shape)
	}
	if !t.requiresGrad {
		panicf(op, "tensor of shape %v does not require a gradient: no leaf it was computed from has SetRequiresGrad(true)", t.shape)
	}
	order := topoOrder(op, t)
	grads := make(map[*Tensor][]float32, len(order))
	grads[t] = seed
	// order is a post-order (inputs before the tensors made from them): walk it backwards so that
	// every tensor's gradient is complete before its node runs.
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		g := grads[v]
		delete(grads, v) // free intermediate gradients as soon as they are used
		if g == nil {
			continue
		}
		if v.node == nil {
			v.accumulateGrad(g)
			continue
		}
		gin := make([][]float32, len(v.node.inputs))
		for j, in := range v.node.inputs {
			if in == nil || !in.requiresGrad {
				continue
			}
			buf, ok := grads[in]
			if !ok {
				buf = make([]float32, len(in.data))
				grads[in] = buf
			}
			gin[j] = buf
		}
		v.node.backward(g, gin)
		if !retain {
			v.node = nil
			v.released = true
		}
	}
}

// accumulateGrad adds g (which the caller gives up) into t's gradient.
func (t *Tensor) accumulateGrad(g []float32) {
	if t.grad == nil {
		t.grad = &Tensor{data: g, shape: t.shape}
		return
	}
	addTo(t.grad.data, g)
}

// topoOrder returns the tensors that require a gradient and are reachable from root, inputs
// before outputs. It walks with an explicit stack, so a chain of any length stays off the
// goroutine stack.
func topoOrder(op string, root *Tensor) []*Tensor {
	type frame struct {
		t    *Tensor
		next int // index of the next input to visit
	}
	visited := map[*Tensor]bool{root: true}
	var order []*Tensor
	stack := []frame{{t: root}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.t.node != nil && top.next < len(top.t.node.inputs) {
			in := top.t.node.inputs[top.next]
			top.next++
			if in != nil && in.requiresGrad && !visited[in] {
				if in.released {
					panicf(op, "the graph through a %v tensor (an input of %s) was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", in.shape, top.t.node.op)
				}
				visited[in] = true
				stack = append(stack, frame{t: in})
			}
			continue
		}
		order = append(order, top.t)
		stack = stack[:len(stack)-1]
	}
	return order
}
