package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

var gemmShapes = []struct {
	name    string
	m, n, k int
}{
	{"64", 64, 64, 64},
	{"256", 256, 256, 256},
	{"1024", 1024, 1024, 1024},
	{"lenet_conv2_16x100x150", 16, 100, 150},
	{"lenet_conv1_6x784x9", 6, 784, 9},
	{"fc_64x120x400", 64, 120, 400},
}

func gflops(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range gemmShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), randSlice(rng, s.m*s.n)
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			gflops(b, s.m, s.n, s.k)
		})
		b.Run(s.name+"/serial", func(b *testing.B) {
			for b.Loop() {
				GemmSerial(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
			}
			gflops(b, s.m, s.n, s.k)
		})
	}
}

// BenchmarkGemmTrans covers the transposed operands Linear and Conv2D
// backward use.
func BenchmarkGemmTrans(b *testing.B) {
	const m, n, k = 256, 256, 256
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
	for _, tr := range [][2]bool{{false, true}, {true, false}, {true, true}} {
		b.Run(fmt.Sprintf("tA=%v,tB=%v", tr[0], tr[1]), func(b *testing.B) {
			for b.Loop() {
				Gemm(tr[0], tr[1], m, n, k, 1, a, 256, bb, 256, 0, c, n)
			}
			gflops(b, m, n, k)
		})
	}
}

// BenchmarkGonumGemm is the same products through gonum's blas32, for a ratio.
func BenchmarkGonumGemm(b *testing.B) {
	for _, s := range gemmShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		a := blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: randSlice(rng, s.m*s.k)}
		bb := blas32.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: randSlice(rng, s.k*s.n)}
		c := blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: randSlice(rng, s.m*s.n)}
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, bb, 0, c)
			}
			gflops(b, s.m, s.n, s.k)
		})
	}
}
