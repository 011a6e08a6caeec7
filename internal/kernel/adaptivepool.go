package kernel

// AdaptiveGeom is an adaptive pooling: Planes planes of H×W pooled into
// OutH×OutW bins. Bin (i, j) covers rows AdaptiveBin(i, H, OutH) and columns
// AdaptiveBin(j, W, OutW); neighbouring bins overlap when the sizes do not
// divide.
type AdaptiveGeom struct {
	Planes, H, W, OutH, OutW int
}

// AdaptiveBin returns the input range [lo, hi) of output bin i when size
// inputs are pooled into n bins: lo = floor(i*size/n), hi =
// ceil((i+1)*size/n), Paddle's AdaptStartIndex and AdaptEndIndex (and
// PyTorch's start_index and end_index).
func AdaptiveBin(i, size, n int) (lo, hi int) {
	return i * size / n, ((i+1)*size + n - 1) / n
}

func (g AdaptiveGeom) check(fn string, x, y int) {
	if g.Planes < 0 || g.H < 1 || g.W < 1 || g.OutH < 1 || g.OutW < 1 {
		panic("kernel: " + fn + ": invalid geometry")
	}
	if x < g.Planes*g.H*g.W || y < g.Planes*g.OutH*g.OutW {
		panic("kernel: " + fn + ": slice too short")
	}
}

// grain is the number of planes one goroutine takes at a time: about 16K
// input elements.
func (g AdaptiveGeom) grain() int { return max(1, (16<<10)/(g.H*g.W)) }

// AdaptiveAvgPool sets each y bin to the mean of its input window (the
// divisor is the window's size). It panics if the geometry is invalid or a
// slice is too short.
func AdaptiveAvgPool(g AdaptiveGeom, x, y []float32) {
	g.check("AdaptiveAvgPool", len(x), len(y))
	in, out := g.H*g.W, g.OutH*g.OutW
	ParallelFor(g.Planes, g.grain(), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp, yp := x[p*in:(p+1)*in], y[p*out:(p+1)*out]
			for i := range g.OutH {
				h0, h1 := AdaptiveBin(i, g.H, g.OutH)
				for j := range g.OutW {
					w0, w1 := AdaptiveBin(j, g.W, g.OutW)
					var s float32
					for h := h0; h < h1; h++ {
						for _, v := range xp[h*g.W+w0 : h*g.W+w1] {
							s += v
						}
					}
					yp[i*g.OutW+j] = s / float32((h1-h0)*(w1-w0))
				}
			}
		}
	})
}

// AdaptiveAvgPoolBackward sets dx to the gradient of AdaptiveAvgPool: each
// input element receives dy/size from every bin whose window holds it. It
// panics like AdaptiveAvgPool.
func AdaptiveAvgPoolBackward(g AdaptiveGeom, dy, dx []float32) {
	g.check("AdaptiveAvgPoolBackward", len(dx), len(dy))
	in, out := g.H*g.W, g.OutH*g.OutW
	ParallelFor(g.Planes, g.grain(), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dxp, dyp := dx[p*in:(p+1)*in], dy[p*out:(p+1)*out]
			clear(dxp)
			for i := range g.OutH {
				h0, h1 := AdaptiveBin(i, g.H, g.OutH)
				for j := range g.OutW {
					w0, w1 := AdaptiveBin(j, g.W, g.OutW)
					d := dyp[i*g.OutW+j] / float32((h1-h0)*(w1-w0))
					for h := h0; h < h1; h++ {
						row := dxp[h*g.W+w0 : h*g.W+w1]
						for k := range row {
							row[k] += d
						}
					}
				}
			}
		}
	})
}

// AdaptiveMaxPool sets each y bin to the maximum of its input window and, if
// arg is not nil, arg to the position of that maximum in its plane (h*W+w):
// the first maximal element in row-major order, as Paddle's and PyTorch's
// kernels (a NaN counts as the maximum). It panics like AdaptiveAvgPool, or
// if arg is given and too short.
func AdaptiveMaxPool(g AdaptiveGeom, x, y []float32, arg []int32) {
	g.check("AdaptiveMaxPool", len(x), len(y))
	if arg != nil && len(arg) < g.Planes*g.OutH*g.OutW {
		panic("kernel: AdaptiveMaxPool: arg too short")
	}
	in, out := g.H*g.W, g.OutH*g.OutW
	ParallelFor(g.Planes, g.grain(), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp, yp := x[p*in:(p+1)*in], y[p*out:(p+1)*out]
			for i := range g.OutH {
				h0, h1 := AdaptiveBin(i, g.H, g.OutH)
				for j := range g.OutW {
					w0, w1 := AdaptiveBin(j, g.W, g.OutW)
					best := h0*g.W + w0
					m := xp[best]
					for h := h0; h < h1 && m == m; h++ {
						for w := w0; w < w1; w++ {
							if v := xp[h*g.W+w]; v > m || v != v {
								m, best = v, h*g.W+w
								if v != v {
									break
								}
							}
						}
					}
					yp[i*g.OutW+j] = m
					if arg != nil {
						arg[p*out+i*g.OutW+j] = int32(best)
					}
				}
			}
		}
	})
}

// AdaptiveMaxPoolBackward sets dx to the gradient of AdaptiveMaxPool: each
// bin's dy goes to the element arg names (summed where overlapping bins
// chose the same one). It panics like AdaptiveMaxPool.
func AdaptiveMaxPoolBackward(g AdaptiveGeom, dy []float32, arg []int32, dx []float32) {
	g.check("AdaptiveMaxPoolBackward", len(dx), len(dy))
	if len(arg) < g.Planes*g.OutH*g.OutW {
		panic("kernel: AdaptiveMaxPoolBackward: arg too short")
	}
	in, out := g.H*g.W, g.OutH*g.OutW
	ParallelFor(g.Planes, g.grain(), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dxp := dx[p*in : (p+1)*in]
			clear(dxp)
			for k, d := range dy[p*out : (p+1)*out] {
				dxp[arg[p*out+k]] += d
			}
		}
	})
}
