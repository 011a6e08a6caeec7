package kernel

import (
	"sync"
)

// Conv is a batched 2-D convolution: N images of Groups*G.InC channels of
// G.InH×G.InW (NCHW), weights [Groups*OutC][G.InC][G.KH][G.KW], output
// [N][Groups*OutC][G.OutH][G.OutW]. G describes one image and one group.
//
// ConvForward and ConvBackward lower it to GEMMs: a chunk of a few images
// is unfolded side by side (Im2colLD) into one K×(images·P) matrix, with
// K = InC·KH·KW and P = OutH·OutW, so that each GEMM is wide enough to run
// at speed even when a single image's P is small; the weights are packed
// once per call. Chunks are spread over goroutines. The chunk size and the
// partition of the weight-gradient reduction depend only on the shape, so
// results are bitwise independent of GOMAXPROCS.
//
// Stride-1 convolutions with K ≥ 128 whose output rows fill 16-wide panels
// well (indirectFits) skip the im2col matrix: see indirectConv. On several
// cores with AVX-512, the forward pass of some with narrower rows and few
// output channels skips it too (indirectForward). The forward pass gives
// bitwise the im2col path's result either way. For the convolutions
// indirectFits admits, the input gradient is a convolution of dY with the
// flipped weights (dxGeom) and the weight gradient a sum over padded images
// (weightGrad), both summed in another order than the im2col path would.
//
// With AVX-512, stride-1 convolutions with K < 128 run direct instead
// (directFits: indirectConv.direct, bitwise the im2col path's forward pass)
// and, for up to 6 output channels, so does their weight gradient
// (directWeightGradFits: directWeightGrad, summed in 16 lanes per run).
type Conv struct {
	G      ConvGeom
	N      int // images
	Groups int // channel groups (1 for an ordinary convolution)
	OutC   int // output channels per group
}

func (cv Conv) k() int      { return cv.G.InC * cv.G.KH * cv.G.KW }
func (cv Conv) p() int      { return cv.G.OutH * cv.G.OutW }
func (cv Conv) inLen() int  { return cv.Groups * cv.G.InC * cv.G.InH * cv.G.InW }
func (cv Conv) outLen() int { return cv.Groups * cv.OutC * cv.p() }
func (cv Conv) wLen() int   { return cv.Groups * cv.OutC * cv.k() }

// chunkImages is how many images one GEMM covers: doubled while the GEMM
// is narrower than 512 columns and the unfolded chunk stays within 256 KiB
// (half of a typical L2), so the chunk's im2col matrix is still in cache
// when the GEMM reads it.
func (cv Conv) chunkImages() int {
	k, p := cv.k(), cv.p()
	cb := 1
	for 2*cb <= cv.N && 2*cb*p <= 512 && 4*k*2*cb*p <= 256<<10 {
		cb *= 2
	}
	return cb
}

// chunkImagesBackward is chunkImages, doubled further while a chunk has fewer
// than ntMinK positions, so that the weight gradient's sums over a chunk's
// positions are long enough for GemmNT.
func (cv Conv) chunkImagesBackward() int {
	cb := cv.chunkImages()
	for 2*cb <= cv.N && cb*cv.p() < ntMinK {
		cb *= 2
	}
	return cb
}

func (cv Conv) check(fn string, x, w, y []float32) {
	g := cv.G
	if cv.N < 0 || cv.Groups < 1 || cv.OutC < 0 || g.InC < 0 || g.InH < 0 || g.InW < 0 || g.KH < 1 || g.KW < 1 ||
		g.OutH < 0 || g.OutW < 0 || g.StrideH < 1 || g.StrideW < 1 || g.DilH < 1 || g.DilW < 1 {
		panic("kernel: " + fn + ": invalid geometry")
	}
	if x != nil && len(x) < cv.N*cv.inLen() {
		panic("kernel: " + fn + ": input too short")
	}
	if len(w) < cv.wLen() {
		panic("kernel: " + fn + ": weights too short")
	}
	if y != nil && len(y) < cv.N*cv.outLen() {
		panic("kernel: " + fn + ": output too short")
	}
}

// ConvForward sets y to the convolution of x with w, plus bias[o] on every
// output channel o when bias is not nil. It panics if the geometry is
// invalid or a slice is too short.
func ConvForward(cv Conv, x, w, bias, y []float32) {
	cv.check("ConvForward", x, w, y)
	convForward(cv, x, w, bias, y, nil)
}

// convForward is ConvForward, or ConvReLUMaxPool when pool is not nil (y is
// then unused: the output goes to pool.y).
func convForward(cv Conv, x, w, bias, y []float32, pool *convPool) {
	if bias != nil && len(bias) < cv.Groups*cv.OutC {
		panic("kernel: ConvForward: bias too short")
	}
	if cv.N == 0 || cv.p() == 0 || cv.OutC == 0 {
		return
	}
	pa := packWeights(cv, w, false)
	cb := cv.chunkImages()
	chunks := (cv.N + cb - 1) / cb
	threads := 1
	if chunks == 1 {
		threads = Threads()
	}
	t := convTasks.get()
	*t = convTask{cv: cv, x: x, bias: bias, y: y, pa: pa, cb: cb, threads: threads, pool: pool}
	switch {
	case chunks == 1: // the GEMM is split over threads instead
	case cv.directFits():
		t.ind, t.direct = getIndirectConv(cv.G), true
		defer putIndirectConv(t.ind)
	case cv.indirectForward():
		t.ind = getIndirectConv(cv.G)
		defer putIndirectConv(t.ind)
	}
	// Chunks are independent here, so several to a piece (which takes the
	// scratch buffers once), but about 32 pieces for the goroutines to
	// share: with 8, two goroutines split 9 pieces 5 to 4 and one of them
	// idles for a tenth of the call.
	parallelTask(chunks, max(1, chunks/32), t)
	*t = convTask{}
	convTasks.put(t)
	releaseWeights(pa)
}

// convTask is one ConvForward or ConvBackward call, run over ranges of
// chunks (forward) or runs of chunks (backward) as a recyclable task.
type convTask struct {
	cv                     Conv
	x, w, bias, y          []float32 // forward; y is dy backward
	dx, dw                 []float32
	pa                     []PackedA
	partial                []float32 // backward: weight-gradient sums per run
	cb, threads, per, runs int
	back                   bool          // backward
	pool                   *convPool     // ConvReLUMaxPool: the fused ReLU and pooling
	ind                    *indirectConv // forward (or dX, backward) without im2col, when not nil
	wdir                   *indirectConv // backward: dW through directWeightGrad, when not nil
	direct                 bool          // forward: through ind.direct (directFits)
	wind                   *indirectConv // backward: dW without im2col, when not nil
}

// indirectDWImages is the chunk of images whose weight gradient
// convDWTile sums in one call: long enough sums to pay for the reduction,
// and enough chunks (runs) in a batch of 100 to share between threads.
const indirectDWImages = 4

var convTasks freeList[convTask]

func (t *convTask) run(lo, hi int) {
	if t.back {
		t.backward(lo, hi)
		return
	}
	if t.ind != nil {
		t.forwardIndirect(lo, hi)
		return
	}
	cv, x, y, bias, pa, cb := t.cv, t.x, t.y, t.bias, t.pa, t.cb
	k, p, oc := cv.k(), cv.p(), cv.OutC
	colBuf := getBuf(max(k*cb*p, 1))
	var cbuf *[]float32
	if cb > 1 || t.pool != nil {
		cbuf = getBuf(oc * cb * p)
	}
	for ch := lo; ch < hi; ch++ {
		n0 := ch * cb
		nb := min(cb, cv.N-n0)
		ld := nb * p
		for gi := range cv.Groups {
			col := *colBuf
			for i := range nb {
				img := x[(n0+i)*cv.inLen()+gi*cv.G.InC*cv.G.InH*cv.G.InW:]
				Im2colLD(cv.G, img, col[i*p:], ld)
			}
			if t.pool != nil { // the convolution only into cache, then bias, ReLU and pooling
				GemmPacked(t.threads, &pa[gi], false, ld, col, ld, 0, *cbuf, ld)
				t.pool.forward(cv, bias, n0, nb, gi, *cbuf, ld)
				continue
			}
			yo := n0*cv.outLen() + gi*oc*p // first output plane of the group
			if nb == 1 {
				GemmPacked(t.threads, &pa[gi], false, p, col, ld, 0, y[yo:], p)
				if bias != nil {
					for o := range oc {
						plane := y[yo+o*p : yo+(o+1)*p]
						AddScalar(plane, plane, bias[gi*oc+o])
					}
				}
				continue
			}
			GemmPacked(1, &pa[gi], false, ld, col, ld, 0, *cbuf, ld)
			for i := range nb {
				yi := yo + i*cv.outLen()
				if bias == nil {
					copyRows(y[yi:], p, (*cbuf)[i*p:], ld, oc, p)
					continue
				}
				for o := range oc {
					AddScalar(y[yi+o*p:yi+(o+1)*p], (*cbuf)[o*ld+i*p:o*ld+(i+1)*p], bias[gi*oc+o])
				}
			}
		}
	}
	putBuf(colBuf)
	if cbuf != nil {
		putBuf(cbuf)
	}
}

// forwardIndirect is run for chunks [lo, hi) through t.ind: each image is
// padded once and convolved without an im2col matrix (by ind.run, or
// ind.direct when t.direct), with the same result.
func (t *convTask) forwardIndirect(lo, hi int) {
	cv, ic, cb := t.cv, t.ind, t.cb
	p, oc := cv.p(), cv.OutC
	plane := cv.G.InH * cv.G.InW
	xp := getZeroBuf(ic.padLen())
	tile := getBuf(2 * roundUp(oc, mr) * nr)
	var cbuf *[]float32
	if t.pool != nil {
		cbuf = getBuf(oc * cb * p)
	}
	for ch := lo; ch < hi; ch++ {
		n0 := ch * cb
		nb := min(cb, cv.N-n0)
		for gi := range cv.Groups {
			for i := range nb {
				ic.pad(*xp, t.x[(n0+i)*cv.inLen()+gi*cv.G.InC*plane:], plane)
				var sink convSink
				switch {
				case t.pool != nil: // the chunk's convolution into cache; bias, ReLU and pooling below
					sink = convSink{out: (*cbuf)[i*p:], chStride: nb * p, outW: cv.G.OutW, m: oc}
				default:
					sink = convSink{out: t.y[(n0+i)*cv.outLen()+gi*oc*p:], chStride: p, outW: cv.G.OutW, m: oc}
					if t.bias != nil {
						sink.bias = t.bias[gi*oc:]
					}
				}
				if t.direct {
					ic.direct(&t.pa[gi], *xp, sink)
				} else {
					ic.run(&t.pa[gi], *xp, *tile, sink)
				}
			}
			if t.pool != nil {
				t.pool.forward(cv, t.bias, n0, nb, gi, *cbuf, nb*p)
			}
		}
	}
	putBuf(xp)
	putBuf(tile)
	if cbuf != nil {
		putBuf(cbuf)
	}
}

// backward is ConvBackward's work for runs [lo, hi).
func (t *convTask) backward(lo, hi int) {
	cv, x, dy, dx, dw, pa, cb, per := t.cv, t.x, t.y, t.dx, t.dw, t.pa, t.cb, t.per
	k, p, oc := cv.k(), cv.p(), cv.OutC
	chunks := (cv.N + cb - 1) / cb
	wl := cv.wLen()
	var col *[]float32 // im2col matrix of a chunk
	if (dw != nil && t.wind == nil && t.wdir == nil) || (dx != nil && t.ind == nil) {
		col = getBuf(max(k*cb*p, 1))
		defer putBuf(col)
	}
	var xps, dyw *[]float32 // dW through t.wind: a chunk's padded images and dY
	if dw != nil && t.wind != nil {
		xps = getZeroBuf(cb * t.wind.padLen())
		dyw = getZeroBuf(cb * t.wind.dyLen(oc))
		defer putBuf(xps)
		defer putBuf(dyw)
	}
	var xpd, lanes *[]float32          // dW through t.wdir: an image padded, a run's partial sums per group
	laneLen := oc * roundUp(k, 3) * 16 // a group's part of lanes
	if dw != nil && t.wdir != nil {
		xpd = getZeroBuf(t.wdir.padLen())
		lanes = getBuf(cv.Groups * laneLen)
		defer putBuf(xpd)
		defer putBuf(lanes)
	}
	var dyb *[]float32
	if cb > 1 || t.pool != nil {
		dyb = getBuf(oc * cb * p)
	}
	var dyp, tile *[]float32 // dX through t.ind: the padded dY of an image, an output tile
	if t.ind != nil {
		dyp = getZeroBuf(t.ind.padLen())
		tile = getBuf(2 * roundUp(cv.G.InC, mr) * nr)
		defer putBuf(dyp)
		defer putBuf(tile)
	}
	for run := lo; run < hi; run++ {
		for ch := run * per; ch < min((run+1)*per, chunks); ch++ {
			n0 := ch * cb
			nb := min(cb, cv.N-n0)
			ld := nb * p
			for gi := range cv.Groups {
				yo := n0*cv.outLen() + gi*oc*p
				// dY of the chunk's images as one oc×ld matrix.
				var dyc []float32
				lddy := ld
				switch {
				case t.pool != nil: // dY of the convolution, from the pooled gradient
					t.pool.backward(cv, n0, nb, gi, *dyb, ld)
					dyc = *dyb
				case nb > 1:
					for i := range nb {
						copyRows((*dyb)[i*p:], ld, dy[yo+i*cv.outLen():], p, oc, p)
					}
					dyc = *dyb
				default:
					dyc, lddy = dy[yo:], p
				}
				xo := n0*cv.inLen() + gi*cv.G.InC*cv.G.InH*cv.G.InW
				if dw != nil && t.wdir != nil { // dW_g (+)= dY·colᵀ, direct: 16 partial sums each until the run's end
					lg := (*lanes)[gi*laneLen : (gi+1)*laneLen]
					if ch == run*per {
						clear(lg)
					}
					for i := range nb {
						t.wdir.pad(*xpd, x[xo+i*cv.inLen():], cv.G.InH*cv.G.InW)
						t.wdir.directWeightGrad(*xpd, dyc[i*p:], lddy, oc, lg)
					}
					if ch == min((run+1)*per, chunks)-1 {
						sumLanes(t.partial[run*wl+gi*oc*k:], lg, oc, k)
					}
				} else if dw != nil && t.wind != nil { // dW_g (+)= dY·colᵀ, without col
					pw := t.partial[run*wl+gi*oc*k:]
					if ch == run*per {
						clear(pw[:oc*k])
					}
					pl, dl := t.wind.padLen(), t.wind.dyLen(oc)
					for i := range nb {
						t.wind.pad((*xps)[i*pl:], x[xo+i*cv.inLen():], cv.G.InH*cv.G.InW)
						t.wind.padDY((*dyw)[i*dl:], dyc[i*p:], lddy, oc)
					}
					t.wind.weightGrad(*dyw, *xps, nb, oc, pw, k)
				} else if dw != nil { // dW_g (+)= dY·colᵀ
					xcol := *col
					for i := range nb {
						Im2colLD(cv.G, x[xo+i*cv.inLen():], xcol[i*p:], ld)
					}
					beta := float32(1)
					if ch == run*per {
						beta = 0
					}
					pw := t.partial[run*wl+gi*oc*k:]
					if ld >= ntMinK {
						GemmNT(oc, k, ld, dyc, lddy, xcol, ld, beta, pw, k)
					} else {
						GemmSerial(false, true, oc, k, ld, 1, dyc, lddy, xcol, ld, beta, pw, k)
					}
				}
				if dx != nil { // dX is summed into each image's cleared part
					for i := range nb {
						clear(dx[xo+i*cv.inLen() : xo+i*cv.inLen()+cv.G.InC*cv.G.InH*cv.G.InW])
					}
				}
				if dx != nil && t.ind != nil { // dX = dY convolved with the flipped Wᵀ
					for i := range nb {
						t.ind.pad(*dyp, dyc[i*p:], lddy)
						t.ind.run(&pa[gi], *dyp, *tile, convSink{out: dx[xo+i*cv.inLen():], chStride: cv.G.InH * cv.G.InW,
							outW: cv.G.InW, add: true, m: cv.G.InC})
					}
				} else if dx != nil { // dX = col2im(Wᵀ·dY)
					GemmPacked(1, &pa[gi], false, ld, dyc, lddy, 0, *col, ld)
					for i := range nb {
						Col2imLD(cv.G, (*col)[i*p:], ld, dx[xo+i*cv.inLen():])
					}
				}
			}
		}
	}
	if dyb != nil {
		putBuf(dyb)
	}
}

// biasTask sums the bias gradient of output channels [lo, hi).
type biasTask struct {
	cv     Conv
	dy, db []float32
}

var biasTasks freeList[biasTask]

func (t *biasTask) run(lo, hi int) {
	cv, p := t.cv, t.cv.p()
	for o := lo; o < hi; o++ {
		var s float32
		for n := range cv.N {
			s += Sum(t.dy[n*cv.outLen()+o*p : n*cv.outLen()+(o+1)*p])
		}
		t.db[o] = s
	}
}

// ntMinK is the shortest sum over positions for which the weight gradient
// dY·colᵀ runs as dot products (GemmNT) rather than through the packed GEMM:
// shorter ones spend too much of each dot product on its reduction.
const ntMinK = 256

// packWeights packs each group's weights W (OutC×K), or Wᵀ when trans.
func packWeights(cv Conv, w []float32, trans bool) []PackedA {
	pa := groupPacks(cv.Groups)
	k, oc := cv.k(), cv.OutC
	for gi := range pa {
		if trans {
			pa[gi] = PackA(true, k, oc, 1, w[gi*oc*k:], k)
		} else {
			pa[gi] = PackA(false, oc, k, 1, w[gi*oc*k:], k)
		}
	}
	return pa
}

// dxGeom is the convolution that gives the input gradient of a stride-1,
// dilation-1 convolution: dY, padded by KH-1-PadT above and KW-1-PadL on
// the left, convolved with the weights transposed (InC×OutC) and flipped in
// both spatial axes, is dX. ok is false unless that convolution exists,
// indirectFits accepts it, and it does at most 8/7 of the multiplications
// of Wᵀ·dY: a convolution without padding (LeNet's second: 10×10 from
// 14×14) would have its dX convolution spend half its work on the zeros
// around dY.
func (cv Conv) dxGeom() (g ConvGeom, ok bool) {
	f := cv.G
	if f.StrideH != 1 || f.StrideW != 1 || f.DilH != 1 || f.DilW != 1 || f.PadT > f.KH-1 || f.PadL > f.KW-1 {
		return g, false
	}
	g = ConvGeom{InC: cv.OutC, InH: f.OutH, InW: f.OutW, KH: f.KH, KW: f.KW, StrideH: 1, StrideW: 1,
		PadT: f.KH - 1 - f.PadT, PadL: f.KW - 1 - f.PadL, DilH: 1, DilW: 1, OutH: f.InH, OutW: f.InW}
	computed := g.OutH * roundUp(g.OutW, nr) // output positions the dX convolution computes
	return g, indirectFits(g) && 7*computed <= 8*f.OutH*f.OutW
}

// packFlipped packs, per group, the weights of dxGeom's convolution:
// W'[c][o][i][j] = W[o][c][KH-1-i][KW-1-j], an InC×(OutC·KH·KW) matrix.
func packFlipped(cv Conv, w []float32) []PackedA {
	g, oc := cv.G, cv.OutC
	pa := groupPacks(cv.Groups)
	k, taps := cv.k(), g.KH*g.KW
	wt := getBuf(g.InC * oc * taps)
	for gi := range pa {
		wg := w[gi*oc*k:]
		for c := range g.InC {
			for o := range oc {
				src := wg[o*k+c*taps : o*k+(c+1)*taps]
				dst := (*wt)[(c*oc+o)*taps : (c*oc+o+1)*taps]
				for t := range taps {
					dst[t] = src[taps-1-t]
				}
			}
		}
		pa[gi] = PackA(false, g.InC, oc*taps, 1, *wt, oc*taps)
	}
	putBuf(wt)
	return pa
}

// groupPacks returns room for the packed weights of groups groups, recycled
// when there are few (see releaseWeights).
func groupPacks(groups int) []PackedA {
	if groups <= len(packedScratch{}) {
		return getPacked()[:groups]
	}
	return make([]PackedA, groups)
}

// releaseWeights releases what packWeights or packFlipped packed.
func releaseWeights(pa []PackedA) {
	for gi := range pa {
		pa[gi].Release()
	}
	if cap(pa) == len(packedScratch{}) {
		putPacked((*packedScratch)(pa[:len(packedScratch{})]))
	}
}

// packedScratch holds the packed weights of up to 4 groups; they are
// recycled, as an allocation per convolution would be.
type packedScratch [4]PackedA

var freePacked struct {
	sync.Mutex
	list []*packedScratch
}

func getPacked() []PackedA {
	freePacked.Lock()
	defer freePacked.Unlock()
	if k := len(freePacked.list); k > 0 {
		p := freePacked.list[k-1]
		freePacked.list = freePacked.list[:k-1]
		return p[:]
	}
	return new(packedScratch)[:]
}

func putPacked(p *packedScratch) {
	*p = packedScratch{}
	freePacked.Lock()
	if len(freePacked.list) < 16 {
		freePacked.list = append(freePacked.list, p)
	}
	freePacked.Unlock()
}

// maxWeightPartials bounds how many partial weight gradients ConvBackward
// sums: chunks are grouped into at most this many runs, each reduced on one
// goroutine.
const maxWeightPartials = 32

// ConvBackward sets dx (input), dw (weights) and db (bias) to the gradients
// of the convolution y = conv(x, w) + bias, given dy; their contents need not
// be defined beforehand. Any of them may be nil to skip it; x is read only
// for dw. It panics if the geometry is invalid or a slice is too short.
//
// Each image's part of dx is cleared in the parallel work just before its
// gradient is summed into it, which saves the caller clearing the whole of
// it first. The weight gradient is summed per run of chunks (the runs fixed
// by N) and the runs' sums are added in order into dw, cleared first. The
// bias gradient of channel o sums each image's plane sum (Sum) in image
// order, starting from +0.
func ConvBackward(cv Conv, x, w, dy, dx, dw, db []float32) {
	cv.check("ConvBackward", x, w, dy)
	convBackward(cv, x, w, dy, dx, dw, db, nil)
}

// convBackward is ConvBackward, or ConvReLUMaxPoolBackward when pool is not
// nil (dy is then unused: the chunks' dY come from pool).
func convBackward(cv Conv, x, w, dy, dx, dw, db []float32, pool *convPool) {
	if dx != nil && len(dx) < cv.N*cv.inLen() {
		panic("kernel: ConvBackward: dx too short")
	}
	if dw != nil && len(dw) < cv.wLen() {
		panic("kernel: ConvBackward: dw too short")
	}
	if db != nil && len(db) < cv.Groups*cv.OutC {
		panic("kernel: ConvBackward: db too short")
	}
	if cv.N == 0 || cv.p() == 0 || cv.OutC == 0 {
		// No output: the gradients are zero.
		if dx != nil {
			clear(dx[:cv.N*cv.inLen()])
		}
		if dw != nil {
			clear(dw[:cv.wLen()])
		}
		if db != nil {
			clear(db[:cv.Groups*cv.OutC])
		}
		return
	}
	if db != nil && pool == nil {
		outC := cv.Groups * cv.OutC
		t := biasTasks.get()
		*t = biasTask{cv: cv, dy: dy, db: db}
		parallelTask(outC, max(1, outC/8), t)
		*t = biasTask{}
		biasTasks.put(t)
	}
	if dx == nil && dw == nil && (pool == nil || db == nil) {
		return
	}
	var sums *[]float32 // pool: the plane sums for db
	if pool != nil && db != nil {
		sums = getBuf(cv.N * cv.Groups * cv.OutC)
		pool.sums = *sums
	}
	var pa []PackedA // Wᵀ per group, for dcol = Wᵀ·dY; or flipped for ind
	var ind *indirectConv
	if dx != nil {
		if g, ok := cv.dxGeom(); ok {
			ind = getIndirectConv(g)
			defer putIndirectConv(ind)
			pa = packFlipped(cv, w)
		} else {
			pa = packWeights(cv, w, true)
		}
	}
	cb := cv.chunkImagesBackward()
	var wind, wdir *indirectConv
	if dw != nil && cv.directWeightGradFits() {
		wdir = getIndirectConv(cv.G)
		defer putIndirectConv(wdir)
	}
	if dw != nil && indirectFits(cv.G) {
		wind = getIndirectConv(cv.G)
		defer putIndirectConv(wind)
		cb = indirectDWImages
	}
	chunks := (cv.N + cb - 1) / cb
	per := (chunks + maxWeightPartials - 1) / maxWeightPartials
	runs := (chunks + per - 1) / per
	wl := cv.wLen()
	var partial *[]float32
	if dw != nil {
		partial = getBuf(runs * wl)
	}
	t := convTasks.get()
	*t = convTask{cv: cv, x: x, w: w, y: dy, dx: dx, dw: dw, pa: pa, cb: cb, per: per, runs: runs, back: true, pool: pool, ind: ind, wind: wind, wdir: wdir}
	if dw != nil {
		t.partial = *partial
	}
	parallelTask(runs, 1, t)
	*t = convTask{}
	convTasks.put(t)
	if pa != nil {
		releaseWeights(pa)
	}
	if dw != nil {
		clear(dw[:wl])
		for run := range runs {
			AddTo(dw[:wl], (*partial)[run*wl:(run+1)*wl])
		}
		putBuf(partial)
	}
	if sums != nil { // as biasTask sums: each image's plane sum, in image order
		planes := cv.Groups * cv.OutC
		for o := range planes {
			var s float32
			for n := range cv.N {
				s += (*sums)[n*planes+o]
			}
			db[o] = s
		}
		pool.sums = nil
		putBuf(sums)
	}
}
