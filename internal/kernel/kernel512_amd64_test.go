//go:build !purego

package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks of the AVX-512 kernels beside the AVX2 ones they replace, in
// one binary: each runs with useAVX512 off (avx2) and, where the machine
// has it, on (avx512).

// benchISAs runs f under "avx2" and "avx512" (when available).
func benchISAs(b *testing.B, f func(b *testing.B)) {
	has := useAVX512
	defer func() { useAVX512 = has }()
	if !useAVX2 {
		b.Skip("no AVX2")
	}
	for _, isa := range []string{"avx2", "avx512"} {
		if isa == "avx512" && !has {
			continue
		}
		useAVX512 = isa == "avx512"
		b.Run(isa, f)
	}
}

func reportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkWeightGrad is the indirect weight gradient of the MNIST CNN's
// second layer (20×500 over 4 images of 14×14) and of a 28-wide layer.
func BenchmarkWeightGrad(b *testing.B) {
	for _, s := range []struct {
		name    string
		inC, hw int
		oc      int
	}{{"cnn2", 20, 14, 20}, {"28x28", 8, 28, 16}} {
		g := ConvGeom{InC: s.inC, InH: s.hw, InW: s.hw, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2,
			DilH: 1, DilW: 1, OutH: s.hw, OutW: s.hw}
		ic := getIndirectConv(g)
		const nimg = indirectDWImages
		rng := rand.New(rand.NewPCG(1, 2))
		dyp, xp := randSlice(rng, nimg*ic.dyLen(s.oc)), randSlice(rng, nimg*ic.padLen())
		k := len(ic.off)
		dw := make([]float32, s.oc*k)
		b.Run(s.name, func(b *testing.B) {
			benchISAs(b, func(b *testing.B) {
				for b.Loop() {
					ic.weightGrad(dyp, xp, nimg, s.oc, dw, k)
				}
				reportGFLOPs(b, 2*float64(s.oc*k*nimg*g.OutH*g.OutW))
			})
		})
	}
}

// BenchmarkGemmNTISA is GemmNT on the shapes of the weight gradients that
// take it (LeNet's two layers, the MNIST CNN's first) and a longer one.
func BenchmarkGemmNTISA(b *testing.B) {
	for _, s := range [][3]int{{6, 9, 784}, {16, 150, 400}, {20, 25, 784}, {20, 500, 196}, {32, 288, 3136}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a, bb, c := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, m*n)
		b.Run(fmt.Sprint(s), func(b *testing.B) {
			benchISAs(b, func(b *testing.B) {
				for b.Loop() {
					GemmNT(m, n, k, a, k, bb, k, 0, c, n)
				}
				reportGFLOPs(b, 2*float64(m*n*k))
			})
		})
	}
}

// BenchmarkMaxPool2ISA is the 2×2 pooling of the LeNet and CNN planes (28×28
// and 14×14; 10×10 in LeNet's second layer), forward with arg and
// backward, over 64 planes.
func BenchmarkMaxPool2ISA(b *testing.B) {
	for _, hw := range []int{28, 14, 10} {
		g := PoolGeom{Planes: 64, H: hw, W: hw, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: hw / 2, OutW: hw / 2}
		rng := rand.New(rand.NewPCG(1, 2))
		x := randSlice(rng, g.Planes*hw*hw)
		n := g.Planes * g.OutH * g.OutW
		y, arg, dy := make([]float32, n), make([]int32, n), randSlice(rng, n)
		b.Run(fmt.Sprint(hw, "/fwd"), func(b *testing.B) {
			benchISAs(b, func(b *testing.B) {
				for b.Loop() {
					MaxPool(g, x, y, arg)
				}
				b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gcells/s")
			})
		})
		b.Run(fmt.Sprint(hw, "/back"), func(b *testing.B) {
			benchISAs(b, func(b *testing.B) {
				for b.Loop() {
					MaxPoolBackward(g, dy, arg, x)
				}
				b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gcells/s")
			})
		})
	}
}
