package metrics

import (
	"fmt"
	"slices"
	"sort"

	"github.com/oarlab/oar/tensor"
)

// Error is the panic value of this package for programmer errors: labels or predictions of the
// wrong shape, a k below 1. A label that is not a class id is checked by tensor.ClassIDs and
// panics with a *tensor.Error naming the metric, e.g. "tensor: Accuracy: id 3 at index 1 is not an
// integer in [0, 3)".
type Error struct {
	Op  string // e.g. "Accuracy"
	Msg string
}

func (e *Error) Error() string { return "metrics: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// Metric accumulates a measure over batches, as paddle.metric.Metric. For each batch a caller
// (such as Model) runs Update(Compute(pred, label)), logs Accumulate, and calls Reset at the end
// of an epoch.
type Metric interface {
	// Name returns one name per value that Update and Accumulate return, e.g. ["acc"].
	Name() []string
	// Compute turns a batch's network output and labels into what Update counts (for Accuracy,
	// the [N, maxk] mask of hits). It panics on shapes that do not fit.
	Compute(pred, label *tensor.Tensor) *tensor.Tensor
	// Update adds a computed batch to the totals and returns the batch's own values.
	Update(computed *tensor.Tensor) []float64
	// Accumulate returns the values over every batch since Reset.
	Accumulate() []float64
	// Reset clears the totals.
	Reset()
}

// labelIDs reads class ids from labels shaped [N] or [N, 1], panicking (in op's name) when the
// count differs from n, and with tensor.ClassIDs' *tensor.Error when an id is not an integer in
// [0, classes).
func labelIDs(op string, label *tensor.Tensor, n, classes int) []int32 {
	if !(label.Rank() == 1 || (label.Rank() == 2 && label.Dim(1) == 1)) || label.Len() != n {
		panicf(op, "label shape %v, want [%d] or [%d 1]", label.Shape(), n, n)
	}
	return tensor.ClassIDs(op, label, classes, tensor.NoIgnoreIndex)
}

// Accuracy is paddle.metric.Accuracy: the fraction of samples whose label is among the k
// highest-scoring classes, for each k given to NewAccuracy. It works on raw scores (logits); no
// softmax is needed.
type Accuracy struct {
	topk    []int
	maxk    int
	names   []string
	correct []float64 // hits per k since Reset
	count   float64
}

// NewAccuracy returns an Accuracy metric for the given k values (default 1). Its names are
// ["acc"] when the largest k is 1 and ["acc_top1", "acc_top2", ...] otherwise, as Paddle's.
// It panics if a k is below 1.
func NewAccuracy(topk ...int) *Accuracy {
	if len(topk) == 0 {
		topk = []int{1}
	}
	m := &Accuracy{topk: slices.Clone(topk), maxk: slices.Max(topk)}
	for _, k := range topk {
		if k < 1 {
			panicf("Accuracy", "top-k %v: each k must be at least 1", topk)
		}
		if m.maxk != 1 {
			m.names = append(m.names, fmt.Sprintf("acc_top%d", k))
		}
	}
	if m.maxk == 1 {
		m.names = []string{"acc"}
	}
	m.Reset()
	return m
}

// Name returns the metric's names.
func (m *Accuracy) Name() []string { return slices.Clone(m.names) }

// Compute returns the [N, maxk] mask whose column j is 1 where the label is the class ranked j
// (0 the highest) by pred [N, C]. Ties rank the lower class id first. It panics if pred is not
// [N, C] with C >= maxk or label is not N class ids (checked once, by tensor.ClassIDs).
func (m *Accuracy) Compute(pred, label *tensor.Tensor) *tensor.Tensor {
	return m.compute("Accuracy", pred, label)
}

// compute is Compute, with panics naming op.
func (m *Accuracy) compute(op string, pred, label *tensor.Tensor) *tensor.Tensor {
	if pred.Rank() != 2 || pred.Dim(1) < m.maxk {
		panicf(op, "prediction shape %v, want [N, C] with C >= %d", pred.Shape(), m.maxk)
	}
	n, c := pred.Dim(0), pred.Dim(1)
	ids := labelIDs(op, label, n, c)
	mask := make([]float32, n*m.maxk)
	for i := range n {
		row := pred.Data()[i*c : (i+1)*c]
		for j, cls := range topK(row, m.maxk) {
			if cls == int(ids[i]) {
				mask[i*m.maxk+j] = 1
			}
		}
	}
	return tensor.New(mask, n, m.maxk)
}

// topK returns the indices of the k largest values, largest first; ties keep the lower index
// first.
func topK(row []float32, k int) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	return idx[:k]
}

// Update counts a computed mask and returns the batch's accuracy for each k. It panics if the
// mask is not [N, maxk].
func (m *Accuracy) Update(correct *tensor.Tensor) []float64 {
	if correct.Rank() != 2 || correct.Dim(1) != m.maxk {
		panicf("Accuracy", "Update got %v, want the [N %d] mask from Compute", correct.Shape(), m.maxk)
	}
	n := correct.Dim(0)
	out := make([]float64, len(m.topk))
	for t, k := range m.topk {
		hits := 0.0
		for i := range n {
			for j := range k {
				hits += float64(correct.Data()[i*m.maxk+j])
			}
		}
		m.correct[t] += hits
		if n > 0 {
			out[t] = hits / float64(n)
		}
	}
	m.count += float64(n)
	return out
}

// Accumulate returns the accuracy for each k over every batch since Reset (0 before any).
func (m *Accuracy) Accumulate() []float64 {
	out := make([]float64, len(m.topk))
	if m.count > 0 {
		for t := range out {
			out[t] = m.correct[t] / m.count
		}
	}
	return out
}

// Reset clears the totals.
func (m *Accuracy) Reset() {
	m.correct = make([]float64, len(m.topk))
	m.count = 0
}

// TopKAccuracy returns, as a 0-D tensor, the fraction of rows of pred [N, C] whose label is among
// their k highest scores: paddle.metric.accuracy(input, label, k), the functional form of
// Accuracy. It panics if the shapes do not fit, k < 1 or k > C, or a label is not a class id.
func TopKAccuracy(pred, label *tensor.Tensor, k int) *tensor.Tensor {
	const op = "TopKAccuracy"
	if k < 1 {
		panicf(op, "k %d < 1", k)
	}
	m := NewAccuracy(k)
	return tensor.Scalar(float32(m.Update(m.compute(op, pred, label))[0]))
}
