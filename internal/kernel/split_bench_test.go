package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmSplit times the Linear-layer products of LeNet (batch 64) and
// the MNIST CNN (batch 100) serial (t1), through the packed parallel path on
// two goroutines (t2), and as two gemmSplit pieces (split).
func BenchmarkGemmSplit(b *testing.B) {
	shapes := []struct {
		m, n, k int
		tA, tB  bool
	}{{64, 120, 400, false, false}, {64, 400, 120, false, true}, {400, 120, 64, true, false}, {64, 84, 120, false, false}, {100, 10, 980, false, false}}
	for _, s := range shapes {
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), randSlice(rng, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		for _, th := range []int{1, 2, 3} {
			name := fmt.Sprintf("t%d", th)
			if th == 3 {
				name = "split"
			}
			b.Run(fmt.Sprintf("%dx%dx%d_tA=%v_tB=%v/%s", s.m, s.n, s.k, s.tA, s.tB, name), func(b *testing.B) {
				for b.Loop() {
					if th == 3 {
						gemmSplit(2, s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					} else {
						gemm(th, s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					}
				}
				gflops(b, s.m, s.n, s.k)
			})
		}
	}
}
