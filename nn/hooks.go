package nn

import (
	"errors"

	"github.com/oarlab/oar/tensor"
)

// ForwardPostHook is called after a layer's Forward returns, with the layer, its input and its
// output, as Paddle's forward post-hook (register_forward_post_hook). A non-nil result replaces
// the output.
type ForwardPostHook func(l Layer, in, out *tensor.Tensor) *tensor.Tensor

// Hooks is embedded by every layer, built-in or custom: it holds the layer's forward post-hooks,
// and its Done, deferred at the top of the layer's Forward, is the one place where they run and
// where a panic inside the layer becomes an *Error with the layer's path. A custom layer follows
// the same pattern as the built-ins:
//
//	type Scale struct {
//		nn.Hooks
//		Weight *tensor.Tensor
//	}
//
//	func (l *Scale) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
//		defer l.Done(l, x, &y)
//		return x.Mul(l.Weight)
//	}
//
// It then gets its own Summary row and its errors name it. A layer that does not embed Hooks
// still works, but has neither.
//
// The zero value has no hooks. Registering or removing a hook is not safe while the layer runs
// on another goroutine.
type Hooks struct {
	post []postHook
	next int
}

type postHook struct {
	id int
	fn ForwardPostHook
}

// RegisterForwardPostHook adds hook, called after every Forward of the layer that embeds h, after
// the hooks registered before it, until remove is called.
func (h *Hooks) RegisterForwardPostHook(hook ForwardPostHook) (remove func()) {
	h.next++
	id := h.next
	h.post = append(h.post[:len(h.post):len(h.post)], postHook{id, hook})
	return func() {
		for i, p := range h.post {
			if p.id == id {
				h.post = append(h.post[:i:i], h.post[i+1:]...) // a copy: a running Forward keeps its slice
				return
			}
		}
	}
}

// hooks identifies the layer that embeds h (for the paths of errors).
func (h *Hooks) hooks() *Hooks { return h }

// hooked is a layer that embeds Hooks.
type hooked interface {
	Layer
	hooks() *Hooks
}

// Done ends the Forward of l, the layer that embeds h: every layer defers it first thing in its
// Forward, with its input and the address of its named result (see Hooks). Defer Done itself,
// not a closure that calls it: it recovers the layer's panic.
//
// When Forward returns, Done calls the forward post-hooks in order. When Forward panics, Done
// turns the panic into an *Error: a tensor error (*tensor.Error, *tensor.NonFiniteError) becomes
// an *Error naming l, an *Error raised by l's own checks names l, and an *Error from a layer
// below l gets the dotted path of that layer from l. As the panic unwinds through each enclosing
// layer, the outermost one leaves the full path ("fc.1"), however the children were called (by
// a Sequential or by a struct layer's Forward directly). Other panics pass unchanged.
func (h *Hooks) Done(l Layer, x *tensor.Tensor, y **tensor.Tensor) {
	if r := recover(); r != nil {
		panic(blame(r, l, h))
	}
	for _, p := range h.post {
		if out := p.fn(l, x, *y); out != nil {
			*y = out
		}
	}
}

// blame returns the panic value r, raised inside l's Forward, as an *Error with the path from l
// of the layer at fault.
func blame(r any, l Layer, h *Hooks) any {
	err, ok := r.(error)
	if !ok {
		return r
	}
	var e Error
	if le, ok := err.(*Error); ok {
		e = *le
		if e.at == nil { // raised by l's own checks
			e.at = h
		}
	} else {
		var te *tensor.Error
		if !errors.As(err, &te) {
			return r
		}
		e = Error{Layer: TypeName(l), Msg: te.Error(), Err: err, at: h}
	}
	found := false
	Walk(l, func(path string, c Layer) {
		if hc, ok := c.(hooked); ok && !found && hc.hooks() == e.at {
			e.Path, found = path, true
		}
	})
	return &e
}
