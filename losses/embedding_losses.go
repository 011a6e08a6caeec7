package losses

import (
	"github.com/oarlab/oar/tensor"
)

// CosineEmbedding is paddle.nn.CosineEmbeddingLoss: for pairs of embeddings input1 and input2
// (rows of [N, M], or one pair of [M]) and labels 1 (similar) or -1 (dissimilar),
//
//	loss = 1 - cos(input1, input2)            where label = 1
//	loss = max(0, cos(input1, input2) - Margin) where label = -1
//
// and 0 for any other label, reduced by Reduction. As in Paddle, the cosine is
// Σ x1·x2 / sqrt((Σ x1² + 1e-11)·(Σ x2² + 1e-11)); PyTorch adds 1e-12 instead, which differs
// only for vectors of near-zero norm. The label gets no gradient.
type CosineEmbedding struct {
	// Margin for dissimilar pairs, in [-1, 1] (Paddle suggests [0, 0.5]); default 0.
	Margin    float32
	Reduction Reduction
}

// NewCosineEmbedding returns Paddle's default CosineEmbeddingLoss(): margin 0, mean reduction.
func NewCosineEmbedding() *CosineEmbedding { return &CosineEmbedding{} }

// cosineEmbeddingEps is Paddle's 10e-12, added to each squared norm.
const cosineEmbeddingEps = 10e-12

// Forward returns the loss: shape [] for ReduceMean and ReduceSum, [N] for ReduceNone ([1] for
// inputs of shape [M]).
//
// It panics if input1 and input2 differ in shape or are not [N, M] or [M], the label is not [N]
// (or [1] or [] for [M] inputs), or Reduction is unknown.
func (l CosineEmbedding) Forward(input1, input2, label *tensor.Tensor) *tensor.Tensor {
	const op = "CosineEmbedding"
	checkReduction(op, l.Reduction)
	s1, s2, ls := input1.Shape(), input2.Shape(), label.Shape()
	if len(s1) < 1 || len(s1) > 2 || len(s1) != len(s2) || s1[len(s1)-1] != s2[len(s2)-1] || s1[0] != s2[0] {
		panicf(op, "inputs %v and %v: want the same shape, [N, M] or [M]", s1, s2)
	}
	n := 1
	if len(s1) == 2 {
		n = s1[0]
	}
	if !(len(ls) == 1 && ls[0] == n || len(s1) == 1 && len(ls) == 0) {
		panicf(op, "label shape %v does not fit inputs %v: want [%d]", ls, s1, n)
	}
	x1, x2 := input1.Reshape(n, -1), input2.Reshape(n, -1)
	prod := x1.Mul(x2).Sum(1)
	mag1 := x1.Square().Sum(1).AddScalar(cosineEmbeddingEps)
	mag2 := x2.Square().Sum(1).AddScalar(cosineEmbeddingEps)
	cos := prod.Div(mag1.Mul(mag2).Sqrt())
	y := label.Detach().Reshape(n)
	zero := tensor.Zeros(n)
	pos := tensor.Where(y.Equal(tensor.Scalar(1)), cos.Neg().AddScalar(1), zero)
	neg := tensor.Where(y.Equal(tensor.Scalar(-1)), cos.AddScalar(-l.Margin).ReLU(), zero)
	return reduce(pos.Add(neg), l.Reduction)
}
