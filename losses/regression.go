package losses

import (
	"github.com/oarlab/oar/tensor"
)

// SquareErrorCost returns (input - label)² element-wise, without reduction, as
// paddle.nn.functional.square_error_cost; follow it with Mean, as Paddle's tutorials do with
// paddle.mean. Unlike Paddle, the shapes must be equal: an input [N, 1] with a label [N] would
// broadcast to [N, N], a classic silent bug. It panics if the shapes differ.
func SquareErrorCost(input, label *tensor.Tensor) *tensor.Tensor {
	sameShape("SquareErrorCost", input, label)
	d := input.Sub(label)
	return d.Mul(d)
}

// MSE is paddle.nn.MSELoss: (input - label)² reduced by Reduction (the zero value, ReduceMean,
// is Paddle's default).
type MSE struct {
	Reduction Reduction
}

// NewMSE returns Paddle's default MSELoss(), the mean of the squared errors.
func NewMSE() *MSE { return &MSE{} }

// Forward returns the squared error of input and label, reduced: shape [] for ReduceMean and
// ReduceSum, the input's shape for ReduceNone. It panics if the shapes differ (see SquareErrorCost) or Reduction is
// unknown.
func (m MSE) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	checkReduction("MSE", m.Reduction)
	sameShape("MSE", input, label)
	d := input.Sub(label)
	return reduce(d.Mul(d), m.Reduction)
}
