// Package kernel holds the float32 numerical kernels under package tensor:
// matrix multiplication (Gemm), im2col/col2im for convolution, 2-D pooling,
// elementwise arithmetic and reductions, and a deterministic ParallelFor.
//
// All slices are row-major float32. Kernels do not allocate per call beyond
// pooled scratch buffers, and they panic (with a "kernel: ..." message) when
// given slices that are too short; callers in package tensor validate user
// input first, so such a panic is a bug in the caller.
//
// Every fast kernel has a plain-loop reference version beside it (the *Ref
// functions in ref.go) and a test that the two agree. On amd64 with AVX2 and
// FMA the GEMM micro-kernel is Go assembly chosen at run time; the purego
// build tag, or any other platform, selects the pure-Go micro-kernel.
//
// Results never depend on GOMAXPROCS: parallel kernels split work only along
// dimensions that are not reduced, and ParallelFor's chunking depends only on
// its arguments.
package kernel
