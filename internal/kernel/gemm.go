package kernel

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Cache blocking (GotoBLAS style), sized for a 32 KiB L1 and 512 KiB L2 per
// core: a packed kc×nr sliver of B (16 KiB) stays in L1 while the mc×kc block
// of A (144 KiB) streams from L2; the kc×nc panel of B is shared by all
// goroutines and lives in L3. mc and nc are multiples of mr and nr, so every
// block boundary lies on the global mr×nr tile grid. That, and kc being
// fixed, is what makes each C element's arithmetic independent of how the
// work is split. (The sizes were tuned on Zen 3; 192..384 for kc and
// 72..288 for mc were all within noise at 1024³.)
const (
	kc = 256
	mc = 144
	nc = 3072
)

// parallelMinFlops is the smallest m*n*k that Gemm spreads over goroutines;
// below it handing work to another thread costs more than it saves
// (measured on a 2-vCPU VM: no gain at 128³, a loss at 64×120×400, a 1.4×
// gain at 256³).
const parallelMinFlops = 160 * 160 * 160

// Gemm computes C = alpha*op(A)*op(B) + beta*C, where op(A) is m×k, op(B)
// is k×n and C is m×n, all row-major; op(X) is X, or Xᵀ when transX is set.
// lda, ldb and ldc are row strides of the matrices as stored (A is k×m when
// transA). beta == 0 overwrites C, so NaNs already in C are ignored; alpha ==
// 0 (or k == 0) only scales C by beta and does not read A or B.
//
// Large products run on up to Threads() goroutines, split only
// over blocks of M and N; every element of C is summed over k in the same
// order whatever the thread count, so results are bitwise independent of
// GOMAXPROCS and equal to GemmSerial's.
//
// It panics if m, n or k is negative, if a stride is smaller than the row
// length it strides over, or if a, b or c is too short.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads, flops := 1, int64(m)*int64(n)*int64(k)
	switch procs := Threads(); {
	case flops >= parallelMinFlops:
		threads = procs
	case flops >= splitMinFlops && procs > 1:
		gemmSplit(procs, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
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
	if n < nr && m >= 2*nr && transposeThin {
		gemmThin(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kern, panels, pair := microKernel, panelsKernel, pairKernel
	if gemmKernelOverride != nil {
		kern, panels, pair = gemmKernelOverride, nil, nil
	}
	g := gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, kern: kern, panels: panels, pair: pair}
	if threads <= 1 {
		g.serial()
		return
	}
	// Only the parallel path's closures need g on the heap.
	gp := new(gemmJob)
	*gp = g
	gp.parallel(threads)
}

// gemmThin computes a C narrower than a micro-kernel tile (n < 16) as its
// transpose, Cᵀ = op(B)ᵀ·op(A)ᵀ, in a scratch n×m matrix: the long side m
// then runs along the kernel's 16 columns, where every column of C would
// otherwise take a whole, mostly empty tile through the partial-panel copy
// (a Linear layer's weight gradient with 10 outputs: 5x faster). Each
// element is summed with the same products in the same order, from Cᵀ
// loaded with C when beta != 0, so the result is bitwise the direct one.
func gemmThin(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := getBuf(n * m)
	t := *buf
	if beta != 0 {
		transposeInto(t, m, c, ldc, m, n)
	}
	gemm(threads, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, beta, t, m)
	transposeInto(c, ldc, t, m, n, m)
	putBuf(buf)
}

// transposeInto sets dst (cols×rows, rows ldd apart) to the transpose of src
// (rows×cols, rows lds apart).
func transposeInto(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	for i := range rows {
		row := src[i*lds : i*lds+cols]
		for j, v := range row {
			dst[j*ldd+i] = v
		}
	}
}

// transposeThin lets tests compare gemmThin with the direct path.
var transposeThin = true

// gemmJob holds one Gemm call's operands.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	kern           microKernelFunc
	panels         panelsKernelFunc // kern over several row panels, or nil
	pair           pairKernelFunc   // kern over two column panels, or nil
	pa             []float32        // op(A) packed whole by PackA, or nil
}

// betaAt is the beta for the k block starting at p0: later blocks add onto
// the partial sums the earlier ones left in C.
func (g *gemmJob) betaAt(p0 int) float32 {
	if p0 > 0 {
		return 1
	}
	return g.beta
}

// serial is the blocked loop nest on one goroutine.
func (g *gemmJob) serial() {
	m, n, k := g.m, g.n, g.k
	inPlace := g.inPlaceB()
	bsize := kc * nr
	if !inPlace {
		bsize = kc * min(nc, roundUp(n, nr))
	}
	asize := mc * kc
	if g.pa != nil {
		asize = 0
	}
	buf := getBuf(bsize + asize + mr*nr)
	defer putBuf(buf)
	bp, ap, tile := (*buf)[:bsize], (*buf)[bsize:bsize+asize], (*buf)[bsize+asize:]
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			bb := g.bBlockAt(inPlace, p0, kb, j0, nb, bp, bp)
			for i0 := 0; i0 < m; i0 += mc {
				mb := min(mc, m-i0)
				apb := ap
				if g.pa != nil {
					apb = g.pa[p0*roundUp(m, mr)+i0*kb:]
				} else {
					g.packA(i0, mb, p0, kb, ap)
				}
				g.macro(apb, tile, i0, mb, bb, j0, nb, kb, g.betaAt(p0))
			}
		}
	}
}

// parallel is the blocked loop nest with each (column block, k block) step
// split over goroutines in two phases: packing, then multiplying. The packed
// B block is shared. Multiplication work items are (row block, column group)
// pairs; row blocks are at most mc rows and, when numerous, a multiple of
// the thread count so goroutines get equal shares. When there are few row
// blocks the columns are split too, and A is packed once into a shared
// buffer instead of by each item.
func (g *gemmJob) parallel(threads int) {
	m, n, k := g.m, g.n, g.k
	const bGrain = 8 // B panels per packing job

	mBlocks := (m + mc - 1) / mc
	sharedA := mBlocks < 2*threads || g.pa != nil
	if !sharedA {
		mBlocks = roundUp(mBlocks, threads)
	}
	mBlk := roundUp((m+mBlocks-1)/mBlocks, mr)
	mBlocks = (m + mBlk - 1) / mBlk

	inPlace := g.inPlaceB()
	bsize := kc * nr
	if !inPlace {
		bsize = kc * min(nc, roundUp(n, nr))
	}
	asize := 0
	if sharedA && g.pa == nil {
		asize = kc * roundUp(m, mr)
	}
	buf := getBuf(bsize + asize)
	defer putBuf(buf)
	bp, ap := (*buf)[:bsize], (*buf)[bsize:]

	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		nPanels := roundUp(nb, nr) / nr
		groups := 1
		if sharedA {
			groups = min(nPanels, (2*threads+mBlocks-1)/mBlocks)
		}
		per := (nPanels + groups - 1) / groups
		if g.pair != nil {
			// Whole pairs per group, so that bBlockAt's test of the panel
			// count's parity holds for the last group too.
			per = roundUp(per, 2)
		}
		groups = (nPanels + per - 1) / per
		bJobs := (nPanels + bGrain - 1) / bGrain
		if inPlace {
			bJobs = 0
		}
		packJobs := bJobs
		if sharedA && g.pa == nil {
			packJobs += mBlocks
		}
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			beta := g.betaAt(p0)
			bb := bBlock{p: bp}
			if inPlace {
				bb = g.bBlockAt(true, p0, kb, j0, nb, nil, bp)
			}
			ParallelFor(packJobs, 1, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					if j < bJobs {
						jlo := j * bGrain * nr
						g.packB(p0, kb, j0+jlo, min(nb, jlo+bGrain*nr)-jlo, bp[jlo*kb:])
						continue
					}
					i0 := (j - bJobs) * mBlk
					g.packA(i0, min(mBlk, m-i0), p0, kb, ap[i0*kb:])
				}
			})
			ParallelFor(mBlocks*groups, 1, func(lo, hi int) {
				// The edge tile lives in pooled memory: a local array would
				// escape to the heap through the kernel function value.
				wsize := mr * nr
				if !sharedA {
					wsize += mBlk * kb
				}
				wbuf := getBuf(wsize)
				defer putBuf(wbuf)
				tile, own := (*wbuf)[:mr*nr], (*wbuf)[mr*nr:]
				for it := lo; it < hi; it++ {
					ib, jg := it/groups, it%groups
					i0 := ib * mBlk
					mb := min(mBlk, m-i0)
					jlo := jg * per * nr
					jhi := min(nb, jlo+per*nr)
					apb := own
					if g.pa != nil {
						apb = g.pa[p0*roundUp(m, mr)+i0*kb:]
					} else if sharedA {
						apb = ap[i0*kb:]
					} else {
						g.packA(i0, mb, p0, kb, own)
					}
					g.macro(apb, tile, i0, mb, bb.from(jlo, kb), j0+jlo, jhi-jlo, kb, beta)
				}
			})
		}
	}
}

// PackedA is op(A), m×k, packed once (in the layout the micro-kernel reads)
// for several products with the same left operand, such as a convolution's
// weights, used for every image. Its memory is pooled: call Release when done.
type PackedA struct {
	m, k  int
	alpha float32
	buf   *[]float32
}

// PackA packs op(A) for GemmPacked, which will multiply by alpha: op(A) is
// m×k, A is k×m when transA, lda is A's row stride. It panics like Gemm on
// bad sizes.
func PackA(transA bool, m, k int, alpha float32, a []float32, lda int) PackedA {
	if m < 0 || k < 0 {
		panic("kernel: PackA: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	checkMat("a", ar, ac, a, lda)
	mp := roundUp(m, mr)
	p := PackedA{m: m, k: k, alpha: alpha, buf: getBuf(max(mp*k, 1))}
	g := gemmJob{transA: transA, m: m, k: k, a: a, lda: lda}
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		g.packA(0, m, p0, kb, (*p.buf)[p0*mp:])
	}
	return p
}

// Release returns the packed memory to the pool; p must not be used after.
func (p *PackedA) Release() {
	if p.buf != nil {
		putBuf(p.buf)
		p.buf = nil
	}
}

// GemmPacked computes C = alpha*op(A)·op(B) + beta*C with op(A) (m×k) and
// alpha packed by PackA, op(B) k×n and C m×n. It is Gemm with the packing of
// A done beforehand, and gives bitwise Gemm's result. threads > 1 splits
// large products over goroutines as Gemm does, with the same result. It
// panics like Gemm.
func GemmPacked(threads int, p *PackedA, transB bool, n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m, k := p.m, p.k
	if n < 0 {
		panic("kernel: Gemm: negative dimension")
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMat("b", br, bc, b, ldb)
	checkMat("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || p.alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kern, panels, pair := microKernel, panelsKernel, pairKernel
	if gemmKernelOverride != nil {
		kern, panels, pair = gemmKernelOverride, nil, nil
	}
	g := gemmJob{transB: transB, m: m, n: n, k: k, alpha: p.alpha, beta: beta,
		b: b, ldb: ldb, c: c, ldc: ldc, kern: kern, panels: panels, pair: pair, pa: *p.buf}
	if threads <= 1 || int64(m)*int64(n)*int64(k) < parallelMinFlops {
		g.serial()
		return
	}
	gp := new(gemmJob)
	*gp = g
	gp.parallel(threads)
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
			// Interleave six rows, writing dst sequentially; with AVX2,
			// eight columns at a time by 8×8 transposes.
			o := (i0+ir)*lda + p0
			done := 0
			if useAVX2 && kb >= 8 {
				blocks := kb / 8
				_ = a[o+(mr-1)*lda+blocks*8-1]
				packA6AVX2(&d[0], &a[o], lda, blocks)
				done = blocks * 8
			}
			r0 := a[o:][:kb]
			r1 := a[o+lda:][:kb]
			r2 := a[o+2*lda:][:kb]
			r3 := a[o+3*lda:][:kb]
			r4 := a[o+4*lda:][:kb]
			r5 := a[o+5*lda:][:kb]
			d := d[:kb*mr]
			for p := done; p < kb; p++ {
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
		case useAVX2 && kb >= 8:
			// op(B)[p][j] = b[j*ldb+p]: 8×8 transposes of sixteen rows of
			// b; a partial panel's rows are first copied into a zero-padded
			// scratch block.
			src, ld := b[(j0+jr)*ldb+p0:], ldb
			var scratch *[]float32
			if cols < nr {
				scratch = getBuf(nr * kb)
				sb := *scratch
				clear(sb[cols*kb:])
				for jj := range cols {
					copy(sb[jj*kb:(jj+1)*kb], b[(j0+jr+jj)*ldb+p0:])
				}
				src, ld = sb, kb
			}
			blocks := kb / 8
			_ = src[(nr-1)*ld+blocks*8-1]
			packB16TAVX2(&d[0], &src[0], ld, blocks)
			for jj := range nr {
				for p := blocks * 8; p < kb; p++ {
					d[p*nr+jj] = src[jj*ld+p]
				}
			}
			if scratch != nil {
				putBuf(scratch)
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

// bBlock is a kb×nb block of op(B) as the micro-kernel reads it: either
// packed (panel q at p[q*nr*kb:], rows nr apart) or, when ld > 0, B itself
// in place (panel q at p[q*nr:], rows ld apart) with the last, partial
// panel packed into edge.
type bBlock struct {
	p    []float32
	ld   int
	edge []float32
}

// from returns the block starting jlo columns (a multiple of nr) further on.
func (bb bBlock) from(jlo, kb int) bBlock {
	if bb.ld > 0 {
		bb.p = bb.p[jlo:]
	} else {
		bb.p = bb.p[jlo*kb:]
	}
	return bb
}

// macro multiplies a packed mb×kb block of A by the kb×nb block bb of B
// into C at (i0, j0). Tiles of nr full columns go straight to C (the kernel
// stores only the rows that exist); a partial column panel goes through a
// scratch tile holding a copy of C, so it sees the same arithmetic.
func (g *gemmJob) macro(ap, tile []float32, i0, mb int, bb bBlock, j0, nb, kb int, beta float32) {
	if g.pair != nil {
		g.macroPairs(ap, tile, i0, mb, bb, j0, nb, kb, beta)
		return
	}
	g.macroSingles(ap, tile, i0, mb, bb, j0, nb, kb, beta)
}

// macroSingles is macro one column panel at a time.
func (g *gemmJob) macroSingles(ap, tile []float32, i0, mb int, bb bBlock, j0, nb, kb int, beta float32) {
	tile = tile[:mr*nr]
	c, ldc := g.c, g.ldc
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		var bpan []float32
		ldb := nr
		switch {
		case bb.ld == 0:
			bpan = bb.p[jr*kb : jr*kb+nr*kb]
		case cols == nr:
			bpan, ldb = bb.p[jr:], bb.ld
		default:
			bpan = bb.edge
		}
		ir0 := 0
		if cols == nr && g.panels != nil && mb >= 2*mr {
			// All full row panels in one call.
			full := mb / mr
			g.panels(kb, ap[:full*mr*kb], bpan, ldb, c[i0*ldc+j0+jr:], ldc, g.alpha, beta, full)
			ir0 = full * mr
		}
		for ir := ir0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			apan := ap[ir*kb : ir*kb+mr*kb]
			off := (i0+ir)*ldc + j0 + jr
			if cols == nr {
				g.kern(kb, apan, bpan, ldb, c[off:], ldc, g.alpha, beta, rows)
				continue
			}
			// A partial column panel goes through the scratch tile so the
			// kernel never touches C past column n.
			if beta != 0 {
				for i := range rows {
					copy(tile[i*nr:i*nr+cols], c[off+i*ldc:off+i*ldc+cols])
				}
			}
			g.kern(kb, apan, bpan, ldb, tile, nr, g.alpha, beta, rows)
			for i := range rows {
				copy(c[off+i*ldc:off+i*ldc+cols], tile[i*nr:i*nr+cols])
			}
		}
	}
}

// macroPairs is macro with a pair kernel: column panels two at a time (an
// odd one first, alone), each pair one call for all row panels. A partial
// last column panel is the second of a pair, whose kernel reads and writes
// only its columns inside B and C.
func (g *gemmJob) macroPairs(ap, tile []float32, i0, mb int, bb bBlock, j0, nb, kb int, beta float32) {
	c, ldc := g.c, g.ldc
	panel := func(jr int) ([]float32, int) {
		if bb.ld == 0 {
			return bb.p[jr*kb:], nr
		}
		return bb.p[jr:], bb.ld // a partial panel too: the pair kernel masks it
	}
	jr := 0
	if npan := (nb + nr - 1) / nr; npan%2 == 1 {
		g.macroSingles(ap, tile, i0, mb, bb, j0, min(nr, nb), kb, beta)
		jr = nr
	}
	for ; jr < nb; jr += 2 * nr {
		b1, ldb1 := panel(jr)
		b2, ldb2 := panel(jr + nr)
		g.pair(kb, ap, b1, ldb1, b2, ldb2, min(nr, nb-jr-nr), c[i0*ldc+j0+jr:], ldc, g.alpha, beta, mb)
	}
}

// inPlaceB reports whether the micro-kernel should read B where it lies
// instead of packing it. Packing an element of B costs about as much as 40
// flops, which pays only when many rows of A use it; for a short A (the
// common case in small convolutions) reading B in place is faster. The
// exception is a row stride that is a multiple of 2 KiB: then the rows of a
// B sliver crowd into a few cache sets and thrash L2 (measured: 64×1024×256
// is 20% slower in place, 64×1000×256 20% faster).
func (g *gemmJob) inPlaceB() bool {
	if g.transB || inPlaceBMaxM < 0 {
		return false
	}
	return g.m <= 16 || g.m <= inPlaceBMaxM && g.ldb%512 != 0
}

// inPlaceBMaxM is the most rows of A for which B may be read in place; a
// variable so tests can force either path (-1: never).
var inPlaceBMaxM = 128

// bBlockAt prepares the kb×nb block of op(B) at (p0, j0): packed into bp,
// or in place with only its partial last panel packed into edge.
func (g *gemmJob) bBlockAt(inPlace bool, p0, kb, j0, nb int, bp, edge []float32) bBlock {
	if !inPlace {
		g.packB(p0, kb, j0, nb, bp)
		return bBlock{p: bp}
	}
	bb := bBlock{p: g.b[p0*g.ldb+j0:], ld: g.ldb}
	if g.pair != nil && (nb+nr-1)/nr%2 == 0 {
		return bb // macroPairs reads the partial panel in place
	}
	if full := nb / nr * nr; full < nb {
		bb.edge = edge[:nr*kb]
		g.packB(p0, kb, j0+full, nb-full, bb.edge)
	}
	return bb
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

// Scratch buffers (GEMM packing, im2col, gradients) are reused across calls
// through one sync.Pool per power-of-two size class, so large and small
// requests do not evict each other. A buffer is aligned to 64 bytes so the
// kernels' 32-byte loads never straddle a cache line. sync.Pool keeps a free
// buffer on the processor (P) that released it and hands it to the next
// request made there, so a goroutine's scratch memory stays in its own
// core's cache: with one shared free list, the two goroutines of a parallel
// convolution swapped their im2col buffers at every chunk, each reading the
// other core's dirty cache lines, and the first layer of LeNet ran no faster
// on two cores than on one. A buffer in use at every training step survives
// garbage collections (the pool's victim cache hands it back); one left
// unused for two collections is freed.
var bufPools [64]sync.Pool

func getBuf(n int) *[]float32 {
	class := bits.Len(uint(max(n, 1) - 1))
	if v := bufPools[class].Get(); v != nil {
		p := v.(*[]float32)
		*p = (*p)[:n]
		return p
	}
	size := 1 << class
	raw := make([]float32, size+16)
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % 64; r != 0 {
		off = int(64-r) / 4
	}
	s := raw[off : off+n : off+size]
	return &s
}

func putBuf(p *[]float32) {
	bufPools[bits.Len(uint(cap(*p)-1))].Put(p)
}

// GetBuf returns a pooled scratch slice of length n, aligned to 64 bytes,
// with arbitrary contents. Give it back with PutBuf when done; it must not be
// used afterwards.
func GetBuf(n int) *[]float32 { return getBuf(n) }

// getZeroBuf is getBuf with the slice cleared.
func getZeroBuf(n int) *[]float32 {
	p := getBuf(n)
	clear(*p)
	return p
}

// GetInt32Buf is GetBuf for int32s: a pooled slice of length n with
// arbitrary contents, and the handle to give to PutBuf when done (the two
// share memory; neither may be used after).
func GetInt32Buf(n int) (ints []int32, handle *[]float32) {
	p := getBuf(n)
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(*p))), n), p
}

// PutBuf returns a slice obtained from GetBuf or GetInt32Buf to
// the pool.
func PutBuf(p *[]float32) { putBuf(p) }

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

// splitMinFlops is the smallest m*n*k that Gemm splits into independent
// serial products (gemmSplit) below parallelMinFlops.
const splitMinFlops = 100 * 100 * 100

// gemmSplit computes a mid-sized product as pieces serial Gemms on slices
// of C, cut along its longer side on the tile grid and run by ParallelFor:
// one hand-off instead of the two per k block of the packed parallel path,
// which cost more than they save at these sizes (a Linear layer's 64×400×120
// at batch 64). Each piece packs its own operands; every element is summed
// as GemmSerial sums it.
func gemmSplit(pieces int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if n >= m {
		step := roundUp((n+pieces-1)/pieces, nr)
		ParallelFor(n, step, func(j0, j1 int) {
			bo := j0
			if transB {
				bo = j0 * ldb
			}
			gemm(1, transA, transB, m, j1-j0, k, alpha, a, lda, b[bo:], ldb, beta, c[j0:], ldc)
		})
		return
	}
	step := roundUp((m+pieces-1)/pieces, mr)
	ParallelFor(m, step, func(i0, i1 int) {
		ao := i0 * lda
		if transA {
			ao = i0
		}
		gemm(1, transA, transB, i1-i0, n, k, alpha, a[ao:], lda, b, ldb, beta, c[i0*ldc:], ldc)
	})
}
