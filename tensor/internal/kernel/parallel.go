package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ParallelFor splits [0,n) into chunks of grain items (the last may be
// shorter) and calls fn(lo, hi) for each, using at most runtime.GOMAXPROCS(0)
// goroutines, the caller's included. It runs inline when there is a single
// chunk or GOMAXPROCS is 1. Chunk boundaries depend only on n and grain, so
// a caller that reduces per chunk gets the same result whatever the thread
// count. It returns when all chunks are done; fn must be safe to call
// concurrently on different chunks. Calls may nest. It panics if grain < 1;
// n <= 0 does nothing.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		panic("kernel: ParallelFor: grain < 1")
	}
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	helpers := min(runtime.GOMAXPROCS(0), chunks) - 1
	if helpers <= 0 {
		for lo := 0; lo < n; lo += grain {
			fn(lo, min(lo+grain, n))
		}
		return
	}
	j := &pfJob{fn: fn, n: n, grain: grain, chunks: chunks}
	j.wg.Add(chunks)
	workers.offer(j, helpers)
	j.run()
	j.wg.Wait()
}

// pfJob is one ParallelFor call. Goroutines, the caller included, pull chunk
// indices from next; which goroutine runs a chunk does not matter because
// the chunks are fixed. The caller waits for chunks, not for goroutines: a
// helper that starts late finds nothing left and returns at once.
type pfJob struct {
	fn               func(lo, hi int)
	n, grain, chunks int
	next             atomic.Int64
	wg               sync.WaitGroup
}

func (j *pfJob) run() {
	for {
		ch := int(j.next.Add(1) - 1)
		if ch >= j.chunks {
			return
		}
		lo := ch * j.grain
		j.fn(lo, min(lo+j.grain, j.n))
		j.wg.Done()
	}
}

// spinFor is how long an idle helper keeps polling for work before it
// blocks. Waking a blocked thread costs tens of microseconds on a virtual
// machine whose idle CPU has halted (measured: two 22 µs chunks took as long
// in parallel as in series), so during a run of kernels the helpers stay
// awake between calls, as OpenMP's and PyTorch's thread pools do. They yield
// while polling, so other goroutines still get the CPU.
const spinFor = 200 * time.Microsecond

// workers is the process-wide pool of helper goroutines, grown on demand up
// to GOMAXPROCS-1.
var workers pool

type pool struct {
	mu      sync.Mutex
	started int
	tickets chan *pfJob
}

// offer hands j to up to helpers helper goroutines, without blocking: if the
// pool is saturated the caller simply does more of the chunks itself.
func (p *pool) offer(j *pfJob, helpers int) {
	p.mu.Lock()
	if p.tickets == nil {
		p.tickets = make(chan *pfJob, 256)
	}
	for p.started < helpers {
		p.started++
		go p.work(p.tickets)
	}
	p.mu.Unlock()
	for range helpers {
		select {
		case p.tickets <- j:
		default:
			return
		}
	}
}

func (p *pool) work(tickets chan *pfJob) {
	for j := range tickets {
		j.run()
		deadline := time.Now().Add(spinFor)
		for {
			select {
			case j = <-tickets:
				j.run()
				deadline = time.Now().Add(spinFor)
				continue
			default:
			}
			if time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
	}
}
