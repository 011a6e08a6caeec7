package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

var nan32 = float32(math.NaN())

// x4 is a 4×4 plane holding 1..16. With a 3×3 window, stride 2 and padding
// 1, ceil mode gives a 3×3 output whose last row and column of windows
// overhang the padded extent [-1, 5): rows 3..5 count as two padded rows.
var (
	x4 = []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
		13, 14, 15, 16,
	}
	g4 = PoolGeom{Planes: 1, H: 4, W: 4, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, OutH: 3, OutW: 3}
)

func TestMaxPoolHand(t *testing.T) {
	y, arg := make([]float32, 9), make([]int32, 9)
	MaxPool(g4, x4, y, arg)
	require.Equal(t, []float32{6, 8, 8, 14, 16, 16, 14, 16, 16}, y)
	require.Equal(t, []int32{5, 7, 7, 13, 15, 15, 13, 15, 15}, arg)

	dy := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	dx := make([]float32, 16)
	dx[0] = 0.5 // MaxPoolBackward overwrites
	MaxPoolBackward(g4, dy, arg, dx)
	require.Equal(t, []float32{0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 2, 0, 4}, dx)
}

func TestMaxPoolTiesNaNEmpty(t *testing.T) {
	// Two planes of 2×2 under one 2×2 window.
	g := PoolGeom{Planes: 4, H: 2, W: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: 1, OutW: 1}
	x := []float32{
		7, 7, 7, 7, // all tie: the first wins
		1, 3, 3, 2, // tie between 1 and 2
		1, nan32, 5, nan32, // the first NaN wins
		float32(math.Inf(-1)), float32(math.Inf(-1)), -1, float32(math.Inf(-1)),
	}
	y, arg := make([]float32, 4), make([]int32, 4)
	MaxPool(g, x, y, arg)
	require.Equal(t, []int32{0, 1, 1, 2}, arg)
	require.Equal(t, float32(7), y[0])
	require.Equal(t, float32(3), y[1])
	require.True(t, math.IsNaN(float64(y[2])))
	require.Equal(t, float32(-1), y[3])

	// A -Inf-only window still has a winner (the first cell).
	g1 := PoolGeom{Planes: 1, H: 1, W: 2, KH: 1, KW: 2, StrideH: 1, StrideW: 1, OutH: 1, OutW: 1}
	MaxPool(g1, []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, y, arg)
	require.Equal(t, int32(0), arg[0])

	// 3×3 input, 2×2 window, stride 2, padding 1, ceil mode: 3×3 output whose
	// last row and column of windows lie wholly in the padding.
	ge := PoolGeom{Planes: 1, H: 3, W: 3, KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, OutH: 3, OutW: 3}
	xe := []float32{-1, -2, -3, -4, -5, -6, -7, -8, -9}
	ye, ae := make([]float32, 9), make([]int32, 9)
	MaxPool(ge, xe, ye, ae)
	require.Equal(t, []float32{-1, -2, 0, -4, -5, 0, 0, 0, 0}, ye)
	require.Equal(t, []int32{0, 1, -1, 3, 4, -1, -1, -1, -1}, ae)
	dx := make([]float32, 9)
	MaxPoolBackward(ge, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, ae, dx)
	require.Equal(t, []float32{1, 2, 0, 4, 5, 0, 0, 0, 0}, dx)
}

func TestAvgPoolHand(t *testing.T) {
	y := make([]float32, 9)
	AvgPool(g4, true, x4, y)
	requireClose(t, []float32{14.0 / 4, 30.0 / 6, 12.0 / 2, 57.0 / 6, 99.0 / 9, 36.0 / 3, 27.0 / 2, 45.0 / 3, 16}, y, 1e-6, "exclusive")
	AvgPool(g4, false, x4, y)
	// Divisors: 3 padded rows (or 2 for the overhanging last row) times the same for columns.
	requireClose(t, []float32{14.0 / 9, 30.0 / 9, 12.0 / 6, 57.0 / 9, 99.0 / 9, 36.0 / 6, 27.0 / 6, 45.0 / 6, 16.0 / 4}, y, 1e-6, "inclusive")

	// Windows wholly in the padding give 0 either way.
	ge := PoolGeom{Planes: 1, H: 3, W: 3, KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, OutH: 3, OutW: 3}
	xe := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, excl := range []bool{true, false} {
		ye := []float32{nan32, nan32, nan32, nan32, nan32, nan32, nan32, nan32, nan32}
		AvgPool(ge, excl, xe, ye)
		require.Equal(t, float32(0), ye[2])
		require.Equal(t, float32(0), ye[8])
		dx := []float32{nan32, nan32, nan32, nan32, nan32, nan32, nan32, nan32, nan32} // overwritten
		AvgPoolBackward(ge, excl, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, dx)
		if excl {
			require.Equal(t, []float32{1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.5, 0.25, 0.25}, dx)
		} else {
			require.Equal(t, []float32{0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25}, dx)
		}
	}
}

func poolGeoms() []PoolGeom {
	var gs []PoolGeom
	for _, c := range []struct{ h, k, s, p int }{
		{7, 2, 2, 0}, {7, 3, 2, 1}, {8, 3, 1, 1}, {5, 5, 1, 2}, {9, 2, 3, 1}, {1, 1, 1, 0}, {17, 3, 3, 1},
	} {
		for _, ceil := range []bool{false, true} {
			out := (c.h+2*c.p-c.k)/c.s + 1
			if ceil {
				out = (c.h+2*c.p-c.k+c.s-1)/c.s + 1
			}
			w := c.h + 2
			outW := (w+2*c.p-c.k)/c.s + 1
			gs = append(gs, PoolGeom{Planes: 3, H: c.h, W: w, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
				PadT: c.p, PadL: c.p, OutH: out, OutW: outW})
		}
	}
	return gs
}

func TestPoolRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range poolGeoms() {
		x := randSlice(rng, g.Planes*g.H*g.W)
		no := g.Planes * g.OutH * g.OutW
		wantY, gotY := make([]float32, no), randSlice(rng, no)
		wantA, gotA := make([]int32, no), make([]int32, no)
		maxPoolRef(g, x, wantY, wantA)
		MaxPool(g, x, gotY, gotA)
		require.Equal(t, wantY, gotY, "%+v", g)
		require.Equal(t, wantA, gotA, "%+v", g)

		dy := randSlice(rng, no)
		for _, excl := range []bool{true, false} {
			avgPoolRef(g, excl, x, wantY)
			AvgPool(g, excl, x, gotY)
			requireClose(t, wantY, gotY, 1e-6, "AvgPool")
			// Adjointness: <AvgPool(x), dy> == <x, AvgPoolBackward(dy)>.
			dx := randSlice(rng, len(x)) // overwritten
			AvgPoolBackward(g, excl, dy, dx)
			require.InDelta(t, dotRef(gotY, dy), dotRef(x, dx), 1e-4, "%+v", g)
		}
	}
}

func TestPoolPanics(t *testing.T) {
	g := PoolGeom{Planes: 1, H: 2, W: 2, KH: 2, KW: 2, StrideH: 1, StrideW: 1, OutH: 1, OutW: 1}
	require.Panics(t, func() { MaxPool(g, make([]float32, 3), make([]float32, 1), make([]int32, 1)) })
	require.Panics(t, func() { MaxPool(g, make([]float32, 4), make([]float32, 1), make([]int32, 0)) })
	require.Panics(t, func() { AvgPool(g, true, make([]float32, 4), nil) })
	g.StrideH = 0
	require.Panics(t, func() { AvgPool(g, true, make([]float32, 4), make([]float32, 1)) })
}

// TestMaxPool2Fast checks the 2×2 stride-2 assembly against the generic
// loops, bit for bit, over widths that exercise every tail length, odd
// sizes (an unused last row/column), ties and NaNs.
func TestMaxPool2Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, h := range []int{2, 3, 6} {
		for w := 2; w <= 41; w++ {
			g := PoolGeom{Planes: 3, H: h, W: w, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: h / 2, OutW: w / 2}
			require.True(t, g.pool2())
			x := make([]float32, g.Planes*h*w)
			for i := range x {
				switch rng.IntN(10) {
				case 0:
					x[i] = float32(math.NaN())
				case 1, 2:
					x[i] = 1 // ties
				default:
					x[i] = rng.Float32()*2 - 1
				}
			}
			n := g.Planes * g.OutH * g.OutW
			wantY, gotY := make([]float32, n), make([]float32, n)
			wantA, gotA := make([]int32, n), make([]int32, n)
			maxPoolPlanes(g, x, wantY, wantA, 0, g.Planes)
			MaxPool(g, x, gotY, gotA)
			require.Equal(t, wantA, gotA, "arg %dx%d", h, w)
			valuesOnly := make([]float32, n)
			MaxPool(g, x, valuesOnly, nil)
			for i := range wantY {
				require.Equal(t, math.Float32bits(wantY[i]), math.Float32bits(valuesOnly[i]), "y without arg %dx%d at %d", h, w, i)
			}
			for i := range wantY {
				require.Equal(t, math.Float32bits(wantY[i]), math.Float32bits(gotY[i]), "y %dx%d at %d", h, w, i)
			}
			// The gradient overwrites the garbage in dx.
			dy := randSlice(rng, n)
			want := make([]float32, len(x))
			for p := range g.Planes {
				for i := range g.OutH * g.OutW {
					want[p*h*w+int(wantA[p*g.OutH*g.OutW+i])] += dy[p*g.OutH*g.OutW+i]
				}
			}
			got := randSlice(rng, len(x))
			MaxPoolBackward(g, dy, gotA, got)
			for i := range want {
				require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "dx %dx%d at %d", h, w, i)
			}
		}
	}
}
