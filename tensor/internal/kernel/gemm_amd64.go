//go:build !purego

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// gemmKernel6x16 is the AVX2/FMA micro-kernel in gemm_amd64.s. It has the
// contract of gemmKernelGo, with a, b and c pointing at the first elements.
//
//go:noescape
func gemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32)

func gemmKernelAVX2(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	// The assembly reads 6*k of a, 16*k of b and a 6×16 tile of c.
	_ = a[6*k-1]
	_ = b[16*k-1]
	_ = c[5*ldc+15]
	gemmKernel6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
}

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		microKernel = gemmKernelAVX2
		microKernelName = "avx2"
		kernels = append(kernels, namedKernel{"avx2", gemmKernelAVX2})
	}
}
