package tensor

import (
	"fmt"
	"slices"
	"sync"

	"github.com/oarlab/oar/internal/kernel"
)

// node records how a tensor was computed, for Backward. It lives inside the tensor it computed
// (Tensor.nodeStore), so recording costs no allocation besides the backward closure.
type node struct {
	op     string    // the op's name, for messages and debugging
	inputs []*Tensor // the op's tensor inputs, in order
	// backward adds the gradient with respect to each input into gin[i], given the gradient g of
	// the output. gin[i] is nil when input i needs no gradient. Rules must add (+=), never assign:
	// the same tensor may appear as several inputs (x.Mul(x)), and then gin entries alias.
	// Neither g nor gin may be retained after the call: their buffers are reused.
	backward func(g []float32, gin [][]float32)
	// backwardTo, when set, is used instead of backward. It is the same rule, told by bit i of
	// fresh that gin[i] is a new buffer with undefined contents, which it must overwrite entirely
	// instead of adding to. Only inputs whose bit is set in assignable (and that appear once among
	// the inputs) are given fresh buffers; that saves clearing a buffer and reading it back.
	backwardTo func(g []float32, gin [][]float32, fresh uint)
	assignable uint8
	// identity marks an op whose input gradient is its output gradient (Reshape): when the input
	// has no gradient buffer yet, it takes over the output's instead of a copy.
	identity bool
	// scratch, when set, is pooled memory that only the backward rule reads (MaxPool's winners),
	// given back to the pool when the node is released.
	scratch *[]float32
	inStore [3]*Tensor // inline storage for inputs
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
		n := &out.nodeStore
		n.op, n.backward = op, backward
		if len(inputs) <= len(n.inStore) {
			n.inputs = n.inStore[:copy(n.inStore[:], inputs):len(inputs)]
		} else {
			n.inputs = slices.Clone(inputs)
		}
		out.node = n
	}
	return out
}

// recordTo is record with a rule that may overwrite fresh gradient buffers (see node.backwardTo)
// of the inputs whose bit is set in assignable.
func (out *Tensor) recordTo(op string, backwardTo func(g []float32, gin [][]float32, fresh uint), assignable uint8, inputs ...*Tensor) *Tensor {
	out.record(op, nil, inputs...)
	if out.node != nil {
		out.node.backwardTo, out.node.assignable = backwardTo, assignable
	}
	return out
}

// holdScratch hands buf (from kernel.GetBuf or GetInt32Buf) to out's node, which gives it back
// when it is released after Backward; without a node (no graph recorded) it goes back at once. A
// graph that is never run back leaves its buffers to the garbage collector. It returns out.
func (out *Tensor) holdScratch(buf *[]float32) *Tensor {
	switch {
	case buf == nil:
	case out.node == nil:
		kernel.PutBuf(buf)
	default:
		out.node.scratch = buf
	}
	return out
}

// release frees t's node after Backward: the inputs and the closure become unreachable from t.
func (t *Tensor) release() {
	if t.nodeStore.scratch != nil {
		kernel.PutBuf(t.nodeStore.scratch)
	}
	t.node = nil
	t.nodeStore = node{}
	t.released = true
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
func (t *Tensor) Detach() *Tensor { return newTensor(t.data, t.shape) }

// NoGrad returns a view of t (same data) marked so that no op computed from it, directly or
// through other ops, records a graph: every such result is itself NoGrad and requires no gradient,
// even when the layer's parameters do. Use it for evaluation and prediction:
//
//	logits := net.Forward(x.NoGrad()) // no graph, no gradient memory
//
// The mark travels with the tensors, not with the goroutine or a global flag, so one goroutine can
// evaluate while another trains the same kind of model.
func (t *Tensor) NoGrad() *Tensor {
	out := newTensor(t.data, t.shape)
	out.noGrad, out.checkFinite = true, t.checkFinite
	return out
}

// IsNoGrad reports whether t carries the NoGrad mark.
func (t *Tensor) IsNoGrad() bool { return t.noGrad }

// CheckFinite returns t marked so that every op computed from it, directly or through other ops,
// checks its output and panics with a *NonFiniteError naming the op and its input shapes when an
// element is NaN or ±Inf: the first op that produced one. The result shares t's data and its
// gradient flows to t. Like NoGrad, the mark travels with the tensors, so it concerns only the
// computations that start from the marked input; it costs one pass over every output.
func (t *Tensor) CheckFinite() *Tensor {
	out := newTensor(t.data, t.shape)
	out.noGrad, out.checkFinite = t.noGrad, true
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
	seed := kernel.GetBuf(1)
	(*seed)[0] = 1
	t.backward("Backward", seed, opts)
}

// BackwardWith is Backward for a tensor of any shape, seeded with grad (Paddle's grad_tensor):
// the leaves receive the vector-Jacobian product grad·∂t/∂leaf. A nil grad means ones.
// It panics if grad's shape differs from t's, and as Backward does.
func (t *Tensor) BackwardWith(grad *Tensor, opts ...BackwardOption) {
	if grad != nil && !slices.Equal(grad.shape, t.shape) {
		panicf("BackwardWith", "grad shape %v differs from output shape %v", grad.shape, t.shape)
	}
	seed := kernel.GetBuf(len(t.data))
	if grad == nil {
		for i := range *seed {
			(*seed)[i] = 1
		}
	} else {
		copy(*seed, grad.data)
	}
	t.backward("BackwardWith", seed, opts)
}

func (t *Tensor) backward(op string, seed *[]float32, opts []BackwardOption) {
	retain := slices.Contains(opts, RetainGraph)
	if t.released {
		kernel.PutBuf(seed)
		panicf(op, "the graph of this %v tensor was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", t.shape)
	}
	if !t.requiresGrad {
		kernel.PutBuf(seed)
		panicf(op, "tensor of shape %v does not require a gradient: no leaf it was computed from has SetRequiresGrad(true)", t.shape)
	}
	if t.node == nil { // a leaf: its gradient is the seed
		t.leafGrad()
		addTo(t.grad.data, *seed)
		kernel.PutBuf(seed)
		return
	}
	st := getBackwardState()
	defer putBackwardState(st)
	st.topoOrder(op, t)
	order, grads := st.order, st.grads
	grads[len(order)-1] = seed // the root comes last in a post-order
	// order is a post-order (inputs before the tensors made from them): walk it backwards so that
	// every tensor's gradient is complete before its node runs. Only non-leaf tensors are in
	// order; a leaf's gradient is accumulated straight into its Grad.
	for i := len(order) - 1; i >= 0; i-- {
		v, g := order[i], grads[i]
		grads[i] = nil
		n := v.node
		if n.identity && n.inputs[0].requiresGrad && n.inputs[0].node != nil {
			if j := st.index[n.inputs[0]]; grads[j] == nil { // hand g over instead of copying it
				grads[j] = g
				if !retain {
					v.release()
				}
				continue
			}
		}
		gin := st.gin[:0]
		var fresh uint
		for k, in := range n.inputs {
			var buf []float32
			switch {
			case in == nil || !in.requiresGrad:
			case in.node == nil: // a leaf
				buf = in.leafGrad()
			default:
				j := st.index[in]
				if grads[j] == nil {
					if n.backwardTo != nil && n.assignable&(1<<k) != 0 && once(n.inputs, in) {
						grads[j] = kernel.GetBuf(len(in.data))
						fresh |= 1 << k
					} else {
						grads[j] = kernel.GetZeroBuf(len(in.data))
					}
				}
				buf = *grads[j]
			}
			gin = append(gin, buf)
		}
		st.gin = gin
		if n.backwardTo != nil {
			n.backwardTo(*g, gin, fresh)
		} else {
			n.backward(*g, gin)
		}
		clear(gin)
		kernel.PutBuf(g) // no rule keeps g, so its buffer is free again
		if !retain {
			v.release()
		}
	}
}

// once reports whether t appears exactly once in ts.
func once(ts []*Tensor, t *Tensor) bool {
	n := 0
	for _, u := range ts {
		if u == t {
			n++
		}
	}
	return n == 1
}

// leafGrad returns the leaf's gradient buffer, allocating it (zeroed) on first use.
func (t *Tensor) leafGrad() []float32 {
	if t.grad == nil {
		t.grad = newTensor(make([]float32, len(t.data)), t.shape)
	}
	return t.grad.data
}

// backwardState is the scratch memory of one Backward, pooled so that a steady-state training
// step allocates nothing for it.
type backwardState struct {
	index map[*Tensor]int // position in order of each non-leaf tensor visited
	order []*Tensor
	grads []*[]float32 // gradient buffer of order[i], pooled; nil until some rule needs it
	stack []frame
	gin   [][]float32
}

type frame struct {
	t    *Tensor
	next int // index of the next input to visit
}

var backwardStates = sync.Pool{New: func() any {
	return &backwardState{index: make(map[*Tensor]int)}
}}

func getBackwardState() *backwardState { return backwardStates.Get().(*backwardState) }

func putBackwardState(st *backwardState) {
	for _, g := range st.grads { // left over only when a rule panicked
		if g != nil {
			kernel.PutBuf(g)
		}
	}
	clear(st.index)
	clear(st.order)
	clear(st.grads)
	clear(st.stack)
	st.order, st.grads, st.stack = st.order[:0], st.grads[:0], st.stack[:0]
	backwardStates.Put(st)
}

// topoOrder fills st.order with the non-leaf tensors that require a gradient and are reachable
// from root, inputs before outputs, and st.index with their positions. It walks with an explicit
// stack, so a chain of any length stays off the goroutine stack.
func (st *backwardState) topoOrder(op string, root *Tensor) {
	st.index[root] = -1
	st.stack = append(st.stack, frame{t: root})
	for len(st.stack) > 0 {
		top := &st.stack[len(st.stack)-1]
		if top.next < len(top.t.node.inputs) {
			in := top.t.node.inputs[top.next]
			top.next++
			if in == nil || !in.requiresGrad {
				continue
			}
			if in.released {
				panicf(op, "the graph through a %v tensor (an input of %s) was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", in.shape, top.t.node.op)
			}
			if in.node == nil { // a leaf
				continue
			}
			if _, seen := st.index[in]; !seen {
				st.index[in] = -1
				st.stack = append(st.stack, frame{t: in})
			}
			continue
		}
		st.index[top.t] = len(st.order)
		st.order = append(st.order, top.t)
		st.stack = st.stack[:len(st.stack)-1]
	}
	st.grads = slices.Grow(st.grads, len(st.order))[:len(st.order)]
}
