package oar_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// TestInputValidation collects the checks at the public boundaries: each bad value panics
// (programmer errors) with a message that names the function and the value.
func TestInputValidation(t *testing.T) {
	params := nn.NewLinear(2, 2).Params()
	ds := data.NewTensorDataset(tensor.Zeros(4, 8), tensor.Zeros(4, 1))
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"negative batch size in Fit", func() {
			newClassifier().Fit(context.Background(), ds, oar.FitOptions{BatchSize: -1})
		}, "oar: Fit: negative BatchSize -1 or Workers 0"},
		{"negative epochs", func() {
			newClassifier().Fit(context.Background(), ds, oar.FitOptions{Epochs: -2})
		}, "oar: Fit: negative Epochs -2"},
		{"negative batch size in Loader", func() { (&data.Loader{Dataset: ds, BatchSize: -1}).Len() },
			"data: Loader: negative BatchSize -1"},
		{"learning rate 0", func() { optim.NewSGD(params, 0) }, "optim: SGD: learning rate 0 must be positive and finite"},
		{"negative learning rate", func() { optim.NewAdam(params, -0.1) }, "optim: Adam: learning rate -0.1 must be positive and finite"},
		{"dropout p 1", func() { nn.NewDropout(1) }, "nn: Dropout: p 1 outside [0, 1)"},
		{"dropout p negative", func() { nn.NewDropout(-0.5) }, "nn: Dropout: p -0.5 outside [0, 1)"},
		{"kernel larger than padded input", func() {
			models.LeNet(10).Forward(tensor.Zeros(1, 1, 8, 8))
		}, "nn: features.3 (Conv2D): tensor: Conv2D: kernel 5x5 (dilated 5x5) larger than padded input 4x4 (input [1 6 4 4])"},
		{"pool kernel larger than input", func() {
			tensor.Zeros(1, 1, 3, 3).MaxPool2D(tensor.PoolOptions{Kernel: []int{4}})
		}, "tensor: MaxPool2D: kernel 4x4 larger than padded input 3x3 (input [1 1 3 3])"},
		{"label outside the classes", func() {
			losses.NewCrossEntropy().Forward(tensor.Zeros(3, 10), tensor.New([]float32{1, 10, 2}, 3))
		}, "losses: CrossEntropy: label 10 at index 1 outside [0, 10)"},
		{"label outside the classes in a metric", func() {
			metrics.Accuracy(tensor.Zeros(2, 10), tensor.New([]float32{3, 12}, 2), 1)
		}, "metrics: Accuracy: label 12 at index 1 is not a class id in [0, 10)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "no panic")
				require.Equal(t, c.msg, fmt.Sprint(r))
			}()
			c.f()
		})
	}
}
