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
	tA, tB  bool
}{
	{"64", 64, 64, 64, false, false},
	{"256", 256, 256, 256, false, false},
	{"1024", 1024, 1024, 1024, false, false},
	{"lenet_conv1_6x784x25", 6, 784, 25, false, false},
	{"lenet_conv1_6x784x9", 6, 784, 9, false, false},
	{"lenet_conv2_16x100x150", 16, 100, 150, false, false},
	{"fc_64x120x400", 64, 120, 400, false, false},
	// Backward passes of the shapes above: dW = dY·colᵀ, dcol = Wᵀ·dY.
	{"lenet_conv1_dW_6x25x784_tB", 6, 25, 784, false, true},
	{"lenet_conv1_dcol_25x784x6_tA", 25, 784, 6, true, false},
	{"lenet_conv2_dW_16x150x100_tB", 16, 150, 100, false, true},
	{"lenet_conv2_dcol_150x100x16_tA", 150, 100, 16, true, false},
	{"fc_dW_400x120x64_tA", 400, 120, 64, true, false},
}

func gflops(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range gemmShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), randSlice(rng, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				Gemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			gflops(b, s.m, s.n, s.k)
		})
		b.Run(s.name+"/serial", func(b *testing.B) {
			for b.Loop() {
				GemmSerial(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
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

// BenchmarkGemmThin times the MNIST CNN's Linear layer (980 inputs, 10
// outputs, batch 100): a C 10 columns wide, computed as its transpose
// (gemmThin), against the direct path.
func BenchmarkGemmThin(b *testing.B) {
	defer func() { transposeThin = true }()
	rng := rand.New(rand.NewPCG(1, 2))
	x, g, dw := randSlice(rng, 100*980), randSlice(rng, 100*10), make([]float32, 980*10)
	for _, thin := range []bool{true, false} {
		b.Run(fmt.Sprintf("dW=xT·g/transposed=%v", thin), func(b *testing.B) {
			transposeThin = thin
			for b.Loop() {
				Gemm(true, false, 980, 10, 100, 1, x, 980, g, 10, 0, dw, 10)
			}
			gflops(b, 980, 10, 100)
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
		tA, tB := blas.NoTrans, blas.NoTrans
		if s.tA {
			tA, a.Rows, a.Cols, a.Stride = blas.Trans, s.k, s.m, s.m
		}
		if s.tB {
			tB, bb.Rows, bb.Cols, bb.Stride = blas.Trans, s.n, s.k, s.k
		}
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				blas32.Gemm(tA, tB, 1, a, bb, 0, c)
			}
			gflops(b, s.m, s.n, s.k)
		})
	}
}

// BenchmarkMicroKernel measures each micro-kernel alone on L1-resident
// panels: the ceiling for Gemm on one core.
func BenchmarkMicroKernel(b *testing.B) {
	const k = 256
	rng := rand.New(rand.NewPCG(1, 2))
	ap, bp, c := randSlice(rng, mr*k), randSlice(rng, nr*k), randSlice(rng, mr*nr)
	for _, kern := range kernels {
		b.Run(kern.name, func(b *testing.B) {
			for b.Loop() {
				kern.fn(k, ap, bp, nr, c, nr, 1, 1, mr)
			}
			gflops(b, mr, nr, k)
		})
	}
}
