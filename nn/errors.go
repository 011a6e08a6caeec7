package nn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oarlab/oar/tensor"
)

// Error is the panic value of a layer given input it cannot take. It names the layer's path in
// the network (filled in by the containers it passes through), its type and the shapes:
//
//	nn: fc.1 (Linear): input [64 785], weight [784 10]
type Error struct {
	Path  string // dotted path from the outermost container that ran it; "" when run directly
	Layer string // the layer's type, e.g. "Linear"
	Msg   string
	Err   error // the panic value this error wraps, such as a *tensor.Error, or nil
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

// panicf raises an *Error for layer l.
func panicf(l Layer, format string, args ...any) {
	panic(&Error{Layer: TypeName(l), Msg: fmt.Sprintf(format, args...)})
}

// TypeName returns a layer's Go type name without package or pointer, e.g. "Linear" for
// *nn.Linear: the name that layer errors and Summary rows use.
func TypeName(l Layer) string {
	s := fmt.Sprintf("%T", l)
	s = strings.TrimLeft(s, "*")
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// Run calls child.Forward(x) on behalf of a parent layer, adding name to the path of any panic
// the child raises, so that the message says where in the network it happened. Containers call
// their children through it; custom layers with sublayers should too.
func Run(name string, child Layer, x *tensor.Tensor) (y *tensor.Tensor) {
	defer func() {
		if r := recover(); r != nil {
			panic(withPath(r, name, child))
		}
	}()
	return child.Forward(x)
}

// withPath prefixes name to the path of a layer error, or turns a tensor error raised inside
// child into a layer error at name.
func withPath(r any, name string, child Layer) any {
	err, ok := r.(error)
	if !ok {
		return r
	}
	var le *Error
	if errors.As(err, &le) {
		p := *le
		p.Path = joinPath(name, le.Path)
		return &p
	}
	var te *tensor.Error
	if errors.As(err, &te) {
		return &Error{Path: name, Layer: TypeName(child), Msg: te.Error(), Err: err}
	}
	return r
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
