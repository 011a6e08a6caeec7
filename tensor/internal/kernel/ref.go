package kernel

import "math"

// Plain-loop reference versions of the fast kernels. They define the
// semantics and are what the tests compare the fast kernels against.

// gemmRef is the textbook triple loop for Gemm, summing over k in order.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	if len(x) == 0 {
		return float32(math.Inf(-1)), -1
	}
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
