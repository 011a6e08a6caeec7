package losses

import (
	"math"

	"github.com/oarlab/oar/tensor"
)

// SmoothL1 is paddle.nn.SmoothL1Loss, which Paddle computes with its huber_loss kernel: with
// d = input - label and δ Delta,
//
//	loss = 0.5·d²             where |d| <= δ
//	loss = δ·(|d| - 0.5·δ)    elsewhere
//
// reduced by Reduction. This is PyTorch's HuberLoss(delta=δ), not PyTorch's
// SmoothL1Loss(beta=δ), which divides the quadratic part by β and leaves the linear part
// unscaled: 0.5·d²/β and |d| - 0.5·β, i.e. Paddle's loss divided by δ. The two agree only for
// δ = 1, both libraries' default. The gradient is d inside and ±δ outside.
type SmoothL1 struct {
	// Delta is Paddle's delta, the threshold between the quadratic and linear parts, positive;
	// 0 means Paddle's default 1.
	Delta     float32
	Reduction Reduction
}

// NewSmoothL1 returns Paddle's default SmoothL1Loss(): delta 1, mean reduction.
func NewSmoothL1() *SmoothL1 { return &SmoothL1{} }

// Forward returns the loss of input against label: shape [] for ReduceMean and ReduceSum, the
// input's shape for ReduceNone. Both get a gradient. It panics if the shapes differ, Delta is
// negative or not finite, or Reduction is unknown.
func (l SmoothL1) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "SmoothL1"
	checkReduction(op, l.Reduction)
	sameShape(op, input, label)
	delta := l.Delta
	if delta == 0 {
		delta = 1
	}
	if !(delta > 0) || math.IsInf(float64(delta), 0) {
		panicf(op, "Delta %v must be positive and finite", l.Delta)
	}
	d := input.Sub(label)
	a := d.Abs()
	quad := d.Square().Scale(0.5)
	lin := a.AddScalar(-0.5 * delta).Scale(delta)
	return reduce(tensor.Where(a.Greater(tensor.Scalar(delta)), lin, quad), l.Reduction)
}

var _ Loss = SmoothL1{}
