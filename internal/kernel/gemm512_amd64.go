//go:build !purego

package kernel

import "unsafe"

// The wrappers around the AVX-512 assembly of gemm512_amd64.s, with the
// contracts of the AVX2 wrappers in gemm_amd64.go; chosen at init when
// useAVX512. Their arithmetic per C element is that of the AVX2 kernels, so
// the results are bitwise the same.

// gemmKernelAVX512 has the contract of gemmKernelGo.
func gemmKernelAVX512(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	_ = a[mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(rows-1)*ldc+nr-1]
	pa, pb, pc := unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c)
	switch rows {
	case 6:
		gemm512Kernel6x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	case 5:
		gemm512Kernel5x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	case 4:
		gemm512Kernel4x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	case 3:
		gemm512Kernel3x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	case 2:
		gemm512Kernel2x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	case 1:
		gemm512Kernel1x16(k, pa, pb, ldb, pc, ldc, alpha, beta)
	default:
		panic("kernel: gemmKernelAVX512: rows outside 1..6")
	}
}

// gemmPairAVX512 has the contract of pairKernelFunc.
func gemmPairAVX512(k int, a, b []float32, ldb int, b2 []float32, ldb2, cols2 int, c []float32, ldc int, alpha, beta float32, rows int) {
	if rows < 1 || cols2 < 1 || cols2 > nr {
		panic("kernel: gemmPairAVX512: rows or cols2 out of range")
	}
	_ = a[roundUp(rows, mr)*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = b2[(k-1)*ldb2+cols2-1]
	_ = c[(rows-1)*ldc+nr+cols2-1]
	gemm512Kernel6x32(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(b2), ldb2,
		unsafe.SliceData(c), ldc, alpha, beta, rows, 1<<cols2-1)
}

// gemmPanelsAVX512 has the contract of panelsKernelFunc.
func gemmPanelsAVX512(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, panels int) {
	_ = a[panels*mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(panels*mr-1)*ldc+nr-1]
	gemm512Panels(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, panels)
}

// indirectKernelAVX512 has the contract of indirectKernel (see
// indirectKernelAVX2 for the bounds of b).
func indirectKernelAVX512(k int, a []float32, off []int32, b []float32, c []float32, ldc int, alpha, beta float32, rows int) {
	if k < 1 {
		panic("kernel: indirectKernelAVX512: k < 1")
	}
	_ = a[mr*k-1]
	_ = off[k-1]
	_ = c[(rows-1)*ldc+nr-1]
	pa, po, pb, pc := unsafe.SliceData(a), unsafe.SliceData(off), unsafe.SliceData(b), unsafe.SliceData(c)
	switch rows {
	case 6:
		gemm512Indirect6x16(k, pa, po, pb, pc, ldc, alpha, beta)
	case 5:
		gemm512Indirect5x16(k, pa, po, pb, pc, ldc, alpha, beta)
	case 4:
		gemm512Indirect4x16(k, pa, po, pb, pc, ldc, alpha, beta)
	case 3:
		gemm512Indirect3x16(k, pa, po, pb, pc, ldc, alpha, beta)
	case 2:
		gemm512Indirect2x16(k, pa, po, pb, pc, ldc, alpha, beta)
	case 1:
		gemm512Indirect1x16(k, pa, po, pb, pc, ldc, alpha, beta)
	default:
		panic("kernel: indirectKernelAVX512: rows outside 1..6")
	}
}

// indirectPairAVX512 has the contract of indirectPair, for rows 1..2mr-1:
// past mr, a holds two packed panels.
func indirectPairAVX512(k int, a []float32, off []int32, b []float32, bstride int, c, c2 []float32, ldc int, alpha, beta float32, rows int) {
	if k < 1 {
		panic("kernel: indirectPairAVX512: k < 1")
	}
	_ = a[roundUp(rows, mr)*k-1]
	_ = off[k-1]
	_ = c[(rows-1)*ldc+nr-1]
	_ = c2[(rows-1)*ldc+nr-1]
	pa, po, pb, pc, pc2 := unsafe.SliceData(a), unsafe.SliceData(off), unsafe.SliceData(b), &c[0], &c2[0]
	bs := 4 * bstride
	switch rows {
	case 6:
		gemm512Indirect6x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 5:
		gemm512Indirect5x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 4:
		gemm512Indirect4x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 3:
		gemm512Indirect3x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 2:
		gemm512Indirect2x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 1:
		gemm512Indirect1x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 7:
		gemm512Indirect7x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 8:
		gemm512Indirect8x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 9:
		gemm512Indirect9x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 10:
		gemm512Indirect10x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	case 11:
		gemm512Indirect11x32(k, pa, po, pb, bs, pc, pc2, ldc, alpha, beta)
	default:
		panic("kernel: indirectPairAVX512: rows outside 1..11")
	}
}
