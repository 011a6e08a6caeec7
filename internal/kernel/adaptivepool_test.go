package kernel

import (
	"math/rand/v2"
	"testing"
)

func TestAdaptiveBin(t *testing.T) {
	cases := []struct {
		size, n int
		want    [][2]int
	}{
		{6, 3, [][2]int{{0, 2}, {2, 4}, {4, 6}}},           // divides: no overlap
		{7, 3, [][2]int{{0, 3}, {2, 5}, {4, 7}}},           // floor(i*7/3), ceil((i+1)*7/3)
		{5, 2, [][2]int{{0, 3}, {2, 5}}},                   // the middle element in both
		{2, 3, [][2]int{{0, 1}, {0, 2}, {1, 2}}},           // more bins than inputs
		{4, 1, [][2]int{{0, 4}}},                           // global
		{10, 4, [][2]int{{0, 3}, {2, 5}, {5, 8}, {7, 10}}}, // 2.5 per bin
	}
	for _, c := range cases {
		for i, w := range c.want {
			lo, hi := AdaptiveBin(i, c.size, c.n)
			if lo != w[0] || hi != w[1] {
				t.Errorf("AdaptiveBin(%d, %d, %d) = [%d, %d), want [%d, %d)", i, c.size, c.n, lo, hi, w[0], w[1])
			}
		}
	}
}

// TestAdaptiveBackwardIsAdjoint checks <AvgPool(x), dy> = <x, AvgPoolBackward(dy)>, and the same
// for max pooling with its winners fixed, over many planes (several ParallelFor chunks).
func TestAdaptiveBackwardIsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := AdaptiveGeom{Planes: 700, H: 7, W: 5, OutH: 3, OutW: 2}
	x := make([]float32, g.Planes*g.H*g.W)
	dy := make([]float32, g.Planes*g.OutH*g.OutW)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	y, dx := make([]float32, len(dy)), make([]float32, len(x))
	arg := make([]int32, len(dy))
	dot := func(a, b []float32) (s float64) {
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	for _, isMax := range []bool{false, true} {
		for i := range dx {
			dx[i] = float32(i) // garbage: the backward pass must assign
		}
		if isMax {
			AdaptiveMaxPool(g, x, y, arg)
			AdaptiveMaxPoolBackward(g, dy, arg, dx)
		} else {
			AdaptiveAvgPool(g, x, y)
			AdaptiveAvgPoolBackward(g, dy, dx)
		}
		// Both are linear in x given the winners: <y, dy> = <x, dx>.
		if l, r := dot(y, dy), dot(x, dx); l-r > 1e-3 || r-l > 1e-3 {
			t.Errorf("max %v: <y, dy> = %g, <x, dx> = %g", isMax, l, r)
		}
	}
}

func TestAdaptivePanics(t *testing.T) {
	g := AdaptiveGeom{Planes: 1, H: 2, W: 2, OutH: 1, OutW: 1}
	for name, f := range map[string]func(){
		"short x":   func() { AdaptiveAvgPool(g, make([]float32, 3), make([]float32, 1)) },
		"short y":   func() { AdaptiveMaxPool(g, make([]float32, 4), nil, nil) },
		"short arg": func() { AdaptiveMaxPool(g, make([]float32, 4), make([]float32, 1), []int32{}) },
		"geometry":  func() { AdaptiveAvgPool(AdaptiveGeom{Planes: 1, H: 2, W: 2}, make([]float32, 4), make([]float32, 1)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
