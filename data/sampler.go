package data

import "math/rand/v2"

// A Sampler chooses which items of a data set of n items an epoch visits, and in what order.
// Indices must be a function of (n, epoch) and the sampler's own settings only, so that every
// run, and every replica of a distributed run, sees the same order.
type Sampler interface {
	Indices(n, epoch int) []int
}

// SamplerFunc adapts a function to the Sampler interface.
type SamplerFunc func(n, epoch int) []int

// Indices returns f(n, epoch).
func (f SamplerFunc) Indices(n, epoch int) []int { return f(n, epoch) }

// order returns the indices an epoch of a Loader visits when it has no Sampler: 0..n-1, or, with
// shuffle, a permutation drawn from a PCG generator seeded with (seed, epoch).
func order(n int, shuffle bool, seed uint64, epoch int) []int {
	if !shuffle {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(n)
}

// DistributedSampler shards a data set across Replicas processes (Paddle's
// DistributedBatchSampler, PyTorch's DistributedSampler): each replica, given its Rank, visits a
// disjoint part of every epoch. All replicas compute the same order from (Seed, epoch), pad it
// by repeating its first indices until its length divides by Replicas (or, with DropLast, cut the
// tail that does not), and replica r takes positions r, r+Replicas, r+2*Replicas, ...
//
// Set it as a Loader's Sampler and the Loader's epoch (Loader.SetEpoch, or the count of calls to
// All) is the epoch that seeds the shuffle, as DistributedBatchSampler.set_epoch does.
type DistributedSampler struct {
	Replicas int    // the number of replicas; 0 means 1
	Rank     int    // this replica, in [0, Replicas)
	Shuffle  bool   // permute the order each epoch
	Seed     uint64 // the shuffle's seed, the same on every replica
	DropLast bool   // drop the tail instead of padding: every replica gets floor(n/Replicas) items
}

// Indices returns this replica's indices of the given epoch: ceil(n/Replicas) of them, or
// floor(n/Replicas) with DropLast.
//
// It panics with an *Error if Replicas is negative or Rank is outside [0, Replicas).
func (s DistributedSampler) Indices(n, epoch int) []int {
	r := s.Replicas
	if r == 0 {
		r = 1
	}
	if r < 0 {
		panicf("DistributedSampler", "negative Replicas %d", s.Replicas)
	}
	if s.Rank < 0 || s.Rank >= r {
		panicf("DistributedSampler", "Rank %d out of range [0, %d)", s.Rank, r)
	}
	ord := order(n, s.Shuffle, s.Seed, epoch)
	per := (n + r - 1) / r
	if s.DropLast {
		per = n / r
	}
	total := per * r
	out := make([]int, 0, per)
	for p := s.Rank; p < total; p += r {
		out = append(out, ord[p%n])
	}
	return out
}
