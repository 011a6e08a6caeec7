package losses

import "github.com/oarlab/oar/tensor"

// L1 is paddle.nn.L1Loss: |input - label| reduced by Reduction (the zero value, ReduceMean, is
// Paddle's default). The gradient of |d| at d = 0 is 0, as Paddle's and PyTorch's abs.
type L1 struct {
	Reduction Reduction
}

// NewL1 returns Paddle's default L1Loss(), the mean absolute error.
func NewL1() *L1 { return &L1{} }

// Forward returns the absolute error of input and label, reduced: shape [] for ReduceMean and
// ReduceSum, the input's shape for ReduceNone. Both get a gradient. It panics if the shapes differ
// (Paddle broadcasts; see SquareErrorCost) or Reduction is unknown.
func (l L1) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "L1"
	checkReduction(op, l.Reduction)
	sameShape(op, input, label)
	return reduce(input.Sub(label).Abs(), l.Reduction)
}

var _ Loss = L1{}
