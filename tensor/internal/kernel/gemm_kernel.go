package kernel

// Register tile of the micro-kernel: every kernel computes an mr×nr block of
// C from packed panels. 6×16 fills 12 of the 16 ymm registers with
// accumulators on AVX2, leaving room for two B vectors and two broadcasts.
const (
	mr = 6
	nr = 16
)

// A micro-kernel computes the mr×nr tile c[i*ldc+j] = alpha*Σ_p a[p*mr+i]*b[p*nr+j]
// + beta*c[i*ldc+j], summing p = 0..k-1 in order. beta == 0 does not read c.
// k must be at least 1.
type microKernelFunc func(k int, a, b, c []float32, ldc int, alpha, beta float32)

type namedKernel struct {
	name string
	fn   microKernelFunc
}

var (
	// microKernel is the kernel Gemm uses, chosen at init from CPU features.
	microKernel     microKernelFunc = gemmKernelGo
	microKernelName                 = "go"
	// kernels lists every kernel usable on this machine, for tests and benchmarks.
	kernels = []namedKernel{{"go", gemmKernelGo}}
)

// gemmKernelGo is the portable micro-kernel. It walks the tile one row of
// 16 at a time with the accumulators in locals the compiler can keep in
// registers, which is several times faster than a [96]float32 accumulator.
func gemmKernelGo(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	a = a[:k*mr]
	b = b[:k*nr]
	_ = c[(mr-1)*ldc+nr-1]
	for i := range mr {
		for j := 0; j < nr; j += 4 {
			var s0, s1, s2, s3 float32
			for p := range k {
				av := a[p*mr+i]
				bp := b[p*nr+j : p*nr+j+4 : p*nr+j+4]
				s0 += av * bp[0]
				s1 += av * bp[1]
				s2 += av * bp[2]
				s3 += av * bp[3]
			}
			cr := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			if beta == 0 {
				cr[0], cr[1], cr[2], cr[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
			} else {
				cr[0] = alpha*s0 + beta*cr[0]
				cr[1] = alpha*s1 + beta*cr[1]
				cr[2] = alpha*s2 + beta*cr[2]
				cr[3] = alpha*s3 + beta*cr[3]
			}
		}
	}
}
