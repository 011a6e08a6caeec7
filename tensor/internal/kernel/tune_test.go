package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkTune(b *testing.B) {
	const m, n, k = 1024, 1024, 1024
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
	for _, KC := range []int{192, 256, 320, 384} {
		for _, MC := range []int{72, 96, 144, 192, 288} {
			b.Run(fmt.Sprintf("kc%d_mc%d", KC, MC), func(b *testing.B) {
				kc, mc = KC, MC
				for b.Loop() {
					GemmSerial(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
				}
				gflops(b, m, n, k)
			})
		}
	}
	kc, mc = 256, 144
}

func BenchmarkPack(b *testing.B) {
	const m, n, k = 1024, 1024, 1024
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb := randSlice(rng, m*k), randSlice(rng, k*n)
	dst := make([]float32, 1024*256+1024)
	for _, tr := range []bool{false, true} {
		g := gemmJob{transA: tr, transB: tr, m: m, n: n, k: k, a: a, lda: k, b: bb, ldb: n}
		b.Run(fmt.Sprintf("A/t=%v", tr), func(b *testing.B) {
			for b.Loop() {
				for p0 := 0; p0 < k; p0 += 256 {
					for i0 := 0; i0 < m; i0 += 144 {
						g.packA(i0, min(144, m-i0), p0, 256, dst)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(m*k), "ns/elem")
		})
		b.Run(fmt.Sprintf("B/t=%v", tr), func(b *testing.B) {
			for b.Loop() {
				for p0 := 0; p0 < k; p0 += 256 {
					g.packB(p0, 256, 0, n, dst)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(m*k), "ns/elem")
		})
	}
}
