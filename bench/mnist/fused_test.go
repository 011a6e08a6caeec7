package main

import (
	"testing"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// lenetFused is models.LeNet's forward pass written with tensor's fused ops (Linear for
// MatMul+Add, SoftmaxCrossEntropy for the cross entropy), without the nn wrappers: what the step
// would cost if nn.Linear and losses.CrossEntropy used them.
func lenetFused(net *models.LeNetModel, x, y *tensor.Tensor) *tensor.Tensor {
	conv := func(i int) *nn.Conv2D { return net.Features.At(i).(*nn.ConvReLUPool).Conv } // build fuses
	lin := func(i int) *nn.Linear { return net.FC.At(i).(*nn.Linear) }
	pool := tensor.PoolOptions{Kernel: []int{2}, Stride: []int{2}}
	h := x.Conv2D(conv(0).Weight, conv(0).Bias, conv(0).Options).ReLU().MaxPool2D(pool)
	h = h.Conv2D(conv(1).Weight, conv(1).Bias, conv(1).Options).ReLU().MaxPool2D(pool)
	h = h.Reshape(h.Dim(0), -1)
	for i := range 3 {
		h = h.Linear(lin(i).Weight, lin(i).Bias)
	}
	return h.SoftmaxCrossEntropy(y, losses.DefaultIgnoreIndex).Mean()
}

// BenchmarkTrainStepFused is BenchmarkTrainStep/lenet with the fused ops (see lenetFused).
func BenchmarkTrainStepFused(b *testing.B) {
	s, err := build("lenet", 1, false)
	if err != nil {
		b.Fatal(err)
	}
	net := s.net.(*models.LeNetModel)
	opt := s.opt.(*optim.Adam)
	x, y := syntheticBatch(s.batch, 1)
	step := func() {
		lenetFused(net, x, y).Backward()
		opt.Step()
		opt.ClearGrad()
	}
	for range 3 {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		step()
	}
	reportCPU(b, c0)
	b.ReportMetric(float64(s.batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
