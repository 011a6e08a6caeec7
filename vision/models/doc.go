// Package models has ready networks, as paddle.vision.models: LeNet exactly as Paddle's, and a
// configurable MLP.
//
// The networks run their layers as written: LeNet's Conv2D, ReLU and MaxPool2D are three layers,
// as oar.Summary shows them. For speed, call nn.Fuse on the network before training: each
// Conv2D, ReLU, MaxPool2D run then becomes one nn.ConvReLUPool, with the same values, gradients
// and state-dict keys ("features.0.weight", "features.3.weight"), so Paddle-keyed checkpoints load
// either way.
//
//	net := models.LeNet(10)
//	oar.Summary(net, []int{1, 1, 28, 28}) // Paddle's table
//	nn.Fuse(net)                           // 2 runs fused
package models
