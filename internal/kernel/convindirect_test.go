package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIndirectKernel checks the indirect micro-kernel against the same
// micro-kernel run on the gathered B panel, bit for bit, with overlapping
// rows of B as a convolution makes them.
func TestIndirectKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 3, 4, 5, 17, 256} {
		for rows := 1; rows <= mr; rows++ {
			for _, beta := range []float32{0, 1, 0.5} {
				a := randSlice(rng, mr*k)
				b := randSlice(rng, 3*k+nr+5)
				off := make([]int32, k)
				for p := range off {
					off[p] = int32(4 * rng.IntN(3*k+1)) // any row start, rows overlap
				}
				c0 := randSlice(rng, mr*20)
				want, got := clone(c0), clone(c0)
				indirectKernelGo(k, a, off, b, want, 20, 1.5, beta, rows)
				indirectKernel(k, a, off, b, got, 20, 1.5, beta, rows)
				requireBits(t, want, got, fmt.Sprintf("k=%d rows=%d beta=%v", k, rows, beta))
				if indirectPair == nil || rows > indirectPairRows {
					continue
				}
				// Two panels at once: each as indirectKernel computes it.
				const bstride = 5
				want2, got1, got2 := clone(c0), clone(c0), clone(c0)
				indirectKernel(k, a, off, b[bstride:], want2, 20, 1.5, beta, rows)
				indirectPair(k, a, off, b, bstride, got1, got2, 20, 1.5, beta, rows)
				requireBits(t, want, got1, fmt.Sprintf("pair k=%d rows=%d beta=%v: first", k, rows, beta))
				requireBits(t, want2, got2, fmt.Sprintf("pair k=%d rows=%d beta=%v: second", k, rows, beta))
			}
		}
	}
}

// indirectGeom is a stride-1 convolution geometry with padding top, left,
// bottom and right.
func indirectGeom(c, h, w, kh, kw, pt, pl, pb, pr int) ConvGeom {
	return ConvGeom{InC: c, InH: h, InW: w, KH: kh, KW: kw, StrideH: 1, StrideW: 1, PadT: pt, PadL: pl, DilH: 1, DilW: 1,
		OutH: h + pt + pb - kh + 1, OutW: w + pl + pr - kw + 1}
}

// indirectCases are convolutions the indirect path takes (forward, dX or
// both), with odd sizes, groups, asymmetric padding and a single image.
func indirectCases() []Conv {
	geom := indirectGeom
	return []Conv{
		{G: geom(20, 14, 14, 5, 5, 2, 2, 2, 2), N: 5, Groups: 1, OutC: 20}, // the MNIST CNN's second layer
		{G: geom(20, 14, 14, 5, 5, 2, 2, 2, 2), N: 1, Groups: 1, OutC: 20}, // one image: forward through im2col, dX indirect
		{G: geom(4, 14, 14, 3, 3, 1, 1, 1, 1), N: 3, Groups: 1, OutC: 16},  // forward K = 36: dX only
		{G: geom(16, 28, 30, 3, 3, 1, 1, 1, 1), N: 3, Groups: 2, OutC: 5},  // groups, two panels per row, 28 of 32 used
		{G: geom(15, 9, 15, 3, 3, 0, 2, 2, 0), N: 4, Groups: 1, OutC: 7},   // asymmetric padding
		{G: geom(32, 6, 16, 2, 3, 1, 0, 0, 1), N: 2, Groups: 1, OutC: 13},  // even kernel, one full panel
		{G: geom(130, 3, 14, 1, 1, 0, 0, 0, 0), N: 3, Groups: 1, OutC: 8},  // 1×1: the k loop over channels only
		{G: geom(64, 5, 28, 3, 3, 1, 1, 1, 1), N: 2, Groups: 1, OutC: 3},   // K over kc: two blocks
	}
}

// TestConvIndirect checks the indirect convolution: the forward pass (plain
// and fused with ReLU and pooling) gives bitwise the im2col path's result,
// and so does the bias gradient; the input and weight gradients, summed in
// another order, match the float64 reference, non-finite values included.
func TestConvIndirect(t *testing.T) {
	defer func() { useIndirect = true }()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, cv := range indirectCases() {
		dxg, dxOK := cv.dxGeom()
		require.True(t, indirectFits(cv.G) || dxOK, "%+v takes no indirect path", cv)
		x, w := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen())
		bias, dy := randSlice(rng, cv.Groups*cv.OutC), randSlice(rng, cv.N*cv.outLen())
		// Non-finite inputs at the right edge of a row: the columns a weight
		// gradient panel computes past OutW read them, and must not add them.
		g := cv.G
		x[(g.InC-1)*g.InH*g.InW+g.InW-1] = float32(math.NaN())
		x[(cv.N-1)*cv.inLen()+min(3, g.InH-1)*g.InW+max(g.InW-2, 0)] = float32(math.Inf(-1))
		type result struct{ y, dx, dw, db, py, pdx, pdw []float32 }
		pg := PoolGeom{Planes: cv.OutC, H: cv.G.OutH, W: cv.G.OutW, KH: 2, KW: 2, StrideH: 2, StrideW: 2,
			OutH: cv.G.OutH / 2, OutW: cv.G.OutW / 2}
		pooled := cv.N * cv.Groups * cv.OutC * pg.OutH * pg.OutW
		pdy := randSlice(rng, pooled)
		run := func(ind bool) (r result) {
			useIndirect = ind
			r.y = make([]float32, cv.N*cv.outLen())
			ConvForward(cv, x, w, bias, r.y)
			r.dx, r.dw, r.db = make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
			ConvBackward(cv, x, w, dy, r.dx, r.dw, r.db)
			pg.Planes = cv.Groups * cv.OutC
			r.py = make([]float32, pooled)
			arg := make([]int32, pooled)
			ConvReLUMaxPool(cv, pg, x, w, bias, r.py, arg)
			r.pdx, r.pdw = make([]float32, len(x)), make([]float32, len(w))
			ConvReLUMaxPoolBackward(cv, pg, x, w, r.py, arg, pdy, r.pdx, r.pdw, nil)
			return r
		}
		want, got := run(false), run(true)
		name := fmt.Sprintf("%+v", cv)
		requireBits(t, want.y, got.y, name+" y")
		requireBits(t, want.db, got.db, name+" db")
		requireBits(t, want.py, got.py, name+" fused y")
		_, wantDw, _ := convBackwardRef(cv, x, w, dy)
		dwTol := 1e-5 * float64(cv.N*cv.p()+1)
		requireNearNonFinite(t, wantDw, got.dw, dwTol, name+" dw")
		wantPdw := make([]float64, len(want.pdw)) // the im2col path's, as the reference
		for i, v := range want.pdw {
			wantPdw[i] = float64(v)
		}
		requireNearNonFinite(t, wantPdw, got.pdw, dwTol, name+" fused dw")
		if !dxOK {
			requireBits(t, want.dx, got.dx, name+" dx")
			continue
		}
		// dX against the reference, from finite inputs (x is not read for dX).
		wantDx, _, _ := convBackwardRef(cv, x, w, dy)
		tol := 1e-5 * float64(dxg.InC*dxg.KH*dxg.KW+1)
		requireNear64(t, wantDx, got.dx, tol, name+" dx")
		for i := range want.pdx {
			require.InDelta(t, want.pdx[i], got.pdx[i], tol*(1+math.Abs(float64(want.pdx[i]))), "%s fused dx %d", name, i)
		}
	}
}

// TestConvIndirectNarrow checks that the forward pass of convolutions only
// indirectForward admits (narrow rows, few channels) is bitwise the im2col
// path's, plain and fused with ReLU and pooling, whatever the ISA.
func TestConvIndirectNarrow(t *testing.T) {
	defer func() { useIndirect, indirectNarrow = true, useAVX512 }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // indirectForward's condition; results do not depend on it
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cv := range []Conv{
		{G: indirectGeom(6, 14, 14, 5, 5, 0, 0, 0, 0), N: 9, Groups: 1, OutC: 16}, // LeNet's second layer
		{G: indirectGeom(8, 14, 14, 5, 5, 0, 1, 0, 1), N: 5, Groups: 2, OutC: 7},  // OutW 12, groups, padding on one side
	} {
		indirectNarrow = true
		require.False(t, indirectFits(cv.G), "%+v", cv)
		require.True(t, cv.indirectForward(), "%+v", cv)
		x, w, bias := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.Groups*cv.OutC)
		x[len(x)-1] = float32(math.NaN())
		pg := PoolGeom{Planes: cv.Groups * cv.OutC, H: cv.G.OutH, W: cv.G.OutW, KH: 2, KW: 2, StrideH: 2, StrideW: 2,
			OutH: cv.G.OutH / 2, OutW: cv.G.OutW / 2}
		pooled := cv.N * pg.Planes * pg.OutH * pg.OutW
		run := func(ind bool) (y, py []float32, arg []int32) {
			useIndirect = ind
			y, py, arg = make([]float32, cv.N*cv.outLen()), make([]float32, pooled), make([]int32, pooled)
			ConvForward(cv, x, w, bias, y)
			ConvReLUMaxPool(cv, pg, x, w, bias, py, arg)
			return y, py, arg
		}
		wantY, wantPy, wantArg := run(false)
		gotY, gotPy, gotArg := run(true)
		name := fmt.Sprintf("%+v", cv)
		requireBits(t, wantY, gotY, name+" y")
		requireBits(t, wantPy, gotPy, name+" fused y")
		require.Equal(t, wantArg, gotArg, name+" winners")
	}
}

// TestIndirectFits pins which layers take the indirect path.
func TestIndirectFits(t *testing.T) {
	g := ConvGeom{InC: 20, InH: 14, InW: 14, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadT: 2, PadL: 2, DilH: 1, DilW: 1, OutH: 14, OutW: 14}
	require.True(t, indirectFits(g), "MNIST CNN layer 2")
	c1 := g
	c1.InC, c1.InH, c1.InW, c1.OutH, c1.OutW = 1, 28, 28, 28, 28
	require.False(t, indirectFits(c1), "K = 25 is too short")
	l2 := ConvGeom{InC: 6, InH: 14, InW: 14, KH: 5, KW: 5, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, OutH: 10, OutW: 10}
	require.False(t, indirectFits(l2), "10 of 16 columns used")
	_, ok := Conv{G: l2, N: 1, Groups: 1, OutC: 16}.dxGeom()
	require.False(t, ok, "LeNet layer 2's input gradient: 14×16 positions computed for 10×10 of dY")
	_, ok = Conv{G: g, N: 1, Groups: 1, OutC: 20}.dxGeom()
	require.True(t, ok, "MNIST CNN layer 2's input gradient")
	lenet2 := Conv{G: l2, N: 64, Groups: 1, OutC: 16}
	require.True(t, lenet2.narrowPays(), "LeNet layer 2, 16 channels: 16·6 wasted ≤ 10·10")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	require.False(t, lenet2.indirectForward(), "one core keeps im2col")
	runtime.GOMAXPROCS(2)
	require.Equal(t, useAVX512, lenet2.indirectForward(), "two cores: indirect with AVX-512 only")
	wide := lenet2
	wide.OutC = 32
	require.False(t, wide.narrowPays(), "32 channels: 32·6 wasted > 10·10")
	r7 := indirectGeom(512, 7, 7, 3, 3, 1, 1, 1, 1)
	require.False(t, Conv{G: r7, N: 8, Groups: 1, OutC: 512}.narrowPays(), "ResNet's 7×7 layers")
	s2 := g
	s2.StrideW = 2
	require.False(t, indirectFits(s2), "stride 2")
	_, ok = Conv{G: s2, N: 1, Groups: 1, OutC: 20}.dxGeom()
	require.False(t, ok, "stride 2 input gradient")
	big := g
	big.PadT = 5 // more padding than the kernel: the input gradient is no convolution of dY
	_, ok = Conv{G: big, N: 1, Groups: 1, OutC: 20}.dxGeom()
	require.False(t, ok)
}

// requireNearNonFinite is requireNear64 where NaN must meet NaN and an
// infinity the same infinity.
func requireNearNonFinite(t *testing.T, want []float64, got []float32, tol float64, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i, w := range want {
		g := float64(got[i])
		switch {
		case math.IsNaN(w) || math.IsInf(w, 0):
			if !(math.IsNaN(w) && math.IsNaN(g)) && w != g {
				require.Failf(t, "mismatch", "%s: element %d: want %v, got %v", msg, i, w, g)
			}
		case !(math.Abs(w-g) <= tol*(1+math.Abs(w))):
			require.Failf(t, "mismatch", "%s: element %d: want %v, got %v", msg, i, w, g)
		}
	}
}

// TestConvDirect checks that the forward pass through indirectConv.direct
// (short reductions, AVX-512) is bitwise the im2col path's: plain, with and
// without bias, and fused with ReLU and pooling; widths across the 32-column
// blocks, panels of 1 to 6 rows, groups, padding on some sides, and
// non-finite inputs and weights.
func TestConvDirect(t *testing.T) {
	if !useAVX512 {
		t.Skip("indirectConv.direct needs AVX-512")
	}
	defer func() { useDirect = true }()
	rng := rand.New(rand.NewPCG(13, 14))
	cases := []Conv{
		{G: indirectGeom(1, 28, 28, 3, 3, 1, 1, 1, 1), N: 5, Groups: 1, OutC: 6},  // LeNet's first layer
		{G: indirectGeom(1, 28, 28, 5, 5, 2, 2, 2, 2), N: 3, Groups: 1, OutC: 20}, // the MNIST CNN's: panels 6, 6, 6, 2
		{G: indirectGeom(3, 9, 7, 3, 3, 1, 0, 0, 1), N: 9, Groups: 2, OutC: 7},    // OutW 6, groups
		{G: indirectGeom(2, 5, 40, 1, 3, 0, 1, 0, 1), N: 3, Groups: 1, OutC: 13},  // OutW 40: a full and a partial block
		{G: indirectGeom(1, 3, 1, 1, 1, 0, 0, 0, 0), N: 130, Groups: 1, OutC: 1},  // 1×1, one column, K = 1
		{G: indirectGeom(4, 6, 35, 2, 4, 1, 2, 0, 0), N: 5, Groups: 1, OutC: 12},  // OutW 34: a block of 2 columns
	}
	for _, cv := range cases {
		require.True(t, cv.directFits(), "%+v", cv)
		require.Greater(t, (cv.N+cv.chunkImages()-1)/cv.chunkImages(), 1, "%+v: one chunk runs the GEMM instead", cv)
		x, w, bias := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.Groups*cv.OutC)
		x[rng.IntN(len(x))] = float32(math.NaN())
		x[rng.IntN(len(x))] = float32(math.Inf(1))
		w[rng.IntN(len(w))] = float32(math.Inf(-1)) // Inf times a padding zero is NaN on both paths
		pg := PoolGeom{Planes: cv.Groups * cv.OutC, H: cv.G.OutH, W: cv.G.OutW, KH: 1, KW: 2, StrideH: 1, StrideW: 2,
			OutH: cv.G.OutH, OutW: cv.G.OutW / 2}
		pooled := cv.N * pg.Planes * pg.OutH * pg.OutW
		run := func(direct bool) (y, yb, py []float32, arg []int32) {
			useDirect = direct
			y, yb = make([]float32, cv.N*cv.outLen()), make([]float32, cv.N*cv.outLen())
			ConvForward(cv, x, w, nil, y)
			ConvForward(cv, x, w, bias, yb)
			py, arg = make([]float32, pooled), make([]int32, pooled)
			ConvReLUMaxPool(cv, pg, x, w, bias, py, arg)
			return y, yb, py, arg
		}
		wy, wyb, wpy, warg := run(false)
		gy, gyb, gpy, garg := run(true)
		name := fmt.Sprintf("%+v", cv)
		requireBits(t, wy, gy, name+" y")
		requireBits(t, wyb, gyb, name+" y with bias")
		requireBits(t, wpy, gpy, name+" fused y")
		require.Equal(t, warg, garg, name+" winners")
	}
}

// TestConvDirectWeightGrad checks the weight gradient through
// directWeightGrad (short reductions, up to 6 channels, AVX-512), plain and fused with ReLU and
// pooling, against the float64 reference and the im2col path's, NaN and
// infinities included; the other gradients do not take it and stay bitwise
// the im2col path's.
func TestConvDirectWeightGrad(t *testing.T) {
	if !useAVX512 {
		t.Skip("directWeightGrad needs AVX-512")
	}
	defer func() { useDirect = true }()
	rng := rand.New(rand.NewPCG(15, 16))
	cases := []Conv{
		{G: indirectGeom(1, 28, 28, 3, 3, 1, 1, 1, 1), N: 7, Groups: 1, OutC: 6}, // LeNet's first layer
		{G: indirectGeom(1, 28, 28, 5, 5, 2, 2, 2, 2), N: 3, Groups: 1, OutC: 6}, // K = 25 (taps padded to 27)
		{G: indirectGeom(3, 9, 7, 3, 3, 1, 0, 0, 1), N: 9, Groups: 2, OutC: 5},   // K = 27, OutW 6, groups
		{G: indirectGeom(2, 5, 40, 1, 3, 0, 1, 0, 1), N: 3, Groups: 1, OutC: 4},  // K = 6, OutW 40: a full and a partial block
		{G: indirectGeom(1, 3, 1, 1, 1, 0, 0, 0, 0), N: 130, Groups: 1, OutC: 1}, // K = 1
		{G: indirectGeom(7, 6, 32, 1, 1, 0, 0, 0, 0), N: 5, Groups: 1, OutC: 5},  // K = 7 (taps padded to 9), OutW 32
	}
	cnn1 := Conv{G: indirectGeom(1, 28, 28, 5, 5, 2, 2, 2, 2), N: 3, Groups: 1, OutC: 20}
	require.False(t, cnn1.directWeightGradFits(), "20 channels: im2col and GemmNT")
	for _, cv := range cases {
		require.True(t, cv.directWeightGradFits(), "%+v", cv)
		x, w, dy := randSlice(rng, cv.N*cv.inLen()), randSlice(rng, cv.wLen()), randSlice(rng, cv.N*cv.outLen())
		pg := PoolGeom{Planes: cv.Groups * cv.OutC, H: cv.G.OutH, W: cv.G.OutW, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			OutH: cv.G.OutH, OutW: cv.G.OutW}
		pooled := cv.N * pg.Planes * pg.OutH * pg.OutW
		py, arg := make([]float32, pooled), make([]int32, pooled)
		ConvReLUMaxPool(cv, pg, x, w, nil, py, arg)
		pdy := randSlice(rng, pooled)
		run := func(direct bool) (dx, dw, db, pdw, pdb []float32) {
			useDirect = direct
			dx, dw, db = make([]float32, len(x)), make([]float32, len(w)), make([]float32, cv.Groups*cv.OutC)
			ConvBackward(cv, x, w, dy, dx, dw, db)
			pdw, pdb = make([]float32, len(w)), make([]float32, cv.Groups*cv.OutC)
			ConvReLUMaxPoolBackward(cv, pg, x, w, py, arg, pdy, nil, pdw, pdb)
			return dx, dw, db, pdw, pdb
		}
		wdx, wdw, wdb, wpdw, wpdb := run(false)
		gdx, gdw, gdb, gpdw, gpdb := run(true)
		name := fmt.Sprintf("%+v", cv)
		requireBits(t, wdx, gdx, name+" dx")
		requireBits(t, wdb, gdb, name+" db")
		requireBits(t, wpdb, gpdb, name+" fused db")
		_, refDw, _ := convBackwardRef(cv, x, w, dy)
		tol := 1e-5 * float64(cv.N*cv.p()+1)
		requireNear64(t, refDw, gdw, tol, name+" dw")
		requireNear64(t, refDw, wdw, tol, name+" dw, im2col")
		im2colPdw := make([]float64, len(wpdw))
		for i, v := range wpdw {
			im2colPdw[i] = float64(v)
		}
		requireNear64(t, im2colPdw, gpdw, tol, name+" fused dw")
		// Non-finite inputs: the same NaN and infinities as the im2col path.
		x[rng.IntN(len(x))] = float32(math.NaN())
		dy[rng.IntN(len(dy))] = float32(math.Inf(1))
		_, wdw, _, _, _ = run(false)
		_, gdw, _, _, _ = run(true)
		for i := range wdw {
			w, g := float64(wdw[i]), float64(gdw[i])
			if math.IsNaN(w) || math.IsInf(w, 0) || math.IsNaN(g) || math.IsInf(g, 0) {
				require.Equal(t, math.IsNaN(w), math.IsNaN(g), "%s non-finite dw %d: %v, im2col %v", name, i, g, w)
				if !math.IsNaN(w) {
					require.Equal(t, w, g, "%s non-finite dw %d", name, i)
				}
			}
		}
	}
}
