package data

import (
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// TensorDataset is a data set made of tensors that share their first dimension
// (paddle.io.TensorDataset): item i is {ts[0][i], ts[1][i], ...}, each a new tensor of the
// tensor's shape without axis 0. Build it with NewTensorDataset.
type TensorDataset struct {
	fields []*tensor.Tensor
	n      int
}

// NewTensorDataset returns the data set whose item i holds row i of each tensor. It keeps the
// tensors (detached, sharing their data); do not modify them while the data set is in use.
// It panics with an *Error if no tensor is given, a tensor is a scalar, or the first dimensions
// differ.
func NewTensorDataset(ts ...*tensor.Tensor) *TensorDataset {
	if len(ts) == 0 {
		panicf("NewTensorDataset", "no tensors")
	}
	d := &TensorDataset{n: -1}
	for k, t := range ts {
		if t.Rank() == 0 {
			panicf("NewTensorDataset", "tensor %d is a scalar", k)
		}
		if k > 0 && t.Dim(0) != d.n {
			panicf("NewTensorDataset", "tensor %d has %d rows, tensor 0 has %d", k, t.Dim(0), d.n)
		}
		d.n = t.Dim(0)
		d.fields = append(d.fields, t.Detach())
	}
	return d
}

// Len returns the number of items, the tensors' first dimension.
func (d *TensorDataset) Len() int { return d.n }

// Get returns row i of every tensor, copied. It panics if i is out of range.
func (d *TensorDataset) Get(i int) Sample {
	if i < 0 || i >= d.n {
		panicf("TensorDataset.Get", "index %d out of range [0, %d)", i, d.n)
	}
	s := make(Sample, len(d.fields))
	for f, t := range d.fields {
		shape := t.Shape()[1:]
		size := rowSize(t)
		s[f] = tensor.New(append([]float32(nil), t.Data()[i*size:(i+1)*size]...), shape...)
	}
	return s
}

// GetBatch returns the rows at indices of every tensor, stacked: what DefaultCollate gives for
// the samples, in one copy per field. It panics if indices is empty or an index is out of range.
func (d *TensorDataset) GetBatch(indices []int) Batch {
	if len(indices) == 0 {
		panicf("TensorDataset.GetBatch", "no indices")
	}
	b := make(Batch, len(d.fields))
	for f, t := range d.fields {
		size := rowSize(t)
		src := t.Data()
		buf := make([]float32, len(indices)*size)
		for k, i := range indices {
			if i < 0 || i >= d.n {
				panicf("TensorDataset.GetBatch", "index %d out of range [0, %d)", i, d.n)
			}
			copy(buf[k*size:(k+1)*size], src[i*size:(i+1)*size])
		}
		shape := t.Shape()
		shape[0] = len(indices)
		b[f] = tensor.New(buf, shape...)
	}
	return b
}

func rowSize(t *tensor.Tensor) int {
	if t.Dim(0) == 0 {
		return 0
	}
	return t.Len() / t.Dim(0)
}

// Subset is the part of Dataset at Indices, in that order (paddle.io.Subset): item i is
// Dataset.Get(Indices[i]). Build it as a literal, &data.Subset{Dataset: ds, Indices: idx}; Get
// panics where Dataset.Get does for an index out of range.
type Subset struct {
	Dataset Dataset
	Indices []int
}

// Len returns len(Indices).
func (s *Subset) Len() int { return len(s.Indices) }

// Get returns Dataset.Get(Indices[i]). It panics if i is out of range.
func (s *Subset) Get(i int) Sample { return s.Dataset.Get(s.Indices[i]) }

// GetBatch returns the batch of the underlying items, through the underlying data set's GetBatch
// when it is a Batcher. It panics as GetBatch (the function) does.
func (s *Subset) GetBatch(indices []int) Batch {
	idx := make([]int, len(indices))
	for k, i := range indices {
		idx[k] = s.Indices[i]
	}
	return GetBatch(s.Dataset, idx)
}

// RandomSplit splits ds into non-overlapping random subsets (paddle.io.random_split), with a
// permutation drawn from a PCG generator seeded by seed: the same seed always gives the same
// split. lengths are either counts that add up to ds.Len(), or fractions that add up to 1 (as
// PyTorch's random_split: each subset gets floor(fraction*n) items, and the remainder is dealt
// one by one to the subsets in order).
//
// It panics with an *Error if lengths is empty, a length is negative or not finite, counts are
// not whole numbers or do not add up to ds.Len(), or fractions do not add up to 1.
func RandomSplit(ds Dataset, lengths []float64, seed uint64) []*Subset {
	n := ds.Len()
	if len(lengths) == 0 {
		panicf("RandomSplit", "no lengths")
	}
	sum := 0.0
	for _, l := range lengths {
		if l < 0 || math.IsNaN(l) || math.IsInf(l, 0) {
			panicf("RandomSplit", "invalid length %v in %v", l, lengths)
		}
		sum += l
	}
	counts := make([]int, len(lengths))
	if math.Abs(sum-1) < 1e-9 && sum != float64(n) {
		total := 0
		for k, f := range lengths {
			counts[k] = int(math.Floor(f * float64(n)))
			total += counts[k]
		}
		for k := 0; total < n; k = (k + 1) % len(counts) {
			counts[k]++
			total++
		}
	} else {
		total := 0
		for k, l := range lengths {
			if l != math.Trunc(l) {
				panicf("RandomSplit", "lengths %v are neither counts nor fractions adding up to 1", lengths)
			}
			counts[k] = int(l)
			total += counts[k]
		}
		if total != n {
			panicf("RandomSplit", "counts %v add up to %d, the data set has %d items", lengths, total, n)
		}
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(n)
	out := make([]*Subset, len(counts))
	off := 0
	for k, c := range counts {
		out[k] = &Subset{Dataset: ds, Indices: perm[off : off+c : off+c]}
		off += c
	}
	return out
}

// splitStream is the second PCG seed word of RandomSplit, so that its permutation is not the
// Loader's epoch-0 order for the same seed.
const splitStream = 0x9e3779b97f4a7c15

// Map returns a data set whose item i is f(ds.Get(i)), computed lazily on each Get (the way to
// apply a transform to a data set). f must be safe for concurrent use when the data set is read
// by a Loader with workers, and should be deterministic for batches not to depend on Workers.
// When ds is a RandomDataset, a Loader reaches its GetRandom through the mapped data set.
func Map(ds Dataset, f func(Sample) Sample) Dataset {
	return &mapped{ds: ds, f: f}
}

type mapped struct {
	ds Dataset
	f  func(Sample) Sample
}

func (m *mapped) Len() int         { return m.ds.Len() }
func (m *mapped) Get(i int) Sample { return m.f(m.ds.Get(i)) }
