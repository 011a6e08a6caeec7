//go:build purego || !amd64

package kernel

// Without assembly the pure-Go loops always run. The generated *_noasm.go
// files stub the assembly functions; these stub the hand-written wrappers
// of gemm_amd64.go that portable code names. Neither is ever called.
const (
	useAVX2   = false
	useAVX512 = false
	useAVX    = false
)

func gemmKernelAVX2(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	panic("kernel: no assembly")
}
func gemmKernel6x16Only(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	panic("kernel: no assembly")
}
func convDWTileAVX2(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg int, sums *[12]float32) {
	panic("kernel: no assembly")
}
