// Package models has ready networks, as paddle.vision.models: LeNet and a configurable MLP, and
// Paddle's model zoo with Paddle's architectures, options, parameter counts and state-dict keys,
// so that a state dict Paddle saved loads by name:
//
//   - ResNet18, ResNet34, ResNet50, ResNet101, ResNet152 and NewResNet (Paddle's resnet18 ...
//     and ResNet(Block, depth, width, groups): Wide ResNet and ResNeXt widths too);
//   - VGG11, VGG13, VGG16, VGG19 (with VGGOptions.BatchNorm, the _bn models), NewVGG and
//     VGGLayers (Paddle's VGG and make_layers);
//   - NewMobileNetV1, NewMobileNetV2, NewMobileNetV3Small, NewMobileNetV3Large (scale);
//   - NewAlexNet; NewSqueezeNet("1.0" or "1.1").
//
// Each takes one options struct whose zero value is Paddle's default: NumClasses 0 is Paddle's
// 1000 and a negative NumClasses is Paddle's num_classes <= 0 (no classifier); NoPool is
// with_pool=False. The constructors return an error only for Pretrained: oar downloads nothing,
// so Pretrained reads a file the user put at DefaultWeightsPath(arch) (under WeightsDir,
// $OAR_WEIGHTS) or at WeightsPath, either Paddle's own .pdparams or a safetensors state dict in
// Paddle's or PyTorch's layout (LoadPretrained), and without one the error names the paths and
// Paddle's download URL:
//
//	net, err := models.ResNet18(models.ResNetOptions{NumClasses: 10})
//	net, err := models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.5, Pretrained: true})
//
// ResNet-18, VGG-11-BN and MobileNetV2 give torchvision 0.14's outputs on the same weights
// (testdata/make_fixtures.py). The zoo's BatchNorm2D layers are *nn.BatchNorm2D (keys "_mean",
// "_variance"), run by a faster path with the same values and gradients (see batchnorm.go).
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
