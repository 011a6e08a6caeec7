package kernel

import (
	"runtime"
	"sync"
	"unsafe"
)

// Cache blocking, sized for a 32 KiB L1 and 512 KiB L2 per core: a packed
// kc×nr sliver of B (16 KiB) stays in L1 while the mc×kc block of A (144 KiB)
// streams from L2; the kc×nc panel of B is shared by all goroutines and
// lives in L3. mc and nc are multiples of mr and nr, so every block boundary
// lies on the global mr×nr tile grid. That, and kc being fixed, is what makes
// each C element's arithmetic independent of how the work is split.
var (
	kc = 256
	mc = 144
	nc = 3072
)

// parallelMinFlops is the smallest m*n*k that Gemm spreads over goroutines;
// below it goroutine start-up costs more than it saves.
const parallelMinFlops = 48 * 48 * 48

// Gemm computes C = alpha*op(A)*op(B) + beta*C, where op(A) is m×k, op(B)
// is k×n and C is m×n, all row-major; op(X) is X, or Xᵀ when transX is set.
// lda, ldb and ldc are row strides of the matrices as stored (A is k×m when
// transA). beta == 0 overwrites C, so NaNs already in C are ignored; alpha ==
// 0 (or k == 0) only scales C by beta and does not read A or B.
//
// Large products run on up to runtime.GOMAXPROCS(0) goroutines, split only
// over blocks of M and N; every element of C is summed over k in the same
// order whatever the thread count, so results are bitwise independent of
// GOMAXPROCS and equal to GemmSerial's.
//
// It panics if m, n or k is negative, if a stride is smaller than the row
// length it strides over, or if a, b or c is too short.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads := 1
	if m*n*k >= parallelMinFlops {
		threads = runtime.GOMAXPROCS(0)
	}
	gemm(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSerial is Gemm on the calling goroutine only, for callers that already
// run in parallel. Its result is bitwise equal to Gemm's. It panics like Gemm.
func GemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmKernelOverride, when set (by tests), replaces microKernel.
var gemmKernelOverride microKernelFunc

func gemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kern := microKernel
	if gemmKernelOverride != nil {
		kern = gemmKernelOverride
	}
	g := gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, kern: kern}

	bbuf := getBuf(kc * min(nc, roundUp(n, nr)))
	defer putBuf(bbuf)
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			bet := beta
			if p0 > 0 {
				bet = 1 // later k blocks accumulate onto the first
			}
			bp := *bbuf
			g.run(threads, roundUp(nb, nr)/nr, 8, func(lo, hi int) {
				g.packB(p0, kb, j0+lo*nr, min(nb, hi*nr)-lo*nr, bp[lo*nr*kb:])
			})
			// Work items are (row block, column group) pairs. Row blocks are
			// at most mc rows and, when parallel, as many as a multiple of
			// the thread count so goroutines get equal shares. With few
			// row blocks the columns are split too; that repacks A once per
			// group, which is cheap next to the group's flops.
			mBlocks := (m + mc - 1) / mc
			nPanels := roundUp(nb, nr) / nr
			groups := 1
			if threads > 1 {
				if mBlocks >= 2*threads {
					mBlocks = roundUp(mBlocks, threads)
				} else {
					groups = min(nPanels, (2*threads+mBlocks-1)/mBlocks)
				}
			}
			mBlk := roundUp((m+mBlocks-1)/mBlocks, mr)
			mBlocks = (m + mBlk - 1) / mBlk
			per := (nPanels + groups - 1) / groups
			groups = (nPanels + per - 1) / per
			g.run(threads, mBlocks*groups, 1, func(lo, hi int) {
				// The scratch edge tile lives after the A block, in pooled
				// memory, because a local array would escape to the heap
				// through the kernel function value.
				abuf := getBuf(mc*kb + mr*nr)
				defer putBuf(abuf)
				ab, tile := (*abuf)[:mc*kb], (*abuf)[mc*kb:]
				for it := lo; it < hi; it++ {
					ib, jg := it/groups, it%groups
					i0 := ib * mBlk
					mb := min(mBlk, m-i0)
					jlo := jg * per * nr
					jhi := min(nb, jlo+per*nr)
					g.packA(i0, mb, p0, kb, ab)
					g.macro(ab, tile, i0, mb, bp[jlo*kb:], j0+jlo, jhi-jlo, kb, bet)
				}
			})
		}
	}
}

// gemmJob holds one Gemm call's operands.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	kern           microKernelFunc
}

// run calls fn over [0,n) in chunks of grain, in parallel when threads > 1.
func (g *gemmJob) run(threads, n, grain int, fn func(lo, hi int)) {
	if threads <= 1 || n <= grain {
		fn(0, n)
		return
	}
	ParallelFor(n, grain, fn)
}

// packA copies the mb×kb block of op(A) at (i0, p0) into dst as mr-row
// panels, each kb steps of mr values; rows past mb are zero.
func (g *gemmJob) packA(i0, mb, p0, kb int, dst []float32) {
	a, lda := g.a, g.lda
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := dst[ir*kb : ir*kb+mr*kb]
		switch {
		case g.transA && rows == mr:
			// op(A)[i][p] = a[p*lda+i]: each step's mr values are contiguous.
			// Done below for all full panels at once, sweeping rows of a.
			continue
		case g.transA:
			clear(d)
			for p := range kb {
				copy(d[p*mr:p*mr+rows], a[(p0+p)*lda+i0+ir:][:rows])
			}
		case rows == mr:
			// Interleave six rows, writing dst sequentially.
			o := (i0+ir)*lda + p0
			r0 := a[o:][:kb]
			r1 := a[o+lda:][:kb]
			r2 := a[o+2*lda:][:kb]
			r3 := a[o+3*lda:][:kb]
			r4 := a[o+4*lda:][:kb]
			r5 := a[o+5*lda:][:kb]
			d := d[:kb*mr]
			for p := range kb {
				q := (*[mr]float32)(d[p*mr:])
				q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
		default:
			clear(d)
			for ii := range rows {
				o := (i0+ir+ii)*lda + p0
				for p, v := range a[o : o+kb] {
					d[p*mr+ii] = v
				}
			}
		}
	}
	if g.transA {
		// Sweeping each row of a across all full panels reads memory in
		// order; going panel by panel would touch a new row (often a new
		// page) every mr elements.
		full := mb / mr
		for p := range kb {
			src := a[(p0+p)*lda+i0:][:full*mr]
			for q := range full {
				*(*[mr]float32)(dst[q*mr*kb+p*mr:]) = [mr]float32(src[q*mr:])
			}
		}
	}
}

// packB copies the kb×nb block of op(B) at (p0, j0) into dst as nr-column
// panels, each kb steps of nr values; columns past nb are zero.
func (g *gemmJob) packB(p0, kb, j0, nb int, dst []float32) {
	b, ldb := g.b, g.ldb
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : jr*kb+nr*kb]
		switch {
		case !g.transB && cols == nr:
			// Done below for all full panels at once.
			continue
		case !g.transB:
			clear(d)
			for p := range kb {
				copy(d[p*nr:p*nr+cols], b[(p0+p)*ldb+j0+jr:][:cols])
			}
		case cols == nr:
			// op(B)[p][j] = b[j*ldb+p]: interleave four rows of b at a time.
			for jj := 0; jj < nr; jj += 4 {
				o := (j0+jr+jj)*ldb + p0
				r0 := b[o:][:kb]
				r1 := b[o+ldb:][:kb]
				r2 := b[o+2*ldb:][:kb]
				r3 := b[o+3*ldb:][:kb]
				for p := range kb {
					q := (*[4]float32)(d[p*nr+jj:])
					q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
				}
			}
		default:
			clear(d)
			for jj := range cols {
				o := (j0+jr+jj)*ldb + p0
				for p, v := range b[o : o+kb] {
					d[p*nr+jj] = v
				}
			}
		}
	}
	if !g.transB {
		// op(B)[p][j] = b[p*ldb+j]: sweep each row of b across all full
		// panels, reading memory in order.
		full := nb / nr
		for p := range kb {
			src := b[(p0+p)*ldb+j0:][:full*nr]
			for q := range full {
				*(*[nr]float32)(dst[q*nr*kb+p*nr:]) = [nr]float32(src[q*nr:])
			}
		}
	}
}

// macro multiplies a packed mb×kb block of A by a packed kb×nb block of B
// into C at (i0, j0). Full tiles go straight to C; edge tiles go through a
// scratch tile holding a copy of C, so they see the same arithmetic.
func (g *gemmJob) macro(ap, tile []float32, i0, mb int, bp []float32, j0, nb, kb int, beta float32) {
	c, ldc := g.c, g.ldc
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bpan := bp[jr*kb : jr*kb+nr*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			apan := ap[ir*kb : ir*kb+mr*kb]
			off := (i0+ir)*ldc + j0 + jr
			if rows == mr && cols == nr {
				g.kern(kb, apan, bpan, c[off:], ldc, g.alpha, beta)
				continue
			}
			if beta != 0 {
				for i := range rows {
					copy(tile[i*nr:i*nr+cols], c[off+i*ldc:off+i*ldc+cols])
				}
			}
			g.kern(kb, apan, bpan, tile, nr, g.alpha, beta)
			for i := range rows {
				copy(c[off+i*ldc:off+i*ldc+cols], tile[i*nr:i*nr+cols])
			}
		}
	}
}

// scaleC sets C = beta*C, writing zeros when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func roundUp(x, q int) int { return (x + q - 1) / q * q }

// Packing buffers are reused across calls. A pooled buffer is aligned to 64
// bytes so the kernel's 32-byte loads never straddle a cache line.
var bufPool sync.Pool

func getBuf(n int) *[]float32 {
	if p, ok := bufPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	raw := make([]float32, n+16)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % 64; r != 0 {
		off = int(64-r) / 4
	}
	s := raw[off : off+n : off+n]
	return &s
}

func putBuf(p *[]float32) { bufPool.Put(p) }

// checkGemm panics unless the arguments describe valid matrices.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: Gemm: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMat("a", ar, ac, a, lda)
	checkMat("b", br, bc, b, ldb)
	checkMat("c", m, n, c, ldc)
}

func checkMat(name string, r, c int, x []float32, ld int) {
	if ld < c {
		panic("kernel: Gemm: ld" + name + " smaller than the row length")
	}
	if r > 0 && c > 0 && len(x) < (r-1)*ld+c {
		panic("kernel: Gemm: len(" + name + ") too short")
	}
}
