package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// requireClose checks |got-want| <= tol*(1+|want|) elementwise.
func requireClose(t *testing.T, want, got []float32, tol float64, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if math.IsNaN(w) || math.IsNaN(g) || math.Abs(w-g) > tol*(1+math.Abs(w)) {
			require.Failf(t, "mismatch", "%s: element %d: want %v, got %v", msg, i, w, g)
		}
	}
}

// withKernel runs f once per micro-kernel available on this machine and
// way of reading B (packed, or in place where the stride allows).
func withKernel(t *testing.T, f func(t *testing.T)) {
	for _, k := range kernels {
		for _, bm := range []struct {
			name string
			maxM int
		}{{"packedB", -1}, {"inPlaceB", 1 << 30}} {
			t.Run(k.name+"/"+bm.name, func(t *testing.T) {
				gemmKernelOverride, inPlaceBMaxM = k.fn, bm.maxM
				defer func(m int) { gemmKernelOverride, inPlaceBMaxM = nil, m }(inPlaceBMaxM)
				f(t)
			})
		}
	}
}

type gemmCase struct {
	tA, tB           bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
}

func (tc gemmCase) run(t *testing.T, rng *rand.Rand, gemmFn func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.tA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	a := randSlice(rng, max(ar*lda, 1))
	b := randSlice(rng, max(br*ldb, 1))
	c0 := randSlice(rng, max(tc.m*ldc, 1))
	if tc.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want := append([]float32(nil), c0...)
	got := append([]float32(nil), c0...)
	gemmRef(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	gemmFn(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
	// Check only the m×n part; padding columns must be untouched.
	for i := range tc.m {
		requireClose(t, want[i*ldc:i*ldc+tc.n], got[i*ldc:i*ldc+tc.n], 1e-5*float64(tc.k+1), fmt.Sprintf("%+v row %d", tc, i))
		if tc.padC > 0 && i < tc.m-1 {
			for j := tc.n; j < ldc; j++ {
				require.True(t, math.Float32bits(c0[i*ldc+j]) == math.Float32bits(got[i*ldc+j]), "%+v: padding of C written", tc)
			}
		}
	}
}

func TestGemm(t *testing.T) {
	sizes := []int{1, 3, 7, 17, 33, 65, 129}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, m := range sizes {
					for _, n := range sizes {
						k := sizes[(m+n)%len(sizes)]
						tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: 1, beta: 0}
						tc.run(t, rng, Gemm)
					}
				}
			}
		}
	})
}

func TestGemmVariants(t *testing.T) {
	cases := []gemmCase{
		{m: 7, n: 17, k: 33, alpha: 1, beta: 1},
		{m: 7, n: 17, k: 33, alpha: -0.5, beta: 2},
		{m: 13, n: 35, k: 300, alpha: 1.5, beta: 0}, // k spans two kc blocks
		{m: 13, n: 35, k: 600, alpha: 0.5, beta: -1, tA: true, tB: true},
		{m: 65, n: 33, k: 17, alpha: 1, beta: 0.5, padA: 3, padB: 5, padC: 7},
		{m: 65, n: 33, k: 17, alpha: 1, beta: 0, padA: 1, padB: 2, padC: 3, tA: true},
		{m: 129, n: 65, k: 7, alpha: 2, beta: 1, padA: 9, padB: 1, padC: 4, tB: true},
		{m: 200, n: 3100, k: 5, alpha: 1, beta: 0, padC: 1}, // several mc blocks, two nc blocks
		{m: 5, n: 9, k: 0, alpha: 1, beta: 0},
		{m: 5, n: 9, k: 0, alpha: 1, beta: 3},
		{m: 5, n: 9, k: 4, alpha: 0, beta: 0.5},
		{m: 0, n: 9, k: 4, alpha: 1, beta: 0},
		{m: 9, n: 0, k: 4, alpha: 1, beta: 0},
	}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tc := range cases {
			tc.run(t, rng, Gemm)
			tc.run(t, rng, GemmSerial)
			tc.run(t, rng, gemmThreads(3)) // the parallel path, whatever the size
		}
	})
}

// gemmThreads is Gemm forced onto the parallel path with the given number
// of threads.
func gemmThreads(threads int) func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int) {
	return func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		gemm(threads, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// TestGemmParallelSplits checks that every way of splitting the work gives
// bit for bit the serial result, across shapes that take each path: row
// blocks only, row blocks and column groups with shared A, in-place and
// packed B, several column and k blocks.
func TestGemmParallelSplits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	shapes := [][3]int{{1, 1, 1}, {7, 33, 17}, {16, 100, 150}, {6, 784, 25}, {65, 129, 300},
		{300, 17, 129}, {129, 3100, 7}, {700, 65, 600}, {1300, 20, 33}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tB := range []bool{false, true} {
			a, b := randSlice(rng, m*k), randSlice(rng, k*n)
			c0 := randSlice(rng, m*n)
			ldb := n
			if tB {
				ldb = k
			}
			want := clone(c0)
			gemm(1, false, tB, m, n, k, 1.5, a, k, b, ldb, 0.5, want, n)
			for _, threads := range []int{2, 3, 4, 7} {
				got := clone(c0)
				gemm(threads, false, tB, m, n, k, 1.5, a, k, b, ldb, 0.5, got, n)
				require.Equal(t, want, got, "shape %v tB %v threads %d", s, tB, threads)
			}
		}
	}
}

// TestGemmDeterministic checks that Gemm's result does not depend on
// GOMAXPROCS and equals GemmSerial's, bit for bit.
func TestGemmDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	shapes := [][3]int{{129, 65, 300}, {7, 1000, 65}, {300, 17, 129}, {256, 256, 256}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		c0 := randSlice(rng, m*n)
		run := func(procs int, serial bool) []float32 {
			runtime.GOMAXPROCS(procs)
			c := append([]float32(nil), c0...)
			if serial {
				GemmSerial(false, true, m, n, k, 0.7, a, k, b, k, 0.3, c, n)
			} else {
				Gemm(false, true, m, n, k, 0.7, a, k, b, k, 0.3, c, n)
			}
			return c
		}
		want := run(1, false)
		for _, procs := range []int{2, 3, 4} {
			require.Equal(t, want, run(procs, false), "shape %v GOMAXPROCS %d", s, procs)
		}
		require.Equal(t, want, run(4, true), "shape %v GemmSerial", s)
	}
}

func TestGemmPanics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 6), make([]float32, 4)
	require.NotPanics(t, func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) })
	require.Panics(t, func() { Gemm(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) })
	require.Panics(t, func() { Gemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) })
	require.Panics(t, func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b[:5], 2, 0, c, 2) })
	require.Panics(t, func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) })
	require.Panics(t, func() { Gemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) })
}

// TestGemmPacked checks that multiplying by a prepacked A gives bitwise
// Gemm's result, serial and split over goroutines, in every kernel and way
// of reading B.
func TestGemmPacked(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {6, 784, 9}, {16, 400, 150}, {150, 400, 16}, {20, 196, 500},
		{13, 35, 600}, {300, 17, 129}, {200, 3100, 5}, {150, 700, 300}}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					lda, ldb := k, n
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					a, b := randSlice(rng, m*k), randSlice(rng, k*n)
					c0 := randSlice(rng, m*n)
					want := clone(c0)
					GemmSerial(tA, tB, m, n, k, 0.75, a, lda, b, ldb, 0.5, want, n)
					p := PackA(tA, m, k, 0.75, a, lda)
					for _, threads := range []int{1, 2, 3} {
						got := clone(c0)
						GemmPacked(threads, &p, tB, n, b, ldb, 0.5, got, n)
						require.Equal(t, want, got, "shape %v tA %v tB %v threads %d", s, tA, tB, threads)
					}
					p.Release()
				}
			}
		}
	})
}

func TestGemmNT(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range [][3]int{{1, 1, 1}, {3, 4, 8}, {6, 9, 784}, {16, 150, 400}, {7, 11, 13}, {5, 6, 3}, {2, 2, 0}, {20, 500, 196}} {
		m, n, k := s[0], s[1], s[2]
		for _, beta := range []float32{0, 0.5} {
			lda, ldb, ldc := k+3, k+1, n+2
			a, b := randSlice(rng, max(m*lda, 1)), randSlice(rng, max(n*ldb, 1))
			c0 := randSlice(rng, m*ldc)
			if beta == 0 {
				for i := range c0 {
					c0[i] = float32(math.NaN())
				}
			}
			want, got := clone(c0), clone(c0)
			gemmRef(false, true, m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
			GemmNT(m, n, k, a, lda, b, ldb, beta, got, ldc)
			for i := range m {
				requireClose(t, want[i*ldc:i*ldc+n], got[i*ldc:i*ldc+n], 1e-5*float64(k+1), fmt.Sprint(s))
				for j := n; j < ldc && i < m-1; j++ {
					require.Equal(t, math.Float32bits(c0[i*ldc+j]), math.Float32bits(got[i*ldc+j]), "padding written")
				}
			}
		}
	}
}

// TestGemmRowVariants checks that the kernels for short panels give bitwise
// the results of the 6-row kernel, whose extra rows they skip.
func TestGemmRowVariants(t *testing.T) {
	if len(kernels) < 3 {
		t.Skip("no assembly kernels")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, s := range [][3]int{{1, 16, 7}, {2, 40, 300}, {3, 17, 5}, {4, 33, 150}, {5, 100, 64}, {16, 100, 150}, {20, 196, 500}, {64, 120, 400}, {500, 196, 20}, {150, 400, 16}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		c0 := randSlice(rng, m*n)
		run := func(kern microKernelFunc, beta float32) []float32 {
			gemmKernelOverride = kern
			defer func() { gemmKernelOverride = nil }()
			c := clone(c0)
			GemmSerial(false, false, m, n, k, 1.25, a, k, b, n, beta, c, n)
			return c
		}
		for _, beta := range []float32{0, 0.5} {
			want := run(gemmKernel6x16Only, beta)
			require.Equal(t, want, run(gemmKernelAVX2, beta), "shape %v beta %v", s, beta)
			require.Equal(t, want, run(nil, beta), "shape %v beta %v, panels kernel", s, beta) // the default, with gemmPanels6x16
		}
	}
}

// TestGemmThin checks that a C narrower than a tile, computed as its
// transpose (gemmThin), is bitwise the direct computation, for every
// transposition, beta and a k longer than one kc block.
func TestGemmThin(t *testing.T) {
	defer func() { transposeThin = true }()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, m := range []int{32, 45, 100} {
		for _, n := range []int{1, 10, 15} {
			for _, k := range []int{1, 37, 300} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, beta := range []float32{0, 1, 0.5} {
						ar, ac := m, k
						if tr[0] {
							ar, ac = k, m
						}
						br, bc := k, n
						if tr[1] {
							br, bc = n, k
						}
						a, b := randSlice(rng, ar*(ac+1)), randSlice(rng, br*(bc+2))
						c0 := randSlice(rng, m*(n+3))
						run := func(thin bool) []float32 {
							transposeThin = thin
							c := clone(c0)
							Gemm(tr[0], tr[1], m, n, k, 1.5, a, ac+1, b, bc+2, beta, c, n+3)
							return c
						}
						requireBits(t, run(false), run(true), fmt.Sprintf("m=%d n=%d k=%d trans=%v beta=%v", m, n, k, tr, beta))
					}
				}
			}
		}
	}
}

// TestGemmSplit checks that gemmSplit's pieces give bit for bit the serial
// result, for splits along rows and columns, ragged edges and transposed
// operands.
func TestGemmSplit(t *testing.T) {
	shapes := [][3]int{{64, 120, 400}, {64, 400, 120}, {400, 120, 64}, {64, 84, 120}, {7, 33, 17}, {100, 10, 980}, {13, 5, 300}}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			a, b, c0 := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, m*n)
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			want := clone(c0)
			GemmSerial(tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, want, n)
			for _, pieces := range []int{2, 3, 4} {
				got := clone(c0)
				gemmSplit(pieces, tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, got, n)
				require.Equal(t, want, got, "shape %v trans %v pieces %d", s, tr, pieces)
			}
		}
	}
}
