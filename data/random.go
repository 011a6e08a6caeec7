package data

import "math/rand/v2"

// A RandomDataset is a Dataset whose items are random (augmented by random transforms, say) and
// that draws every random choice from a generator it is given rather than from a global or
// per-goroutine source. A Loader calls GetRandom(i, SampleRand(Seed, epoch, i)) instead of
// Get(i), so that item i of an epoch is the same whichever worker builds it: the batches of an
// epoch stay a function of (Seed, epoch) alone, bitwise, for any number of Workers.
//
// GetRandom must be safe for concurrent use (each call gets its own rng, which it may use
// freely but must not keep), and must return the same sample for the same i and the same
// sequence of draws from rng. Get remains the item without a Loader's generator (a data set
// usually draws then from a generator of its own choice; see its documentation).
type RandomDataset interface {
	Dataset
	GetRandom(i int, rng *rand.Rand) Sample
}

// A RandomBatcher is a RandomDataset that builds a whole batch at once: GetBatchRandom must
// return what DefaultCollate returns for the samples GetRandom(indices[k], rngs[k]). A Loader
// whose Collate is nil calls it, with the generators SampleRand(Seed, epoch, indices[k]), in
// preference to GetBatch. It lets a data set keep a fast path (a table of 256 pixel values, say)
// when its transform turns out not to be random, ignoring rngs.
type RandomBatcher interface {
	RandomDataset
	GetBatchRandom(indices []int, rngs []*rand.Rand) Batch
}

// SampleRand returns the generator a Loader with the given Seed gives item i of the data set in
// the given epoch (a PCG generator whose two seed words hash seed, epoch and i): the same
// (seed, epoch, i) always gives the same sequence, distinct triples give unrelated ones, and
// none is the generator of the Loader's shuffle. Call it to reproduce outside a Loader the
// sample a Loader would build, ds.GetRandom(i, data.SampleRand(seed, epoch, i)).
func SampleRand(seed uint64, epoch, i int) *rand.Rand {
	h := mix64(seed ^ sampleStream)
	h = mix64(h ^ uint64(epoch))
	h = mix64(h ^ uint64(i))
	return rand.New(rand.NewPCG(h, mix64(h^sampleStream)))
}

// sampleStream separates SampleRand's seeds from those of the shuffle and of RandomSplit.
const sampleStream = 0x6a09e667f3bcc909

// mix64 is SplitMix64's finalizer, a bijection of uint64 that spreads every input bit over the
// output.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// getSample returns item i of ds for a Loader seeded with seed in epoch: GetRandom with the
// item's generator when ds is a RandomDataset, Get otherwise.
func getSample(ds Dataset, seed uint64, epoch, i int) Sample {
	if rd, ok := ds.(RandomDataset); ok {
		return rd.GetRandom(i, SampleRand(seed, epoch, i))
	}
	return ds.Get(i)
}

// GetRandom returns Dataset's item Indices[i], through Dataset's GetRandom with rng when it is a
// RandomDataset, through Get otherwise. It panics if i is out of range.
func (s *Subset) GetRandom(i int, rng *rand.Rand) Sample {
	if rd, ok := s.Dataset.(RandomDataset); ok {
		return rd.GetRandom(s.Indices[i], rng)
	}
	return s.Dataset.Get(s.Indices[i])
}

// GetBatchRandom returns the batch of the underlying items: through the underlying data set's
// GetBatchRandom, or GetRandom on each item, when it is random; through GetBatch (the function)
// otherwise. rngs[k] is the generator of item indices[k].
func (s *Subset) GetBatchRandom(indices []int, rngs []*rand.Rand) Batch {
	idx := make([]int, len(indices))
	for k, i := range indices {
		idx[k] = s.Indices[i]
	}
	switch d := s.Dataset.(type) {
	case RandomBatcher:
		return d.GetBatchRandom(idx, rngs)
	case RandomDataset:
		if len(idx) == 0 {
			panicf("Subset.GetBatchRandom", "no indices")
		}
		samples := make([]Sample, len(idx))
		for k, i := range idx {
			samples[k] = d.GetRandom(i, rngs[k])
		}
		return DefaultCollate(samples)
	}
	return GetBatch(s.Dataset, idx)
}

// GetRandom returns f of the underlying item: its GetRandom with rng when the underlying data set
// is a RandomDataset, its Get otherwise. f itself should not draw random numbers of its own.
func (m *mapped) GetRandom(i int, rng *rand.Rand) Sample {
	if rd, ok := m.ds.(RandomDataset); ok {
		return m.f(rd.GetRandom(i, rng))
	}
	return m.f(m.ds.Get(i))
}
