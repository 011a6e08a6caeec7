package losses

import (
	"github.com/oarlab/oar/tensor"
)

// NLL is paddle.nn.NLLLoss: the input [N, C] holds log-probabilities (LogSoftmax's output) and
// the loss of row j with class y is -weight[y]·input[j, y]. Labels are [N] or [N, 1] integer
// class ids; rows labelled IgnoreIndex contribute 0.
//
// Its ReduceMean is Paddle's nll_loss kernel's: Σ loss / Σ weight[y] over the rows not ignored, whatever
// the sign of IgnoreIndex (CrossEntropy differs for negative ones), and the plain sum 0 when every
// row is ignored.
type NLL struct {
	// Weight rescales each class's loss, shape [C]; nil weighs every class 1. It gets no gradient.
	Weight *tensor.Tensor
	// IgnoreIndex is a label value whose rows are skipped; nil means DefaultIgnoreIndex (-100).
	IgnoreIndex *int
	Reduction   Reduction
}

// NewNLL returns Paddle's default NLLLoss(): mean reduction, ignore_index -100.
func NewNLL() *NLL { return &NLL{} }

// Forward returns the negative log-likelihood: shape [] for ReduceMean and ReduceSum, [N] for
// ReduceNone.
//
// It panics if the input is not [N, C] with C >= 1, the label is not [N] or [N, 1], a label is not
// an integer in [0, C) and not IgnoreIndex (a *tensor.Error from tensor.ClassIDs, naming the value
// and its index), Weight is not [C], or Reduction is unknown.
func (l NLL) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "NLL"
	in := input.Shape()
	if len(in) != 2 || in[1] == 0 {
		panicf(op, "input shape %v: want [N, C] log-probabilities", in)
	}
	checkReduction(op, l.Reduction)
	n, nc := in[0], in[1]
	w := classWeights(op, l.Weight, nc)
	ids := hardLabels(op, label, in, in[:1], nc, ignoreIndex(l.IgnoreIndex))
	picked := make([]float32, n)
	rowW := make([]float32, n)
	var total float64
	for j, id := range ids {
		if id < 0 {
			continue
		}
		picked[j] = float32(id)
		rowW[j] = 1
		if w != nil {
			rowW[j] = w[id]
		}
		total += float64(rowW[j])
	}
	loss := input.TakeAlongAxis(tensor.New(picked, n, 1), 1).Reshape(n).Mul(tensor.New(rowW, n)).Neg()
	switch l.Reduction {
	case ReduceNone:
		return loss
	case ReduceSum:
		return loss.Sum()
	}
	if total == 0 {
		return loss.Sum()
	}
	return loss.Sum().Div(tensor.Scalar(float32(total)))
}
