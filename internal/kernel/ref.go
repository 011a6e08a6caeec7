package kernel

import "math"

// Plain-loop reference versions of the fast kernels. They define the
// semantics and are what the tests compare the fast kernels against.

// gemmRef is the textbook triple loop for Gemm, summing over k in order.
// Like BLAS, alpha == 0 leaves A and B unread.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 0 {
		k = 0
	}
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// im2colRef is Im2col written straight from its definition.
func im2colRef(g ConvGeom, img, col []float32) {
	hw := g.OutH * g.OutW
	for c := range g.InC {
		for i := range g.KH {
			for j := range g.KW {
				row := (c*g.KH*g.KW + i*g.KW + j) * hw
				for oh := range g.OutH {
					for ow := range g.OutW {
						h := oh*g.StrideH - g.PadT + i*g.DilH
						w := ow*g.StrideW - g.PadL + j*g.DilW
						var v float32
						if h >= 0 && h < g.InH && w >= 0 && w < g.InW {
							v = img[(c*g.InH+h)*g.InW+w]
						}
						col[row+oh*g.OutW+ow] = v
					}
				}
			}
		}
	}
}

// col2imRef is Col2im written straight from its definition.
func col2imRef(g ConvGeom, col, img []float32) {
	hw := g.OutH * g.OutW
	for c := range g.InC {
		for i := range g.KH {
			for j := range g.KW {
				row := (c*g.KH*g.KW + i*g.KW + j) * hw
				for oh := range g.OutH {
					for ow := range g.OutW {
						h := oh*g.StrideH - g.PadT + i*g.DilH
						w := ow*g.StrideW - g.PadL + j*g.DilW
						if h >= 0 && h < g.InH && w >= 0 && w < g.InW {
							img[(c*g.InH+h)*g.InW+w] += col[row+oh*g.OutW+ow]
						}
					}
				}
			}
		}
	}
}

func dotRef(x, y []float32) float32 {
	var s float64
	for i := range x {
		s += float64(x[i]) * float64(y[i])
	}
	return float32(s)
}

func sumRef(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return float32(s)
}

func maxRef(x []float32) (float32, int) {
	v, idx := x[0], 0
	for i, e := range x {
		if e != e {
			return e, i
		}
		if e > v {
			v, idx = e, i
		}
	}
	return v, idx
}

// maxPoolRef is MaxPool written from its definition: scan the whole window
// in row-major order, skipping cells outside the image.
func maxPoolRef(g PoolGeom, x, y []float32, arg []int32) {
	for p := range g.Planes {
		for oh := range g.OutH {
			for ow := range g.OutW {
				best, bi := float32(0), -1
				for i := range g.KH {
					for j := range g.KW {
						h, w := oh*g.StrideH-g.PadT+i, ow*g.StrideW-g.PadL+j
						if h < 0 || h >= g.H || w < 0 || w >= g.W {
							continue
						}
						v := x[(p*g.H+h)*g.W+w]
						isNaN := best != best
						if !isNaN && (bi < 0 || v > best || v != v) {
							best, bi = v, h*g.W+w
						}
					}
				}
				o := (p*g.OutH+oh)*g.OutW + ow
				y[o], arg[o] = best, int32(bi)
			}
		}
	}
}

// avgPoolRef is AvgPool written from its definition. The non-exclusive
// divisor counts window cells inside the padded extent
// [-PadT, H+PadT) × [-PadL, W+PadL), as Paddle does.
func avgPoolRef(g PoolGeom, exclusive bool, x, y []float32) {
	for p := range g.Planes {
		for oh := range g.OutH {
			for ow := range g.OutW {
				var s float32
				in, padded := 0, 0
				for i := range g.KH {
					for j := range g.KW {
						h, w := oh*g.StrideH-g.PadT+i, ow*g.StrideW-g.PadL+j
						if h < g.H+g.PadT && w < g.W+g.PadL {
							padded++
						}
						if h < 0 || h >= g.H || w < 0 || w >= g.W {
							continue
						}
						s += x[(p*g.H+h)*g.W+w]
						in++
					}
				}
				div := padded
				if exclusive {
					div = in
				}
				o := (p*g.OutH+oh)*g.OutW + ow
				if in == 0 {
					y[o] = 0
				} else {
					y[o] = s / float32(div)
				}
			}
		}
	}
}

// adamRef is the element loop of AdamVector's update (optim's Adam loop).
func adamRef(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, lo, hi float32, clip bool) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, pi := range p {
		pi -= decay * pi
		gi := g[i] * s
		if clip {
			if gi < lo {
				gi = lo
			}
			if gi > hi {
				gi = hi
			}
		}
		gi += wd * pi
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		p[i] = pi - stepSize*mi/(float32(math.Sqrt(float64(vi)))*invSqrtBC2+eps)
	}
}
