//go:build purego || !amd64

package kernel

// Without assembly the pure-Go loops always run; these stubs only satisfy
// the compiler.
const useAVX2 = false

func addAVX2(dst, a, b *float32, n int)               { panic("kernel: no assembly") }
func subAVX2(dst, a, b *float32, n int)               { panic("kernel: no assembly") }
func mulAVX2(dst, a, b *float32, n int)               { panic("kernel: no assembly") }
func divAVX2(dst, a, b *float32, n int)               { panic("kernel: no assembly") }
func axpyAVX2(alpha float32, x, y *float32, n int)    { panic("kernel: no assembly") }
func scaleAVX2(alpha float32, x *float32, n int)      { panic("kernel: no assembly") }
func sumAVX2(x *float32, n int) float64               { panic("kernel: no assembly") }
func dotAVX2(x, y *float32, n int) float64            { panic("kernel: no assembly") }
func packA6AVX2(dst, src *float32, lda, blocks int)   { panic("kernel: no assembly") }
func packB16TAVX2(dst, src *float32, ldb, blocks int) { panic("kernel: no assembly") }

func copyRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, n int) {
	panic("kernel: no assembly")
}
func addRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, n int) {
	panic("kernel: no assembly")
}
func addScalarAVX2(dst, src *float32, s float32, n int) { panic("kernel: no assembly") }
func maxPool2AVX2(y *float32, arg *int32, x *float32, w, outW, rows, lastMasked int) {
	panic("kernel: no assembly")
}
func maxPool2BackAVX2(dx, dy *float32, arg *int32, w, outW, rows, lastMasked, assign int) {
	panic("kernel: no assembly")
}
func reluAVX2(dst, x *float32, n int)         { panic("kernel: no assembly") }
func reluBackAVX2(dst, dy, x *float32, n int) { panic("kernel: no assembly") }
func reluMaskAVX2(dst, dy, x *float32, n int) { panic("kernel: no assembly") }
func convDWTileAVX2(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg int, sums *[12]float32) {
	panic("kernel: no assembly")
}
func im2colTapsAVX2(col *float32, ld int, img *float32, plane, channels int, taps *convTap, ntaps, owBytes, wBytes int) {
	panic("kernel: no assembly")
}
func col2imTapsAVX2(col *float32, ld int, img *float32, plane, channels int, taps *convTap, ntaps, owBytes, wBytes int) {
	panic("kernel: no assembly")
}

func dotTile1x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile1x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile1x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile1x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile2x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile2x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile2x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile2x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile3x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile3x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile3x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}
func dotTile3x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32) {
	panic("kernel: no assembly")
}

var dotTiles = [3][4]func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32){
	{dotTile1x1, dotTile1x2, dotTile1x3, dotTile1x4},
	{dotTile2x1, dotTile2x2, dotTile2x3, dotTile2x4},
	{dotTile3x1, dotTile3x2, dotTile3x3, dotTile3x4},
}

func gemmKernelAVX2(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	panic("kernel: no assembly")
}
func gemmKernel6x16Only(k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, rows int) {
	panic("kernel: no assembly")
}
