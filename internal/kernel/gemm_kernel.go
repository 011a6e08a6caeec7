package kernel

// Register tile of the micro-kernel: every kernel computes an mr×nr block of
// C from packed panels. 6×16 fills 12 of the 16 ymm registers with
// accumulators on AVX2, leaving room for two B vectors and two broadcasts.
const (
	mr = 6
	nr = 16
)

// A micro-kernel computes the mr×nr tile c[i*ldc+j] = alpha*Σ_p a[p*mr+i]*b[p*ldb+j]
// + beta*c[i*ldc+j], summing p = 0..k-1 in order, for the first rows
// (1..mr) rows of the tile. beta == 0 does not read c. k must be at least
// 1. ldb is nr for a packed B panel, or B's own row stride when B is read in
// place.
type microKernelFunc func(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int)

// A panels kernel is the micro-kernel over panels consecutive full (mr-row)
// panels of packed A, and the matching rows of C, with one B panel: one call
// instead of one per panel, which matters when k is small. It must give
// the micro-kernel's results.
type panelsKernelFunc func(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, panels int)

// A pair kernel is the micro-kernel over two column panels of B, b (rows
// ldb apart) and b2 (ldb2 apart, only its first cols2 columns read), and
// the ⌈rows/mr⌉ packed row panels of a, into rows×2nr of C of which only
// the first nr+cols2 columns are read and written: twice the accumulators
// of the micro-kernel, for kernels whose 6×16 tile has too few to hide the
// multiply-add latency, and neither a packed copy of B nor a scratch tile
// for a partial last panel. It must give the micro-kernel's results.
type pairKernelFunc func(k int, a, b []float32, ldb int, b2 []float32, ldb2, cols2 int, c []float32, ldc int, alpha, beta float32, rows int)

type namedKernel struct {
	name string
	fn   microKernelFunc
}

var (
	// microKernel is the kernel Gemm uses, chosen at init from CPU features.
	microKernel microKernelFunc = gemmKernelGo
	// panelsKernel, when not nil, is microKernel over several row panels.
	panelsKernel panelsKernelFunc
	// pairKernel, when not nil, is microKernel over two column panels.
	pairKernel pairKernelFunc
	// kernels lists every kernel usable on this machine, for tests and benchmarks.
	kernels = []namedKernel{{"go", gemmKernelGo}}
)

// gemmKernelGo is the portable micro-kernel. It walks the tile in 2×4
// blocks whose eight accumulators stay in registers: eight independent sums
// hide the add latency, which a whole-tile accumulator array would not.
func gemmKernelGo(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	a = a[:k*mr]
	b = b[:(k-1)*ldb+nr]
	_ = c[(rows-1)*ldc+nr-1]
	for i := 0; i < rows; i += 2 {
		for j := 0; j < nr; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := range k {
				ap := a[p*mr+i : p*mr+i+2 : p*mr+i+2]
				bp := b[p*ldb+j : p*ldb+j+4 : p*ldb+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
			}
			store4(c[i*ldc+j:], alpha, beta, s00, s01, s02, s03)
			if i+1 < rows {
				store4(c[(i+1)*ldc+j:], alpha, beta, s10, s11, s12, s13)
			}
		}
	}
}

// store4 sets c[0:4] = alpha*s + beta*c, not reading c when beta == 0.
func store4(c []float32, alpha, beta, s0, s1, s2, s3 float32) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = alpha*s0 + beta*c[0]
	c[1] = alpha*s1 + beta*c[1]
	c[2] = alpha*s2 + beta*c[2]
	c[3] = alpha*s3 + beta*c[3]
}
