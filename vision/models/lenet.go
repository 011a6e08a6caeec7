package models

import (
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// LeNetModel is paddle.vision.models.LeNet: a feature extractor of two convolutions and an
// optional classifier head. Its parameter names are Paddle's ("features.0.weight",
// "fc.2.bias"), so a state dict maps one to one.
type LeNetModel struct {
	nn.Hooks
	Features *nn.Sequential // Conv2D(1,6,3,pad 1) ReLU MaxPool2D(2,2) Conv2D(6,16,5) ReLU MaxPool2D(2,2)
	FC       *nn.Sequential // Linear(400,120) Linear(120,84) Linear(84,numClasses); nil if numClasses <= 0
}

// LeNet returns Paddle's LeNet for 1×28×28 input: [N,1,28,28] → [N,numClasses]. As in Paddle,
// there is no activation between the three Linear layers. With numClasses 10 it has 61,610
// parameters. With numClasses <= 0 it has no head and returns the [N,16,5,5] features. It is not
// fused: nn.Fuse(net) makes each Conv2D, ReLU, MaxPool2D run one nn.ConvReLUPool (see the
// package doc).
func LeNet(numClasses int) *LeNetModel {
	m := &LeNetModel{Features: nn.NewSequential(
		nn.NewConv2D(1, 6, 3, nn.Conv2DOptions{Padding: []int{1}}),
		nn.NewReLU(),
		nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(6, 16, 5),
		nn.NewReLU(),
		nn.NewMaxPool2D(2, 2),
	)}
	if numClasses > 0 {
		m.FC = nn.NewSequential(nn.NewLinear(400, 120), nn.NewLinear(120, 84), nn.NewLinear(84, numClasses))
	}
	return m
}

// Forward maps images [N,1,28,28] to logits [N,numClasses]. It panics, naming the layer, if the
// input has another shape.
func (m *LeNetModel) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.Features.Forward(x)
	if m.FC == nil {
		return x
	}
	return m.FC.Forward(x.Flatten(1, -1))
}

// Params returns the parameters named as Paddle's state dict.
func (m *LeNetModel) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns "features" and, with a head, "fc".
func (m *LeNetModel) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "features", Layer: m.Features}}
	if m.FC != nil {
		subs = append(subs, nn.Named{Name: "fc", Layer: m.FC})
	}
	return subs
}
