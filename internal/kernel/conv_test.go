package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// outSize is the usual floor-mode convolution output size.
func outSize(in, k, stride, padBefore, padAfter, dil int) int {
	return max(0, (in+padBefore+padAfter-dil*(k-1)-1)/stride+1)
}

func convGeoms() []ConvGeom {
	var gs []ConvGeom
	type hw struct{ in, k, s, pb, pa, d int }
	hs := []hw{
		{7, 3, 1, 0, 0, 1}, {7, 3, 1, 1, 1, 1}, {8, 3, 2, 1, 0, 1}, {9, 2, 3, 2, 2, 1},
		{17, 3, 1, 2, 2, 2}, {5, 5, 1, 2, 2, 1}, {1, 1, 1, 0, 0, 1}, {3, 5, 1, 0, 0, 1},
		{6, 1, 2, 0, 0, 1}, {4, 3, 1, 5, 5, 1}, {33, 7, 4, 3, 1, 3},
	}
	for n, h := range hs {
		w := hs[(n*5+3)%len(hs)]
		for _, inC := range []int{1, 3} {
			gs = append(gs, ConvGeom{
				InC: inC, InH: h.in, InW: w.in, KH: h.k, KW: w.k,
				StrideH: h.s, StrideW: w.s, PadT: h.pb, PadL: w.pb, DilH: h.d, DilW: w.d,
				OutH: outSize(h.in, h.k, h.s, h.pb, h.pa, h.d), OutW: outSize(w.in, w.k, w.s, w.pb, w.pa, w.d),
			})
		}
	}
	return gs
}

func TestIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range convGeoms() {
		img := randSlice(rng, g.InC*g.InH*g.InW)
		ncol := g.InC * g.KH * g.KW * g.OutH * g.OutW
		want, got := randSlice(rng, ncol), randSlice(rng, ncol) // garbage must be overwritten
		im2colRef(g, img, want)
		Im2col(g, img, got)
		require.Equal(t, want, got, "%+v", g)

		// Col2im against its reference, accumulating onto existing values.
		col := randSlice(rng, ncol)
		base := randSlice(rng, len(img))
		wantImg := append([]float32(nil), base...)
		gotImg := append([]float32(nil), base...)
		col2imRef(g, col, wantImg)
		Col2im(g, col, gotImg)
		require.Equal(t, wantImg, gotImg, "%+v", g)

		// Adjointness: <Im2col(x), y> == <x, Col2im(y)>.
		zero := make([]float32, len(img))
		Col2im(g, col, zero)
		lhs, rhs := dotRef(got, col), dotRef(img, zero)
		require.InDelta(t, lhs, rhs, 1e-4*(1+float64(len(col))), "%+v", g)
	}
}

func TestIm2colHand(t *testing.T) {
	// One 3×3 channel, 2×2 kernel, stride 1, padding 1 on the top/left only,
	// so the output is 3×3.
	g := ConvGeom{InC: 1, InH: 3, InW: 3, KH: 2, KW: 2, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, DilH: 1, DilW: 1, OutH: 3, OutW: 3}
	img := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	col := make([]float32, 4*9)
	Im2col(g, img, col)
	require.Equal(t, []float32{
		0, 0, 0, 0, 1, 2, 0, 4, 5, // tap (0,0)
		0, 0, 0, 1, 2, 3, 4, 5, 6, // tap (0,1)
		0, 1, 2, 0, 4, 5, 0, 7, 8, // tap (1,0)
		1, 2, 3, 4, 5, 6, 7, 8, 9, // tap (1,1)
	}, col)
	back := make([]float32, 9)
	Col2im(g, col, back)
	// Each pixel comes back once per tap that read it.
	require.Equal(t, []float32{1 * 4, 2 * 4, 3 * 2, 4 * 4, 5 * 4, 6 * 2, 7 * 2, 8 * 2, 9 * 1}, back)
}

func TestIm2colPanics(t *testing.T) {
	g := ConvGeom{InC: 1, InH: 3, InW: 3, KH: 2, KW: 2, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 2, OutW: 2}
	require.NotPanics(t, func() { Im2col(g, make([]float32, 9), make([]float32, 16)) })
	require.Panics(t, func() { Im2col(g, make([]float32, 8), make([]float32, 16)) })
	require.Panics(t, func() { Col2im(g, make([]float32, 15), make([]float32, 9)) })
	bad := g
	bad.StrideH = 0
	require.Panics(t, func() { Im2col(bad, make([]float32, 9), make([]float32, 16)) })
}

func BenchmarkIm2col(b *testing.B) {
	for _, g := range []ConvGeom{
		{InC: 1, InH: 28, InW: 28, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2, DilH: 1, DilW: 1, OutH: 28, OutW: 28},
		{InC: 6, InH: 14, InW: 14, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 10, OutW: 10},
		{InC: 64, InH: 32, InW: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, DilH: 1, DilW: 1, OutH: 16, OutW: 16},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		img := randSlice(rng, g.InC*g.InH*g.InW)
		col := make([]float32, g.InC*g.KH*g.KW*g.OutH*g.OutW)
		name := fmt.Sprintf("c%d_%dx%d_k%d_s%d", g.InC, g.InH, g.InW, g.KH, g.StrideH)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				Im2col(g, img, col)
			}
		})
		b.Run(name+"/ref", func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				im2colRef(g, img, col)
			}
		})
		b.Run(name+"/col2im", func(b *testing.B) {
			b.SetBytes(int64(4 * len(col)))
			for b.Loop() {
				Col2im(g, col, img)
			}
		})
	}
}

// TestWalkTaps checks the assembly im2col/col2im of stride-1 convolutions
// against the plain walk, bit for bit.
func TestWalkTaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	defer func() { useTaps = true }()
	geoms := convGeoms()
	for _, s := range [][5]int{{28, 28, 3, 1, 1}, {14, 14, 5, 0, 0}, {14, 14, 5, 2, 2}, {20, 9, 4, 1, 2}, {9, 23, 3, 0, 3}, {6, 13, 7, 3, 0}} {
		h, w, k, pt, pl := s[0], s[1], s[2], s[3], s[4]
		geoms = append(geoms, ConvGeom{InC: 1, InH: h, InW: w, KH: k, KW: k, StrideH: 1, StrideW: 1, PadT: pt, PadL: pl,
			DilH: 1, DilW: 1, OutH: outSize(h, k, 1, pt, pt, 1), OutW: outSize(w, k, 1, pl, pl, 1)})
	}
	for _, g := range geoms {
		if g.StrideH != 1 || g.StrideW != 1 || g.DilH != 1 || g.DilW != 1 {
			continue
		}
		for _, c := range []int{1, 3} {
			g.InC = c
			ld := g.OutH*g.OutW + 3
			img := randSlice(rng, g.InC*g.InH*g.InW)
			rows := g.InC * g.KH * g.KW
			base := randSlice(rng, max(rows*ld, 1))
			want, got := clone(base), clone(base)
			useTaps = false
			Im2colLD(g, img, want, ld)
			useTaps = true
			Im2colLD(g, img, got, ld)
			require.Equal(t, want, got, "im2col %+v", g)
			wantImg, gotImg := clone(img), clone(img)
			useTaps = false
			Col2imLD(g, base, ld, wantImg)
			useTaps = true
			Col2imLD(g, base, ld, gotImg)
			require.Equal(t, wantImg, gotImg, "col2im %+v", g)
		}
	}
}
