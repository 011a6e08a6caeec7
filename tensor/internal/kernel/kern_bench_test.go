package kernel

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMicroKernel measures each micro-kernel alone on L1-resident
// panels: the ceiling for Gemm on one core.
func BenchmarkMicroKernel(b *testing.B) {
	const k = 256
	rng := rand.New(rand.NewPCG(1, 2))
	ap, bp, c := randSlice(rng, mr*k), randSlice(rng, nr*k), randSlice(rng, mr*nr)
	for _, kern := range kernels {
		b.Run(kern.name, func(b *testing.B) {
			for b.Loop() {
				kern.fn(k, ap, bp, c, nr, 1, 1)
			}
			gflops(b, mr, nr, k)
		})
	}
}
