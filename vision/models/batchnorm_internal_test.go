package models

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// bn gives nn.BatchNorm2D's values, gradients and running statistics, in training and in
// evaluation.
func TestFastBatchNormMatchesNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][]int{{2, 3, 4, 5}, {3, 2, 5, 1}, {1, 4, 2, 2}, {4, 1, 1, 1}} {
		c := shape[1]
		for _, training := range []bool{true, false} {
			mk := func() *nn.BatchNorm2D {
				b := nn.NewBatchNorm2D(c)
				r := rand.New(rand.NewPCG(5, 6))
				for i := range c {
					b.Weight.Data()[i] = 1 + 0.3*float32(r.NormFloat64())
					b.Bias.Data()[i] = 0.2 * float32(r.NormFloat64())
					b.RunningMean.Data()[i] = 0.5 * float32(r.NormFloat64())
					b.RunningVar.Data()[i] = 0.5 + r.Float32()
				}
				b.Momentum, b.Epsilon = 0.8, 1e-3
				b.SetTraining(training)
				return b
			}
			fast, ref := mk(), mk()
			x0 := tensor.Randn(rng, shape...).Scale(2).AddScalar(0.7)
			xf, xr := x0.Detach().SetRequiresGrad(true), x0.Detach().SetRequiresGrad(true)
			g := tensor.Randn(rng, shape...)
			yf, yr := bn(fast, xf), ref.Forward(xr)
			tensortest.AllClose(t, yf, yr, 1e-5, 1e-5)
			yf.Mul(g).Sum().Backward()
			yr.Mul(g).Sum().Backward()
			tensortest.AllClose(t, xf.Grad(), xr.Grad(), 1e-4, 1e-4)
			tensortest.AllClose(t, fast.Weight.Grad(), ref.Weight.Grad(), 1e-4, 1e-4)
			tensortest.AllClose(t, fast.Bias.Grad(), ref.Bias.Grad(), 1e-4, 1e-4)
			tensortest.AllClose(t, fast.RunningMean, ref.RunningMean, 1e-6, 1e-5)
			tensortest.AllClose(t, fast.RunningVar, ref.RunningVar, 1e-6, 1e-5)
		}
	}
}

func TestFastBatchNormGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{2, 3, 3, 2}, {3, 2, 1, 4}} {
		for _, training := range []bool{true, false} {
			b := nn.NewBatchNorm2D(shape[1])
			b.RunningVar.Data()[0] = 2
			b.SetTraining(training)
			f := func(xs ...*tensor.Tensor) *tensor.Tensor {
				b.Weight, b.Bias = xs[1], xs[2]
				return bn(b, xs[0])
			}
			in := []*tensor.Tensor{tensor.Randn(rng, shape...), tensor.Randn(rng, shape[1]), tensor.Randn(rng, shape[1])}
			tensortest.GradCheck(t, f, in, tensortest.GradCheckOptions{})
		}
	}
}

func TestFastBatchNormBadInput(t *testing.T) {
	s := nn.NewSequential(nn.NewConv2D(3, 4, 1), nn.NewBatchNorm2D(5))
	defer func() {
		require.EqualError(t, recover().(error), "nn: 1 (BatchNorm2D): input [2 4 3 3], want [N, 5, H, W]")
	}()
	run(s, tensor.Zeros(2, 3, 3, 3))
}
