package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamVector checks that AdamVector followed by adamRef on the rest gives bitwise adamRef's
// parameters and moments, for every tail length, with and without clipping and decay.
func TestAdamVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	type bounds struct {
		lo, hi float32
		on     bool
	}
	for n := 0; n <= 41; n++ {
		for _, b := range []bounds{{}, {lo: -0.5, hi: 0.5, on: true}} {
			for _, wd := range []float32{0, 0.01} {
				p, g, m, v := rnd(n), rnd(n), rnd(n), rnd(n)
				for i := range v {
					v[i] = float32(math.Abs(float64(v[i])))
				}
				if n > 3 {
					g[3] = float32(math.NaN())
				}
				p2, m2, v2 := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
				done := AdamVector(p, g, m, v, 0.9, 0.999, 0.1, 0.001, 1e-8, wd, 0.001*wd, 0.01, 1.3, 0.8, b.lo, b.hi, b.on)
				if want := n / 8 * 8; useAVX && done != want || !useAVX && done != 0 {
					t.Fatalf("n=%d: AdamVector did %d elements (AVX %v)", n, done, useAVX)
				}
				adamRef(p[done:], g[done:], m[done:], v[done:], 0.9, 0.999, 0.1, 0.001, 1e-8, wd, 0.001*wd, 0.01, 1.3, 0.8, b.lo, b.hi, b.on)
				adamRef(p2, g, m2, v2, 0.9, 0.999, 0.1, 0.001, 1e-8, wd, 0.001*wd, 0.01, 1.3, 0.8, b.lo, b.hi, b.on)
				for i := range p {
					if math.Float32bits(p[i]) != math.Float32bits(p2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) ||
						math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
						t.Fatalf("n=%d bounds=%v wd=%v element %d: vector (%v %v %v), loop (%v %v %v)", n, b, wd, i, p[i], m[i], v[i], p2[i], m2[i], v2[i])
					}
				}
			}
		}
	}
}
