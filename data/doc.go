// Package data loads data sets in mini-batches, as paddle.io does: a Dataset of Samples, a
// Loader that shuffles, batches and prefetches them with worker goroutines, and the usual
// helpers to build and split data sets.
//
// # Overview
//
// A Dataset has Len items; Get(i) returns item i as a Sample, its fields in order (for MNIST an
// image [1,28,28] and a label [1]). A Loader iterates over one epoch of Batches, field i of every
// sample stacked along a new axis 0 ({images [N,1,28,28], labels [N,1]}):
//
//	loader := &data.Loader{Dataset: train, BatchSize: 64, Shuffle: true, Seed: 1, Workers: 4}
//	for epoch := range 5 {
//		for b := range loader.All(ctx) { // each call to All is the next epoch
//			loss := lossFn(net.Forward(b[0]), b[1])
//			...
//		}
//		if err := loader.Err(); err != nil {
//			return err // ctx was cancelled
//		}
//	}
//
// Loader.Len is the number of batches of an epoch. Workers 0 builds each batch inline when the
// loop asks for it, like the tutorial's generator; Workers > 0 builds up to Prefetch batches
// ahead in goroutines, so that reading overlaps training (the tutorial's asynchronous reading).
//
// Data sets: TensorDataset (rows of tensors), Subset (the items at some indices), RandomSplit
// (seeded, by counts or fractions) and Map (a function applied lazily to each item). A data set
// that can build a whole batch faster than item by item implements Batcher, and GetBatch uses
// it. Samplers choose an epoch's indices: DistributedSampler shards them across replicas.
//
// # Invariants
//
//   - The batches of an epoch depend on (Seed, epoch) alone, not on Workers or Prefetch, as long
//     as Get is deterministic.
//   - Random items stay reproducible: a data set that augments its items randomly implements
//     RandomDataset, and the Loader calls GetRandom(i, rng) with rng = SampleRand(Seed, epoch, i),
//     a generator of item i's own (or a RandomBatcher's GetBatchRandom with one per item). No
//     draw comes from a global or per-worker source, so augmented epochs are bitwise the same for
//     any Workers and change from epoch to epoch. Subset and Map pass the generator through.
//   - Leaving the loop (break, return, a panic) or cancelling ctx stops and joins every goroutine
//     the Loader started before the iteration returns; at most Prefetch+1 batches are in flight.
//   - Get, GetBatch and Collate may be called from several goroutines at once.
//
// # Errors
//
// Programmer errors (a negative BatchSize, samples whose shapes cannot be stacked, split
// lengths that do not add up) panic with an *Error naming the function. A panic inside a
// Dataset's Get or a Collate function during iteration reaches the loop's goroutine as a
// *PanicError carrying the original value, the sample index and the worker's stack. A cancelled
// context is an error, reported by Loader.Err.
package data
