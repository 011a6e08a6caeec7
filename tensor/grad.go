package tensor

import "slices"

// The autograd API: which tensors get a gradient, where it is read, and how Backward is started.
// The engine behind it, and the rule an op records, are in autograd.go.

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

// Inputs returns the tensor inputs of the op that produced t, in the op's order (nil for an
// absent optional one, such as a missing bias), or nil for a leaf. It lets a tool walk the
// recorded graph, as the ONNX exporter does; the graph is gone after a Backward without
// RetainGraph. The caller must not modify the returned slice.
func (t *Tensor) Inputs() []*Tensor {
	if t.node == nil {
		return nil
	}
	return t.node.inputs
}

// Grad returns the gradient accumulated by Backward (same shape as t), or nil if none was.
func (t *Tensor) Grad() *Tensor {
	if t.gradZero {
		t.gradZero = false // the caller may write to it: the next Backward adds to what it holds
	}
	return t.grad
}

// ClearGrad sets the accumulated gradient to zero, keeping its buffer (Paddle's clear_grad). The
// next Backward then writes the gradient into it instead of adding it.
func (t *Tensor) ClearGrad() {
	if t.grad != nil {
		clear(t.grad.data)
		t.gradZero = true
	}
}

// Detach returns a tensor that shares t's data but has no graph and requires no gradient.
func (t *Tensor) Detach() *Tensor { return newTensor(t.data, t.shape) }

// BackwardOption changes how Backward runs.
type BackwardOption int

// RetainGraph keeps the graph after Backward so that it can be backpropagated again (Paddle's
// retain_graph=True). Without it the graph is released as Backward walks it.
const RetainGraph BackwardOption = 1

// Backward computes the gradient of the scalar t with respect to every leaf of its graph that
// requires one, adding it to the leaf's Grad until ClearGrad. The graph is released unless
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
	if grad == nil {
		grad = Ones(t.shape...)
	}
	if !slices.Equal(grad.shape, t.shape) {
		panicf("BackwardWith", "grad shape %v differs from output shape %v", grad.shape, t.shape)
	}
	t.backward("BackwardWith", grad.data, opts)
}
