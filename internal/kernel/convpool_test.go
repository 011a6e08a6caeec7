package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConvReLUMaxPoolMatchesUnfused checks the fused kernels bit for bit
// against ConvForward, ReLU and MaxPool (and their backward passes in turn),
// over the MNIST models' layers and geometries that take the other paths:
// one image (a single chunk, split GEMM), groups, no bias, overlapping and
// padded windows, and inputs with NaN and ±0.
func TestConvReLUMaxPoolMatchesUnfused(t *testing.T) {
	geom := func(c, h, k, pad int) ConvGeom {
		o := h + 2*pad - k + 1
		return ConvGeom{InC: c, InH: h, InW: h, KH: k, KW: k, StrideH: 1, StrideW: 1, PadT: pad, PadL: pad, DilH: 1, DilW: 1, OutH: o, OutW: o}
	}
	pool := func(cv Conv, k, stride, pad int, ceil bool) PoolGeom {
		h := cv.G.OutH
		span := h + 2*pad - k
		out := span/stride + 1
		if ceil && span%stride != 0 {
			out++
		}
		return PoolGeom{Planes: cv.Groups * cv.OutC, H: h, W: h, KH: k, KW: k, StrideH: stride, StrideW: stride, PadT: pad, PadL: pad, OutH: out, OutW: out}
	}
	type tc struct {
		name          string
		cv            Conv
		k, s, pad     int
		ceil, noBias  bool
		special, noDX bool
	}
	cases := []tc{
		{name: "lenet1", cv: Conv{G: geom(1, 28, 3, 1), N: 64, Groups: 1, OutC: 6}, k: 2, s: 2, noDX: true},
		{name: "lenet2", cv: Conv{G: geom(6, 14, 5, 0), N: 64, Groups: 1, OutC: 16}, k: 2, s: 2},
		{name: "cnn1", cv: Conv{G: geom(1, 28, 5, 2), N: 100, Groups: 1, OutC: 20}, k: 2, s: 2, noDX: true},
		{name: "cnn2", cv: Conv{G: geom(20, 14, 5, 2), N: 100, Groups: 1, OutC: 20}, k: 2, s: 2},
		{name: "one image", cv: Conv{G: geom(3, 12, 3, 1), N: 1, Groups: 1, OutC: 7}, k: 2, s: 2},
		{name: "groups, no bias", cv: Conv{G: geom(2, 9, 3, 0), N: 5, Groups: 2, OutC: 3}, k: 2, s: 2, noBias: true},
		{name: "overlapping 3x3/2", cv: Conv{G: geom(2, 11, 3, 1), N: 6, Groups: 1, OutC: 4}, k: 3, s: 2},
		{name: "padded ceil", cv: Conv{G: geom(2, 7, 2, 0), N: 3, Groups: 1, OutC: 5}, k: 2, s: 2, pad: 1, ceil: true},
		{name: "odd 2x2", cv: Conv{G: geom(2, 9, 3, 1), N: 4, Groups: 1, OutC: 6}, k: 2, s: 2},
		{name: "NaN and zeros", cv: Conv{G: geom(2, 8, 3, 1), N: 4, Groups: 1, OutC: 6}, k: 2, s: 2, special: true},
		{name: "NaN and zeros, 3x3 windows", cv: Conv{G: geom(2, 8, 3, 1), N: 4, Groups: 1, OutC: 6}, k: 3, s: 3, special: true},
		{name: "strided dilated 2x3 kernel, groups", cv: Conv{G: ConvGeom{InC: 2, InH: 13, InW: 14, KH: 2, KW: 3, StrideH: 2, StrideW: 2,
			PadT: 1, PadL: 1, DilH: 2, DilW: 1, OutH: 6, OutW: 6}, N: 7, Groups: 3, OutC: 2}, k: 2, s: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			cv := c.cv
			pg := pool(cv, c.k, c.s, c.pad, c.ceil)
			x, w := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen())
			bias := randSlice(rng, cv.Groups*cv.OutC)
			if c.noBias {
				bias = nil
			}
			if c.special {
				// Zero weights of channel 0 make its output the bias alone; a NaN pixel
				// poisons a few windows; -0 bias makes exact ±0 outputs.
				clear(w[:cv.G.InC*cv.G.KH*cv.G.KW])
				bias[0] = float32(math.Copysign(0, -1))
				x[5] = float32(math.NaN())
			}
			q := cv.N * pg.Planes * pg.OutH * pg.OutW

			// Unfused: conv, ReLU, pool; then pool, ReLU and conv backward.
			full := make([]float32, cv.N*cv.outLen())
			ConvForward(cv, x, w, bias, full)
			relu := make([]float32, len(full))
			ReLU(relu, full)
			pgAll := pg
			pgAll.Planes = cv.N * pg.Planes
			want, wantArg := make([]float32, q), make([]int32, q)
			MaxPool(pgAll, relu, want, wantArg)

			got, gotArg := make([]float32, q), make([]int32, q)
			ConvReLUMaxPool(cv, pg, x, w, bias, got, gotArg)
			requireBits(t, want, got, "y")
			require.Equal(t, wantArg, gotArg, "arg")
			noArg := make([]float32, q)
			ConvReLUMaxPool(cv, pg, x, w, bias, noArg, nil)
			requireBits(t, want, noArg, "y without arg")

			dy := randSlice(rng, q)
			dy[0] = float32(math.Copysign(0, -1))
			if c.special { // a whole image's pooled gradient -0
				for i := range q / cv.N {
					dy[i] = float32(math.Copysign(0, -1))
				}
			}
			drelu := make([]float32, len(full))
			MaxPoolBackward(pgAll, dy, wantArg, drelu)
			dfull := make([]float32, len(full))
			ReLUMask(dfull, drelu, full)
			newGrads := func() (dx, dw, db []float32) {
				dw, db = randSlice(rand.New(rand.NewPCG(5, 6)), cv.wLen()), randSlice(rand.New(rand.NewPCG(7, 8)), cv.Groups*cv.OutC)
				if !c.noDX {
					dx = randSlice(rand.New(rand.NewPCG(9, 10)), cv.N*cv.inLen())
				}
				return dx, dw, db
			}
			wdx, wdw, wdb := newGrads()
			ConvBackward(cv, x, w, dfull, wdx, wdw, wdb)
			gdx, gdw, gdb := newGrads()
			ConvReLUMaxPoolBackward(cv, pg, x, w, got, gotArg, dy, gdx, gdw, gdb)
			requireBits(t, wdx, gdx, "dx")
			requireBits(t, wdw, gdw, "dw")
			requireBits(t, wdb, gdb, "db")

			// Only the bias gradient.
			_, _, wdb = newGrads()
			ConvBackward(cv, x, w, dfull, nil, nil, wdb)
			_, _, gdb = newGrads()
			ConvReLUMaxPoolBackward(cv, pg, x, w, got, gotArg, dy, nil, nil, gdb)
			requireBits(t, wdb, gdb, "db alone")

			// dx is overwritten: its earlier contents do not matter, fused or not.
			if !c.noDX {
				zdx, sdx, udx := make([]float32, len(x)), randSlice(rng, len(x)), randSlice(rng, len(x))
				ConvReLUMaxPoolBackward(cv, pg, x, w, got, gotArg, dy, zdx, nil, nil)
				ConvReLUMaxPoolBackward(cv, pg, x, w, got, gotArg, dy, sdx, nil, nil)
				ConvBackward(cv, x, w, dfull, udx, nil, nil)
				requireBits(t, zdx, sdx, "dx overwritten")
				requireBits(t, zdx, udx, "dx overwritten, unfused")
			}
		})
	}
}

func requireBits(t *testing.T, want, got []float32, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			require.Fail(t, fmt.Sprintf("%s[%d] = %v (bits %08x), want %v (bits %08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i])))
		}
	}
}

func TestConvReLUMaxPoolPanics(t *testing.T) {
	cv := Conv{G: ConvGeom{InC: 1, InH: 4, InW: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 2, OutW: 2}, N: 1, Groups: 1, OutC: 2}
	pg := PoolGeom{Planes: 2, H: 2, W: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: 1, OutW: 1}
	x, w, y := make([]float32, 16), make([]float32, 18), make([]float32, 2)
	require.PanicsWithValue(t, "kernel: ConvReLUMaxPool: pooling geometry does not match the convolution's output", func() {
		bad := pg
		bad.H = 3
		ConvReLUMaxPool(cv, bad, x, w, nil, y, nil)
	})
	require.PanicsWithValue(t, "kernel: ConvReLUMaxPool: output slice too short", func() {
		ConvReLUMaxPool(cv, pg, x, w, nil, y[:1], nil)
	})
	require.PanicsWithValue(t, "kernel: ConvReLUMaxPoolBackward: arg missing or dy too short", func() {
		ConvReLUMaxPoolBackward(cv, pg, x, w, y, nil, y, nil, nil, nil)
	})
}

// BenchmarkConvReLUMaxPool times the fused kernels against ConvForward, ReLU
// and MaxPool in turn (and the backward passes), on the MNIST CNN's layers.
func BenchmarkConvReLUMaxPool(b *testing.B) {
	geom := func(c, h, k, pad int) ConvGeom {
		o := h + 2*pad - k + 1
		return ConvGeom{InC: c, InH: h, InW: h, KH: k, KW: k, StrideH: 1, StrideW: 1, PadT: pad, PadL: pad, DilH: 1, DilW: 1, OutH: o, OutW: o}
	}
	for _, c := range []struct {
		name string
		cv   Conv
		dx   bool
	}{
		{"cnn1", Conv{G: geom(1, 28, 5, 2), N: 100, Groups: 1, OutC: 20}, false},
		{"cnn2", Conv{G: geom(20, 14, 5, 2), N: 100, Groups: 1, OutC: 20}, true},
		{"lenet1", Conv{G: geom(1, 28, 3, 1), N: 64, Groups: 1, OutC: 6}, false},
		{"lenet2", Conv{G: geom(6, 14, 5, 0), N: 64, Groups: 1, OutC: 16}, true},
	} {
		cv := c.cv
		h := cv.G.OutH
		pg := PoolGeom{Planes: cv.OutC, H: h, W: h, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: h / 2, OutW: h / 2}
		all := pg
		all.Planes *= cv.N
		rng := rand.New(rand.NewPCG(1, 2))
		x, w, bias := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.OutC)
		q := cv.N * cv.OutC * pg.OutH * pg.OutW
		y, arg, dy := make([]float32, q), make([]int32, q), randSlice(rng, q)
		dw, db := make([]float32, len(w)), make([]float32, len(bias))
		var dx []float32
		if c.dx {
			dx = make([]float32, len(x))
		}
		b.Run(c.name+"/forward/fused", func(b *testing.B) {
			for b.Loop() {
				ConvReLUMaxPool(cv, pg, x, w, bias, y, arg)
			}
		})
		// As a training step runs it: a new output each call, which the allocator zeroes (and
		// the OS may have to map again) before the kernel writes it.
		b.Run(c.name+"/forward/fused-new-output", func(b *testing.B) {
			for b.Loop() {
				ConvReLUMaxPool(cv, pg, x, w, bias, make([]float32, q), arg)
			}
		})
		b.Run(c.name+"/forward/unfused", func(b *testing.B) {
			for b.Loop() {
				full, relu := make([]float32, cv.N*cv.outLen()), make([]float32, cv.N*cv.outLen())
				ConvForward(cv, x, w, bias, full)
				ReLU(relu, full)
				MaxPool(all, relu, y, arg)
			}
		})
		b.Run(c.name+"/backward/fused", func(b *testing.B) {
			for b.Loop() {
				ConvReLUMaxPoolBackward(cv, pg, x, w, y, arg, dy, dx, dw, db)
			}
		})
		full := make([]float32, cv.N*cv.outLen())
		ConvForward(cv, x, w, bias, full)
		b.Run(c.name+"/backward/unfused", func(b *testing.B) {
			for b.Loop() {
				drelu, dfull := GetBuf(len(full)), GetBuf(len(full))
				MaxPoolBackward(all, dy, arg, *drelu)
				ReLUMask(*dfull, *drelu, full)
				ConvBackward(cv, x, w, *dfull, dx, dw, db)
				PutBuf(drelu)
				PutBuf(dfull)
			}
		})
	}
}
