package losses

import (
	"slices"

	"github.com/oarlab/oar/tensor"
)

// BCEWithLogits is paddle.nn.BCEWithLogitsLoss: the binary cross entropy of sigmoid(input) and
// a label in [0, 1] of the same shape,
//
//	loss = -(y·log σ(x) + (1-y)·log(1-σ(x)))
//
// computed stably from one LogSoftmax over the pair (0, x), finite for any finite x and with the
// exact gradient σ(x) - y everywhere (also at x = 0). PosWeight multiplies the loss by
// 1 + (PosWeight-1)·y, Paddle's form (it equals PyTorch's for hard 0/1 labels), and Weight
// multiplies it element-wise.
type BCEWithLogits struct {
	// Weight rescales each element's loss; it must broadcast to the input. nil means 1.
	Weight *tensor.Tensor
	// PosWeight weighs positive examples, one value per class (the input's last axis); it must
	// broadcast to the input. nil means 1.
	PosWeight *tensor.Tensor
	Reduction Reduction
}

// NewBCEWithLogits returns Paddle's default BCEWithLogitsLoss(): mean reduction, no weights.
func NewBCEWithLogits() *BCEWithLogits { return &BCEWithLogits{} }

// Forward returns the loss of the logits input against label: shape [] for ReduceMean and
// ReduceSum, the input's shape for ReduceNone. Neither the label nor the weights get a gradient.
//
// It panics if the shapes differ, a label is outside [0, 1] or NaN (naming the value and its
// index), a weight does not broadcast to the input, or Reduction is unknown.
func (b BCEWithLogits) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "BCEWithLogits"
	checkReduction(op, b.Reduction)
	sameShape(op, input, label)
	y := label.Detach()
	notY := make([]float32, y.Len())
	for i, v := range y.Data() {
		if !(v >= 0 && v <= 1) {
			panicf(op, "label %v at index %d outside [0, 1]", v, i)
		}
		notY[i] = 1 - v
	}
	z := tensor.Stack([]*tensor.Tensor{tensor.Zeros(input.Shape()...), input}, -1).LogSoftmax(-1)
	logNotP, logP := z.Index(-1, 0), z.Index(-1, 1) // log(1-σ(x)) = -log(1+e^x), log σ(x) = x - log(1+e^x)
	loss := logP.Mul(y).Add(logNotP.Mul(tensor.New(notY, input.Shape()...))).Neg()
	if b.PosWeight != nil {
		loss = loss.Mul(y.Mul(b.PosWeight.Detach().AddScalar(-1)).AddScalar(1))
	}
	if b.Weight != nil {
		loss = loss.Mul(b.Weight.Detach())
	}
	if !slices.Equal(loss.Shape(), input.Shape()) {
		panicf(op, "weights broadcast the loss to %v, beyond the input %v", loss.Shape(), input.Shape())
	}
	return reduce(loss, b.Reduction)
}
