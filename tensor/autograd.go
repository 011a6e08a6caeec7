package tensor

import (
	"slices"
	"sync"

	"github.com/oarlab/oar/internal/kernel"
)

// A rule is an op's backward pass, the one shape every op's gradient takes. Given g, the gradient
// of the op's output, it writes the gradient with respect to each input i into gin[i]: a buffer
// of input i's size whose contents are undefined, or nil when input i needs no gradient. A rule
// assigns every element of gin[i] and never reads it; it keeps neither g nor gin after it returns.
//
// Summing is the engine's job: Backward hands a rule the input's own gradient buffer when that
// holds nothing yet (the common case, at no cost), and otherwise (a fan-out, x.Mul(x), a leaf
// whose Grad holds an earlier Backward's sum) a scratch buffer that it adds in after the rule.
type rule func(g []float32, gin [][]float32)

// identity is the rule of an op whose output gradient is its input's (Reshape, Clone).
func identity(g []float32, gin [][]float32) { copy(gin[0], g) }

// node records how a tensor was computed. It lives inside the tensor it computed
// (Tensor.nodeStore), so recording costs no allocation besides the rule's closure.
type node struct {
	op      string    // the op's name, for messages and debugging
	inputs  []*Tensor // the op's tensor inputs, in order (nil for an absent optional one)
	rule    rule
	scratch *[]float32 // pooled memory only the rule reads (MaxPool's winners); see holdScratch
	inStore [3]*Tensor // inline storage for inputs
}

// record attaches a node {op, inputs, rule} to out when some input requires a gradient and none
// is marked NoGrad; a NoGrad input makes out NoGrad too, so a whole forward pass started from a
// NoGrad input records nothing. It returns out.
func (out *Tensor) record(op string, r rule, inputs ...*Tensor) *Tensor {
	need := false
	for _, in := range inputs {
		if in == nil {
			continue
		}
		if in.checkFinite && !out.checkFinite {
			out.checkFinite = true
			out.requireFinite(op, inputs)
		}
		out.noGrad = out.noGrad || in.noGrad
		need = need || in.requiresGrad
	}
	if out.noGrad || !need {
		return out
	}
	n := &out.nodeStore
	n.op, n.rule, n.inputs = op, r, append(n.inStore[:0], inputs...)
	out.node, out.requiresGrad = n, true
	return out
}

// holdScratch gives buf (nil, or from kernel.GetBuf or GetInt32Buf) to out's node, which puts it
// back when Backward releases the node; without a node it goes back at once. It returns out.
func (out *Tensor) holdScratch(buf *[]float32) *Tensor {
	if out.node != nil {
		out.node.scratch = buf
	} else if buf != nil {
		kernel.PutBuf(buf)
	}
	return out
}

// release frees t's node after Backward: the inputs and the rule become unreachable from t.
func (t *Tensor) release() {
	if t.nodeStore.scratch != nil {
		kernel.PutBuf(t.nodeStore.scratch)
	}
	t.node, t.nodeStore, t.released = nil, node{}, true
}

// backward walks the graph from t, whose gradient is seed, in reverse topological order, so that
// each tensor's gradient is complete before its rule runs.
func (t *Tensor) backward(op string, seed []float32, opts []BackwardOption) {
	if t.released {
		panicf(op, "the graph of this %v tensor was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", t.shape)
	}
	if !t.requiresGrad {
		panicf(op, "tensor of shape %v does not require a gradient: no leaf it was computed from has SetRequiresGrad(true)", t.shape)
	}
	st := backwardStates.Get().(*backwardState)
	defer st.free()
	st.topoOrder(op, t)
	st.run(identity, seed, []*Tensor{t})
	retain := slices.Contains(opts, RetainGraph)
	for i := len(st.order) - 1; i >= 0; i-- {
		v := st.order[i]
		g := v.partial
		v.partial = nil
		st.run(v.node.rule, *g, v.node.inputs)
		kernel.PutBuf(g) // no rule keeps g
		if !retain {
			v.release()
		}
	}
}

// run calls r with the output gradient g and, for each input, where its gradient goes (see rule);
// then it adds the scratch buffers into the inputs' gradients, in input order.
func (st *backwardState) run(r rule, g []float32, inputs []*Tensor) {
	gin, adds := st.gin[:0], st.adds[:0]
	for _, in := range inputs {
		var buf []float32
		if in != nil && in.requiresGrad {
			var empty bool
			if buf, empty = in.gradBuffer(); !empty {
				adds = append(adds, pendingAdd{buf, kernel.GetBuf(len(buf))})
				buf = *adds[len(adds)-1].src
			}
		}
		gin = append(gin, buf)
	}
	r(g, gin)
	for _, a := range adds {
		addTo(a.dst, *a.src)
		kernel.PutBuf(a.src)
	}
	clear(gin)
	clear(adds)
	st.gin, st.adds = gin, adds
}

// gradBuffer returns t's gradient buffer (its Grad for a leaf) and whether it held no partial
// gradient, so that a rule may write straight into it. From then on it holds one.
func (t *Tensor) gradBuffer() (buf []float32, empty bool) {
	if t.node != nil {
		if empty = t.partial == nil; empty {
			t.partial = kernel.GetBuf(len(t.data))
		}
		return *t.partial, empty
	}
	if t.grad == nil {
		t.grad, t.gradZero = newTensor(make([]float32, len(t.data)), t.shape), true
	}
	empty, t.gradZero = t.gradZero, false
	return t.grad.data, empty
}

// backwardState is the scratch memory of one Backward, pooled so that a steady-state training
// step allocates nothing for it.
type backwardState struct {
	done  map[*Tensor]bool // visited by topoOrder: false while its inputs are, true after
	order []*Tensor        // the non-leaf tensors to visit, inputs before the tensors made from them
	stack []*Tensor
	gin   [][]float32
	adds  []pendingAdd
}

// pendingAdd is a scratch buffer src that a rule wrote, to be added into the gradient dst.
type pendingAdd struct {
	dst []float32
	src *[]float32
}

var backwardStates = sync.Pool{New: func() any { return &backwardState{done: make(map[*Tensor]bool)} }}

func (st *backwardState) free() {
	for _, v := range st.order {
		v.partial = nil // set only if a rule panicked
	}
	clear(st.done)
	clear(st.order)
	clear(st.stack)
	st.order, st.stack = st.order[:0], st.stack[:0]
	backwardStates.Put(st)
}

// topoOrder lists in st.order the non-leaf tensors that require a gradient and are reachable from
// root, inputs before outputs (a depth-first post-order). It walks with an explicit stack, so a
// chain of any length stays off the goroutine stack.
func (st *backwardState) topoOrder(op string, root *Tensor) {
	if root.node != nil {
		st.stack = append(st.stack, root)
	}
	for len(st.stack) > 0 {
		v := st.stack[len(st.stack)-1]
		if done, seen := st.done[v]; seen { // its inputs are listed: list it (once)
			if st.stack = st.stack[:len(st.stack)-1]; !done {
				st.done[v] = true
				st.order = append(st.order, v)
			}
			continue
		}
		st.done[v] = false
		for _, in := range slices.Backward(v.node.inputs) { // so that they are listed in order
			switch {
			case in == nil || !in.requiresGrad || st.done[in]:
			case in.released:
				panicf(op, "the graph through a %v tensor (an input of %s) was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice", in.shape, v.node.op)
			case in.node != nil:
				st.stack = append(st.stack, in)
			}
		}
	}
}
