package kernel

// ConvReLUMaxPool sets y to MaxPool(ReLU(conv(x, w) + bias)): ConvForward,
// ReLU and MaxPool fused, so that the convolution's output never leaves the
// cache: each chunk of images is convolved into scratch memory, and its bias,
// ReLU and pooling are applied there. pg pools one image's output planes:
// Planes = Groups*OutC, H×W = G.OutH×G.OutW. y is [N][Planes][pg.OutH][pg.OutW];
// arg, when not nil, receives MaxPool's winners for the backward pass.
//
// The result is bitwise that of ConvForward, ReLU and MaxPool in turn. It
// panics as those do, and if pg does not match the convolution's output.
func ConvReLUMaxPool(cv Conv, pg PoolGeom, x, w, bias, y []float32, arg []int32) {
	cp := newConvPool("ConvReLUMaxPool", cv, pg, x, w, y, arg)
	convForward(cv, x, w, bias, nil, cp)
}

// ConvReLUMaxPoolBackward sets dx, dw and db, each of which may be nil, to
// the gradients of y = ConvReLUMaxPool(x, w, bias), given dy (the gradient
// of y) and the forward's y and arg, as ConvBackward does; their contents
// need not be defined beforehand. The convolution's output gradient is
// rebuilt chunk by chunk in cache from dy, arg and y (a winner passes its
// gradient when its pooled value is above 0, as ReLU's derivative does).
//
// dx and dw are bitwise those of MaxPoolBackward, ReLUMask and ConvBackward
// in turn, and so is db. It panics if a slice is too short or the
// geometries do not match.
func ConvReLUMaxPoolBackward(cv Conv, pg PoolGeom, x, w, y []float32, arg []int32, dy, dx, dw, db []float32) {
	const fn = "ConvReLUMaxPoolBackward"
	cp := newConvPool(fn, cv, pg, x, w, y, arg)
	if arg == nil || len(dy) < len(cp.y) {
		panic("kernel: " + fn + ": arg missing or dy too short")
	}
	if dx != nil && len(dx) < cv.N*cv.inLen() {
		panic("kernel: " + fn + ": dx too short")
	}
	if dw != nil && len(dw) < cv.wLen() {
		panic("kernel: " + fn + ": dw too short")
	}
	if db != nil && len(db) < cv.Groups*cv.OutC {
		panic("kernel: " + fn + ": db too short")
	}
	cp.dy = dy
	convBackward(cv, x, w, nil, dx, dw, db, cp)
}

// convPool is the pooling fused into a convolution task.
type convPool struct {
	g    PoolGeom  // one image's planes
	y    []float32 // pooled output, [N][g.Planes][g.OutH][g.OutW]
	arg  []int32   // the winners, or nil (forward only)
	dy   []float32 // backward: the gradient of y
	sums []float32 // backward: Sum of each image's output-gradient planes, [N][g.Planes], or nil
}

func newConvPool(fn string, cv Conv, pg PoolGeom, x, w, y []float32, arg []int32) *convPool {
	cv.check(fn, x, w, nil)
	g := cv.G
	if pg.Planes != cv.Groups*cv.OutC || pg.H != g.OutH || pg.W != g.OutW {
		panic("kernel: " + fn + ": pooling geometry does not match the convolution's output")
	}
	q := cv.N * pg.Planes * pg.OutH * pg.OutW
	pg.check(fn, pg.Planes*pg.H*pg.W, pg.Planes*pg.OutH*pg.OutW) // the geometry; the lengths below
	if len(y) < q || (arg != nil && len(arg) < q) {
		panic("kernel: " + fn + ": output slice too short")
	}
	return &convPool{g: pg, y: y[:q], arg: arg}
}

// forward adds the bias to, applies ReLU to and pools images [n0, n0+nb) of
// group gi, whose convolution output is in c (row o holds output channel o
// of the images side by side, ld apart).
func (cp *convPool) forward(cv Conv, bias []float32, n0, nb, gi int, c []float32, ld int) {
	p, oc, q := cv.p(), cv.OutC, cp.g.OutH*cp.g.OutW
	one := maxPoolTask{g: cp.g, fast: useAVX2 && cp.g.pool2()}
	one.g.Planes = 1
	for i := range nb {
		for o := range oc {
			plane := c[o*ld+i*p : o*ld+(i+1)*p]
			if bias != nil {
				AddScalar(plane, plane, bias[gi*oc+o])
			}
			ReLU(plane, plane)
			yo := ((n0+i)*cp.g.Planes + gi*oc + o) * q
			one.x, one.y, one.arg = plane, cp.y[yo:yo+q], nil
			if cp.arg != nil {
				one.arg = cp.arg[yo : yo+q]
			}
			one.run(0, 1)
		}
	}
}

// backward writes into d (laid out as forward's c) the gradient of the
// convolution's output for images [n0, n0+nb) of group gi: each window's
// gradient goes to its winner if the pooled value is above 0 (ReLU passed
// it), and every other cell gets +0.
func (cp *convPool) backward(cv Conv, n0, nb, gi int, d []float32, ld int) {
	p, oc, q := cv.p(), cv.OutC, cp.g.OutH*cp.g.OutW
	// 2×2 windows that tile the plane exactly: the assembly sets every cell, given the
	// pooled gradient with ReLU's mask applied (ReLUMask gives +0 where y is not above 0).
	var masked *[]float32
	if useAVX2 && cp.g.pool2() && 2*cp.g.OutH == cp.g.H && 2*cp.g.OutW == cp.g.W {
		masked = getBuf(q)
		defer putBuf(masked)
	}
	for i := range nb {
		for o := range oc {
			dst := d[o*ld+i*p : o*ld+(i+1)*p]
			plane := (n0+i)*cp.g.Planes + gi*oc + o
			y, arg, dy := cp.y[plane*q:(plane+1)*q], cp.arg[plane*q:(plane+1)*q], cp.dy[plane*q:(plane+1)*q]
			if masked != nil {
				m := (*masked)[:q]
				ReLUMask(m, dy, y)
				maxPool2Back(&dst[0], &m[0], &arg[0], cp.g.W, cp.g.OutW, cp.g.OutH, 1, 1)
				if cp.sums != nil {
					cp.sums[plane] = Sum(dst)
				}
				continue
			}
			clear(dst)
			for j, a := range arg {
				if a < 0 || !(y[j] > 0) {
					continue
				}
				dst[a] += dy[j] // onto +0, as MaxPoolBackward's clear-and-add: -0 becomes +0
			}
			if cp.sums != nil {
				cp.sums[plane] = Sum(dst)
			}
		}
	}
}
