package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkGemmNTShapes(b *testing.B) {
	for _, s := range [][3]int{{16, 150, 400}, {6, 9, 784}, {20, 500, 196}, {20, 25, 784}, {16, 150, 100}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, m*n)
		fl := 2 * float64(m*n*k)
		b.Run(fmt.Sprint(s, "/nt"), func(b *testing.B) {
			for b.Loop() {
				GemmNT(m, n, k, a, k, bb, k, 0, c, n)
			}
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprint(s, "/gemm"), func(b *testing.B) {
			for b.Loop() {
				GemmSerial(false, true, m, n, k, 1, a, k, bb, k, 0, c, n)
			}
			b.ReportMetric(fl*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
