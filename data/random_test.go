package data_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
)

// noisyDS is a RandomDataset whose item i is {i + 8 uniform draws from rng, label i}. Its Get
// uses the process-wide source, so only GetRandom is reproducible. With jitter, GetRandom sleeps
// a little so that workers finish out of order.
type noisyDS struct {
	n      int
	jitter bool
}

func (d *noisyDS) Len() int { return d.n }

func (d *noisyDS) Get(i int) data.Sample {
	return d.GetRandom(i, rand.New(rand.NewPCG(rand.Uint64(), 0)))
}

func (d *noisyDS) GetRandom(i int, rng *rand.Rand) data.Sample {
	if i < 0 || i >= d.n {
		panic(fmt.Sprintf("index %d out of range", i))
	}
	if d.jitter {
		time.Sleep(time.Duration(uint64(i)*0x9e3779b97f4a7c15>>40) % (300 * time.Microsecond))
	}
	x := make([]float32, 8)
	for k := range x {
		x[k] = float32(i) + rng.Float32()
	}
	return data.Sample{tensor.New(x, 8), tensor.New([]float32{float32(i)}, 1)}
}

func epochData(t *testing.T, l *data.Loader) [][]float32 {
	t.Helper()
	var out [][]float32
	for b := range l.All(context.Background()) {
		out = append(out, append(append([]float32(nil), b[0].Data()...), b[1].Data()...))
	}
	require.NoError(t, l.Err())
	return out
}

func TestSampleRand(t *testing.T) {
	draw := func(r *rand.Rand) [4]uint64 { return [4]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()} }
	require.Equal(t, draw(data.SampleRand(7, 2, 13)), draw(data.SampleRand(7, 2, 13)), "same triple, same stream")
	seen := map[[4]uint64]string{}
	for _, seed := range []uint64{0, 1, 7} {
		for epoch := range 3 {
			for i := range 50 {
				k := draw(data.SampleRand(seed, epoch, i))
				name := fmt.Sprint(seed, epoch, i)
				require.NotContains(t, seen, k, "%s repeats %s", name, seen[k])
				seen[k] = name
			}
		}
	}
	// Not the Loader's shuffle generator for (seed, epoch).
	require.NotEqual(t, draw(rand.New(rand.NewPCG(7, 2))), draw(data.SampleRand(7, 2, 0)))
}

func TestLoaderRandomDatasetDeterministic(t *testing.T) {
	ds := &noisyDS{n: 103, jitter: true}
	var ref [][]float32
	for _, workers := range []int{0, 1, 4} {
		l := &data.Loader{Dataset: ds, BatchSize: 8, Shuffle: true, Seed: 42, Workers: workers}
		l.SetEpoch(3)
		got := epochData(t, l)
		require.Len(t, got, 13)
		if ref == nil {
			ref = got
			continue
		}
		require.Equal(t, ref, got, "workers=%d: bitwise the same batches", workers)
	}
	// Item i of the epoch is GetRandom(i, SampleRand(Seed, epoch, i)).
	l := &data.Loader{Dataset: ds, BatchSize: 1, Seed: 42}
	l.SetEpoch(3)
	for b := range l.All(context.Background()) {
		i := int(b[1].Item())
		require.Equal(t, ds.GetRandom(i, data.SampleRand(42, 3, i))[0].Data(), b[0].Data())
	}
	// Another epoch or seed draws differently.
	l4 := &data.Loader{Dataset: ds, BatchSize: 8, Seed: 42}
	l4.SetEpoch(4)
	l3 := &data.Loader{Dataset: ds, BatchSize: 8, Seed: 42}
	l3.SetEpoch(3)
	l5 := &data.Loader{Dataset: ds, BatchSize: 8, Seed: 43}
	l5.SetEpoch(3)
	e3, e4, e5 := epochData(t, l3), epochData(t, l4), epochData(t, l5)
	require.NotEqual(t, e3[0], e4[0])
	require.NotEqual(t, e3[0], e5[0])
	// Subset and Map pass the generator through.
	sub := &data.Subset{Dataset: ds, Indices: []int{5, 9, 2}}
	ls := &data.Loader{Dataset: sub, BatchSize: 3, Seed: 1}
	sb := epochData(t, ls)[0]
	for k, i := range sub.Indices {
		require.Equal(t, ds.GetRandom(i, data.SampleRand(1, 0, k))[0].Data(), sb[k*8:(k+1)*8])
	}
	double := data.Map(ds, func(s data.Sample) data.Sample { return data.Sample{s[0].Scale(2), s[1]} })
	lm := &data.Loader{Dataset: double, BatchSize: 1, Seed: 9}
	for b := range lm.All(context.Background()) {
		i := int(b[1].Item())
		require.Equal(t, ds.GetRandom(i, data.SampleRand(9, 0, i))[0].Scale(2).Data(), b[0].Data())
	}
}

// randomBatcherDS counts how its batches are built.
type randomBatcherDS struct {
	noisyDS
	batches int
}

func (d *randomBatcherDS) GetBatchRandom(indices []int, rngs []*rand.Rand) data.Batch {
	d.batches++
	s := make([]data.Sample, len(indices))
	for k, i := range indices {
		s[k] = d.GetRandom(i, rngs[k])
	}
	return data.DefaultCollate(s)
}

func TestLoaderRandomBatcherAndPanics(t *testing.T) {
	ds := &randomBatcherDS{noisyDS: noisyDS{n: 10}}
	l := &data.Loader{Dataset: ds, BatchSize: 4, Seed: 5}
	got := epochData(t, l)
	require.Equal(t, 3, ds.batches, "GetBatchRandom builds every batch")
	plain := &data.Loader{Dataset: &ds.noisyDS, BatchSize: 4, Seed: 5}
	require.Equal(t, epochData(t, plain), got, "the same as GetRandom item by item")

	// A panic in GetRandom names the op and the index.
	bad := &data.Loader{Dataset: &data.Subset{Dataset: &noisyDS{n: 3}, Indices: []int{0, 7}}, Collate: data.DefaultCollate}
	v := recoverPanic(func() {
		for range bad.All(context.Background()) {
		}
	})
	pe := v.(*data.PanicError)
	require.Equal(t, "GetRandom", pe.Op)
	require.Equal(t, 1, pe.Index, "the index of the Loader's data set, the Subset")
	require.Contains(t, pe.Error(), "GetRandom(1) of batch 1 panicked: index 7 out of range")
}
