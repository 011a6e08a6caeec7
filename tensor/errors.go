package tensor

import "fmt"

// Error is the value of every panic raised by this package for a programmer error: a shape that does
// not fit, an axis out of range, a class id that is not one. It names the op and the shapes involved,
// e.g. "tensor: MatMul: shape mismatch [32 784] x [100 10]". Recover it with errors.As on the
// recovered value when a program wants to turn such a panic into an error.
type Error struct {
	Op  string // the op that panicked, e.g. "MatMul"
	Msg string // what was wrong, with the shapes
}

func (e *Error) Error() string { return "tensor: " + e.Op + ": " + e.Msg }

// panicf raises an *Error for op.
func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}
