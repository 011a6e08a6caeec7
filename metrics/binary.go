package metrics

import (
	"math"

	"github.com/oarlab/oar/tensor"
)

// Precision is paddle.metric.Precision for binary classification: of the samples predicted
// positive (probability rounded half up: floor(p + 0.5) = 1), the fraction that are positive.
// It is 0 while nothing was predicted positive.
type Precision struct{ tp, fp float64 }

// NewPrecision returns a Precision metric named "precision".
func NewPrecision() *Precision { return &Precision{} }

// Name returns ["precision"].
func (*Precision) Name() []string { return []string{"precision"} }

// Compute pairs predictions with labels as an [N, 2] tensor (probability, label). It panics if
// pred and label do not hold the same number of values or a label is not 0 or 1.
func (*Precision) Compute(pred, label *tensor.Tensor) *tensor.Tensor {
	return pairs("Precision", pred, label)
}

// Update counts true and false positives in a batch and returns its precision.
func (p *Precision) Update(pl *tensor.Tensor) []float64 {
	var tp, fp float64
	eachPair(pl, func(prob float32, positive bool) {
		if math.Floor(float64(prob)+0.5) == 1 {
			if positive {
				tp++
			} else {
				fp++
			}
		}
	})
	p.tp += tp
	p.fp += fp
	return []float64{ratio(tp, tp+fp)}
}

// Accumulate returns tp/(tp+fp) since Reset.
func (p *Precision) Accumulate() []float64 { return []float64{ratio(p.tp, p.tp+p.fp)} }

// Reset clears the counts.
func (p *Precision) Reset() { p.tp, p.fp = 0, 0 }

// Recall is paddle.metric.Recall for binary classification: of the positive samples, the
// fraction predicted positive (probability rounded to nearest even, as NumPy's rint). It is 0
// while no positive sample was seen.
type Recall struct{ tp, fn float64 }

// NewRecall returns a Recall metric named "recall".
func NewRecall() *Recall { return &Recall{} }

// Name returns ["recall"].
func (*Recall) Name() []string { return []string{"recall"} }

// Compute pairs predictions with labels as Precision's does.
func (*Recall) Compute(pred, label *tensor.Tensor) *tensor.Tensor {
	return pairs("Recall", pred, label)
}

// Update counts true positives and false negatives in a batch and returns its recall.
func (r *Recall) Update(pl *tensor.Tensor) []float64 {
	var tp, fn float64
	eachPair(pl, func(prob float32, positive bool) {
		if positive {
			if math.RoundToEven(float64(prob)) == 1 {
				tp++
			} else {
				fn++
			}
		}
	})
	r.tp += tp
	r.fn += fn
	return []float64{ratio(tp, tp+fn)}
}

// Accumulate returns tp/(tp+fn) since Reset.
func (r *Recall) Accumulate() []float64 { return []float64{ratio(r.tp, r.tp+r.fn)} }

// Reset clears the counts.
func (r *Recall) Reset() { r.tp, r.fn = 0, 0 }

func pairs(op string, pred, label *tensor.Tensor) *tensor.Tensor {
	if pred.Len() != label.Len() {
		panicf(op, "%d predictions %v, %d labels %v", pred.Len(), pred.Shape(), label.Len(), label.Shape())
	}
	out := make([]float32, 0, 2*pred.Len())
	for i, p := range pred.Data() {
		l := label.Data()[i]
		if l != 0 && l != 1 {
			panicf(op, "label %v at index %d is not 0 or 1", l, i)
		}
		out = append(out, p, l)
	}
	return tensor.New(out, pred.Len(), 2)
}

func eachPair(pl *tensor.Tensor, fn func(prob float32, positive bool)) {
	d := pl.Data()
	for i := 0; i+1 < len(d); i += 2 {
		fn(d[i], d[i+1] == 1)
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
