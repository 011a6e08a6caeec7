package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParallelFor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {7, 3}, {100, 7}, {64, 64}, {65, 64}, {1000, 1}} {
			hits := make([]int32, c.n)
			var mu sync.Mutex
			var chunks [][2]int
			ParallelFor(c.n, c.grain, func(lo, hi int) {
				mu.Lock()
				chunks = append(chunks, [2]int{lo, hi})
				mu.Unlock()
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				require.Equal(t, int32(1), h, "n=%d grain=%d index %d", c.n, c.grain, i)
			}
			// Chunks are [j*grain, min((j+1)*grain, n)), whatever GOMAXPROCS.
			require.Len(t, chunks, (c.n+c.grain-1)/c.grain)
			for _, ch := range chunks {
				require.Zero(t, ch[0]%c.grain)
				require.Equal(t, min(ch[0]+c.grain, c.n), ch[1])
			}
		}
	}
	require.Panics(t, func() { ParallelFor(10, 0, func(lo, hi int) {}) })
}

// TestSetMaxThreads checks that a cap of 1 runs every chunk on the caller, one at a time and in
// order, whatever GOMAXPROCS, and that the cap changes no result.
func TestSetMaxThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetMaxThreads(SetMaxThreads(0))
	require.Equal(t, 4, Threads())
	m, n, k := 200, 300, 250 // big enough that Gemm splits it over goroutines
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%13) - 6.5
	}
	for i := range b {
		b[i] = float32(i%7)*0.25 - 0.5
	}
	want := make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)

	require.Equal(t, 0, SetMaxThreads(1))
	require.Equal(t, 1, Threads())
	var inFlight, most atomic.Int32
	var order []int
	ParallelFor(64, 1, func(lo, hi int) {
		most.Store(max(most.Load(), inFlight.Add(1)))
		order = append(order, lo) // no lock: the cap must keep this to one goroutine
		for t0 := time.Now(); time.Since(t0) < 20*time.Microsecond; {
		}
		inFlight.Add(-1)
	})
	require.Equal(t, int32(1), most.Load())
	require.Len(t, order, 64)
	for i, lo := range order {
		require.Equal(t, i, lo)
	}
	got := make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, got, n)
	require.Equal(t, want, got)

	require.Equal(t, 1, SetMaxThreads(8))
	require.Equal(t, 4, Threads()) // a cap above GOMAXPROCS leaves GOMAXPROCS
	require.Equal(t, 8, SetMaxThreads(-3))
	require.Equal(t, 4, Threads())
}

func TestParallelForNested(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var total atomic.Int64
	ParallelFor(16, 1, func(lo, hi int) {
		ParallelFor(100, 10, func(lo, hi int) {
			total.Add(int64(hi - lo))
		})
	})
	require.Equal(t, int64(1600), total.Load())
}

func TestGemmAlphaZero(t *testing.T) {
	// alpha == 0 must not read A or B: NaNs there do not reach C.
	a := []float32{nan32, nan32, nan32, nan32}
	c := []float32{1, 2, 3, 4}
	Gemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 2, c, 2)
	require.Equal(t, []float32{2, 4, 6, 8}, c)
	c = []float32{nan32, nan32, nan32, nan32}
	Gemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 0, c, 2)
	require.Equal(t, []float32{0, 0, 0, 0}, c)
}

// TestParallelForTooManyChunks checks the documented panic when the chunk
// indices would not fit the job's 32-bit counters.
func TestParallelForTooManyChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	serialUntil.Store(0) // not in the serial spell a stall in an earlier test may have started
	defer func() {
		if recover() == nil {
			t.Error("ParallelFor with 2^32 chunks did not panic")
		}
	}()
	ParallelFor(1<<32, 1, func(lo, hi int) { t.Fatal("a chunk ran") })
}
