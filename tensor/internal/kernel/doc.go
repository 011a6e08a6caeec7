// Package kernel holds the float32 numerical kernels under package tensor:
// matrix multiplication (Gemm), im2col/col2im for convolution, 2-D pooling,
// elementwise arithmetic and reductions, and ParallelFor.
//
// All slices are row-major float32. Kernels allocate nothing per call beyond
// pooled scratch buffers, and they panic with a "kernel: ..." message when
// given bad sizes or slices that are too short; package tensor validates
// user input first, so such a panic is a bug in the caller.
//
// Every fast kernel has a plain-loop version beside it (ref.go, and the
// *Go functions in vec.go) and a test that the two agree. On amd64 with AVX2
// and FMA, chosen at run time, Gemm's 6×16 micro-kernel and packing, and the
// elementwise kernels and reductions, are Go assembly; the purego build tag,
// or any other platform, uses pure Go throughout. The elementwise kernels
// and Sum/Dot give bitwise the same results either way.
//
// Results never depend on GOMAXPROCS: parallel kernels split work only along
// dimensions that are not reduced, and ParallelFor's chunks depend only on
// its arguments. ParallelFor runs on a small pool of helper goroutines that
// keep polling for a moment after each call, because on a virtual machine
// waking a parked thread costs tens of microseconds.
package kernel
