package nn

import (
	"fmt"

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
	return batchNorm(x, b.Weight, b.Bias, b.RunningMean, b.RunningVar, b.Momentum, b.Epsilon,
		b.eval, []int{0, 2, 3}, []int{1, c, 1, 1})
}

// batchNorm is the forward pass of BatchNorm1D and BatchNorm2D: x normalised per channel and
// then scaled by weight and shifted by bias, all four [C] tensors reshaped to pshape (C on the
// channel axis, 1 on the others) to broadcast against x. With useRunning it normalises with
// runMean and runVar and leaves them; otherwise with the mean and biased variance of x over axes
// (every axis but the channel one), and it updates runMean and runVar in place as
// running = running*momentum + batch*(1-momentum).
func batchNorm(x, weight, bias, runMean, runVar *tensor.Tensor, momentum, epsilon float32,
	useRunning bool, axes, pshape []int) *tensor.Tensor {
	gamma, beta := weight.Reshape(pshape...), bias.Reshape(pshape...)
	if useRunning {
		mean := runMean.Reshape(pshape...)
		std := runVar.AddScalar(epsilon).Sqrt().Reshape(pshape...)
		return x.Sub(mean).Div(std).Mul(gamma).Add(beta)
	}
	mean := x.MeanKeepDim(axes...)
	xc := x.Sub(mean)
	variance := xc.Mul(xc).MeanKeepDim(axes...)
	y := xc.Div(variance.AddScalar(epsilon).Sqrt()).Mul(gamma).Add(beta)
	m := momentum
	rm, rv, bm, bv := runMean.Data(), runVar.Data(), mean.Data(), variance.Data()
	for i := range bm {
		rm[i] = rm[i]*m + bm[i]*(1-m)
		rv[i] = rv[i]*m + bv[i]*(1-m)
	}
	return y
}

// Params returns "weight" and "bias".
func (b *BatchNorm2D) Params() []Param { return weightBias(b.Weight, b.Bias) }

// Buffers returns the running statistics as "_mean" and "_variance", Paddle's keys.
func (b *BatchNorm2D) Buffers() []Param {
	return []Param{{"_mean", b.RunningMean}, {"_variance", b.RunningVar}}
}
