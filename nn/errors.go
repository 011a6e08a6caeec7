package nn

import (
	"fmt"
	"strings"
)

// Error is the panic value of a layer given input it cannot take. It names the layer's path in
// the network (filled in by Hooks.Done as the panic leaves each layer), its type and the shapes:
//
//	nn: fc.1 (Linear): input [64 785], weight [784 10]
type Error struct {
	Path  string // dotted path from the outermost layer that ran it; "" when run directly
	Layer string // the layer's type, e.g. "Linear"
	Msg   string
	Err   error // the panic value this error wraps, such as a *tensor.Error, or nil

	at *Hooks // the layer that raised it, found in the tree to name its path (see Hooks.Done)
}

// Unwrap returns the wrapped error, so that errors.As finds a *tensor.Error or a
// *tensor.NonFiniteError inside.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("nn: %s: %s", e.Layer, e.Msg)
	}
	return fmt.Sprintf("nn: %s (%s): %s", e.Path, e.Layer, e.Msg)
}

// panicf raises an *Error for layer l: the one way a layer reports bad input in its Forward
// (Hooks.Done adds its path).
func panicf(l Layer, format string, args ...any) {
	panic(&Error{Layer: TypeName(l), Msg: fmt.Sprintf(format, args...)})
}

// TypeName returns a layer's Go type name without package or pointer, e.g. "Linear" for
// *nn.Linear: the name that layer errors and Summary rows use. A layer with a LayerName method
// (Func) is named by it instead.
func TypeName(l Layer) string {
	if n, ok := l.(interface{ LayerName() string }); ok {
		return n.LayerName()
	}
	s := fmt.Sprintf("%T", l)
	s = strings.TrimLeft(s, "*")
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}
