package kernel

// PoolGeom describes 2-D pooling over Planes independent H×W planes
// (Planes = N*C): window KH×KW, stride, top/left padding and output
// OutH×OutW. The caller computes OutH/OutW, which is where ceil_mode lives.
type PoolGeom struct {
	Planes, H, W     int
	KH, KW           int
	StrideH, StrideW int
	PadT, PadL       int
	OutH, OutW       int
}

func (g PoolGeom) check(fn string, x, y int) {
	if g.Planes < 0 || g.H < 0 || g.W < 0 || g.KH < 1 || g.KW < 1 || g.OutH < 0 || g.OutW < 0 ||
		g.StrideH < 1 || g.StrideW < 1 || g.PadT < 0 || g.PadL < 0 {
		panic("kernel: " + fn + ": invalid geometry")
	}
	if x < g.Planes*g.H*g.W {
		panic("kernel: " + fn + ": input slice too short")
	}
	if y < g.Planes*g.OutH*g.OutW {
		panic("kernel: " + fn + ": output slice too short")
	}
}

// window returns output position (oh, ow)'s window clipped to the image:
// rows [h0,h1) and columns [w0,w1), possibly empty.
func (g PoolGeom) window(oh, ow int) (h0, h1, w0, w1 int) {
	h0 = oh*g.StrideH - g.PadT
	w0 = ow*g.StrideW - g.PadL
	h1 = min(h0+g.KH, g.H)
	w1 = min(w0+g.KW, g.W)
	return max(h0, 0), h1, max(w0, 0), w1
}

// divisor returns the number AvgPool divides output (oh, ow)'s window sum by.
// Exclusive: the window's cells inside the image. Otherwise Paddle's rule
// (phi/kernels/funcs/pooling.cc, Pool2dFunctor): the window clipped only at
// the far end, to the padded extent H+PadT by W+PadL (Paddle passes only the
// top/left pads, so the bottom/right pad counts as equal to them). It returns
// 0 or less for a window with no cells, whose output is 0.
func (g PoolGeom) divisor(exclusive bool, oh, ow int) int {
	if exclusive {
		h0, h1, w0, w1 := g.window(oh, ow)
		if h1 <= h0 || w1 <= w0 {
			return 0
		}
		return (h1 - h0) * (w1 - w0)
	}
	h0 := oh*g.StrideH - g.PadT
	w0 := ow*g.StrideW - g.PadL
	h1 := min(h0+g.KH, g.H+g.PadT)
	w1 := min(w0+g.KW, g.W+g.PadL)
	if h1 <= h0 || w1 <= w0 {
		return 0
	}
	return (h1 - h0) * (w1 - w0)
}

// poolGrain is how many planes one ParallelFor chunk pools: enough that a
// chunk is worth a goroutine for small planes.
func (g PoolGeom) poolGrain() int {
	work := max(g.OutH*g.OutW*g.KH*g.KW, 1)
	return max(1, (1<<15)/work)
}

// MaxPool writes y[p][oh][ow] = the maximum of plane p of x over output
// (oh, ow)'s window clipped to the image, and arg[p][oh][ow] = the winner's
// index within its plane (h*W + w). Ties go to the first maximum in
// row-major window order; a NaN wins (the first NaN). A window lying wholly
// in the padding (possible with ceil_mode) gives y = 0 and arg = -1; Paddle's
// MaxPool2dWithIndexFunctor gives -FLT_MAX and -1 there, which we do not copy
// so that such outputs stay finite.
//
// arg may be nil when only the values are wanted. It panics if the geometry
// is invalid (a size below 0, KH/KW or a stride below 1, negative padding)
// or len(x) < Planes*H*W, or len(y) or a non-nil arg's length <
// Planes*OutH*OutW.
func MaxPool(g PoolGeom, x, y []float32, arg []int32) {
	if arg == nil { // values only
		g.check("MaxPool", len(x), len(y))
	} else {
		g.check("MaxPool", len(x), min(len(y), len(arg)))
	}
	t := maxPoolTasks.get()
	*t = maxPoolTask{g: g, x: x, y: y, arg: arg, fast: useAVX2 && g.pool2()}
	if t.fast {
		parallelTask(g.Planes, max(1, (1<<14)/(g.OutH*g.OutW)), t)
	} else {
		parallelTask(g.Planes, g.poolGrain(), t)
	}
	*t = maxPoolTask{}
	maxPoolTasks.put(t)
}

// maxPoolTask is MaxPool over a range of planes, as a recyclable task.
type maxPoolTask struct {
	g        PoolGeom
	x, y, dy []float32
	arg      []int32
	fast     bool // the 2×2 assembly
	back     bool // MaxPoolBackward: dy into x (dx)
	set      int  // backward, fast: assign rather than add into a cleared dx
}

var maxPoolTasks freeList[maxPoolTask]

func (t *maxPoolTask) run(lo, hi int) {
	g := t.g
	in, out := g.H*g.W, g.OutH*g.OutW
	switch {
	case t.back && t.fast:
		for p := lo; p < hi; p++ {
			maxPool2Back(&t.x[p*in], &t.dy[p*out], &t.arg[p*out], g.W, g.OutW, g.OutH, lastMasked(p, hi), t.set)
		}
	case t.back:
		for p := lo; p < hi; p++ {
			dxp := t.x[p*in : (p+1)*in]
			ap := t.arg[p*out : (p+1)*out]
			for i, d := range t.dy[p*out : (p+1)*out] {
				if a := ap[i]; a >= 0 {
					dxp[a] += d
				}
			}
		}
	case t.fast:
		for p := lo; p < hi; p++ {
			var ap *int32
			if t.arg != nil {
				ap = &t.arg[p*out]
			}
			maxPool2(&t.y[p*out], ap, &t.x[p*in], g.W, g.OutW, g.OutH, lastMasked(p, hi))
		}
	default:
		maxPoolPlanes(g, t.x, t.y, t.arg, lo, hi)
	}
}

func maxPoolPlanes(g PoolGeom, x, y []float32, arg []int32, lo, hi int) {
	in, out := g.H*g.W, g.OutH*g.OutW
	for p := lo; p < hi; p++ {
		xp := x[p*in : (p+1)*in]
		yp := y[p*out : (p+1)*out]
		var ap []int32
		if arg != nil {
			ap = arg[p*out : (p+1)*out]
		}
		for oh := range g.OutH {
			for ow := range g.OutW {
				h0, h1, w0, w1 := g.window(oh, ow)
				var best float32
				bi := -1
			scan:
				for h := h0; h < h1; h++ {
					row := xp[h*g.W : h*g.W+w1]
					for w := w0; w < w1; w++ {
						v := row[w]
						if bi < 0 || v > best {
							best, bi = v, h*g.W+w
						}
						if v != v {
							best, bi = v, h*g.W+w
							break scan
						}
					}
				}
				yp[oh*g.OutW+ow] = best
				if ap != nil {
					ap[oh*g.OutW+ow] = int32(bi)
				}
			}
		}
	}
}

// maxPool2 is maxPool2AVX2, or its AVX-512 form (the same results; it needs
// no lastMasked, reading and writing nothing outside the rows) for rows of
// at least 8 outputs: shorter ones fill no more of 16 lanes than the AVX2
// kernel fills of 8, and measure about 10% slower.
func maxPool2(y *float32, arg *int32, x *float32, w, outW, rows, lastMasked int) {
	if useAVX512 && outW >= 8 {
		maxPool2AVX512(y, arg, x, w, outW, rows)
		return
	}
	maxPool2AVX2(y, arg, x, w, outW, rows, lastMasked)
}

// maxPool2Back is maxPool2BackAVX2, or its AVX-512 form (the same results),
// for rows of at least 8 outputs as maxPool2.
func maxPool2Back(dx, dy *float32, arg *int32, w, outW, rows, lastMasked, assign int) {
	if useAVX512 && outW >= 8 {
		maxPool2BackAVX512(dx, dy, arg, w, outW, rows, assign)
		return
	}
	maxPool2BackAVX2(dx, dy, arg, w, outW, rows, lastMasked, assign)
}

// lastMasked tells the 2×2 kernels whether plane p's last row must stay
// within the plane: it must unless the next plane is also the caller's.
func lastMasked(p, hi int) int {
	if p+1 < hi {
		return 0
	}
	return 1
}

// pool2 reports whether g is 2×2 windows at stride 2 without padding, all
// inside the image: the case with assembly kernels.
func (g PoolGeom) pool2() bool {
	return g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadT == 0 && g.PadL == 0 &&
		2*g.OutH <= g.H && 2*g.OutW <= g.W && g.OutH > 0 && g.OutW > 0
}

// MaxPoolBackward sets dx to MaxPool's input gradient: dx[p][i] is the sum
// of dy[p][oh][ow] over the outputs whose arg[p][oh][ow] is i, and +0 for a
// cell that won no window (arg -1 is skipped). dx's contents need not be
// defined beforehand. It panics if the geometry is invalid, len(dx) <
// Planes*H*W, or len(dy) or len(arg) < Planes*OutH*OutW; an arg outside
// [-1, H*W) panics with an index error, except for 2×2 windows at stride 2
// without padding, where an arg outside its output's window (MaxPool never
// writes one) is ignored and the window's other cells get +0.
func MaxPoolBackward(g PoolGeom, dy []float32, arg []int32, dx []float32) {
	g.check("MaxPoolBackward", len(dx), min(len(dy), len(arg)))
	in, out := g.H*g.W, g.OutH*g.OutW
	t := maxPoolTasks.get()
	*t = maxPoolTask{g: g, x: dx, dy: dy, arg: arg, back: true, fast: useAVX2 && g.pool2()}
	if t.fast && 2*g.OutH == g.H && 2*g.OutW == g.W {
		t.set = 1 // every cell is in one window: the kernel sets them all
	} else {
		clear(dx[:g.Planes*in]) // then add into it
	}
	// Planes are disjoint in dx, so chunks never race.
	if t.fast {
		parallelTask(g.Planes, max(1, (1<<14)/out), t)
	} else {
		parallelTask(g.Planes, max(1, (1<<16)/max(out, 1)), t)
	}
	*t = maxPoolTask{}
	maxPoolTasks.put(t)
}

// AvgPool writes y[p][oh][ow] = the sum of plane p of x over output
// (oh, ow)'s window clipped to the image, divided by:
//   - exclusive: the number of window cells inside the image;
//   - otherwise: the number of window cells inside the padded extent
//     [-PadT, H+PadT) × [-PadL, W+PadL), that is
//     (min(h0+KH, H+PadT) - h0) * (min(w0+KW, W+PadL) - w0) for a window
//     starting at (h0, w0). This is KH*KW except where a ceil_mode window
//     overhangs the padding. Paddle passes only the top/left pads to its
//     kernel, so the far pad counts as equal to the near one. This is
//     Paddle's rule, checked against Pool2dFunctor in
//     paddle/phi/kernels/funcs/pooling.cc.
//
// A window with no cells inside the image gives 0 (Paddle divides 0 by a
// zero or negative count there). It panics if the geometry is invalid or a
// slice is too short (len(x) < Planes*H*W, len(y) < Planes*OutH*OutW).
func AvgPool(g PoolGeom, exclusive bool, x, y []float32) {
	g.check("AvgPool", len(x), len(y))
	ParallelFor(g.Planes, g.poolGrain(), func(lo, hi int) {
		avgPoolPlanes(g, exclusive, x, y, lo, hi)
	})
}

func avgPoolPlanes(g PoolGeom, exclusive bool, x, y []float32, lo, hi int) {
	in, out := g.H*g.W, g.OutH*g.OutW
	for p := lo; p < hi; p++ {
		xp := x[p*in : (p+1)*in]
		yp := y[p*out : (p+1)*out]
		for oh := range g.OutH {
			for ow := range g.OutW {
				h0, h1, w0, w1 := g.window(oh, ow)
				var s float32
				for h := h0; h < h1; h++ {
					for _, v := range xp[h*g.W+w0 : h*g.W+w1] {
						s += v
					}
				}
				if h1 <= h0 || w1 <= w0 {
					s = 0
				} else {
					s /= float32(g.divisor(exclusive, oh, ow))
				}
				yp[oh*g.OutW+ow] = s
			}
		}
	}
}

// AvgPoolBackward sets dx to AvgPool's input gradient, its adjoint: each
// plane of dx is cleared, then dy[p][oh][ow]/divisor is added into every
// in-image cell of the window, with AvgPool's divisors. dx's contents need
// not be defined beforehand. It panics if the geometry is invalid or a slice
// is too short.
func AvgPoolBackward(g PoolGeom, exclusive bool, dy, dx []float32) {
	g.check("AvgPoolBackward", len(dx), len(dy))
	in, out := g.H*g.W, g.OutH*g.OutW
	// Each plane is processed by one goroutine in output order, so the
	// accumulation order into dx is fixed.
	ParallelFor(g.Planes, g.poolGrain(), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dxp := dx[p*in : (p+1)*in]
			dyp := dy[p*out : (p+1)*out]
			clear(dxp)
			for oh := range g.OutH {
				for ow := range g.OutW {
					h0, h1, w0, w1 := g.window(oh, ow)
					if h1 <= h0 || w1 <= w0 {
						continue
					}
					d := dyp[oh*g.OutW+ow] * (1 / float32(g.divisor(exclusive, oh, ow)))
					for h := h0; h < h1; h++ {
						row := dxp[h*g.W+w0 : h*g.W+w1]
						for i := range row {
							row[i] += d
						}
					}
				}
			}
		}
	})
}
