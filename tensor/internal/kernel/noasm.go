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
