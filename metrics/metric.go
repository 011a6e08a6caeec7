package metrics

import (
	"fmt"
	"slices"
	"sort"

	"github.com/oarlab/oar/tensor"
)

// Error is the panic value of this package for programmer errors: labels or predictions of the
// wrong shape, a label that is not a class id, a k below 1.
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
// count differs from n or an id is not an integer in [0, classes).
func labelIDs(op string, label *tensor.Tensor, n, classes int) []int {
	if !(label.Rank() == 1 || (label.Rank() == 2 && label.Dim(1) == 1)) || label.Len() != n {
		panicf(op, "label shape %v, want [%d] or [%d 1]", label.Shape(), n, n)
	}
	ids := make([]int, n)
	for i, v := range label.Data() {
		id := int(v)
		if float32(id) != v || id < 0 || id >= classes {
			panicf(op, "label %v at index %d is not a class id in [0, %d)", v, i, classes)
		}
		ids[i] = id
	}
	return ids
}

// AccuracyMetric is paddle.metric.Accuracy: the fraction of samples whose label is among the k
// highest-scoring classes, for each k in TopK. It works on raw scores (logits); no softmax is
// needed.
type AccuracyMetric struct {
	topk    []int
	maxk    int
	names   []string
	correct []float64 // hits per k since Reset
	count   float64
}

// NewAccuracy returns an accuracy metric for the given k values (default 1). Its names are
// ["acc"] when the largest k is 1 and ["acc_top1", "acc_top2", ...] otherwise, as Paddle's.
// It panics if a k is below 1.
func NewAccuracy(topk ...int) *AccuracyMetric {
	if len(topk) == 0 {
		topk = []int{1}
	}
	m := &AccuracyMetric{topk: slices.Clone(topk), maxk: slices.Max(topk)}
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
func (m *AccuracyMetric) Name() []string { return slices.Clone(m.names) }

// Compute returns the [N, maxk] mask whose column j is 1 where the label is the class ranked j
// (0 the highest) by pred [N, C]. Ties rank the lower class id first. It panics if pred is not
// [N, C] with C >= maxk or label is not N class ids.
func (m *AccuracyMetric) Compute(pred, label *tensor.Tensor) *tensor.Tensor {
	if pred.Rank() != 2 || pred.Dim(1) < m.maxk {
		panicf("Accuracy", "prediction shape %v, want [N, C] with C >= %d", pred.Shape(), m.maxk)
	}
	n, c := pred.Dim(0), pred.Dim(1)
	ids := labelIDs("Accuracy", label, n, c)
	mask := make([]float32, n*m.maxk)
	for i := range n {
		row := pred.Data()[i*c : (i+1)*c]
		for j, cls := range topK(row, m.maxk) {
			if cls == ids[i] {
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
func (m *AccuracyMetric) Update(correct *tensor.Tensor) []float64 {
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
func (m *AccuracyMetric) Accumulate() []float64 {
	out := make([]float64, len(m.topk))
	if m.count > 0 {
		for t := range out {
			out[t] = m.correct[t] / m.count
		}
	}
	return out
}

// Reset clears the totals.
func (m *AccuracyMetric) Reset() {
	m.correct = make([]float64, len(m.topk))
	m.count = 0
}

// Accuracy returns, as a 0-D tensor, the fraction of rows of pred [N, C] whose label is among
// their k highest scores: paddle.metric.accuracy(input, label, k). It panics if the shapes do
// not fit, k < 1 or k > C, or a label is not a class id.
func Accuracy(pred, label *tensor.Tensor, k int) *tensor.Tensor {
	if k < 1 {
		panicf("Accuracy", "k %d < 1", k)
	}
	m := NewAccuracy(k)
	return tensor.Scalar(float32(m.Update(m.Compute(pred, label))[0]))
}
