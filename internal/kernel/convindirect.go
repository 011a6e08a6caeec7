package kernel

import "runtime"

// indirectConv runs a stride-1, dilation-1 convolution of one image (one
// group) as a GEMM whose B operand is never built: the image is copied once
// into a zero-padded buffer, and the micro-kernel reads row k = (c, i, j) of
// each B panel straight from it, at the offset of channel c shifted by the
// kernel tap (i, j) (an "indirect" GEMM). That replaces the im2col matrix,
// K·OutH·OutW floats written and read back per image, by InC padded planes
// that stay in L1.
//
// A panel is 16 output columns of one output row, so a row of OutW columns
// takes segs = ⌈OutW/16⌉ panels and the columns past OutW are computed and
// dropped; indirectFits admits only geometries where that waste is small.
// The reduction over k is split into kc blocks and summed exactly as
// GemmPacked sums it, so the output is bitwise that of im2col + GemmPacked.
type indirectConv struct {
	g      ConvGeom
	segs   int       // 16-column panels per output row
	hp, wp int       // padded plane: OutH+KH-1 rows of segs·16+KW-1
	off    []int32   // byte offset of B row k in the padded image
	offAll []int32   // off and zeros up to a multiple of 12 (whole weight-gradient tiles of 4, direct tap groups of 3)
	offMax int       // largest offset, in floats
	vecs   int       // weight gradient: 8-position vectors per output row
	mask   [8]uint32 // weight gradient: the lanes of a row's last vector inside OutW
}

// indirectFits reports whether g is a convolution indirectConv handles
// well: indirectRuns, and at most 1/7 of each panel row wasted on columns
// past OutW (OutW of 14, 28, 16k: yes; 10: no).
func indirectFits(g ConvGeom) bool {
	return indirectRuns(g) && 7*roundUp(g.OutW, nr) <= 8*g.OutW
}

// indirectRuns reports whether indirectConv can run g: stride and dilation
// 1, and at least indirectMinK rows of B.
func indirectRuns(g ConvGeom) bool {
	return useIndirect && paddedFits(g) && g.InC*g.KH*g.KW >= indirectMinK
}

// paddedFits reports whether g can be read from an indirectConv's padded
// image: stride and dilation 1, an output, and byte offsets within int32.
func paddedFits(g ConvGeom) bool {
	if g.StrideH != 1 || g.StrideW != 1 || g.DilH != 1 || g.DilW != 1 || g.OutH < 1 || g.OutW < 1 {
		return false
	}
	padded := int64(g.InC) * int64(g.OutH+g.KH-1) * int64(roundUp(g.OutW, nr)+g.KW-1)
	return padded < 1<<29
}

// indirectForward reports whether ConvForward (and ConvReLUMaxPool) run cv
// through indirectConv: when indirectFits, or on several cores with
// indirectNarrow when narrowPays. Several cores means GOMAXPROCS > 1, even
// when SetMaxThreads keeps this call on one goroutine: what narrowPays
// weighs is other cores streaming memory at the same time, and under a cap
// of 1 other goroutines keep them busy. Which path runs never changes the
// result (see indirectConv), so the choice may depend on the core count.
func (cv Conv) indirectForward() bool {
	return indirectFits(cv.G) || indirectNarrow && runtime.GOMAXPROCS(0) > 1 && cv.narrowPays()
}

// narrowPays reports whether indirectConv's columns past OutW cost cv less
// than the im2col matrix they save. Per image, that matrix is K·OutH·OutW
// floats written and read back, and the waste OutC·K·OutH·(wasted columns)
// multiply-adds; with AVX-512 (twice AVX2's multiply-adds per cycle, from the
// same caches) about narrowCost multiply-adds cost what one element of the
// matrix does. That admits LeNet's second convolution (10 of 16 columns, 16
// channels: 96 ≤ 100), not ResNet's 7×7 layers (512 channels).
//
// Measured on LeNet's second convolution (batch 64, AVX-512): on one core
// the fused pass runs as fast either way and the plain one 10% slower
// indirectly, so one core keeps im2col; on two, where both cores streaming
// im2col matrices slow each other, indirectly is 15% (fused) and 25%
// (plain) faster.
func (cv Conv) narrowPays() bool {
	g := cv.G
	return indirectRuns(g) && cv.OutC*(roundUp(g.OutW, nr)-g.OutW) <= narrowCost*g.OutW
}

// indirectNarrow lets indirectForward take what narrowPays admits: with
// AVX-512 only, as AVX2's indirect kernels run LeNet's second convolution
// 25% slower than im2col and GemmPacked.
var indirectNarrow = useAVX512

// narrowCost is how many multiply-adds on AVX-512 cost about what an im2col
// element written and read back does (narrowPays).
const narrowCost = 10

// indirectMinK is the shortest reduction run indirectly. Below it the
// im2col matrix is cheap to build and each panel's bookkeeping (the tile
// copy, a call per 6 rows, a weight-gradient reduction per 3×4 tile)
// outweighs the saving: the MNIST CNN's first layer (K = 25) runs no faster
// indirectly (its backward pass 10% slower), its second (K = 500) 25%
// faster.
const indirectMinK = 128

// useIndirect lets tests and benchmarks compare with the im2col path.
var useIndirect = true

// getIndirectConv returns a pooled indirectConv prepared for g (which
// indirectFits must accept); give it back with putIndirectConv.
func getIndirectConv(g ConvGeom) *indirectConv {
	ic := indirectConvs.get()
	off := ic.off[:0]
	*ic = indirectConv{g: g, segs: (g.OutW + nr - 1) / nr}
	ic.hp = g.OutH + g.KH - 1
	ic.wp = ic.segs*nr + g.KW - 1
	for c := range g.InC {
		for i := range g.KH {
			for j := range g.KW {
				o := (c*ic.hp+i)*ic.wp + j
				off = append(off, int32(4*o))
				ic.offMax = max(ic.offMax, o)
			}
		}
	}
	k := len(off)
	for len(off)%12 != 0 {
		off = append(off, 0)
	}
	ic.offAll, ic.off = off, off[:k]
	ic.vecs = (g.OutW + 7) / 8
	for l := range g.OutW - 8*(ic.vecs-1) {
		ic.mask[l] = ^uint32(0)
	}
	return ic
}

func putIndirectConv(ic *indirectConv) { indirectConvs.put(ic) }

var indirectConvs freeList[indirectConv]

// padLen is the length of the padded image buffer.
func (ic *indirectConv) padLen() int { return ic.g.InC * ic.hp * ic.wp }

// pad copies the image into the interior of the padded buffer xp: channel c,
// row r of the image starts at src[c*chStride+r*g.InW]. The border of xp
// must already be zero; pad writes only the interior, the same cells for
// every image, so a buffer zeroed once serves a whole run of images. Rows
// and columns the convolution never reads (past the padded plane) are left
// out.
func (ic *indirectConv) pad(xp, src []float32, chStride int) {
	g := ic.g
	rows := min(g.InH, ic.hp-g.PadT)
	cols := min(g.InW, ic.wp-g.PadL)
	if rows <= 0 || cols <= 0 {
		return
	}
	for c := range g.InC {
		copyRows(xp[(c*ic.hp+g.PadT)*ic.wp+g.PadL:], ic.wp, src[c*chStride:], g.InW, rows, cols)
	}
}

// run computes the convolution of the padded image xp with the packed
// weights pa (OutC×K, K = InC·KH·KW in (c, i, j) order) and hands each
// output row to dst: dst.put(oh, c0, tile, cols) with tile holding OutC rows
// of 16 values (row stride 16) for output columns c0..c0+cols-1. tile is
// scratch of at least 2·roundUp(OutC, 6)·16 floats.
//
// Panels of 6 rows run one output position (16 columns of a row) at a time;
// a last panel of 1 or 2 rows (OutC = 20: 6, 6, 6, 2) runs two positions at
// once through indirectPair, whose twice as many accumulators hide the
// multiply-add latency that a 2-row kernel alone waits on. With AVX-512
// (indirectPairRows = 2mr-1) every panel runs two positions at once, a short
// last panel together with the full one before it.
func (ic *indirectConv) run(pa *PackedA, xp, tile []float32, dst convSink) {
	g := ic.g
	m, k := pa.m, pa.k
	mp := roundUp(m, mr)
	panels := mp / mr
	_ = xp[(g.OutH-1)*ic.wp+(ic.segs-1)*nr+ic.offMax+nr-1]
	tiles := [2][]float32{tile[:mp*nr], tile[mp*nr : 2*mp*nr]}
	tail := m - (panels-1)*mr // rows of the last panel
	pairTail := tail <= indirectPairRows && indirectPair != nil
	npos := g.OutH * ic.segs
	for pos := 0; pos < npos; {
		n := 1 // positions this pass
		if pairTail && pos+1 < npos {
			n = 2
		}
		var bs [2][]float32
		for j := range n {
			oh, s := (pos+j)/ic.segs, (pos+j)%ic.segs
			bs[j] = xp[oh*ic.wp+s*nr:]
		}
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			beta := float32(1)
			if p0 == 0 {
				beta = 0
			}
			ap := (*pa.buf)[p0*mp:]
			off := ic.off[p0 : p0+kb]
			full := panels // panels run one position at a time
			if n == 2 {
				full = 0
				if indirectPairRows < mr {
					full = panels - 1
				}
			}
			for j := range n {
				for ir := 0; ir < full*mr; ir += mr {
					indirectKernel(kb, ap[ir*kb:ir*kb+mr*kb], off, bs[j], tiles[j][ir*nr:], nr, pa.alpha, beta, min(mr, m-ir))
				}
			}
			if n == 2 {
				bstride := len(bs[0]) - len(bs[1]) // the second position's B, in floats after the first's
				for ir := full * mr; ir < m; {
					rows := min(mr, m-ir)
					if m-ir > mr && m-ir <= indirectPairRows {
						rows = m - ir // the last full panel and a short tail in one call
					}
					np := roundUp(rows, mr)
					indirectPair(kb, ap[ir*kb:ir*kb+np*kb], off, bs[0], bstride, tiles[0][ir*nr:], tiles[1][ir*nr:], nr, pa.alpha, beta, rows)
					ir += np
				}
			}
		}
		for j := range n {
			oh, s := (pos+j)/ic.segs, (pos+j)%ic.segs
			dst.put(oh, s*nr, tiles[j], min(nr, g.OutW-s*nr))
		}
		pos += n
	}
}

// direct is run for convolutions directFits admits: the same output, written
// straight into dst by convDirect512 (one call per 6-row panel of pa) instead
// of through a tile per output position.
func (ic *indirectConv) direct(pa *PackedA, xp []float32, dst convSink) {
	g := ic.g
	m, k := pa.m, pa.k
	if k > kc || len(ic.off) != k || len(xp) < ic.padLen() {
		panic("kernel: indirectConv.direct: geometry mismatch")
	}
	hw := g.OutH * g.OutW
	if len(dst.out) < (m-1)*dst.chStride+hw || dst.outW != g.OutW || dst.add {
		panic("kernel: indirectConv.direct: output too short")
	}
	ap := *pa.buf
	for ir := 0; ir < m; ir += mr {
		convDirect512(k, &ap[ir*k], &ic.off[0], &xp[0], ic.wp, &dst.out[ir*dst.chStride], dst.chStride, g.OutH, g.OutW, min(mr, m-ir), pa.alpha)
	}
	if dst.bias != nil {
		for o := range m {
			plane := dst.out[o*dst.chStride : o*dst.chStride+hw]
			AddScalar(plane, plane, dst.bias[o])
		}
	}
}

// directWeightGrad adds to lanes the weight gradient of one image through
// convDWDirect512: the image padded in xp, its output gradient dy (channel o
// at dy[o*lddy:], rows of OutW), m channels. lanes holds 16 partial sums per
// (channel, tap), [m][roundUp(K, 3)][16]; sumLanes turns them into dW.
func (ic *indirectConv) directWeightGrad(xp, dy []float32, lddy, m int, lanes []float32) {
	g := ic.g
	k := len(ic.off)
	kp := roundUp(k, 3)
	hw := g.OutH * g.OutW
	if len(xp) < ic.padLen() || len(dy) < (m-1)*lddy+hw || len(lanes) < m*kp*16 || len(ic.offAll) < kp {
		panic("kernel: indirectConv.directWeightGrad: slice too short")
	}
	tail := 1<<((g.OutW-1)%32+1) - 1 // the columns of a row's last block of 32
	for o0 := 0; o0 < m; o0 += mr {
		convDWDirect512(kp, &ic.offAll[0], &xp[0], ic.wp, &dy[o0*lddy], lddy, g.OutH, g.OutW, min(mr, m-o0), &lanes[o0*kp*16], tail)
	}
}

// sumLanes sets dw[o*k+p] (o < m, p < k) to the sum of the 16 partial sums
// directWeightGrad left in lanes, added as a fixed tree (as reduce4 in
// asmgen/emit512.py adds a zmm's lanes: l_i + l_{i+8}, then + 4 apart, ...).
func sumLanes(dw, lanes []float32, m, k int) {
	kp := roundUp(k, 3)
	for o := range m {
		for p := range k {
			i := (o*kp + p) * 16
			l := lanes[i : i+16 : i+16]
			dw[o*k+p] = (((l[0] + l[8]) + (l[4] + l[12])) + ((l[2] + l[10]) + (l[6] + l[14]))) +
				(((l[1] + l[9]) + (l[5] + l[13])) + ((l[3] + l[11]) + (l[7] + l[15])))
		}
	}
}

// directWeightGradFits reports whether the weight gradient of cv runs
// through directWeightGrad: when directFits, for up to 6 output channels (a
// group). There im2col's matrix (K floats per output position) outweighs the
// multiply-adds (OutC·K), and the direct kernel's extra lanes (rows rounded
// up to 32, taps to 3) cost less than the matrix: LeNet's first layer, one
// core 130-138 → 103-114 µs, two 73-79 → 64-68 µs. With more channels the
// multiply-adds dominate and the extra lanes lose (the MNIST CNN's first
// layer, 20 channels: 12-17% slower).
func (cv Conv) directWeightGradFits() bool {
	return cv.directFits() && cv.OutC <= mr
}

// directFits reports whether the forward pass of cv runs through
// indirectConv.direct: with AVX-512, a stride-1, dilation-1 convolution whose
// reduction is too short for indirectFits (K < indirectMinK: LeNet's first
// layer, K = 9, and the MNIST CNN's, K = 25). There im2col's matrix (K floats
// written and read back per output) costs more than the multiply-adds
// (OutC·K), and indirectConv.run's bookkeeping per 16 outputs more still.
func (cv Conv) directFits() bool {
	return useAVX512 && useDirect && paddedFits(cv.G) && cv.k() >= 1 && cv.k() < indirectMinK
}

// useDirect lets tests and benchmarks compare with the im2col path.
var useDirect = true

// convSink receives the output rows of indirectConv.run.
type convSink struct {
	out      []float32 // element (o, oh, ow) at out[o*chStride+oh*outW+ow]
	chStride int
	outW     int
	bias     []float32 // added to channel o when not nil (set mode only)
	add      bool      // out += tile instead of out = tile (+ bias)
	m        int       // channels
}

func (d convSink) put(oh, c0 int, tile []float32, cols int) {
	out := d.out[oh*d.outW+c0:]
	switch {
	case d.add:
		addRows(out, d.chStride, tile, nr, d.m, cols)
	case d.bias != nil:
		for o := range d.m {
			AddScalar(out[o*d.chStride:o*d.chStride+cols], tile[o*nr:o*nr+cols], d.bias[o])
		}
	default:
		copyRows(out, d.chStride, tile, nr, d.m, cols)
	}
}

// indirectKernel is the micro-kernel with an indirect B: c[i*ldc+j] =
// alpha*Σ_p a[p*mr+i]*b[off[p]/4+j] + beta*c[i*ldc+j] for the first rows
// rows, with the micro-kernel's arithmetic. Chosen at init.
var indirectKernel = indirectKernelGo

// indirectPair is indirectKernel for two B panels, the second bstride
// floats after the first, into c and c2, for rows 1..indirectPairRows. Nil
// without assembly (run then takes the positions one at a time).
var indirectPair func(k int, a []float32, off []int32, b []float32, bstride int, c, c2 []float32, ldc int, alpha, beta float32, rows int)

// indirectPairRows is the most rows indirectPair takes: 2 with AVX2 (only a
// short last panel needs the extra accumulators), 2mr-1 with AVX-512, whose
// 6×16 tile has too few (run then pairs positions for every panel, and
// takes a short last panel together with the full one before it). Past mr,
// a holds two packed panels and c, c2 the rows of both.
var indirectPairRows = 2

// indirectKernelGo gathers the B panel and runs the micro-kernel on it.
func indirectKernelGo(k int, a []float32, off []int32, b []float32, c []float32, ldc int, alpha, beta float32, rows int) {
	buf := getBuf(k * nr)
	pb := *buf
	for p := range k {
		o := int(off[p] / 4)
		copy(pb[p*nr:(p+1)*nr], b[o:o+nr])
	}
	microKernel(k, a, pb, nr, c, ldc, alpha, beta, rows)
	putBuf(buf)
}

// dyLen is the length of one image's dY in the layout weightGrad reads: the
// OutC channels rounded up to a multiple of 3 (the extra ones zero), each
// OutH rows of vecs·8 values, zero past OutW.
func (ic *indirectConv) dyLen(oc int) int { return roundUp(oc, 3) * ic.g.OutH * ic.vecs * 8 }

// padDY copies one image's dY (channel o, row r at src[o*chStride+r*OutW])
// into dst in weightGrad's layout. Like pad, it writes only the cells inside
// OutW, so a buffer zeroed once serves many images.
func (ic *indirectConv) padDY(dst, src []float32, chStride, oc int) {
	g := ic.g
	ch := g.OutH * ic.vecs * 8
	for o := range oc {
		copyRows(dst[o*ch:], ic.vecs*8, src[o*chStride:], g.OutW, g.OutH, g.OutW)
	}
}

// weightGrad adds into dw (oc×K, rows ldw apart) the weight gradient of
// nimg images: dyp holds their dY one after the other (dyLen each, see
// padDY), xp their padded inputs (padLen each, see pad). Each element is a
// sum of 8-lane (AVX-512: 16-lane) partial sums over the images' positions,
// reduced in a fixed order and then added to dw, so the result depends only
// on the images given together.
func (ic *indirectConv) weightGrad(dyp, xp []float32, nimg, oc int, dw []float32, ldw int) {
	g := ic.g
	k := len(ic.off)
	ch := g.OutH * ic.vecs * 8
	slot := ic.dyLen(oc)
	_ = dyp[nimg*slot-1]
	_ = xp[nimg*ic.padLen()-1]
	_ = dw[(oc-1)*ldw+k-1]
	var sums [24]float32
	// Tiles of 3 channels (dyp holds them in multiples of 3), or with
	// AVX-512 of up to 6, as even as oc allows (20: four of 5); a channel's
	// sums are the same whichever tile computes them.
	tiles := (oc + 2) / 3
	if useAVX512 {
		tiles = (oc + 5) / 6
	}
	for t := range tiles {
		o0, rows := 3*t, 3
		if useAVX512 {
			o0, rows = t*oc/tiles, (t+1)*oc/tiles-t*oc/tiles
		}
		for k0 := 0; k0 < k; k0 += 4 {
			convDWTile(ic, dyp[o0*ch:], slot, xp, ic.offAll[k0:k0+4], nimg, rows, &sums)
			for o := range min(rows, oc-o0) {
				row := dw[(o0+o)*ldw+k0 : (o0+o)*ldw+min(k0+4, k)]
				for c := range row {
					row[c] += sums[4*o+c]
				}
			}
		}
	}
}

// convDWTile sets sums[4*o+c] to the weight gradient of output channel o
// (dy's rows o < rows, ch = OutH·vecs·8 floats apart; images slot floats
// apart) and B row off[c] (c = 0..3) over nimg images: Σ over positions of
// dY·x, as 8-lane (AVX-512: 16-lane) partial sums reduced in a fixed order.
// rows is 3, or 1..6 with AVX-512. (A direct call, not a function value, so
// that sums stays on the caller's stack.)
func convDWTile(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg, rows int, sums *[24]float32) {
	switch {
	case useAVX512:
		convDWTileAVX512(ic, dy, slot, xp, off, nimg, rows, sums)
	case useAVX2:
		convDWTileAVX2(ic, dy, slot, xp, off, nimg, (*[12]float32)(sums[:12]))
	default:
		convDWTileGo(ic, dy, slot, xp, off, nimg, (*[12]float32)(sums[:12]))
	}
}

// convDWTileGo is convDWTile3x4 in Go: the same 8-lane partial sums and
// reduction tree; without fused multiply-adds its roundings differ slightly.
func convDWTileGo(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg int, sums *[12]float32) {
	g := ic.g
	ch := g.OutH * ic.vecs * 8
	var l [12][8]float32
	for n := range nimg {
		for oh := range g.OutH {
			for v := range ic.vecs {
				for c := range 4 {
					xb := xp[n*ic.padLen()+int(off[c]/4)+oh*ic.wp+8*v:]
					for o := range 3 {
						d := dy[n*slot+o*ch+(oh*ic.vecs+v)*8:]
						for q := range 8 {
							xv := xb[q]
							if v == ic.vecs-1 && ic.mask[q] == 0 {
								xv = 0
							}
							l[4*o+c][q] += d[q] * xv
						}
					}
				}
			}
		}
	}
	for r := range sums {
		s := l[r]
		sums[r] = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
	}
}
