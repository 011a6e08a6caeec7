package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelFor splits [0,n) into chunks of grain items (the last may be
// shorter) and calls fn(lo, hi) for each, using at most runtime.GOMAXPROCS(0)
// goroutines. It runs inline when there is a single chunk or GOMAXPROCS is 1.
// Chunk boundaries depend only on n and grain, so a caller that reduces per
// chunk gets the same result whatever the thread count. It returns when all
// chunks are done. It panics if grain < 1; n <= 0 does nothing.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		panic("kernel: ParallelFor: grain < 1")
	}
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for lo := 0; lo < n; lo += grain {
			fn(lo, min(lo+grain, n))
		}
		return
	}
	// Workers pull chunk indices from a shared counter; which goroutine runs
	// a chunk does not matter because chunks are fixed.
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		for {
			ch := int(next.Add(1) - 1)
			if ch >= chunks {
				return
			}
			lo := ch * grain
			fn(lo, min(lo+grain, n))
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
}
