package optim

import (
	"math"

	"github.com/oarlab/oar/nn"
)

// GradClip clips gradients inside an optimizer's Step, before weight decay is added (Paddle's
// grad_clip=, applied before regularization). Clipping changes the gradient the update sees, not
// the parameters' Grad tensors, as in Paddle. It is implemented by ClipGradByValue,
// ClipGradByNorm and ClipGradByGlobalNorm.
type GradClip interface {
	// clip fills scale[i] with the factor for params[i]'s gradient and returns the bounds that
	// clamp each scaled element.
	clip(op string, params []nn.Param, scale []float32) bounds
}

var (
	_ GradClip = ClipGradByValue{}
	_ GradClip = ClipGradByNorm{}
	_ GradClip = ClipGradByGlobalNorm{}
)

// ClipGradByValue is paddle.nn.ClipGradByValue: every gradient element is clamped to [Min, Max].
// Paddle's ClipGradByValue(max) without min clamps to [-max, max]; write both bounds:
// ClipGradByValue{Min: -1, Max: 1}. A Step panics if Min > Max or either is NaN.
type ClipGradByValue struct {
	Min, Max float32
}

func (c ClipGradByValue) clip(op string, params []nn.Param, scale []float32) bounds {
	if !(c.Min <= c.Max) {
		panicf(op, "ClipGradByValue: Min %v must not exceed Max %v", c.Min, c.Max)
	}
	for i := range scale {
		scale[i] = 1
	}
	return bounds{c.Min, c.Max, true}
}

// ClipGradByNorm is paddle.nn.ClipGradByNorm: each gradient whose L2 norm exceeds ClipNorm is
// scaled to norm ClipNorm (g·ClipNorm/‖g‖); the others pass unchanged. A Step panics if ClipNorm
// is not positive and finite.
type ClipGradByNorm struct {
	ClipNorm float32
}

func (c ClipGradByNorm) clip(op string, params []nn.Param, scale []float32) bounds {
	checkClipNorm(op, "ClipGradByNorm", c.ClipNorm)
	for i, p := range params {
		scale[i] = 1
		if g := p.Grad(); g != nil {
			if n := math.Sqrt(sumSquares(g.Data())); n > float64(c.ClipNorm) {
				scale[i] = float32(float64(c.ClipNorm) / n)
			}
		}
	}
	return bounds{}
}

// ClipGradByGlobalNorm is paddle.nn.ClipGradByGlobalNorm: the L2 norm of all gradients together,
// global = sqrt(Σ‖g‖²), is limited to ClipNorm by scaling every gradient by
// ClipNorm / max(global, ClipNorm). Parameters without a gradient are left out. A Step panics if
// ClipNorm is not positive and finite.
type ClipGradByGlobalNorm struct {
	ClipNorm float32
}

func (c ClipGradByGlobalNorm) clip(op string, params []nn.Param, scale []float32) bounds {
	checkClipNorm(op, "ClipGradByGlobalNorm", c.ClipNorm)
	var sq float64
	for _, p := range params {
		if g := p.Grad(); g != nil {
			sq += sumSquares(g.Data())
		}
	}
	clipNorm := float64(c.ClipNorm)
	s := float32(clipNorm / math.Max(math.Sqrt(sq), clipNorm))
	for i := range scale {
		scale[i] = s
	}
	return bounds{}
}

func checkClipNorm(op, clip string, v float32) {
	if !(v > 0) || !finite(v) {
		panicf(op, "%s: ClipNorm %v must be positive and finite", clip, v)
	}
}

// sumSquares returns Σx² accumulated in float64.
func sumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}
