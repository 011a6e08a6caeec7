package data

import (
	"errors"
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// A Sample is one item of a data set: its fields in order, e.g. {image [1,28,28], label [1]} for
// MNIST. Class labels are float32 tensors holding integer ids, as everywhere in oar.
type Sample []*tensor.Tensor

// A Batch is a mini-batch: field i of every sample stacked along a new axis 0, e.g.
// {images [N,1,28,28], labels [N,1]}, as Paddle's default collate gives.
type Batch []*tensor.Tensor

// A Dataset is a map-style data set (paddle.io.Dataset): Len items, addressed by an index in
// [0, Len). Get must be safe for concurrent use, because a Loader with workers calls it from
// several goroutines, and should return the same sample for the same index so that batches do
// not depend on the number of workers. Get may panic if i is out of range.
type Dataset interface {
	Len() int
	Get(i int) Sample
}

// A Batcher is a Dataset that builds a whole batch at once, faster than Get on every index
// followed by DefaultCollate (for example straight from the bytes it holds). GetBatch must return
// what DefaultCollate would return for the samples of indices. A Loader uses GetBatch when its
// Collate is nil.
type Batcher interface {
	Dataset
	GetBatch(indices []int) Batch
}

// GetBatch returns the batch of ds's items at indices, collated by DefaultCollate: ds.GetBatch if
// ds is a Batcher, otherwise Get on each index. It panics if indices is empty, as DefaultCollate
// does, and wherever Get panics.
func GetBatch(ds Dataset, indices []int) Batch {
	if b, ok := ds.(Batcher); ok {
		return b.GetBatch(indices)
	}
	samples := make([]Sample, len(indices))
	for k, i := range indices {
		samples[k] = ds.Get(i)
	}
	return DefaultCollate(samples)
}

// DefaultCollate stacks field i of every sample along a new axis 0 (Paddle's default collate):
// samples of {[1,28,28], [1]} give a batch of {[N,1,28,28], [N,1]}. The batch's tensors are new;
// they share no data with the samples and record no graph.
//
// It panics with an *Error if samples is empty, if the samples have different numbers of
// fields, or if a field's shape differs from that of the same field in the first sample.
func DefaultCollate(samples []Sample) Batch {
	if len(samples) == 0 {
		panicf("DefaultCollate", "no samples")
	}
	nf := len(samples[0])
	b := make(Batch, nf)
	for f := range nf {
		first := samples[0][f]
		if first == nil {
			panicf("DefaultCollate", "field %d of sample 0 is nil", f)
		}
		shape := first.Shape()
		size := first.Len()
		buf := make([]float32, len(samples)*size)
		for k, s := range samples {
			if len(s) != nf {
				panicf("DefaultCollate", "sample %d has %d fields, sample 0 has %d", k, len(s), nf)
			}
			t := s[f]
			if t == nil {
				panicf("DefaultCollate", "field %d of sample %d is nil", f, k)
			}
			if k > 0 && !sameShape(t, shape) {
				panicf("DefaultCollate", "field %d of sample %d has shape %v, sample 0's has %v", f, k, t.Shape(), shape)
			}
			copy(buf[k*size:(k+1)*size], t.Data())
		}
		b[f] = tensor.New(buf, append([]int{len(samples)}, shape...)...)
	}
	return b
}

func sameShape(t *tensor.Tensor, shape []int) bool {
	if t.Rank() != len(shape) {
		return false
	}
	for i, d := range shape {
		if t.Dim(i) != d {
			return false
		}
	}
	return true
}

// Error is the value of every panic this package raises for a programmer error: a negative
// BatchSize, samples that cannot be stacked, split lengths that do not add up. It names the
// function and what was wrong, e.g. "data: Loader: negative Workers -1".
type Error struct {
	Op  string // the function or type that panicked, e.g. "Loader"
	Msg string // what was wrong
}

func (e *Error) Error() string { return "data: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// PanicError is the value a Loader re-panics with, in the goroutine that ranges over All, when a
// Dataset's Get, a Batcher's GetBatch or a Collate function panics while building a batch, in a
// worker goroutine or inline. Every other goroutine of the iteration has been stopped and joined
// by then.
type PanicError struct {
	Value any    // the value the function panicked with
	Op    string // "Get", "GetRandom", "GetBatch", "GetBatchRandom" or "Collate"
	Index int    // the dataset index Get or GetRandom was called with; -1 for the others
	Batch int    // the position of the batch in the epoch, from 0
	Stack []byte // the stack of the goroutine that panicked, as debug.Stack gives it
}

func (e *PanicError) Error() string {
	where := fmt.Sprintf("%s of batch %d", e.Op, e.Batch)
	if e.Index >= 0 {
		where = fmt.Sprintf("%s(%d) of batch %d", e.Op, e.Index, e.Batch)
	}
	return fmt.Sprintf("data: Loader: %s panicked: %v\n\n%s", where, e.Value, e.Stack)
}

// Unwrap returns Value if it is an error, so that errors.Is and errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errGoexit is the PanicError value when a worker's function called runtime.Goexit.
var errGoexit = errors.New("runtime.Goexit called")
