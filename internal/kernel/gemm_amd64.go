//go:build !purego

package kernel

import (
	"unsafe"
)

// The wrappers around the assembly of gemm_amd64.s, pack_amd64.s and
// convdw_amd64.s, declared in the generated *_asm_amd64.go files.

// gemmKernelAVX2 has the contract of gemmKernelGo: gemmKernel6x16, or its
// variant for a panel of fewer rows, with a, b and c checked and passed as
// pointers to their first elements.
func gemmKernelAVX2(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	// Bounds checks for what the assembly reads and writes.
	_ = a[mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(rows-1)*ldc+nr-1]
	pa, pb, pc := unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c)
	switch rows {
	case 6:
		gemmKernel6x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	case 5:
		gemmKernel5x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	case 4:
		gemmKernel4x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	case 3:
		gemmKernel3x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	case 2:
		gemmKernel2x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	case 1:
		gemmKernel1x16(k, pa, pb, ldb, pc, ldc, alpha, beta, rows)
	default:
		panic("kernel: gemmKernelAVX2: rows outside 1..6")
	}
}

// gemmPanelsAVX2 has the contract of gemmPanelsFunc.
func gemmPanelsAVX2(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, panels int) {
	_ = a[panels*mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(panels*mr-1)*ldc+nr-1]
	gemmPanels6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, panels)
}

// gemmKernel6x16Only is the AVX2 kernel without the row variants: every
// panel computes six rows. Tests compare the variants with it.
func gemmKernel6x16Only(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	_ = a[mr*k-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(rows-1)*ldc+nr-1]
	gemmKernel6x16(k, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, alpha, beta, rows)
}

// indirectKernelAVX2 has the contract of indirectKernel. The caller
// guarantees that every b[off[p]/4 : off[p]/4+16] lies inside b (run checks
// it once for all panels); a, off and c are checked here.
func indirectKernelAVX2(k int, a []float32, off []int32, b []float32, c []float32, ldc int, alpha, beta float32, rows int) {
	if k < 1 {
		panic("kernel: indirectKernelAVX2: k < 1")
	}
	_ = a[mr*k-1]
	_ = off[k-1]
	_ = c[(rows-1)*ldc+nr-1]
	pa, po, pb, pc := unsafe.SliceData(a), unsafe.SliceData(off), unsafe.SliceData(b), unsafe.SliceData(c)
	switch rows {
	case 6:
		gemmIndirect6x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	case 5:
		gemmIndirect5x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	case 4:
		gemmIndirect4x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	case 3:
		gemmIndirect3x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	case 2:
		gemmIndirect2x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	case 1:
		gemmIndirect1x16(k, pa, po, pb, pc, ldc, alpha, beta, rows)
	default:
		panic("kernel: indirectKernelAVX2: rows outside 1..6")
	}
}

// indirectPairAVX2 has the contract of indirectPair; as for
// indirectKernelAVX2, the caller guarantees the reads of b.
func indirectPairAVX2(k int, a []float32, off []int32, b []float32, bstride int, c, c2 []float32, ldc int, alpha, beta float32, rows int) {
	if k < 1 {
		panic("kernel: indirectPairAVX2: k < 1")
	}
	_ = a[mr*k-1]
	_ = off[k-1]
	_ = c[(rows-1)*ldc+nr-1]
	_ = c2[(rows-1)*ldc+nr-1]
	pa, po, pb := unsafe.SliceData(a), unsafe.SliceData(off), unsafe.SliceData(b)
	switch rows {
	case 2:
		gemmIndirect2x32(k, pa, po, pb, 4*bstride, &c[0], &c2[0], ldc, alpha, beta)
	case 1:
		gemmIndirect1x32(k, pa, po, pb, 4*bstride, &c[0], &c2[0], ldc, alpha, beta)
	default:
		panic("kernel: indirectPairAVX2: rows outside 1..2")
	}
}

func init() {
	if useAVX2 {
		microKernel = gemmKernelAVX2
		indirectKernel = indirectKernelAVX2
		indirectPair = indirectPairAVX2
		panelsKernel = gemmPanelsAVX2
		kernels = append(kernels, namedKernel{"avx2", gemmKernelAVX2}, namedKernel{"avx2-6rows", gemmKernel6x16Only})
	}
	if useAVX512 {
		microKernel = gemmKernelAVX512
		panelsKernel = gemmPanelsAVX512
		pairKernel = gemmPairAVX512
		indirectKernel = indirectKernelAVX512
		indirectPair = indirectPairAVX512
		indirectPairRows = 2*mr - 1
		kernels = append(kernels, namedKernel{"avx512", gemmKernelAVX512})
	}
}

// convDWTileAVX2 has the contract of convDWTile; weightGrad checks the
// bounds of dy and xp once for all tiles.
func convDWTileAVX2(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg int, sums *[12]float32) {
	g := ic.g
	ch := g.OutH * ic.vecs * 8
	_ = dy[(nimg-1)*slot+3*ch-1]
	_ = off[3]
	convDWTile3x4(unsafe.SliceData(dy), 4*ch, 4*(slot-ch), unsafe.SliceData(xp), 4*(ic.wp-8*ic.vecs),
		4*(ic.padLen()-g.OutH*ic.wp), unsafe.SliceData(off), g.OutH, ic.vecs,
		(*float32)(unsafe.Pointer(&ic.mask[0])), nimg, &sums[0])
}
