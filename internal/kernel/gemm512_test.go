//go:build !purego && amd64

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withAVX2Gemm runs f with the AVX2 GEMM kernels in place of the AVX-512
// ones, then restores the AVX-512 ones.
func withAVX2Gemm(f func()) {
	defer func() {
		microKernel, panelsKernel, pairKernel = gemmKernelAVX512, gemmPanelsAVX512, gemmPairAVX512
		indirectKernel, indirectPair, indirectPairRows = indirectKernelAVX512, indirectPairAVX512, 2*mr-1
	}()
	microKernel, panelsKernel, pairKernel = gemmKernelAVX2, gemmPanelsAVX2, nil
	indirectKernel, indirectPair, indirectPairRows = indirectKernelAVX2, indirectPairAVX2, 2
	f()
}

// TestGemmAVX512Kernels checks each AVX-512 kernel against its AVX2
// counterpart, bit for bit: every row count, B packed or read in place
// (ldb > 16), beta 0 (C full of NaNs, not to be read), 1 and another.
func TestGemmAVX512Kernels(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 33, 256} {
		for _, ldb := range []int{nr, 3*nr + 5} {
			for _, beta := range []float32{0, 1, -0.75} {
				a := randSlice(rng, 5*mr*k) // up to five row panels
				b := randSlice(rng, k*ldb+nr*k)
				ldc := 2*nr + 3
				c0 := randSlice(rng, 5*mr*ldc)
				if beta == 0 {
					fillNaN(c0)
				}
				const alpha = 1.5
				name := fmt.Sprintf("k=%d ldb=%d beta=%v", k, ldb, beta)
				for rows := 1; rows <= mr; rows++ {
					want, got := clone(c0), clone(c0)
					gemmKernelAVX2(k, a, b, ldb, want, ldc, alpha, beta, rows)
					gemmKernelAVX512(k, a, b, ldb, got, ldc, alpha, beta, rows)
					requireBits(t, want, got, fmt.Sprintf("%s rows=%d", name, rows))
					// The pair kernel: two column panels, the second
					// packed (ldb2 = 16) and of 1..16 columns.
					for _, cols2 := range []int{nr, 1 + rng.IntN(nr-1)} {
						b2 := b[ldb:]
						want, got = clone(c0), clone(c0)
						tile := clone(c0[nr:])
						gemmKernelAVX2(k, a, b, ldb, want, ldc, alpha, beta, rows)
						gemmKernelAVX2(k, a, b2, nr, tile, ldc, alpha, beta, rows)
						for i := range rows {
							copy(want[i*ldc+nr:i*ldc+nr+cols2], tile[i*ldc:i*ldc+cols2])
						}
						gemmPairAVX512(k, a, b, ldb, b2, nr, cols2, got, ldc, alpha, beta, rows)
						requireBits(t, want, got, fmt.Sprintf("%s rows=%d pair cols2=%d", name, rows, cols2))
						// Over several row panels: 6 to 30 rows.
						prows := rows + mr*rng.IntN(5)
						want, got = clone(c0), clone(c0)
						tile = clone(c0[nr:])
						for ir := 0; ir < prows; ir += mr {
							gemmKernelAVX2(k, a[ir*k:], b, ldb, want[ir*ldc:], ldc, alpha, beta, min(mr, prows-ir))
							gemmKernelAVX2(k, a[ir*k:], b2, nr, tile[ir*ldc:], ldc, alpha, beta, min(mr, prows-ir))
						}
						for i := range prows {
							copy(want[i*ldc+nr:i*ldc+nr+cols2], tile[i*ldc:i*ldc+cols2])
						}
						gemmPairAVX512(k, a, b, ldb, b2, nr, cols2, got, ldc, alpha, beta, prows)
						requireBits(t, want, got, fmt.Sprintf("%s rows=%d pair cols2=%d", name, prows, cols2))
					}
				}
				for panels := 1; panels <= 5; panels++ {
					want, got := clone(c0), clone(c0)
					gemmPanelsAVX2(k, a, b, ldb, want, ldc, alpha, beta, panels)
					gemmPanelsAVX512(k, a, b, ldb, got, ldc, alpha, beta, panels)
					requireBits(t, want, got, fmt.Sprintf("%s panels=%d", name, panels))
				}
			}
		}
	}
}

// TestIndirectAVX512 checks the AVX-512 indirect kernels against the AVX2
// one bit for bit, with overlapping B rows and pairs of every row count.
func TestIndirectAVX512(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(23, 24))
	for _, k := range []int{1, 3, 4, 5, 17, 256} {
		for rows := 1; rows <= mr; rows++ {
			for _, beta := range []float32{0, 1, 0.5} {
				a := randSlice(rng, mr*k)
				b := randSlice(rng, 3*k+nr+40)
				off := make([]int32, k)
				for p := range off {
					off[p] = int32(4 * rng.IntN(3*k+1))
				}
				c0 := randSlice(rng, mr*20)
				if beta == 0 {
					fillNaN(c0)
				}
				name := fmt.Sprintf("k=%d rows=%d beta=%v", k, rows, beta)
				want, got := clone(c0), clone(c0)
				indirectKernelAVX2(k, a, off, b, want, 20, -1.25, beta, rows)
				indirectKernelAVX512(k, a, off, b, got, 20, -1.25, beta, rows)
				requireBits(t, want, got, name)
				const bstride = 23
				want2, got1, got2 := clone(c0), clone(c0), clone(c0)
				indirectKernelAVX2(k, a, off, b[bstride:], want2, 20, -1.25, beta, rows)
				indirectPairAVX512(k, a, off, b, bstride, got1, got2, 20, -1.25, beta, rows)
				requireBits(t, want, got1, name+" pair: first")
				requireBits(t, want2, got2, name+" pair: second")
				if rows == mr {
					continue
				}
				// A full panel and the next one's first rows in one call.
				a2 := randSlice(rng, 2*mr*k)
				c0x := randSlice(rng, 2*mr*20)
				if beta == 0 {
					fillNaN(c0x)
				}
				want, want2, got1, got2 = clone(c0x), clone(c0x), clone(c0x), clone(c0x)
				for j, w := range [][]float32{want, want2} {
					bj := b[j*bstride:]
					indirectKernelAVX2(k, a2, off, bj, w, 20, -1.25, beta, mr)
					indirectKernelAVX2(k, a2[mr*k:], off, bj, w[mr*20:], 20, -1.25, beta, rows)
				}
				indirectPairAVX512(k, a2, off, b, bstride, got1, got2, 20, -1.25, beta, mr+rows)
				requireBits(t, want, got1, name+" pair of two panels: first")
				requireBits(t, want2, got2, name+" pair of two panels: second")
			}
		}
	}
}

// TestGemmAVX512 checks Gemm on the AVX-512 kernels against the AVX2 ones,
// bit for bit, and against the float64 reference, on random shapes (row
// and column tails, k over a kc block), transpositions, alpha and beta, B
// packed or in place, on one and two threads.
func TestGemmAVX512(t *testing.T) {
	skipNoAVX512(t)
	defer func(m int) { inPlaceBMaxM = m }(inPlaceBMaxM)
	rng := rand.New(rand.NewPCG(25, 26))
	for it := range 154 {
		m, n, k := 1+rng.IntN(160), 1+rng.IntN(200), 1+rng.IntN(600)
		if it >= 150 { // large enough for two threads: the MNIST CNN's Linear layer, as gemmThin runs it
			m, n, k = 10+it%2, 1000-it%3, 980
		}
		tA, tB := rng.IntN(2) == 0, rng.IntN(4) == 0
		alpha := []float32{1, 0.5, -2}[it%3]
		beta := []float32{0, 1, 0.25}[(it/3)%3]
		inPlaceBMaxM = []int{-1, 1 << 30}[it%2]
		threads := 1 + (it/2)%2
		ar, ac := m, k
		if tA {
			ar, ac = k, m
		}
		br, bc := k, n
		if tB {
			br, bc = n, k
		}
		a, b := randSlice(rng, ar*ac), randSlice(rng, br*bc)
		ldc := n + rng.IntN(3)
		c0 := randSlice(rng, m*ldc)
		if beta == 0 {
			fillNaN(c0)
		}
		got, want := clone(c0), clone(c0)
		gemm(threads, tA, tB, m, n, k, alpha, a, ac, b, bc, beta, got, ldc)
		withAVX2Gemm(func() { gemm(threads, tA, tB, m, n, k, alpha, a, ac, b, bc, beta, want, ldc) })
		name := fmt.Sprintf("m=%d n=%d k=%d tA=%v tB=%v alpha=%v beta=%v inPlace=%d threads=%d", m, n, k, tA, tB, alpha, beta, inPlaceBMaxM, threads)
		requireBits(t, want, got, name)
		ref := clone(c0)
		gemmRef(tA, tB, m, n, k, alpha, a, ac, b, bc, beta, ref, ldc)
		for i := range m {
			requireClose(t, ref[i*ldc:i*ldc+n], got[i*ldc:i*ldc+n], 1e-5*float64(k+1), fmt.Sprintf("%s row %d", name, i))
		}
	}
}

// TestConvForwardAVX512 checks convolutions on the AVX-512 kernels (the
// indirect path with every panel paired, and im2col) against the AVX2 ones,
// bit for bit.
func TestConvForwardAVX512(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(27, 28))
	for _, cv := range indirectCases() {
		x, w, bias := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.Groups*cv.OutC)
		got, want := make([]float32, cv.N*cv.outLen()), make([]float32, cv.N*cv.outLen())
		ConvForward(cv, x, w, bias, got)
		withAVX2Gemm(func() { ConvForward(cv, x, w, bias, want) })
		requireBits(t, want, got, fmt.Sprintf("%+v", cv))
	}
}

func fillNaN(x []float32) {
	for i := range x {
		x[i] = float32(math.NaN())
	}
}
