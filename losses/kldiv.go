package losses

import (
	"math"

	"github.com/oarlab/oar/tensor"
)

// KLDiv is paddle.nn.KLDivLoss: the Kullback-Leibler divergence of the label distribution from
// the input's, element-wise,
//
//	loss = label·(log(label) - input)         (input log-probabilities, label probabilities)
//	loss = exp(label)·(label - input)         with LogTarget (label log-probabilities too)
//
// where, as in Paddle's kernel, an element whose label is <= 0 contributes 0 (also to the
// gradient) without LogTarget. Reduction may be ReduceMean (the mean over all elements, Paddle's
// default), ReduceBatchMean (the sum divided by the input's first dimension, the true KL
// divergence per sample), ReduceSum or ReduceNone. PyTorch computes the same for labels >= 0
// (its xlogy gives 0 at 0); a negative label gives NaN there and 0 here. The label gets no
// gradient.
type KLDiv struct {
	Reduction Reduction
	// LogTarget says the label holds log-probabilities (Paddle's log_target); default false.
	LogTarget bool
}

// NewKLDiv returns Paddle's default KLDivLoss(): mean reduction, probabilities as labels.
func NewKLDiv() *KLDiv { return &KLDiv{} }

// Forward returns the divergence of label from input: shape [] for every reduction but
// ReduceNone, which keeps the input's shape.
//
// It panics if the shapes differ, Reduction is unknown, or Reduction is ReduceBatchMean and the
// input is 0-D.
func (l KLDiv) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "KLDiv"
	if l.Reduction != ReduceBatchMean {
		checkReduction(op, l.Reduction)
	}
	sameShape(op, input, label)
	y := label.Data()
	shape := input.Shape()
	var loss *tensor.Tensor
	if l.LogTarget {
		w := make([]float32, len(y))
		for i, v := range y {
			w[i] = float32(math.Exp(float64(v)))
		}
		loss = label.Detach().Sub(input).Mul(tensor.New(w, shape...))
	} else {
		logY := make([]float32, len(y))
		pos := make([]float32, len(y))
		for i, v := range y {
			if v > 0 {
				logY[i], pos[i] = float32(math.Log(float64(v))), 1
			}
		}
		// Where keeps an input of -Inf (log 0) at a zero label from making NaN.
		loss = tensor.Where(tensor.New(pos, shape...),
			tensor.New(logY, shape...).Sub(input).Mul(label.Detach()), tensor.Zeros(shape...))
	}
	if l.Reduction == ReduceBatchMean {
		if len(shape) == 0 {
			panicf(op, "%v of a 0-D input: there is no batch axis", l.Reduction)
		}
		return loss.Sum().Div(tensor.Scalar(float32(shape[0])))
	}
	return reduce(loss, l.Reduction)
}

var _ Loss = KLDiv{}
