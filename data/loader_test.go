package data_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seqDS is a data set whose item i is {x [2] = (i, -i), label [1] = i%10}. Get sleeps a
// pseudo-random time derived from i when jitter is set, so that workers finish out of order.
type seqDS struct {
	n       int
	jitter  time.Duration
	gets    atomic.Int64
	panicAt int
	panicV  any
	exitAt  int
}

func newSeq(n int) *seqDS { return &seqDS{n: n, panicAt: -1, exitAt: -1} }

func (d *seqDS) Len() int { return d.n }

func (d *seqDS) Get(i int) data.Sample {
	d.gets.Add(1)
	if i < 0 || i >= d.n {
		panic(fmt.Sprintf("index %d out of range", i))
	}
	if d.jitter > 0 {
		h := uint64(i)*0x9e3779b97f4a7c15 + 1
		time.Sleep(time.Duration(h>>40) % d.jitter)
	}
	if i == d.panicAt {
		panic(d.panicV)
	}
	if i == d.exitAt {
		runtime.Goexit()
	}
	return data.Sample{
		tensor.New([]float32{float32(i), -float32(i)}, 2),
		tensor.New([]float32{float32(i % 10)}, 1),
	}
}

// ids returns the item ids of a batch of seqDS items.
func ids(b data.Batch) []int {
	var out []int
	d := b[0].Data()
	for k := 0; k < len(d); k += 2 {
		out = append(out, int(d[k]))
	}
	return out
}

func collect(t *testing.T, l *data.Loader) [][]int {
	t.Helper()
	var out [][]int
	for b := range l.All(context.Background()) {
		require.Len(t, b, 2)
		require.Equal(t, []int{b[0].Dim(0), 2}, b[0].Shape())
		require.Equal(t, []int{b[0].Dim(0), 1}, b[1].Shape())
		out = append(out, ids(b))
	}
	require.NoError(t, l.Err())
	return out
}

func TestLoaderSameBatchesForAnyWorkers(t *testing.T) {
	ds := newSeq(103)
	ds.jitter = 300 * time.Microsecond
	ref := collect(t, &data.Loader{Dataset: ds, BatchSize: 10, Shuffle: true, Seed: 7})
	require.Len(t, ref, 11)
	var all []int
	for _, b := range ref {
		all = append(all, b...)
	}
	require.ElementsMatch(t, seqInts(103), all)
	require.NotEqual(t, seqInts(103), all, "shuffled")

	for _, tc := range []struct{ workers, prefetch int }{{1, 0}, {4, 0}, {16, 0}, {4, 1}, {16, 3}} {
		t.Run(fmt.Sprintf("workers=%d/prefetch=%d", tc.workers, tc.prefetch), func(t *testing.T) {
			l := &data.Loader{Dataset: ds, BatchSize: 10, Shuffle: true, Seed: 7, Workers: tc.workers, Prefetch: tc.prefetch}
			require.Equal(t, ref, collect(t, l))
		})
	}
}

func seqInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestLoaderEpochs(t *testing.T) {
	ds := newSeq(50)
	l := &data.Loader{Dataset: ds, BatchSize: 50, Shuffle: true, Seed: 3, Workers: 2}
	require.Equal(t, 0, l.Epoch())
	e0 := collect(t, l)
	require.Equal(t, 1, l.Epoch())
	e1 := collect(t, l)
	require.Equal(t, 2, l.Epoch())
	require.NotEqual(t, e0, e1, "another epoch, another order")

	l.SetEpoch(0)
	require.Equal(t, e0, collect(t, l), "SetEpoch(0) repeats epoch 0")
	require.Equal(t, e1, collect(t, l))

	// Another Loader with the same seed gives the same epochs; ranging one sequence twice
	// repeats its epoch.
	l2 := &data.Loader{Dataset: ds, BatchSize: 50, Shuffle: true, Seed: 3}
	seq := l2.All(context.Background())
	for range 2 {
		var got [][]int
		for b := range seq {
			got = append(got, ids(b))
		}
		require.Equal(t, e0, got)
	}
	require.Equal(t, e1, collect(t, l2))

	other := collect(t, &data.Loader{Dataset: ds, BatchSize: 50, Shuffle: true, Seed: 4})
	require.NotEqual(t, e0, other, "another seed, another order")

	// Without Shuffle every epoch is 0..n-1.
	plain := &data.Loader{Dataset: ds, BatchSize: 50}
	require.Equal(t, [][]int{seqInts(50)}, collect(t, plain))
	require.Equal(t, [][]int{seqInts(50)}, collect(t, plain))
}

func TestLoaderBatchSizes(t *testing.T) {
	for _, tc := range []struct {
		n, bs    int
		dropLast bool
		want     []int // batch sizes
	}{
		{10, 3, false, []int{3, 3, 3, 1}},
		{10, 3, true, []int{3, 3, 3}},
		{9, 3, false, []int{3, 3, 3}},
		{9, 3, true, []int{3, 3, 3}},
		{2, 5, false, []int{2}},
		{2, 5, true, nil},
		{3, 0, false, []int{1, 1, 1}}, // BatchSize 0 means 1
		{0, 4, false, nil},
	} {
		for _, workers := range []int{0, 3} {
			t.Run(fmt.Sprintf("n=%d/bs=%d/drop=%v/workers=%d", tc.n, tc.bs, tc.dropLast, workers), func(t *testing.T) {
				l := &data.Loader{Dataset: newSeq(tc.n), BatchSize: tc.bs, DropLast: tc.dropLast, Workers: workers}
				require.Equal(t, len(tc.want), l.Len())
				var sizes []int
				next := 0
				for _, b := range collect(t, l) {
					sizes = append(sizes, len(b))
					require.Equal(t, seqInts(next + len(b))[next:], b, "in order, the last batch holds the tail")
					next += len(b)
				}
				require.Equal(t, tc.want, sizes)
			})
		}
	}
}

func TestLoaderBreakJoinsGoroutines(t *testing.T) {
	for _, workers := range []int{0, 1, 4, 16} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			ds := newSeq(1000)
			ds.jitter = time.Millisecond
			l := &data.Loader{Dataset: ds, BatchSize: 4, Workers: workers}
			k := 0
			for range l.All(context.Background()) {
				if k++; k == 2 {
					break
				}
			}
			require.Equal(t, 2, k)
			require.NoError(t, l.Err())
			// Fewer items than the whole epoch were read: the workers stopped.
			require.Less(t, ds.gets.Load(), int64(200))
		})
	}
}

func TestLoaderPanicInBodyJoinsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := &data.Loader{Dataset: newSeq(100), BatchSize: 2, Workers: 4}
	require.PanicsWithValue(t, "body", func() {
		for range l.All(context.Background()) {
			panic("body")
		}
	})
}

func TestLoaderCancel(t *testing.T) {
	for _, workers := range []int{0, 1, 4, 16} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			ds := newSeq(1000)
			ds.jitter = 500 * time.Microsecond
			l := &data.Loader{Dataset: ds, BatchSize: 4, Workers: workers}

			// Cancelled in the loop body: no batch after it.
			ctx, cancel := context.WithCancel(context.Background())
			k := 0
			for range l.All(ctx) {
				if k++; k == 3 {
					cancel()
				}
			}
			require.Equal(t, 3, k)
			require.ErrorIs(t, l.Err(), context.Canceled)

			// Cancelled by a deadline while the consumer waits for a batch.
			ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			slow := newSeq(1000)
			slow.jitter = 5 * time.Millisecond
			ls := &data.Loader{Dataset: slow, BatchSize: 8, Workers: workers}
			start := time.Now()
			n := 0
			for range ls.All(ctx) {
				n++
			}
			require.Less(t, n, 125)
			require.ErrorIs(t, ls.Err(), context.DeadlineExceeded)
			require.Less(t, time.Since(start), 5*time.Second)

			// A cancelled context gives no batch; the next full epoch clears Err.
			n = 0
			for range l.All(ctx) {
				n++
			}
			require.Zero(t, n)
			require.Error(t, l.Err())
			require.Len(t, collect(t, &data.Loader{Dataset: newSeq(8), BatchSize: 4, Workers: workers}), 2)
			l2 := &data.Loader{Dataset: newSeq(8), Workers: workers}
			for range l2.All(ctx) {
			}
			require.Error(t, l2.Err())
			collect(t, l2)
			require.NoError(t, l2.Err())
		})
	}
}

var errBoom = errors.New("boom")

func recoverPanic(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestLoaderWorkerPanicSurfaces(t *testing.T) {
	for _, workers := range []int{0, 1, 4, 16} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			defer goleak.VerifyNone(t)

			// A panic in Get: original value and sample index.
			ds := newSeq(200)
			ds.panicAt, ds.panicV = 137, errBoom
			l := &data.Loader{Dataset: ds, BatchSize: 10, Workers: workers}
			var got int
			v := recoverPanic(func() {
				for range l.All(context.Background()) {
					got++
				}
			})
			var pe *data.PanicError
			require.ErrorAs(t, v.(error), &pe)
			require.Equal(t, errBoom, pe.Value)
			require.Equal(t, "Get", pe.Op)
			require.Equal(t, 137, pe.Index)
			require.Equal(t, 13, pe.Batch)
			require.Equal(t, 13, got, "the batches before it were delivered")
			require.ErrorIs(t, pe, errBoom)
			require.Contains(t, pe.Error(), "Get(137) of batch 13 panicked: boom")
			require.Contains(t, string(pe.Stack), "seqDS")

			// A panic in Collate.
			lc := &data.Loader{Dataset: newSeq(50), BatchSize: 10, Workers: workers, Collate: func(s []data.Sample) data.Batch {
				if s[0][0].Data()[0] == 20 {
					panic("bad batch")
				}
				return data.DefaultCollate(s)
			}}
			v = recoverPanic(func() {
				for range lc.All(context.Background()) {
				}
			})
			pe = v.(*data.PanicError)
			require.Equal(t, "bad batch", pe.Value)
			require.Equal(t, "Collate", pe.Op)
			require.Equal(t, -1, pe.Index)
			require.Equal(t, 2, pe.Batch)

			// DefaultCollate's own panic on fields that disagree.
			ragged := data.Map(newSeq(10), func(s data.Sample) data.Sample {
				if s[0].Data()[0] == 5 {
					s[0] = tensor.Zeros(3)
				}
				return s
			})
			v = recoverPanic(func() {
				for range (&data.Loader{Dataset: ragged, BatchSize: 4, Workers: workers}).All(context.Background()) {
				}
			})
			pe = v.(*data.PanicError)
			var de *data.Error
			require.ErrorAs(t, pe, &de)
			require.Equal(t, "data: DefaultCollate: field 0 of sample 1 has shape [3], sample 0's has [2]", de.Error())
		})
	}
}

func TestLoaderWorkerGoexit(t *testing.T) {
	defer goleak.VerifyNone(t)
	ds := newSeq(40)
	ds.exitAt = 17
	l := &data.Loader{Dataset: ds, BatchSize: 4, Workers: 2}
	v := recoverPanic(func() {
		for range l.All(context.Background()) {
		}
	})
	pe := v.(*data.PanicError)
	require.Equal(t, 4, pe.Batch)
	require.Contains(t, pe.Error(), "Goexit")
}

func TestLoaderPrefetchBound(t *testing.T) {
	for _, tc := range []struct{ workers, prefetch int }{{8, 1}, {8, 3}, {2, 0}} {
		t.Run(fmt.Sprintf("workers=%d/prefetch=%d", tc.workers, tc.prefetch), func(t *testing.T) {
			var built, consumed, maxAhead atomic.Int64
			l := &data.Loader{Dataset: newSeq(400), BatchSize: 2, Workers: tc.workers, Prefetch: tc.prefetch,
				Collate: func(s []data.Sample) data.Batch {
					built.Add(1)
					return data.DefaultCollate(s)
				}}
			p := tc.prefetch
			if p == 0 {
				p = 2 * tc.workers
			}
			for range l.All(context.Background()) {
				c := consumed.Add(1)
				time.Sleep(200 * time.Microsecond)
				ahead := built.Load() - c
				if ahead > maxAhead.Load() {
					maxAhead.Store(ahead)
				}
				require.LessOrEqual(t, ahead, int64(p+1))
			}
			require.Equal(t, int64(200), consumed.Load())
			require.Positive(t, maxAhead.Load(), "the workers do work ahead")
		})
	}
}

// batcherDS is a seqDS that also builds whole batches, marking them.
type batcherDS struct {
	*seqDS
	batches atomic.Int64
}

func (d *batcherDS) GetBatch(indices []int) data.Batch {
	d.batches.Add(1)
	samples := make([]data.Sample, len(indices))
	for k, i := range indices {
		samples[k] = d.Get(i)
	}
	return data.DefaultCollate(samples)
}

func TestLoaderUsesBatcher(t *testing.T) {
	ds := &batcherDS{seqDS: newSeq(20)}
	want := collect(t, &data.Loader{Dataset: ds.seqDS, BatchSize: 6, Shuffle: true, Seed: 1})
	require.Equal(t, want, collect(t, &data.Loader{Dataset: ds, BatchSize: 6, Shuffle: true, Seed: 1, Workers: 2}))
	require.Equal(t, int64(4), ds.batches.Load())
	// A Collate of one's own bypasses GetBatch.
	collect(t, &data.Loader{Dataset: ds, BatchSize: 6, Collate: data.DefaultCollate})
	require.Equal(t, int64(4), ds.batches.Load())
	// A panic in GetBatch.
	bad := &batcherDS{seqDS: newSeq(20)}
	bad.panicAt, bad.panicV = 3, "x"
	v := recoverPanic(func() {
		for range (&data.Loader{Dataset: bad, BatchSize: 6, Workers: 1}).All(context.Background()) {
		}
	})
	pe := v.(*data.PanicError)
	require.Equal(t, "GetBatch", pe.Op)
	require.Equal(t, -1, pe.Index)
}

func TestLoaderInvalidSettingsPanic(t *testing.T) {
	ds := newSeq(4)
	for _, tc := range []struct {
		l    *data.Loader
		want string
	}{
		{&data.Loader{}, "data: Loader: nil Dataset"},
		{&data.Loader{Dataset: ds, BatchSize: -1}, "data: Loader: negative BatchSize -1"},
		{&data.Loader{Dataset: ds, Workers: -2}, "data: Loader: negative Workers -2"},
		{&data.Loader{Dataset: ds, Workers: 1, Prefetch: -1}, "data: Loader: negative Prefetch -1"},
		{&data.Loader{Dataset: ds, Shuffle: true, Sampler: data.DistributedSampler{}}, "data: Loader: Shuffle and Sampler are mutually exclusive"},
	} {
		require.PanicsWithError(t, tc.want, func() { tc.l.All(context.Background()) })
		require.PanicsWithError(t, tc.want, func() { tc.l.Len() })
	}
	require.PanicsWithError(t, "data: Loader: negative epoch -1", func() { (&data.Loader{}).SetEpoch(-1) })
}

func TestDistributedSampler(t *testing.T) {
	const n = 10
	for _, tc := range []struct {
		replicas int
		dropLast bool
		per      int
	}{{1, false, 10}, {0, false, 10}, {3, false, 4}, {3, true, 3}, {4, false, 3}, {4, true, 2}, {12, false, 1}, {12, true, 0}} {
		for _, shuffle := range []bool{false, true} {
			t.Run(fmt.Sprintf("replicas=%d/drop=%v/shuffle=%v", tc.replicas, tc.dropLast, shuffle), func(t *testing.T) {
				r := max(tc.replicas, 1)
				seen := map[int]int{}
				var total int
				for rank := range r {
					s := data.DistributedSampler{Replicas: tc.replicas, Rank: rank, Shuffle: shuffle, Seed: 5, DropLast: tc.dropLast}
					idx := s.Indices(n, 2)
					require.Len(t, idx, tc.per)
					require.Equal(t, idx, s.Indices(n, 2), "a function of the epoch")
					for _, i := range idx {
						seen[i]++
					}
					total += len(idx)
				}
				if tc.dropLast {
					require.Len(t, seen, total, "disjoint")
				} else {
					require.Len(t, seen, n, "every item is visited")
					require.Equal(t, tc.per*r, total)
				}
			})
		}
	}
	s := data.DistributedSampler{Replicas: 2, Rank: 1, Shuffle: true, Seed: 5}
	require.NotEqual(t, s.Indices(100, 0), s.Indices(100, 1), "SetEpoch changes the shuffle")
	require.PanicsWithError(t, "data: DistributedSampler: Rank 2 out of range [0, 2)", func() { data.DistributedSampler{Replicas: 2, Rank: 2}.Indices(4, 0) })
	require.PanicsWithError(t, "data: DistributedSampler: negative Replicas -1", func() { data.DistributedSampler{Replicas: -1}.Indices(4, 0) })

	// In a Loader, the Loader's epoch drives the sampler.
	l := &data.Loader{Dataset: newSeq(100), BatchSize: 10, Sampler: s, Workers: 2}
	require.Equal(t, 5, l.Len())
	l.SetEpoch(1)
	var got []int
	for _, b := range collect(t, l) {
		got = append(got, b...)
	}
	require.Equal(t, s.Indices(100, 1), got)
	require.Equal(t, 2, l.Epoch())

	l = &data.Loader{Dataset: newSeq(7), Sampler: data.SamplerFunc(func(n, epoch int) []int { return []int{n - 1, epoch} })}
	require.Equal(t, [][]int{{6}, {0}}, collect(t, l))
}

// blockingDS blocks Get of item stuck until release is closed.
type blockingDS struct {
	*seqDS
	stuck   int
	release chan struct{}
}

func (d *blockingDS) Get(i int) data.Sample {
	if i == d.stuck {
		<-d.release
	}
	return d.seqDS.Get(i)
}

func TestLoaderTimeout(t *testing.T) {
	for _, workers := range []int{0, 2} {
		t.Run(fmt.Sprint("workers ", workers), func(t *testing.T) {
			ds := &blockingDS{seqDS: newSeq(20), stuck: 9, release: make(chan struct{})}
			defer close(ds.release) // lets the abandoned goroutine finish before the leak check
			l := &data.Loader{Dataset: ds, BatchSize: 4, Workers: workers, Timeout: 100 * time.Millisecond}
			start := time.Now()
			got := 0
			for range l.All(context.Background()) {
				got++
			}
			require.Less(t, time.Since(start), 2*time.Second)
			require.Equal(t, 2, got, "batches 0 and 1 arrive; batch 2 holds the stuck item 9")
			var te *data.TimeoutError
			require.True(t, errors.As(l.Err(), &te), "%v", l.Err())
			require.Equal(t, 2, te.Batch)
			require.EqualError(t, l.Err(), "data: Loader: batch 2 (samples [8 9 10 11]) not built within 100ms: a Get, GetBatch or Collate is blocked; its goroutine was abandoned")
		})
	}
	require.PanicsWithError(t, "data: Loader: negative Timeout -1s", func() {
		(&data.Loader{Dataset: newSeq(1), Timeout: -time.Second}).Len()
	})
}
