package losses

import (
	"slices"

	"github.com/oarlab/oar/tensor"
)

// MarginRanking is paddle.nn.MarginRankingLoss: for scores input and other and a label y that
// says which should rank higher (1: input, -1: other),
//
//	loss = max(0, -y·(input - other) + Margin)
//
// reduced by Reduction. PyTorch's MarginRankingLoss is the same. It takes three tensors, so it is
// not a Loss; wrap it in a Func with the pairing your model needs. The gradient flows to input
// and other (0 where the hinge is flat, also at its corner); the label gets none.
type MarginRanking struct {
	Margin    float32 // default 0
	Reduction Reduction
}

// NewMarginRanking returns Paddle's default MarginRankingLoss(): margin 0, mean reduction.
func NewMarginRanking() *MarginRanking { return &MarginRanking{} }

// Forward returns the ranking loss: shape [] for ReduceMean and ReduceSum, the inputs' shape for
// ReduceNone. It panics if the three shapes differ or Reduction is unknown.
func (l MarginRanking) Forward(input, other, label *tensor.Tensor) *tensor.Tensor {
	const op = "MarginRanking"
	checkReduction(op, l.Reduction)
	if !slices.Equal(input.Shape(), other.Shape()) || !slices.Equal(input.Shape(), label.Shape()) {
		panicf(op, "input %v, other %v and label %v differ in shape", input.Shape(), other.Shape(), label.Shape())
	}
	out := label.Detach().Neg().Mul(input.Sub(other))
	if l.Margin != 0 {
		out = out.AddScalar(l.Margin)
	}
	return reduce(out.ReLU(), l.Reduction)
}

// HingeEmbedding is paddle.nn.HingeEmbeddingLoss: for distances input and labels 1 (similar) or
// -1 (dissimilar),
//
//	loss = input                     where label = 1
//	loss = max(0, Margin - input)    where label = -1
//
// and 0 for any other label, as Paddle's where-based formula gives (PyTorch applies the first
// term wherever the label is not -1 and the second wherever it is not 1, so a label 0 gets
// both), reduced by Reduction. The label gets no gradient.
type HingeEmbedding struct {
	// Margin is the distance beyond which dissimilar pairs cost nothing; nil means Paddle's
	// default 1.
	Margin    *float32
	Reduction Reduction
}

// NewHingeEmbedding returns Paddle's default HingeEmbeddingLoss(): margin 1, mean reduction.
func NewHingeEmbedding() *HingeEmbedding { return &HingeEmbedding{} }

// Forward returns the loss of input against label: shape [] for ReduceMean and ReduceSum, the
// input's shape for ReduceNone. It panics if the shapes differ or Reduction is unknown.
func (l HingeEmbedding) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "HingeEmbedding"
	checkReduction(op, l.Reduction)
	sameShape(op, input, label)
	margin := float32(1)
	if l.Margin != nil {
		margin = *l.Margin
	}
	y := label.Detach()
	zero := tensor.Zeros(input.Shape()...)
	pos := tensor.Where(y.Equal(tensor.Scalar(1)), input, zero)
	neg := tensor.Where(y.Equal(tensor.Scalar(-1)), input.Neg().AddScalar(margin).ReLU(), zero)
	return reduce(pos.Add(neg), l.Reduction)
}

var _ Loss = HingeEmbedding{}
