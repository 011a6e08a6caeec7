package tensor

import "fmt"

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
	return out.record("CheckFinite", identity, t)
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

// graphed reports whether an op on inputs records a graph node (see record): some input requires
// a gradient and none is marked NoGrad.
func graphed(inputs ...*Tensor) bool {
	need := false
	for _, in := range inputs {
		if in == nil {
			continue
		}
		if in.noGrad {
			return false
		}
		need = need || in.requiresGrad
	}
	return need
}
