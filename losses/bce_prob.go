package losses

import (
	"math"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// BCE is paddle.nn.BCELoss: the binary cross entropy of probabilities input in [0, 1] (a
// Sigmoid's output) and labels of the same shape,
//
//	loss = -(y·max(log x, -100) + (1-y)·max(log(1-x), -100))
//
// multiplied element-wise by Weight and reduced by Reduction. The logs are clamped at -100 as in
// Paddle's bce_loss kernel (and PyTorch's), so x = 0 or 1 gives a finite loss, and the gradient
// is the kernels' (x - y) / max(x·(1-x), 1e-12) (times the weight), also finite everywhere. Both
// are computed in one pass per element and the result joins the graph as
// loss + grad·(input - stop_gradient(input)), whose value is loss and whose gradient is grad, so
// it is exact to the kernels' formulas but not differentiable twice. Prefer BCEWithLogits on
// logits: it is stable for large |logit|. Neither the label nor the weight gets a gradient.
type BCE struct {
	// Weight rescales each element's loss; it must broadcast to the input. nil means 1.
	Weight    *tensor.Tensor
	Reduction Reduction
}

// NewBCE returns Paddle's default BCELoss(): mean reduction, no weight.
func NewBCE() *BCE { return &BCE{} }

// Forward returns the loss of the probabilities input against label: shape [] for ReduceMean and
// ReduceSum, the input's shape for ReduceNone.
//
// It panics if the shapes differ, an input is outside [0, 1] or NaN (Paddle's kernel checks
// this too), a label is outside [0, 1] or NaN (Paddle does not check), Weight does not broadcast
// to the input, or Reduction is unknown.
func (b BCE) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "BCE"
	checkReduction(op, b.Reduction)
	sameShape(op, input, label)
	x, y := input.Data(), label.Data()
	val := make([]float32, len(x))
	grad := make([]float32, len(x))
	for i, xi := range x {
		yi := y[i]
		if !(xi >= 0 && xi <= 1) {
			panicf(op, "input %v at index %d outside [0, 1]: BCE takes probabilities (use BCEWithLogits on logits)", xi, i)
		}
		if !(yi >= 0 && yi <= 1) {
			panicf(op, "label %v at index %d outside [0, 1]", yi, i)
		}
		logX := max(float32(math.Log(float64(xi))), -100)
		log1X := max(float32(math.Log(float64(1-xi))), -100)
		val[i] = (yi-1)*log1X - yi*logX
		grad[i] = (xi - yi) / max((1-xi)*xi, 1e-12)
	}
	shape := input.Shape()
	loss := tensor.New(val, shape...)
	switch {
	case input.IsNoGrad():
		loss = loss.NoGrad() // the evaluation mark travels on, as through any op
	case input.RequiresGrad():
		loss = loss.Add(tensor.New(grad, shape...).Mul(input.Sub(input.Detach())))
	}
	if b.Weight != nil {
		loss = loss.Mul(b.Weight.Detach())
		if !slices.Equal(loss.Shape(), shape) {
			panicf(op, "weight %v broadcasts the loss to %v, beyond the input %v", b.Weight.Shape(), loss.Shape(), shape)
		}
	}
	return reduce(loss, b.Reduction)
}

var _ Loss = BCE{}
