//go:build !purego && amd64

package kernel

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTileKernels measures the multi-tile kernels on L1-resident
// panels (k = 256), AVX2 beside AVX-512: two row panels through the panels
// kernel (12×16), and two column panels through the pair kernel (6×32) or
// the indirect pair kernel, as the macro loop and indirectConv.run call them.
func BenchmarkTileKernels(b *testing.B) {
	const k = 256
	rng := rand.New(rand.NewPCG(1, 2))
	ap, bp, c := randSlice(rng, 2*mr*k), randSlice(rng, 2*nr*k), randSlice(rng, 2*mr*2*nr)
	off := make([]int32, k)
	for p := range off {
		off[p] = int32(4 * nr * p)
	}
	type bench struct {
		name string
		fn   func()
	}
	benches := []bench{
		{"panels12x16/avx2", func() { gemmPanelsAVX2(k, ap, bp, nr, c, nr, 1, 1, 2) }},
		{"pair6x32/avx2", func() {
			gemmKernelAVX2(k, ap, bp, nr, c, 2*nr, 1, 1, mr)
			gemmKernelAVX2(k, ap, bp[nr*k:], nr, c[nr:], 2*nr, 1, 1, mr)
		}},
		{"indirect6x32/avx2", func() {
			indirectKernelAVX2(k, ap, off, bp, c, nr, 1, 1, mr)
			indirectKernelAVX2(k, ap, off, bp[nr:], c[mr*nr:], nr, 1, 1, mr)
		}},
	}
	if useAVX512 {
		benches = append(benches,
			bench{"panels12x16/avx512", func() { gemmPanelsAVX512(k, ap, bp, nr, c, nr, 1, 1, 2) }},
			bench{"pair6x32/avx512", func() { gemmPairAVX512(k, ap, bp, nr, bp[nr*k:], nr, nr, c, 2*nr, 1, 1, mr) }},
			bench{"indirect6x32/avx512", func() { indirectPairAVX512(k, ap, off, bp, nr, c, c[mr*nr:], nr, 1, 1, mr) }})
	}
	for _, bn := range benches {
		b.Run(bn.name, func(b *testing.B) {
			for b.Loop() {
				bn.fn()
			}
			gflops(b, 2*mr, nr, k)
		})
	}
}
