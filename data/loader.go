package data

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
)

// Loader iterates over a Dataset in mini-batches (paddle.io.DataLoader), building the batches
// inline or in worker goroutines that work ahead of the consumer:
//
//	loader := &data.Loader{Dataset: train, BatchSize: 64, Shuffle: true, Workers: 4}
//	for b := range loader.All(ctx) {
//		images, labels := b[0], b[1]
//		...
//	}
//	if err := loader.Err(); err != nil {
//		return err // ctx was cancelled before the epoch ended
//	}
//
// The zero value with only Dataset set works: batches of one sample, in order, built inline.
// Set the fields before the first call to All and do not change them while an iteration runs;
// each call to All reads them once. A Loader must not be copied after first use.
//
// # Determinism
//
// Batch k of an epoch holds the items at positions k*BatchSize.. of the epoch's order, and the
// order is a function of (Seed, epoch) alone (or of the Sampler and the epoch). The batches are
// delivered in that order whatever the number of workers, so Workers 0, 1 and 16 give the same
// batches, provided the Dataset's Get (and any Map function) is deterministic.
//
// A data set with random items (augmentation) stays reproducible by implementing RandomDataset:
// the Loader then calls GetRandom(i, SampleRand(Seed, epoch, i)) instead of Get(i) (or, when
// Collate is nil, a RandomBatcher's GetBatchRandom in preference to GetBatch), so that each item
// draws from a generator of its own, a function of (Seed, epoch, i), never from a global or
// per-worker source. The batches are then bitwise the same for any Workers, and differ from
// epoch to epoch.
//
// The epoch is a counter in the Loader: each call to All uses the current epoch and advances it,
// so successive calls give epochs 0, 1, 2, ... SetEpoch sets the epoch the next call uses, to
// resume a run or to pin the order; Epoch reports it.
//
// # Goroutines and memory
//
// With Workers > 0, All starts Workers goroutines and one that hands them batch numbers. At most
// Prefetch+1 batches are being built or wait to be consumed at any time, so memory is bounded by
// Prefetch (and parallelism by Prefetch+1). When the loop ends, by exhaustion, break, return or
// a panic in its body, or when ctx is cancelled, every goroutine is stopped and joined before
// All's iteration returns (a Get already running is waited for: Get cannot be interrupted).
//
// A panic in a Dataset's Get, a Batcher's GetBatch or in Collate is recovered in the worker and
// re-panicked in the goroutine that ranges over All as a *PanicError holding the original value,
// the sample index and the worker's stack, after the other goroutines were joined.
type Loader struct {
	// Dataset is the data set to read; required.
	Dataset Dataset
	// BatchSize is the number of samples per batch; 0 means 1 (Paddle's default).
	BatchSize int
	// Shuffle visits the items in a new random order each epoch, seeded by (Seed, epoch).
	// It cannot be combined with Sampler.
	Shuffle bool
	// DropLast drops the last batch of an epoch when it has fewer than BatchSize samples;
	// otherwise it is delivered as it is.
	DropLast bool
	// Workers is the number of goroutines that build batches ahead of the consumer; 0 builds
	// each batch inline, in the consumer's goroutine, when the loop asks for it.
	Workers int
	// Prefetch is how many batches may wait, built or being built, beyond the one the consumer
	// waits for; 0 means 2*Workers. It is ignored when Workers is 0.
	Prefetch int
	// Seed seeds the shuffle and, with the epoch and the index, the generator each item of a
	// RandomDataset draws from (see SampleRand).
	Seed uint64
	// Collate builds a batch from its samples; nil means DefaultCollate, or the Dataset's own
	// GetBatchRandom if it is a RandomBatcher, else its GetBatch if it is a Batcher. It must be
	// safe for concurrent use when Workers > 1.
	Collate func([]Sample) Batch
	// Sampler, if set, chooses the indices of each epoch instead of Shuffle and Seed, e.g. a
	// DistributedSampler.
	Sampler Sampler
	// Timeout, if positive, bounds the wait for each batch: when a batch is not built in time (a
	// Get that never returns, say), the iteration ends and Err reports a *TimeoutError. The
	// goroutine stuck in Get cannot be stopped; it is abandoned and exits when Get returns.
	Timeout time.Duration

	mu    sync.Mutex
	epoch int
	err   error
}

// SetEpoch sets the epoch the next call to All uses (and advances from). It panics with an
// *Error if epoch is negative.
func (l *Loader) SetEpoch(epoch int) {
	if epoch < 0 {
		panicf("Loader", "negative epoch %d", epoch)
	}
	l.mu.Lock()
	l.epoch = epoch
	l.mu.Unlock()
}

// Epoch returns the epoch the next call to All will use.
func (l *Loader) Epoch() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epoch
}

// Err returns the error that cut short the latest iteration of a sequence returned by All to end:
// ctx's error if it was cancelled before the last batch was delivered, nil if the epoch ran to
// its end or the loop was left by break or return. Model code checks it after the loop:
//
//	for b := range loader.All(ctx) { ... }
//	if err := loader.Err(); err != nil { return err }
func (l *Loader) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Len returns the number of batches in the next epoch: ceil(m/BatchSize), or floor with DropLast,
// where m is Dataset.Len() (or the length of the Sampler's indices for the next epoch).
// It panics as All does on invalid settings.
func (l *Loader) Len() int {
	l.mu.Lock()
	epoch := l.epoch
	l.mu.Unlock()
	p := l.plan(epoch)
	return p.nb
}

// All returns an iterator over the batches of one epoch, the Loader's current epoch, which it
// advances. Ranging over the returned sequence again repeats that same epoch. The iteration stops
// early, and Err reports ctx's error, when ctx is cancelled.
//
// It panics with an *Error if Dataset is nil, BatchSize, Workers or Prefetch is negative, or
// Shuffle is combined with a Sampler. During the iteration, a panic in Get, GetBatch or Collate
// reaches the caller as a *PanicError (see Loader).
func (l *Loader) All(ctx context.Context) iter.Seq[Batch] {
	l.mu.Lock()
	epoch := l.epoch
	l.mu.Unlock()
	p := l.plan(epoch)
	l.mu.Lock()
	l.epoch = epoch + 1
	l.mu.Unlock()
	return func(yield func(Batch) bool) {
		err := p.run(ctx, yield)
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
	}
}

// plan is one epoch's work, fixed when All is called.
type plan struct {
	ds       Dataset
	collate  func([]Sample) Batch
	seed     uint64 // with epoch, seeds a RandomDataset's per-sample generators
	epoch    int
	indices  []int
	bs       int
	nb       int // number of batches
	workers  int
	prefetch int
	timeout  time.Duration
}

// TimeoutError is the error Loader.Err reports when a batch was not built within the Loader's
// Timeout.
type TimeoutError struct {
	Batch   int   // the batch number within the epoch
	Indices []int // its samples
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("data: Loader: batch %d (samples %v) not built within %v: a Get, GetBatch or Collate is blocked; its goroutine was abandoned",
		e.Batch, e.Indices, e.Timeout)
}

// timeoutError describes batch j's timeout.
func (p *plan) timeoutError(j int) *TimeoutError {
	return &TimeoutError{Batch: j, Indices: p.indices[j*p.bs : min((j+1)*p.bs, len(p.indices))], Timeout: p.timeout}
}

// await waits for a batch's result until ctx ends or, with a timeout, the timer fires.
func (p *plan) await(ctx context.Context, j int, out <-chan result) (result, error) {
	var expired <-chan time.Time
	if p.timeout > 0 {
		timer := time.NewTimer(p.timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case r := <-out:
		return r, nil
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-expired:
		return result{}, p.timeoutError(j)
	}
}

func (l *Loader) plan(epoch int) *plan {
	if l.Dataset == nil {
		panicf("Loader", "nil Dataset")
	}
	if l.BatchSize < 0 {
		panicf("Loader", "negative BatchSize %d", l.BatchSize)
	}
	if l.Workers < 0 {
		panicf("Loader", "negative Workers %d", l.Workers)
	}
	if l.Prefetch < 0 {
		panicf("Loader", "negative Prefetch %d", l.Prefetch)
	}
	if l.Shuffle && l.Sampler != nil {
		panicf("Loader", "Shuffle and Sampler are mutually exclusive")
	}
	if l.Timeout < 0 {
		panicf("Loader", "negative Timeout %v", l.Timeout)
	}
	p := &plan{ds: l.Dataset, collate: l.Collate, seed: l.Seed, epoch: epoch, bs: max(l.BatchSize, 1), workers: l.Workers,
		prefetch: l.Prefetch, timeout: l.Timeout}
	if p.prefetch == 0 {
		p.prefetch = 2 * p.workers
	}
	if l.Sampler != nil {
		p.indices = l.Sampler.Indices(l.Dataset.Len(), epoch)
	} else {
		p.indices = order(l.Dataset.Len(), l.Shuffle, l.Seed, epoch)
	}
	m := len(p.indices)
	if l.DropLast {
		p.nb = m / p.bs
	} else {
		p.nb = (m + p.bs - 1) / p.bs
	}
	return p
}

// build makes batch j, returning a *PanicError instead of panicking.
func (p *plan) build(j int) (b Batch, perr *PanicError) {
	idx := p.indices[j*p.bs : min((j+1)*p.bs, len(p.indices))]
	op, cur := "Get", -1
	defer func() {
		if v := recover(); v != nil {
			if op != "Get" && op != "GetRandom" {
				cur = -1
			}
			b, perr = nil, &PanicError{Value: v, Op: op, Index: cur, Batch: j, Stack: debug.Stack()}
		}
	}()
	if p.collate == nil {
		if rb, ok := p.ds.(RandomBatcher); ok {
			op = "GetBatchRandom"
			rngs := make([]*rand.Rand, len(idx))
			for k, i := range idx {
				rngs[k] = SampleRand(p.seed, p.epoch, i)
			}
			return rb.GetBatchRandom(idx, rngs), nil
		}
		if bd, ok := p.ds.(Batcher); ok {
			op = "GetBatch"
			return bd.GetBatch(idx), nil
		}
	}
	if _, ok := p.ds.(RandomDataset); ok {
		op = "GetRandom"
	}
	samples := make([]Sample, len(idx))
	for k, i := range idx {
		cur = i
		samples[k] = getSample(p.ds, p.seed, p.epoch, i)
	}
	op = "Collate"
	if p.collate == nil {
		return DefaultCollate(samples), nil
	}
	return p.collate(samples), nil
}

// result is a built batch or the panic that prevented it.
type result struct {
	b    Batch
	perr *PanicError
}

type job struct {
	j   int
	out chan<- result
}

// run delivers the plan's batches to yield in order and returns ctx's error if ctx ended the
// iteration early.
func (p *plan) run(ctx context.Context, yield func(Batch) bool) error {
	if p.workers == 0 {
		for j := range p.nb {
			if err := ctx.Err(); err != nil {
				return err
			}
			var r result
			if p.timeout > 0 { // build on a goroutine that can be abandoned
				out := make(chan result, 1)
				go p.work(job{j, out})
				var err error
				if r, err = p.await(ctx, j, out); err != nil {
					return err
				}
			} else {
				r.b, r.perr = p.build(j)
			}
			if r.perr != nil {
				panic(r.perr)
			}
			if !yield(r.b) {
				return nil
			}
		}
		return nil
	}

	ictx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	abandon := false // a worker is stuck past the timeout: do not wait for it
	defer func() {
		cancel()
		if !abandon {
			wg.Wait()
		}
	}()
	jobs := make(chan job)
	// pending holds the result channel of every batch handed out, in batch order; its capacity
	// bounds the batches in flight.
	pending := make(chan chan result, p.prefetch)
	wg.Go(func() {
		defer close(pending)
		defer close(jobs)
		for j := range p.nb {
			out := make(chan result, 1)
			select {
			case pending <- out:
			case <-ictx.Done():
				return
			}
			select {
			case jobs <- job{j, out}:
			case <-ictx.Done():
				return
			}
		}
	})
	for range p.workers {
		wg.Go(func() {
			for {
				select {
				case jb, ok := <-jobs:
					if !ok {
						return
					}
					p.work(jb)
				case <-ictx.Done():
					return
				}
			}
		})
	}

	delivered := 0
	for {
		if delivered == p.nb { // as the inline path: a cancellation after the last batch is no error
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var out chan result
		select {
		case o, ok := <-pending:
			if !ok {
				if delivered < p.nb {
					return ctx.Err()
				}
				return nil
			}
			out = o
		case <-ctx.Done():
			return ctx.Err()
		}
		r, err := p.await(ctx, delivered, out)
		if err != nil {
			var te *TimeoutError
			abandon = errors.As(err, &te)
			return err
		}
		if r.perr != nil {
			panic(r.perr) // the deferred cancel and Wait run first
		}
		delivered++
		if !yield(r.b) {
			return nil
		}
	}
}

// work builds one batch and always sends a result, even if the build calls runtime.Goexit.
func (p *plan) work(jb job) {
	sent := false
	defer func() {
		if !sent {
			jb.out <- result{perr: &PanicError{Value: errGoexit, Op: "Get", Index: -1, Batch: jb.j, Stack: debug.Stack()}}
		}
	}()
	b, perr := p.build(jb.j)
	jb.out <- result{b, perr}
	sent = true
}
