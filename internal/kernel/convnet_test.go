package kernel

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// convRef is a direct convolution in float64, the reference for
// ConvForward: y[n][o][oh][ow] = bias[o] + Σ x·w over the window.
func convRef(cv Conv, x, w, bias []float32) []float64 {
	g := cv.G
	y := make([]float64, cv.N*cv.outLen())
	for n := range cv.N {
		for gi := range cv.Groups {
			for o := range cv.OutC {
				oo := gi*cv.OutC + o
				for oh := range g.OutH {
					for ow := range g.OutW {
						var s float64
						if bias != nil {
							s = float64(bias[oo])
						}
						for c := range g.InC {
							for i := range g.KH {
								for j := range g.KW {
									h := oh*g.StrideH - g.PadT + i*g.DilH
									v := ow*g.StrideW - g.PadL + j*g.DilW
									if h < 0 || h >= g.InH || v < 0 || v >= g.InW {
										continue
									}
									xv := x[n*cv.inLen()+((gi*g.InC+c)*g.InH+h)*g.InW+v]
									wv := w[((oo*g.InC+c)*g.KH+i)*g.KW+j]
									s += float64(xv) * float64(wv)
								}
							}
						}
						y[n*cv.outLen()+(oo*g.OutH+oh)*g.OutW+ow] = s
					}
				}
			}
		}
	}
	return y
}

// convBackwardRef is the adjoint of convRef: the gradients of Σ y·dy.
func convBackwardRef(cv Conv, x, w, dy []float32) (dx, dw, db []float64) {
	g := cv.G
	dx, dw, db = make([]float64, cv.N*cv.inLen()), make([]float64, cv.wLen()), make([]float64, cv.Groups*cv.OutC)
	for n := range cv.N {
		for gi := range cv.Groups {
			for o := range cv.OutC {
				oo := gi*cv.OutC + o
				for oh := range g.OutH {
					for ow := range g.OutW {
						d := float64(dy[n*cv.outLen()+(oo*g.OutH+oh)*g.OutW+ow])
						db[oo] += d
						for c := range g.InC {
							for i := range g.KH {
								for j := range g.KW {
									h := oh*g.StrideH - g.PadT + i*g.DilH
									v := ow*g.StrideW - g.PadL + j*g.DilW
									if h < 0 || h >= g.InH || v < 0 || v >= g.InW {
										continue
									}
									xi := n*cv.inLen() + ((gi*g.InC+c)*g.InH+h)*g.InW + v
									wi := ((oo*g.InC+c)*g.KH+i)*g.KW + j
									dx[xi] += d * float64(w[wi])
									dw[wi] += d * float64(x[xi])
								}
							}
						}
					}
				}
			}
		}
	}
	return dx, dw, db
}

func requireNear64(t *testing.T, want []float64, got []float32, tol float64, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		if d := math.Abs(want[i] - float64(got[i])); !(d <= tol*(1+math.Abs(want[i]))) {
			require.Failf(t, "mismatch", "%s: element %d: want %v, got %v", msg, i, want[i], got[i])
		}
	}
}

func convCases() []Conv {
	var cs []Conv
	for _, g := range convGeoms() {
		cs = append(cs, Conv{G: g, N: 3, Groups: 1, OutC: 4})
	}
	lenet1 := ConvGeom{InC: 1, InH: 28, InW: 28, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, DilH: 1, DilW: 1, OutH: 28, OutW: 28}
	lenet2 := ConvGeom{InC: 6, InH: 14, InW: 14, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 10, OutW: 10}
	cnn2 := ConvGeom{InC: 20, InH: 14, InW: 14, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2, DilH: 1, DilW: 1, OutH: 14, OutW: 14}
	grouped := ConvGeom{InC: 2, InH: 9, InW: 7, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadT: 1, PadL: 1, DilH: 1, DilW: 2, OutH: 5, OutW: 6}
	return append(cs,
		Conv{G: lenet1, N: 5, Groups: 1, OutC: 6},
		Conv{G: lenet2, N: 11, Groups: 1, OutC: 16}, // several multi-image chunks, a short last one
		Conv{G: lenet2, N: 1, Groups: 1, OutC: 16},
		Conv{G: cnn2, N: 2, Groups: 1, OutC: 20},
		Conv{G: grouped, N: 7, Groups: 3, OutC: 2},
	)
}

func TestConvForwardBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cv := range convCases() {
		x := randSlice(rng, cv.N*cv.inLen())
		w := randSlice(rng, cv.wLen())
		bias := randSlice(rng, cv.Groups*cv.OutC)
		y := randSlice(rng, cv.N*cv.outLen()) // overwritten
		tol := 1e-5 * float64(cv.k()+1)
		ConvForward(cv, x, w, bias, y)
		requireNear64(t, convRef(cv, x, w, bias), y, tol, "forward")
		ConvForward(cv, x, w, nil, y)
		requireNear64(t, convRef(cv, x, w, nil), y, tol, "forward without bias")

		dy := randSlice(rng, len(y))
		wantDx, wantDw, wantDb := convBackwardRef(cv, x, w, dy)
		dx0, dw0, db0 := randSlice(rng, len(x)), randSlice(rng, len(w)), randSlice(rng, len(bias))
		dx, dw, db := clone(dx0), clone(dw0), clone(db0)
		ConvBackward(cv, x, w, dy, dx, dw, db) // all three overwritten
		requireNear64(t, wantDx, dx, 1e-5*float64(cv.OutC*cv.G.KH*cv.G.KW+1), "dx")
		requireNear64(t, wantDw, dw, 1e-5*float64(cv.N*cv.p()+1), "dw")
		requireNear64(t, wantDb, db, 1e-5*float64(cv.N*cv.p()+1), "db")

		// Each gradient alone gives the same bits as all three together.
		dx2 := clone(dx0)
		ConvBackward(cv, nil, w, dy, dx2, nil, nil)
		require.Equal(t, dx, dx2)
		dw2 := clone(dw0)
		ConvBackward(cv, x, w, dy, nil, dw2, nil)
		require.Equal(t, dw, dw2)

		// The gradients are overwritten: their earlier contents do not matter.
		zdx, zdw, zdb := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
		ConvBackward(cv, x, w, dy, zdx, zdw, zdb)
		requireBits(t, zdx, dx, "dx overwritten")
		requireBits(t, zdw, dw, "dw overwritten")
		requireBits(t, zdb, db, "db overwritten")
	}
}

// TestConvDeterministic checks that the results are bitwise the same
// whatever GOMAXPROCS is.
func TestConvDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cv := range convCases()[len(convCases())-5:] {
		x, w := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen())
		bias, dy := randSlice(rng, cv.Groups*cv.OutC), randSlice(rng, cv.N*cv.outLen())
		run := func(procs int) [4][]float32 {
			runtime.GOMAXPROCS(procs)
			y := make([]float32, cv.N*cv.outLen())
			dx, dw, db := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
			ConvForward(cv, x, w, bias, y)
			ConvBackward(cv, x, w, dy, dx, dw, db)
			return [4][]float32{y, dx, dw, db}
		}
		want := run(1)
		for _, procs := range []int{2, 3, 4} {
			require.Equal(t, want, run(procs), "%+v GOMAXPROCS %d", cv, procs)
		}
	}
}

func TestIm2colLD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range convGeoms() {
		const images = 3
		p, rows := g.OutH*g.OutW, g.InC*g.KH*g.KW
		ld := images*p + 5
		imgs := randSlice(rng, images*g.InC*g.InH*g.InW)
		wide := randSlice(rng, max(rows*ld, 1))
		orig := clone(wide)
		for i := range images {
			Im2colLD(g, imgs[i*g.InC*g.InH*g.InW:], wide[i*p:], ld)
		}
		for i := range images {
			want := make([]float32, rows*p)
			Im2col(g, imgs[i*g.InC*g.InH*g.InW:], want)
			for r := range rows {
				require.Equal(t, want[r*p:(r+1)*p], wide[r*ld+i*p:r*ld+(i+1)*p], "%+v", g)
			}
		}
		for r := range rows { // the gap after the images is untouched
			require.Equal(t, orig[r*ld+images*p:r*ld+ld], wide[r*ld+images*p:r*ld+ld])
		}
		// Col2imLD adds the same as Col2im.
		for i := range images {
			col := make([]float32, rows*p)
			for r := range rows {
				copy(col[r*p:(r+1)*p], wide[r*ld+i*p:])
			}
			base := randSlice(rng, g.InC*g.InH*g.InW)
			want, got := clone(base), clone(base)
			Col2im(g, col, want)
			Col2imLD(g, wide[i*p:], ld, got)
			require.Equal(t, want, got, "%+v", g)
		}
	}
	g := convGeoms()[0]
	require.Panics(t, func() { Im2colLD(g, make([]float32, 1000), make([]float32, 1000), g.OutH*g.OutW-1) })
}

// TestRowKernels checks the assembly row kernels against plain loops, bit
// for bit, for every tail length.
func TestRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 37; n++ {
		for _, rows := range []int{1, 3} {
			ldd, lds := n+3, n+5
			src := randSlice(rng, rows*lds+1)
			dst0 := randSlice(rng, rows*ldd+1)
			want, got := clone(dst0), clone(dst0)
			for r := range rows {
				copy(want[r*ldd:r*ldd+n], src[r*lds:])
			}
			copyRows(got, ldd, src, lds, rows, n)
			require.Equal(t, want, got, "copyRows n=%d", n)
			want, got = clone(dst0), clone(dst0)
			for r := range rows {
				for i := range n {
					want[r*ldd+i] += src[r*lds+i]
				}
			}
			addRows(got, ldd, src, lds, rows, n)
			require.Equal(t, want, got, "addRows n=%d", n)
		}
		x := randSlice(rng, n)
		want, got := make([]float32, n), make([]float32, n)
		for i := range x {
			want[i] = x[i] + 0.37
		}
		AddScalar(got, x, 0.37)
		require.Equal(t, want, got, "AddScalar n=%d", n)
	}
}

func TestReLUKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for n := 0; n <= 37; n++ {
		x, g := randSlice(rng, n), randSlice(rng, n)
		for i := range x {
			if rng.IntN(4) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		want, got := make([]float32, n), make([]float32, n)
		for i, v := range x {
			want[i] = v
			if 0 > v {
				want[i] = 0
			}
		}
		ReLU(got, x)
		for i := range want {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "ReLU n=%d i=%d", n, i)
		}
		md := randSlice(rng, n) // overwritten
		ReLUMask(md, g, x)
		for i := range x {
			want := float32(0)
			if x[i] > 0 {
				want = g[i]
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(md[i]), "ReLUMask n=%d i=%d", n, i)
		}
	}
}

// BenchmarkConv runs the convolutions of the MNIST benchmarks (LeNet at batch
// 64, the tutorial CNN at batch 100), forward and backward.
func BenchmarkConv(b *testing.B) {
	type tc struct {
		name string
		cv   Conv
		dx   bool
	}
	geom := func(c, h, k, pad int) ConvGeom {
		o := h + 2*pad - k + 1
		return ConvGeom{InC: c, InH: h, InW: h, KH: k, KW: k, StrideH: 1, StrideW: 1, PadT: pad, PadL: pad, DilH: 1, DilW: 1, OutH: o, OutW: o}
	}
	for _, c := range []tc{
		{"lenet1", Conv{G: geom(1, 28, 3, 1), N: 64, Groups: 1, OutC: 6}, false},
		{"lenet2", Conv{G: geom(6, 14, 5, 0), N: 64, Groups: 1, OutC: 16}, true},
		{"cnn1", Conv{G: geom(1, 28, 5, 2), N: 100, Groups: 1, OutC: 20}, false},
		{"cnn2", Conv{G: geom(20, 14, 5, 2), N: 100, Groups: 1, OutC: 20}, true},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		cv := c.cv
		x, w, bias := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.OutC)
		y, dy := make([]float32, cv.N*cv.outLen()), randSlice(rng, cv.N*cv.outLen())
		dw, db := make([]float32, len(w)), make([]float32, len(bias))
		var dx []float32
		if c.dx {
			dx = make([]float32, len(x))
		}
		flops := 2 * float64(cv.N*cv.OutC*cv.p()*cv.k())
		b.Run(c.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				ConvForward(cv, x, w, bias, y)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(c.name+"/backward", func(b *testing.B) {
			for b.Loop() {
				ConvBackward(cv, x, w, dy, dx, dw, db)
			}
			mult := 1.0
			if c.dx {
				mult = 2
			}
			b.ReportMetric(mult*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestConvBackwardNoOutput checks that the gradients are zeroed when the
// convolution has no output (no images, or no output channels).
func TestConvBackwardNoOutput(t *testing.T) {
	g := ConvGeom{InC: 2, InH: 3, InW: 3, KH: 2, KW: 2, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 2, OutW: 2}
	rng := rand.New(rand.NewPCG(1, 1))
	cv := Conv{G: g, N: 2, Groups: 1, OutC: 0}
	dx := randSlice(rng, cv.N*cv.inLen())
	ConvBackward(cv, nil, nil, nil, dx, nil, nil)
	require.Equal(t, make([]float32, len(dx)), dx)
	cv = Conv{G: g, N: 0, Groups: 1, OutC: 3}
	dw, db := randSlice(rng, cv.wLen()), randSlice(rng, cv.OutC)
	ConvBackward(cv, nil, make([]float32, cv.wLen()), nil, nil, dw, db)
	require.Equal(t, make([]float32, len(dw)), dw)
	require.Equal(t, make([]float32, len(db)), db)
}
