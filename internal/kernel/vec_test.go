package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

var vecSizes = []int{0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 65, 129, 1000}

func clone(x []float32) []float32 {
	c := make([]float32, len(x))
	copy(c, x)
	return c
}

// TestVecElementwise checks the exported kernels against plain loops, bit
// for bit, including dst aliasing an input.
func TestVecElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type binop struct {
		name string
		fast func(dst, a, b []float32)
		op   func(a, b float32) float32
	}
	ops := []binop{
		{"Add", Add, func(a, b float32) float32 { return a + b }},
		{"Sub", Sub, func(a, b float32) float32 { return a - b }},
		{"Mul", Mul, func(a, b float32) float32 { return a * b }},
		{"Div", Div, func(a, b float32) float32 { return a / b }},
	}
	for _, n := range vecSizes {
		a, b := randSlice(rng, n), randSlice(rng, n)
		for _, o := range ops {
			want := make([]float32, n)
			for i := range want {
				want[i] = o.op(a[i], b[i])
			}
			got := randSlice(rng, n)
			o.fast(got, a, b)
			require.Equal(t, want, got, "%s n=%d", o.name, n)
			got = clone(a)
			o.fast(got, got, b) // dst aliases a
			require.Equal(t, want, got, "%s aliased n=%d", o.name, n)
		}

		want, got := clone(b), clone(b)
		for i := range want {
			want[i] += a[i]
		}
		AddTo(got, a)
		require.Equal(t, want, got, "AddTo n=%d", n)

		want, got = clone(a), clone(a)
		for i := range want {
			want[i] *= 1.3
		}
		Scale(1.3, got)
		require.Equal(t, want, got, "Scale n=%d", n)
	}
}

func TestVecReductions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range vecSizes {
		x, y := randSlice(rng, n), randSlice(rng, n)
		// Float64 accumulation: equal to the in-order float64 sum after
		// rounding to float32, up to a rare last-bit difference.
		require.InDelta(t, sumRef(x), Sum(x), 1e-6*(1+float64(n)), "Sum n=%d", n)
		require.InDelta(t, dotRef(x, y), Dot(x, y), 1e-6*(1+float64(n)), "Dot n=%d", n)
		// Fixed order: the assembly and pure Go agree bit for bit.
		require.Equal(t, float32(sum64Go(x)), Sum(x), "Sum n=%d", n)
		require.Equal(t, float32(dot64Go(x, y)), Dot(x, y), "Dot n=%d", n)
		if n > 0 {
			v, i := Max(x)
			wv, wi := maxRef(x)
			require.Equal(t, wv, v)
			require.Equal(t, wi, i)
		}
	}
	// Cancellation that float32 accumulation would get wrong.
	big := []float32{1e8, 1, -1e8, 1}
	require.Equal(t, float32(2), Sum(big))
}

func TestMax(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		x []float32
		v float32
		i int
	}{
		{[]float32{3}, 3, 0},
		{[]float32{1, 5, 5, 2}, 5, 1},
		{[]float32{-inf, -inf}, -inf, 0},
		{[]float32{1, inf, 2}, inf, 1},
		{[]float32{1, nan32, 9, nan32}, nan32, 1},
		{[]float32{nan32, 9}, nan32, 0},
	} {
		v, i := Max(c.x)
		require.Equal(t, c.i, i, "%v", c.x)
		require.Equal(t, math.Float32bits(c.v), math.Float32bits(v), "%v", c.x)
	}
	require.Panics(t, func() { Max(nil) })
}

func TestVecPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	require.Panics(t, func() { Add(a, a, b) })
	require.Panics(t, func() { Sub(b, a, a) })
	require.Panics(t, func() { Mul(a, b, a) })
	require.Panics(t, func() { Div(a, a, b) })
	require.Panics(t, func() { AddTo(a, b) })
	require.Panics(t, func() { Dot(a, b) })
}

func BenchmarkVec(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		rng := rand.New(rand.NewPCG(1, 2))
		x, y, z := randSlice(rng, n), randSlice(rng, n), make([]float32, n)
		bench := func(name string, f func()) {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					f()
				}
			})
		}
		bench("Add", func() { Add(z, x, y) })
		bench("addGo", func() { addGo(z, x, y) })
		bench("Sum", func() { Sum(x) })
		bench("sumRef", func() { sumRef(x) })
		bench("Dot", func() { Dot(x, y) })
		bench("Max", func() { Max(x) })
	}
}
