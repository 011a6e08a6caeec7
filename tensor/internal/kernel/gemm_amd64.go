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
func gemmKernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, rows int)

func gemmKernelAVX2(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	// Bounds checks for what the assembly reads and writes.
	_ = a[mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(rows-1)*ldc+nr-1]
	if rows > mr {
		panic("kernel: gemmKernelAVX2: rows > mr")
	}
	gemmKernel6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, rows)
}

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		microKernel = gemmKernelAVX2
		kernels = append(kernels, namedKernel{"avx2", gemmKernelAVX2})
	}
}

// Packing routines in pack_amd64.s; see packA and packB for their use.

//go:noescape
func packA6AVX2(dst, src *float32, lda, blocks int)

//go:noescape
func packB16TAVX2(dst, src *float32, ldb, blocks int)
