package kernel

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ParallelFor splits [0,n) into chunks of grain items (the last may be
// shorter) and calls fn(lo, hi) for each, using at most Threads()
// goroutines, the caller's included. It runs inline when there is a single
// chunk or Threads() is 1. Chunk boundaries depend only on n and grain, so
// a caller that reduces per chunk gets the same result whatever the thread
// count. It returns when all chunks are done; fn must be safe to call
// concurrently on different chunks. Calls may nest. It panics if grain < 1,
// or if it would share more than 2^32-1 chunks among goroutines; n <= 0
// does nothing.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		panic("kernel: ParallelFor: grain < 1")
	}
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	helpers := min(Threads(), chunks) - 1
	if helpers <= 0 || contended() {
		for lo := 0; lo < n; lo += grain {
			fn(lo, min(lo+grain, n))
		}
		return
	}
	runJob(newJob(fn, nil, n, grain, chunks), helpers)
}

// maxThreads is SetMaxThreads's cap; 0 means none.
var maxThreads atomic.Int32

// SetMaxThreads caps the goroutines that each kernel call uses, the caller's
// included, at n; n <= 0 removes the cap. It returns the previous cap (0 for
// none). Without a cap a call uses up to runtime.GOMAXPROCS(0). With a cap
// of 1 every kernel runs on its caller's goroutine alone: for programs that
// keep the cores busy with their own goroutines, one model or one batch
// each, where splitting each kernel call again only adds hand-offs. The cap
// never changes a result (see the package doc).
func SetMaxThreads(n int) (previous int) {
	return int(maxThreads.Swap(int32(min(max(n, 0), math.MaxInt32))))
}

// Threads returns how many goroutines a kernel call may use:
// runtime.GOMAXPROCS(0), or less under SetMaxThreads's cap.
func Threads() int {
	procs := runtime.GOMAXPROCS(0)
	if c := int(maxThreads.Load()); c > 0 && c < procs {
		return c
	}
	return procs
}

// runJob offers j to helpers, runs chunks on the calling goroutine too, and
// waits for all of them.
func runJob(j *pfJob, helpers int) {
	j.wg.Add(j.chunks)
	workers.offer(j, helpers)
	t0 := time.Now()
	mine := j.run(true)
	t1 := time.Now()
	j.await(t1)
	if mine > 0 {
		noteWait(t1.Sub(t0)/time.Duration(mine), time.Since(t1))
	}
	j.release()
}

// waitSpin is how long a caller that ran out of chunks polls for the
// helpers' last ones before it blocks. Blocking parks its thread, and the
// helper's wake-up then costs tens of microseconds on a virtual machine
// whose idle CPU has halted (see spinFor), while the chunk still running
// elsewhere usually ends within a few: with polling, LeNet's training step,
// a dozen parallel calls of 20-200 µs, wastes no wake-ups.
const waitSpin = 100 * time.Microsecond

// await returns when all of j's chunks are done: it polls until waitSpin
// after t1 (yielding, so that other goroutines still get the CPU), then
// blocks.
func (j *pfJob) await(t1 time.Time) {
	for j.left.Load() > 0 {
		if time.Since(t1) > waitSpin {
			break
		}
		runtime.Gosched()
	}
	j.wg.Wait()
}

// When other processes keep the CPUs busy, a helper can be descheduled by
// the operating system in the middle of a chunk, and the caller then waits
// a whole time slice (milliseconds) for it: splitting work makes it slower.
// The caller notices when it waits for the last chunks much longer than a
// chunk takes; when that happens twice within stallRepeat, it runs
// everything itself for serialFor. A single long wait is no sign of other
// processes: a quiet machine shows a few in a LeNet epoch (the garbage
// collector's workers take processors too), and staying serial 200 ms after
// each cost a two-core training step 10-15%. Which goroutine runs a
// chunk never changes a result.
const (
	stallMin    = 500 * time.Microsecond // waits shorter than this are never stalls
	stallRatio  = 4                      // a stall is a wait this many chunk times long
	stallRepeat = 20 * time.Millisecond  // two stalls this close mean a busy machine
	serialFor   = 200 * time.Millisecond // how long to stay serial then
)

// serialUntil is the time (UnixNano) before which ParallelFor runs inline;
// lastStall is the time of the last stall.
var serialUntil, lastStall atomic.Int64

func contended() bool {
	u := serialUntil.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// noteWait records that the caller, after running chunks of chunk time each,
// waited wait for the helpers' last chunks.
func noteWait(chunk, wait time.Duration) {
	if wait > stallMin && wait > stallRatio*chunk {
		now := time.Now().UnixNano()
		if prev := lastStall.Swap(now); now-prev < int64(stallRepeat) {
			serialUntil.Store(now + int64(serialFor))
		}
	}
}

// task is work for parallelTask: run(lo, hi) does the items [lo, hi), and
// must be safe to call concurrently on different chunks.
type task interface{ run(lo, hi int) }

// parallelTask is ParallelFor for a task object instead of a closure: a
// caller that recycles its task objects (see freeList) makes the call
// allocate nothing, where a closure that escapes to the helpers is
// allocated at every call.
func parallelTask(n, grain int, t task) {
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	helpers := min(Threads(), chunks) - 1
	if helpers <= 0 || contended() {
		for lo := 0; lo < n; lo += grain {
			t.run(lo, min(lo+grain, n))
		}
		return
	}
	runJob(newJob(nil, t, n, grain, chunks), helpers)
}

// freeList recycles objects of type T (task objects, scratch structs)
// across calls, so that a steady state allocates none. get returns a
// recycled object or a new zero one; put takes one back (the caller clears
// what must not be kept alive).
type freeList[T any] struct {
	mu   sync.Mutex
	list []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if k := len(f.list); k > 0 {
		t := f.list[k-1]
		f.list[k-1] = nil
		f.list = f.list[:k-1]
		f.mu.Unlock()
		return t
	}
	f.mu.Unlock()
	return new(T)
}

func (f *freeList[T]) put(t *T) {
	f.mu.Lock()
	if len(f.list) < 64 {
		f.list = append(f.list, t)
	}
	f.mu.Unlock()
}

// pfJob is one ParallelFor call. Goroutines, the caller included, claim chunk
// indices from ends; which goroutine runs a chunk does not matter because
// the chunks are fixed. The caller waits for chunks, not for goroutines: a
// helper that starts late finds nothing left and returns at once.
//
// Jobs are recycled: refs counts the caller and every helper handed the
// job, and the last of them to let go puts it back on the free list.
type pfJob struct {
	fn               func(lo, hi int) // or t
	t                task
	n, grain, chunks int
	ends             atomic.Uint64 // the unclaimed chunks [lo, hi): lo in the low 32 bits, hi in the high
	left             atomic.Int64  // chunks not yet done, for await's polling
	wg               sync.WaitGroup
	refs             atomic.Int32
}

var freeJobs struct {
	mu   sync.Mutex
	list []*pfJob
}

func newJob(fn func(lo, hi int), t task, n, grain, chunks int) *pfJob {
	if chunks > math.MaxUint32 {
		panic("kernel: ParallelFor: more than 2^32-1 chunks") // ends holds chunk indices in 32 bits
	}
	var j *pfJob
	freeJobs.mu.Lock()
	if k := len(freeJobs.list); k > 0 {
		j = freeJobs.list[k-1]
		freeJobs.list[k-1] = nil
		freeJobs.list = freeJobs.list[:k-1]
	}
	freeJobs.mu.Unlock()
	if j == nil {
		j = new(pfJob)
	}
	j.fn, j.t, j.n, j.grain, j.chunks = fn, t, n, grain, chunks
	j.ends.Store(uint64(chunks) << 32)
	j.left.Store(int64(chunks))
	j.refs.Store(1)
	return j
}

// claim takes the first unclaimed chunk (front) or the last, or returns -1
// when none is left.
func (j *pfJob) claim(front bool) int {
	for {
		e := j.ends.Load()
		lo, hi := uint32(e), uint32(e>>32)
		if lo >= hi {
			return -1
		}
		next, ch := uint64(hi)<<32|uint64(lo+1), int(lo)
		if !front {
			next, ch = uint64(hi-1)<<32|uint64(lo), int(hi-1)
		}
		if j.ends.CompareAndSwap(e, next) {
			return ch
		}
	}
}

// release drops one reference to j, recycling it after the last.
func (j *pfJob) release() {
	if j.refs.Add(-1) != 0 {
		return
	}
	j.fn, j.t = nil, nil
	freeJobs.mu.Lock()
	if len(freeJobs.list) < 64 {
		freeJobs.list = append(freeJobs.list, j)
	}
	freeJobs.mu.Unlock()
}

// run does chunks until none is left and returns how many it did: the caller
// (front) takes them from the first on, helpers from the last back. Chunks
// are ranges of images in the convolutions, so the caller keeps the first
// images of a batch and a helper the last, layer after layer, and each
// finds the activations it reads in its own core's cache (LeNet's step, with
// chunks taken in one order by both: 24% more time in the chunks on two cores
// than on one).
func (j *pfJob) run(front bool) (done int) {
	for {
		ch := j.claim(front)
		if ch < 0 {
			return done
		}
		done++
		lo := ch * j.grain
		if j.t != nil {
			j.t.run(lo, min(lo+j.grain, j.n))
		} else {
			j.fn(lo, min(lo+j.grain, j.n))
		}
		j.left.Add(-1)
		j.wg.Done()
	}
}

// spinFor is how long an idle helper keeps polling for work before it
// blocks. Waking a blocked thread costs tens of microseconds on a virtual
// machine whose idle CPU has halted (measured: two 22 µs chunks took as long
// in parallel as in series), so during a run of kernels the helpers stay
// awake between calls, as OpenMP's and PyTorch's thread pools do. They yield
// while polling, so other goroutines still get the CPU.
//
// Polling only pays when the helper has a CPU of its own. When other
// processes keep the CPUs busy, a polling helper takes time slices from the
// goroutine that issues the work (measured with a CPU-bound process beside
// a LeNet epoch on 2 CPUs: 9,300-10,100 samples/s polling, 10,600-12,000
// not). A helper notices that when the time between two of its polls jumps
// past preemptedGap, a good part of one of the operating system's time
// slices (it ran something else meanwhile): it then blocks at once, and no
// helper polls again for quietFor. Shorter gaps are mostly the Go
// scheduler's doing (it runs another goroutine on the helper's processor
// when the helper yields) and say little about other processes: with a
// 50 µs threshold they stopped the polling many times a second on a quiet
// machine, and the caller then did 70% of LeNet's chunks instead of half.
const spinFor = 200 * time.Microsecond

const (
	preemptedGap = 250 * time.Microsecond
	quietFor     = 50 * time.Millisecond
)

// noSpinUntil is the time (UnixNano) before which helpers do not poll.
var noSpinUntil atomic.Int64

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
		j.refs.Add(1)
		select {
		case p.tickets <- j:
		default:
			j.refs.Add(-1) // the caller still holds its own reference
			return
		}
	}
}

func (p *pool) work(tickets chan *pfJob) {
	for j := range tickets {
		j.run(false)
		j.release()
		now := time.Now()
		if now.UnixNano() < noSpinUntil.Load() {
			continue // block on the channel
		}
		deadline, last := now.Add(spinFor), now
		for {
			select {
			case j = <-tickets:
				j.run(false)
				j.release()
				last = time.Now()
				deadline = last.Add(spinFor)
				continue
			default:
			}
			now := time.Now()
			if now.Sub(last) > preemptedGap {
				noSpinUntil.Store(now.Add(quietFor).UnixNano())
				break
			}
			if now.After(deadline) {
				break
			}
			last = now
			runtime.Gosched()
		}
	}
}
