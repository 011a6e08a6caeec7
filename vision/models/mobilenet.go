package models

import (
	"fmt"
	"strconv"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// MobileNetOptions are the optional settings of NewMobileNetV1, NewMobileNetV2,
// NewMobileNetV3Small and NewMobileNetV3Large, Paddle's keyword arguments of mobilenet_v1,
// mobilenet_v2, mobilenet_v3_small and mobilenet_v3_large. The zero value is Paddle's default.
type MobileNetOptions struct {
	// Scale multiplies the channels of each layer (Paddle's scale). 0 means 1.0.
	Scale float64
	// NumClasses is the size of the last Linear layer. 0 means Paddle's default 1000; a negative
	// value is Paddle's num_classes <= 0: no classifier, and Forward returns the features.
	NumClasses int
	// NoPool leaves out the AdaptiveAvgPool2D(1) before the classifier (Paddle's
	// with_pool=False).
	NoPool bool
	// Pretrained loads ImageNet weights from a file the user provides (see LoadPretrained).
	Pretrained bool
	// WeightsPath is the file Pretrained reads; "" means DefaultWeightsPath(arch).
	WeightsPath string
}

// scaleName is Python's str(scale) for the scales Paddle's weight names use ("1.0", "0.5").
func scaleName(s float64) string {
	n := strconv.FormatFloat(s, 'f', -1, 64)
	if s == float64(int(s)) {
		n += ".0"
	}
	return n
}

// pool is the optional AdaptiveAvgPool2D(1) of the MobileNets.
func pool(o MobileNetOptions) *nn.AdaptiveAvgPool2D {
	if o.NoPool {
		return nil
	}
	return nn.NewAdaptiveAvgPool2D(1)
}

// forwardHead applies the optional pool and classifier, flattening in between.
func forwardHead(x *tensor.Tensor, p *nn.AdaptiveAvgPool2D, classifier nn.Layer) *tensor.Tensor {
	if p != nil {
		x = p.Forward(x)
	}
	if !isNil(classifier) {
		x = classifier.Forward(x.Flatten(1, -1))
	}
	return x
}

// MobileNetV1 is paddle.vision.models.MobileNetV1: conv1 (a ConvNormActivation of 3×3, stride
// 2), thirteen DepthwiseSeparable blocks named as Paddle's sublayers "conv2_1", "conv2_2",
// "conv3_1", "conv3_2", "conv4_1", "conv4_2", "conv5_1" ... "conv5_6", "conv6", an
// AdaptiveAvgPool2D(1) ("pool2d_avg") and "fc". Channels are int(c·scale), as Paddle's. Keys
// follow Paddle 2.4 and later ("conv1.0.weight", "conv2_1._depthwise_conv.1._mean"), where each
// conv-norm-ReLU is a ConvNormActivation Sequential (earlier Paddle named them
// "_conv"/"_norm_layer"). torchvision has no MobileNetV1.
type MobileNetV1 struct {
	nn.Hooks
	Conv1  *nn.Sequential
	Blocks []*DepthwiseSeparable // conv2_1 ... conv6
	Pool   *nn.AdaptiveAvgPool2D // "pool2d_avg"; nil with NoPool
	FC     *nn.Linear            // nil if NumClasses < 0
}

var mobileNetV1Names = []string{"conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv4_1", "conv4_2",
	"conv5_1", "conv5_2", "conv5_3", "conv5_4", "conv5_5", "conv5_6", "conv6"}

// DepthwiseSeparable is Paddle's MobileNetV1 block: a 3×3 depthwise ConvNormActivation
// ("_depthwise_conv", the block's stride) and a 1×1 one ("_pointwise_conv"), each conv, BN, ReLU.
type DepthwiseSeparable struct {
	nn.Hooks
	Depthwise, Pointwise *nn.Sequential
}

// Forward applies the block to x [N, C, H, W].
func (b *DepthwiseSeparable) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	return b.Pointwise.Forward(b.Depthwise.Forward(x))
}

// Params returns the parameters named as Paddle's.
func (b *DepthwiseSeparable) Params() []nn.Param { return nn.CollectParams(b.Sublayers()) }

// Sublayers returns _depthwise_conv and _pointwise_conv.
func (b *DepthwiseSeparable) Sublayers() []nn.Named {
	return []nn.Named{{Name: "_depthwise_conv", Layer: b.Depthwise}, {Name: "_pointwise_conv", Layer: b.Pointwise}}
}

// NewMobileNetV1 is Paddle's mobilenet_v1 / MobileNetV1(scale, num_classes, with_pool): 4,231,976
// parameters at scale 1 with 1000 classes. It panics on a negative scale.
func NewMobileNetV1(opts ...MobileNetOptions) (*MobileNetV1, error) {
	o := oneOptions("MobileNetV1", opts)
	s := scale("MobileNetV1", o.Scale)
	sc := func(c int) int { return int(float64(c) * s) }
	m := &MobileNetV1{Conv1: convNormAct(3, sc(32), 3, 2, 1, batchNorm, nn.NewReLU())}
	// in, out1, out2, groups, stride of Paddle's thirteen blocks
	cfg := [][5]int{{32, 32, 64, 32, 1}, {64, 64, 128, 64, 2}, {128, 128, 128, 128, 1}, {128, 128, 256, 128, 2},
		{256, 256, 256, 256, 1}, {256, 256, 512, 256, 2}}
	for range 5 {
		cfg = append(cfg, [5]int{512, 512, 512, 512, 1})
	}
	cfg = append(cfg, [5]int{512, 512, 1024, 512, 2}, [5]int{1024, 1024, 1024, 1024, 1})
	for _, c := range cfg {
		m.Blocks = append(m.Blocks, &DepthwiseSeparable{
			Depthwise: nn.NewSequential(conv(sc(c[0]), sc(c[1]), 3, c[4], 1, sc(c[3]), false), batchNorm(sc(c[1])), nn.NewReLU()),
			Pointwise: convNormAct(sc(c[1]), sc(c[2]), 1, 1, 1, batchNorm, nn.NewReLU()),
		})
	}
	m.Pool = pool(o)
	if n := classes(o.NumClasses); n > 0 {
		m.FC = nn.NewLinear(sc(1024), n)
	}
	if o.Pretrained {
		return m, loadPretrained("mobilenetv1_"+scaleName(s), m, o.WeightsPath)
	}
	return m, nil
}

// Forward maps images [N, 3, H, W] to logits [N, NumClasses].
func (m *MobileNetV1) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.Conv1.Forward(x)
	for _, b := range m.Blocks {
		x = b.Forward(x)
	}
	return forwardHead(x, m.Pool, m.FC)
}

// Params returns the parameters named as Paddle's state dict.
func (m *MobileNetV1) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns conv1, conv2_1 ... conv6 and, if present, pool2d_avg and fc.
func (m *MobileNetV1) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "conv1", Layer: m.Conv1}}
	for i, b := range m.Blocks {
		subs = append(subs, nn.Named{Name: mobileNetV1Names[i], Layer: b})
	}
	subs = named(subs, "pool2d_avg", m.Pool)
	return named(subs, "fc", m.FC)
}

// MobileNetV2 is paddle.vision.models.MobileNetV2: features (a 3×3 conv-BN-ReLU6 of stride 2,
// seventeen InvertedResidual blocks and a 1×1 conv-BN-ReLU6 to the last channels,
// makeDivisible(1280·max(1, scale))), an AdaptiveAvgPool2D(1) ("pool2d_avg") and the classifier
// Dropout(0.2), Linear. Keys are Paddle's and torchvision's ("features.1.conv.0.0.weight",
// "classifier.1.weight"); the network is torchvision's mobilenet_v2 with width_mult = scale.
type MobileNetV2 struct {
	nn.Hooks
	Features   *nn.Sequential
	Pool       *nn.AdaptiveAvgPool2D // nil with NoPool
	Classifier *nn.Sequential        // nil if NumClasses < 0
}

// InvertedResidual is MobileNetV2's block: conv, a Sequential of a 1×1 expanding conv-BN-ReLU6
// (left out at expansion 1), a 3×3 depthwise conv-BN-ReLU6 of the block's stride, and a 1×1
// Conv2D and BatchNorm2D to the output channels; x is added when the stride is 1 and the
// channels do not change.
type InvertedResidual struct {
	nn.Hooks
	Conv   *nn.Sequential
	UseRes bool
}

// Forward applies the block to x [N, C, H, W].
func (b *InvertedResidual) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	if b.UseRes {
		return x.Add(b.Conv.Forward(x))
	}
	return b.Conv.Forward(x)
}

// Params returns the parameters named as Paddle's.
func (b *InvertedResidual) Params() []nn.Param { return nn.CollectParams(b.Sublayers()) }

// Sublayers returns conv.
func (b *InvertedResidual) Sublayers() []nn.Named { return []nn.Named{{Name: "conv", Layer: b.Conv}} }

func newInvertedResidual(in, out, stride, expand int) *InvertedResidual {
	hidden := in * expand // Paddle: int(round(inp * expand_ratio)), expand_ratio an integer
	s := nn.NewSequential()
	if expand != 1 {
		s.Append(convNormAct(in, hidden, 1, 1, 1, batchNorm, nn.NewReLU6()))
	}
	s.Append(convNormAct(hidden, hidden, 3, stride, hidden, batchNorm, nn.NewReLU6()))
	s.Append(conv(hidden, out, 1, 1, 0, 1, false))
	s.Append(batchNorm(out))
	return &InvertedResidual{Conv: s, UseRes: stride == 1 && in == out}
}

// NewMobileNetV2 is Paddle's mobilenet_v2 / MobileNetV2(scale, num_classes, with_pool):
// 3,504,872 parameters at scale 1 with 1000 classes. It panics on a negative scale.
func NewMobileNetV2(opts ...MobileNetOptions) (*MobileNetV2, error) {
	o := oneOptions("MobileNetV2", opts)
	s := scale("MobileNetV2", o.Scale)
	in := makeDivisible(32*s, 8)
	last := makeDivisible(1280*max(1, s), 8)
	features := nn.NewSequential(convNormAct(3, in, 3, 2, 1, batchNorm, nn.NewReLU6()))
	for _, c := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		out := makeDivisible(float64(c[1])*s, 8)
		for i := range c[2] {
			stride := 1
			if i == 0 {
				stride = c[3]
			}
			features.Append(newInvertedResidual(in, out, stride, c[0]))
			in = out
		}
	}
	features.Append(convNormAct(in, last, 1, 1, 1, batchNorm, nn.NewReLU6()))
	m := &MobileNetV2{Features: features, Pool: pool(o)}
	if n := classes(o.NumClasses); n > 0 {
		m.Classifier = nn.NewSequential(nn.NewDropout(0.2), nn.NewLinear(last, n))
	}
	if o.Pretrained {
		return m, loadPretrained("mobilenetv2_"+scaleName(s), m, o.WeightsPath)
	}
	return m, nil
}

// Forward maps images [N, 3, H, W] to logits [N, NumClasses].
func (m *MobileNetV2) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	return forwardHead(m.Features.Forward(x), m.Pool, m.Classifier)
}

// Params returns the parameters named as Paddle's state dict.
func (m *MobileNetV2) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns features and, if present, pool2d_avg and classifier.
func (m *MobileNetV2) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "features", Layer: m.Features}}
	subs = named(subs, "pool2d_avg", m.Pool)
	return named(subs, "classifier", m.Classifier)
}

// MobileNetV3 is paddle.vision.models.MobileNetV3 (built by NewMobileNetV3Small and
// NewMobileNetV3Large): conv (3×3 stride 2, BN, Hardswish), blocks (InvertedResidualV3), lastconv
// (1×1 to 6× its input channels, BN, Hardswish), an AdaptiveAvgPool2D(1) ("avgpool") and the
// classifier Linear, Hardswish, Dropout(0.2), Linear. Every BatchNorm2D has Paddle's epsilon 0.001
// and momentum 0.99 (torchvision's eps 0.001, momentum 0.01: the same). The network is
// torchvision's mobilenet_v3_small/large with width_mult = scale, but the keys differ
// (torchvision's "features.N.block.M..."), and the squeeze-excitation's Hardsigmoid has Paddle's
// slope 0.1666667 where torchvision's is 1/6.
type MobileNetV3 struct {
	nn.Hooks
	Conv       *nn.Sequential
	Blocks     *nn.Sequential // of *InvertedResidualV3
	LastConv   *nn.Sequential
	AvgPool    *nn.AdaptiveAvgPool2D // nil with NoPool
	Classifier *nn.Sequential        // nil if NumClasses < 0
}

// InvertedResidualV3 is MobileNetV3's block, Paddle's mobilenetv3.InvertedResidual:
// expand_conv (1×1 conv-BN-activation, left out when the expanded channels equal the input's),
// bottleneck_conv (depthwise k×k conv-BN-activation of the block's stride), mid_se (a
// SqueezeExcitation, optional) and linear_conv (1×1 conv-BN); x is added when the stride is 1
// and the channels do not change.
type InvertedResidualV3 struct {
	nn.Hooks
	ExpandConv     *nn.Sequential // nil without expansion
	BottleneckConv *nn.Sequential
	MidSE          *SqueezeExcitation // nil without squeeze-excitation
	LinearConv     *nn.Sequential
	UseRes         bool
}

// Forward applies the block to x [N, C, H, W].
func (b *InvertedResidualV3) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	identity := x
	if b.ExpandConv != nil {
		x = b.ExpandConv.Forward(x)
	}
	x = b.BottleneckConv.Forward(x)
	if b.MidSE != nil {
		x = b.MidSE.Forward(x)
	}
	x = b.LinearConv.Forward(x)
	if b.UseRes {
		x = identity.Add(x)
	}
	return x
}

// Params returns the parameters named as Paddle's.
func (b *InvertedResidualV3) Params() []nn.Param { return nn.CollectParams(b.Sublayers()) }

// Sublayers returns expand_conv (if present), bottleneck_conv, mid_se (if present) and
// linear_conv.
func (b *InvertedResidualV3) Sublayers() []nn.Named {
	subs := named(nil, "expand_conv", b.ExpandConv)
	subs = append(subs, nn.Named{Name: "bottleneck_conv", Layer: b.BottleneckConv})
	if b.MidSE != nil {
		subs = append(subs, nn.Named{Name: "mid_se", Layer: b.MidSE})
	}
	return append(subs, nn.Named{Name: "linear_conv", Layer: b.LinearConv})
}

// SqueezeExcitation is Paddle's mobilenetv3.SqueezeExcitation: x·σ(fc2(relu(fc1(avgpool(x))))),
// where fc1 and fc2 are 1×1 Conv2D with bias and σ is Paddle's Hardsigmoid (slope 0.1666667,
// offset 0.5).
type SqueezeExcitation struct {
	nn.Hooks
	AvgPool       *nn.AdaptiveAvgPool2D
	FC1, FC2      *nn.Conv2D
	Activation    *nn.ReLU
	ScaleActivate *nn.Hardsigmoid
}

// NewSqueezeExcitation returns a SqueezeExcitation from in channels through squeeze channels.
func NewSqueezeExcitation(in, squeeze int) *SqueezeExcitation {
	return &SqueezeExcitation{
		AvgPool: nn.NewAdaptiveAvgPool2D(1),
		FC1:     conv(in, squeeze, 1, 1, 0, 1, true), FC2: conv(squeeze, in, 1, 1, 0, 1, true),
		Activation: nn.NewReLU(), ScaleActivate: nn.NewHardsigmoid(),
	}
}

// Forward scales each channel of x [N, C, H, W] by its excitation.
func (s *SqueezeExcitation) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer s.Done(s, x, &y)
	e := s.FC2.Forward(s.Activation.Forward(s.FC1.Forward(s.AvgPool.Forward(x))))
	return s.ScaleActivate.Forward(e).Mul(x)
}

// Params returns fc1's and fc2's weights and biases.
func (s *SqueezeExcitation) Params() []nn.Param { return nn.CollectParams(s.Sublayers()) }

// Sublayers returns avgpool, fc1, fc2, activation and scale_activation, as Paddle's.
func (s *SqueezeExcitation) Sublayers() []nn.Named {
	return []nn.Named{{Name: "avgpool", Layer: s.AvgPool}, {Name: "fc1", Layer: s.FC1}, {Name: "fc2", Layer: s.FC2},
		{Name: "activation", Layer: s.Activation}, {Name: "scale_activation", Layer: s.ScaleActivate}}
}

// v3Config is one row of Paddle's InvertedResidualConfig: in, kernel, expanded, out, SE,
// Hardswish (else ReLU), stride.
type v3Config struct {
	in, kernel, expanded, out int
	se, hardswish             bool
	stride                    int
}

func newMobileNetV3(name, arch string, cfg []v3Config, lastChannel int, o MobileNetOptions) (*MobileNetV3, error) {
	s := scale(name, o.Scale)
	adjust := func(c int) int { return makeDivisible(float64(c)*s, 8) }
	bn := func(c int) *nn.BatchNorm2D {
		b := nn.NewBatchNorm2D(c)
		b.Epsilon, b.Momentum = 0.001, 0.99
		return b
	}
	m := &MobileNetV3{Conv: convNormAct(3, adjust(cfg[0].in), 3, 2, 1, bn, nn.NewHardswish()), Blocks: nn.NewSequential()}
	for _, c := range cfg {
		in, exp, out := adjust(c.in), adjust(c.expanded), adjust(c.out)
		act := func() nn.Layer {
			if c.hardswish {
				return nn.NewHardswish()
			}
			return nn.NewReLU()
		}
		b := &InvertedResidualV3{UseRes: c.stride == 1 && in == out}
		if in != exp {
			b.ExpandConv = convNormAct(in, exp, 1, 1, 1, bn, act())
		}
		b.BottleneckConv = convNormAct(exp, exp, c.kernel, c.stride, exp, bn, act())
		if c.se {
			b.MidSE = NewSqueezeExcitation(exp, makeDivisible(float64(exp/4), 8))
		}
		b.LinearConv = convNormAct(exp, out, 1, 1, 1, bn, nil)
		m.Blocks.Append(b)
	}
	lastIn := adjust(cfg[len(cfg)-1].in)
	m.LastConv = convNormAct(lastIn, 6*lastIn, 1, 1, 1, bn, nn.NewHardswish())
	if !o.NoPool {
		m.AvgPool = nn.NewAdaptiveAvgPool2D(1)
	}
	if n := classes(o.NumClasses); n > 0 {
		last := makeDivisible(float64(lastChannel)*s, 8)
		m.Classifier = nn.NewSequential(nn.NewLinear(6*lastIn, last), nn.NewHardswish(), nn.NewDropout(0.2), nn.NewLinear(last, n))
	}
	if o.Pretrained {
		return m, loadPretrained(fmt.Sprintf("%s_x%s", arch, scaleName(s)), m, o.WeightsPath)
	}
	return m, nil
}

// NewMobileNetV3Small is Paddle's mobilenet_v3_small / MobileNetV3Small(scale, num_classes,
// with_pool): 2,542,856 parameters at scale 1 with 1000 classes. It panics on a negative scale.
func NewMobileNetV3Small(opts ...MobileNetOptions) (*MobileNetV3, error) {
	return newMobileNetV3("MobileNetV3Small", "mobilenet_v3_small", []v3Config{
		{16, 3, 16, 16, true, false, 2},
		{16, 3, 72, 24, false, false, 2},
		{24, 3, 88, 24, false, false, 1},
		{24, 5, 96, 40, true, true, 2},
		{40, 5, 240, 40, true, true, 1},
		{40, 5, 240, 40, true, true, 1},
		{40, 5, 120, 48, true, true, 1},
		{48, 5, 144, 48, true, true, 1},
		{48, 5, 288, 96, true, true, 2},
		{96, 5, 576, 96, true, true, 1},
		{96, 5, 576, 96, true, true, 1},
	}, 1024, oneOptions("MobileNetV3Small", opts))
}

// NewMobileNetV3Large is Paddle's mobilenet_v3_large / MobileNetV3Large(scale, num_classes,
// with_pool): 5,483,032 parameters at scale 1 with 1000 classes. It panics on a negative scale.
func NewMobileNetV3Large(opts ...MobileNetOptions) (*MobileNetV3, error) {
	return newMobileNetV3("MobileNetV3Large", "mobilenet_v3_large", []v3Config{
		{16, 3, 16, 16, false, false, 1},
		{16, 3, 64, 24, false, false, 2},
		{24, 3, 72, 24, false, false, 1},
		{24, 5, 72, 40, true, false, 2},
		{40, 5, 120, 40, true, false, 1},
		{40, 5, 120, 40, true, false, 1},
		{40, 3, 240, 80, false, true, 2},
		{80, 3, 200, 80, false, true, 1},
		{80, 3, 184, 80, false, true, 1},
		{80, 3, 184, 80, false, true, 1},
		{80, 3, 480, 112, true, true, 1},
		{112, 3, 672, 112, true, true, 1},
		{112, 5, 672, 160, true, true, 2},
		{160, 5, 960, 160, true, true, 1},
		{160, 5, 960, 160, true, true, 1},
	}, 1280, oneOptions("MobileNetV3Large", opts))
}

// Forward maps images [N, 3, H, W] to logits [N, NumClasses].
func (m *MobileNetV3) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.LastConv.Forward(m.Blocks.Forward(m.Conv.Forward(x)))
	return forwardHead(x, m.AvgPool, m.Classifier)
}

// Params returns the parameters named as Paddle's state dict.
func (m *MobileNetV3) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns conv, blocks, lastconv and, if present, avgpool and classifier.
func (m *MobileNetV3) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "conv", Layer: m.Conv}, {Name: "blocks", Layer: m.Blocks}, {Name: "lastconv", Layer: m.LastConv}}
	subs = named(subs, "avgpool", m.AvgPool)
	return named(subs, "classifier", m.Classifier)
}
