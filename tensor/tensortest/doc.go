// Package tensortest has test helpers for code built on package tensor: AllClose compares tensors
// within tolerances and reports the worst element; GradCheck compares the gradients that Backward
// computes with central finite differences, so that users can check their own ops and layers as
// oar checks its own.
package tensortest
