package nn

import (
	"fmt"
	"math"

	"github.com/oarlab/oar/tensor"
)

// BatchNorm2D normalises each channel of NCHW input over the batch and spatial axes, as
// paddle.nn.BatchNorm2D: y = (x - mean)/sqrt(var + Epsilon)*Weight + Bias. In training it uses
// the batch's statistics and updates the running ones as
// running = running*Momentum + batch*(1-Momentum) (Paddle's convention: Momentum 0.9 keeps 90% of
// the old value; PyTorch's 0.1 means the same). As Paddle's CPU kernel, the running variance is
// updated with the biased batch variance (PyTorch uses the unbiased one). In evaluation it uses
// the running statistics. Its state-dict keys are Paddle's: weight, bias, _mean, _variance.
type BatchNorm2D struct {
	Hooks
	Weight, Bias            *tensor.Tensor // [C], trained; ones and zeros at first
	RunningMean, RunningVar *tensor.Tensor // [C], buffers; zeros and ones at first
	Momentum, Epsilon       float32
	eval                    bool
}

// NewBatchNorm2D returns a BatchNorm2D over channels with Paddle's defaults (momentum 0.9,
// epsilon 1e-5). It panics if channels < 1.
func NewBatchNorm2D(channels int) *BatchNorm2D {
	if channels < 1 {
		panic(&Error{Layer: "BatchNorm2D", Msg: fmt.Sprintf("channels %d < 1", channels)})
	}
	return &BatchNorm2D{
		Weight:      tensor.Ones(channels).SetRequiresGrad(true),
		Bias:        tensor.Zeros(channels).SetRequiresGrad(true),
		RunningMean: tensor.Zeros(channels),
		RunningVar:  tensor.Ones(channels),
		Momentum:    0.9,
		Epsilon:     1e-5,
	}
}

// SetTraining switches between batch statistics (training) and running statistics.
func (b *BatchNorm2D) SetTraining(training bool) { b.eval = !training }

// Training reports whether b is in training mode.
func (b *BatchNorm2D) Training() bool { return !b.eval }

// Forward normalises x [N, C, H, W]. It panics if x is not 4-D with C channels.
func (b *BatchNorm2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	c := b.Weight.Len()
	if x.Rank() != 4 || x.Dim(1) != c {
		panicf(b, "input %v, want [N, %d, H, W]", x.Shape(), c)
	}
	return batchNorm(x, b.Weight, b.Bias, b.RunningMean, b.RunningVar, b.Momentum, b.Epsilon, b.eval, 1)
}

// batchNorm is the forward pass of BatchNorm1D and BatchNorm2D: x normalised per channel (axis
// ax) and then scaled by weight and shifted by bias, all four [C]. With useRunning it normalises
// with runMean and runVar and leaves them: one Mul and one Add by per-channel constants
// (weight/sqrt(var+eps) and bias - mean·that). Otherwise it normalises with the mean and biased
// variance of x over every other axis, as one fused GroupNorm with C groups over x laid out as
// [1, C, rest] (the layout change is a Permute that moves runs of the trailing positions), and
// updates runMean and runVar in place as running = running*momentum + batch*(1-momentum), the
// batch statistics summed in float64. Written as a chain of broadcasting ops, the training pass
// took about half of a ResNet-18 training step.
func batchNorm(x, weight, bias, runMean, runVar *tensor.Tensor, momentum, epsilon float32,
	useRunning bool, ax int) *tensor.Tensor {
	shape := x.Shape()
	c := shape[ax]
	outer, inner := 1, 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	for _, d := range shape[ax+1:] {
		inner *= d
	}
	if useRunning {
		mean, variance := runMean.Data(), runVar.Data()
		inv := make([]float32, c)
		for i := range inv {
			inv[i] = float32(1 / math.Sqrt(float64(variance[i]+epsilon)))
		}
		scale := weight.Mul(tensor.New(inv, c)) // differentiable in weight and bias
		shift := bias.Sub(scale.Mul(tensor.New(append([]float32(nil), mean...), c)))
		return x.Reshape(outer, c, inner).Mul(scale.Reshape(c, 1)).Add(shift.Reshape(c, 1)).Reshape(shape...)
	}
	// [outer, C, inner] → [C, outer, inner]
	var xt *tensor.Tensor
	switch {
	case outer == 1:
		xt = x
	case inner == 1:
		xt = x.Reshape(outer, c).Permute(1, 0)
	default:
		xt = x.Reshape(outer, c, inner).Permute(1, 0, 2)
	}
	y := xt.Reshape(1, c, outer*inner).GroupNorm(c, weight, bias, epsilon)
	switch {
	case outer == 1:
		y = y.Reshape(shape...)
	case inner == 1:
		y = y.Reshape(c, outer).Permute(1, 0).Reshape(shape...)
	default:
		y = y.Reshape(c, outer, inner).Permute(1, 0, 2).Reshape(shape...)
	}
	xd, cnt, m := x.Data(), float64(outer*inner), momentum
	rm, rv := runMean.Data(), runVar.Data()
	for ch := range c {
		var sum float64
		for o := range outer {
			for _, v := range xd[(o*c+ch)*inner : (o*c+ch+1)*inner] {
				sum += float64(v)
			}
		}
		mu := sum / cnt
		var sq float64
		for o := range outer {
			for _, v := range xd[(o*c+ch)*inner : (o*c+ch+1)*inner] {
				d := float64(v) - mu
				sq += d * d
			}
		}
		rm[ch] = rm[ch]*m + float32(mu)*(1-m)
		rv[ch] = rv[ch]*m + float32(sq/cnt)*(1-m)
	}
	return y
}

// Params returns "weight" and "bias".
func (b *BatchNorm2D) Params() []Param { return weightBias(b.Weight, b.Bias) }

// Buffers returns the running statistics as "_mean" and "_variance", Paddle's keys.
func (b *BatchNorm2D) Buffers() []Param {
	return []Param{{"_mean", b.RunningMean}, {"_variance", b.RunningVar}}
}
