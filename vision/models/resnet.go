package models

import (
	"fmt"
	"strconv"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// ResNetOptions are the optional settings of the ResNet constructors, Paddle's keyword
// arguments of paddle.vision.models.ResNet and resnet18 ... resnet152. The zero value is
// Paddle's default.
type ResNetOptions struct {
	// NumClasses is the size of the last Linear layer, "fc". 0 means Paddle's default 1000; a
	// negative value is Paddle's num_classes <= 0: no fc, and Forward returns the features
	// ([N, 512·expansion, 1, 1] with the pool).
	NumClasses int
	// NoPool leaves out the AdaptiveAvgPool2D(1) before fc (Paddle's with_pool=False). With a
	// classifier, the last feature map must then be 1×1 (or fc's input size must match).
	NoPool bool
	// Width is the base width per convolution group of the bottleneck blocks (Paddle's width,
	// default 64: 128 gives Wide ResNet-50-2, 4 with Groups 32 ResNeXt-50 32x4d). 0 means 64.
	Width int
	// Groups is the number of groups of the bottleneck blocks' 3×3 convolutions. 0 means 1.
	Groups int
	// Pretrained loads ImageNet weights from a file the user provides (see LoadPretrained): oar
	// cannot download them, and the constructor returns an error naming where to put the file.
	Pretrained bool
	// WeightsPath is the file Pretrained reads; "" means DefaultWeightsPath(arch).
	WeightsPath string
}

// Block selects the residual block of a ResNet.
type Block int

const (
	// BlockBasic is Paddle's BasicBlock: two 3×3 convolutions, expansion 1 (ResNet-18, -34).
	BlockBasic Block = iota
	// BlockBottleneck is Paddle's BottleneckBlock: 1×1, 3×3, 1×1 convolutions, expansion 4
	// (ResNet-50, -101, -152).
	BlockBottleneck
)

func (b Block) expansion() int {
	if b == BlockBottleneck {
		return 4
	}
	return 1
}

// ResNet is paddle.vision.models.ResNet: conv1 (7×7, stride 2), bn1, ReLU, a 3×3 max pool of
// stride 2 and padding 1, four stages layer1 ... layer4 of residual blocks, an adaptive average
// pool to 1×1 and fc. Its state-dict keys are Paddle's ("conv1.weight", "bn1._mean",
// "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "fc.weight"), which are also
// torchvision's apart from BatchNorm's running statistics (torchvision's running_mean and
// running_var; nn.LoadPyTorch maps them) and Linear's transposed weight.
type ResNet struct {
	nn.Hooks
	Conv1                          *nn.Conv2D
	BN1                            *nn.BatchNorm2D
	MaxPool                        *nn.MaxPool2D
	Layer1, Layer2, Layer3, Layer4 *nn.Sequential        // of *BasicBlock or *BottleneckBlock
	AvgPool                        *nn.AdaptiveAvgPool2D // nil with NoPool
	FC                             *nn.Linear            // [512·expansion, NumClasses]; nil if NumClasses < 0
}

// NewResNet returns Paddle's ResNet(Block, depth, width, num_classes, with_pool, groups) for
// depth 18, 34, 50, 101 or 152 (the stage sizes [2 2 2 2], [3 4 6 3], [3 4 6 3], [3 4 23 3],
// [3 8 36 3]). It panics on another depth, on a negative Width or Groups, or on a BasicBlock
// with another width or groups (Paddle's BasicBlock ignores them silently; torchvision's raises,
// as here). With Pretrained it loads the weights file named for Paddle's architecture
// ("resnet18", "wide_resnet50_2" for Width 128, "resnext50_32x4d" for Width 4 and Groups 32; see
// DefaultWeightsPath and LoadPretrained) and returns its error, if any.
func NewResNet(block Block, depth int, opts ...ResNetOptions) (*ResNet, error) {
	o := oneOptions("ResNet", opts)
	cfg := map[int][4]int{18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}, 101: {3, 4, 23, 3}, 152: {3, 8, 36, 3}}
	layers, ok := cfg[depth]
	if !ok || o.Width < 0 || o.Groups < 0 || (block != BlockBasic && block != BlockBottleneck) {
		panic(&nn.Error{Layer: "ResNet", Msg: fmt.Sprintf("block %d, depth %d, width %d, groups %d: want depth 18, 34, 50, 101 or 152 and width, groups >= 0",
			block, depth, o.Width, o.Groups)})
	}
	width, groups := o.Width, max(o.Groups, 1)
	if width == 0 {
		width = 64
	}
	if block == BlockBasic && (width != 64 || groups != 1) {
		panic(&nn.Error{Layer: "ResNet", Msg: fmt.Sprintf("width %d, groups %d: BasicBlock only supports width 64 and groups 1", width, groups)})
	}
	m := &ResNet{
		Conv1:   conv(3, 64, 7, 2, 3, 1, false),
		BN1:     batchNorm(64),
		MaxPool: maxPool(3, 2, 1),
	}
	inplanes := 64
	makeLayer := func(planes, blocks, stride int) *nn.Sequential {
		var downsample *nn.Sequential
		out := planes * block.expansion()
		if stride != 1 || inplanes != out {
			downsample = nn.NewSequential(conv(inplanes, out, 1, stride, 0, 1, false), batchNorm(out))
		}
		s := nn.NewSequential(newBlock(block, inplanes, planes, stride, downsample, groups, width))
		inplanes = out
		for range blocks - 1 {
			s.Append(newBlock(block, inplanes, planes, 1, nil, groups, width))
		}
		return s
	}
	m.Layer1 = makeLayer(64, layers[0], 1)
	m.Layer2 = makeLayer(128, layers[1], 2)
	m.Layer3 = makeLayer(256, layers[2], 2)
	m.Layer4 = makeLayer(512, layers[3], 2)
	if !o.NoPool {
		m.AvgPool = nn.NewAdaptiveAvgPool2D(1)
	}
	if n := classes(o.NumClasses); n > 0 {
		m.FC = nn.NewLinear(512*block.expansion(), n)
	}
	if o.Pretrained {
		arch := "resnet" + strconv.Itoa(depth)
		switch {
		case width == 128 && groups == 1:
			arch = "wide_resnet" + strconv.Itoa(depth) + "_2"
		case groups > 1:
			arch = fmt.Sprintf("resnext%d_%dx%dd", depth, groups, width)
		}
		return m, loadPretrained(arch, m, o.WeightsPath)
	}
	return m, nil
}

func newBlock(b Block, inplanes, planes, stride int, downsample *nn.Sequential, groups, width int) nn.Layer {
	if b == BlockBasic {
		return &BasicBlock{
			Conv1: conv(inplanes, planes, 3, stride, 1, 1, false), BN1: batchNorm(planes),
			Conv2: conv(planes, planes, 3, 1, 1, 1, false), BN2: batchNorm(planes),
			Downsample: downsample,
		}
	}
	w := planes * width / 64 * groups // Paddle: int(planes * (base_width / 64.0)) * groups
	return &BottleneckBlock{
		Conv1: conv(inplanes, w, 1, 1, 0, 1, false), BN1: batchNorm(w),
		Conv2: conv(w, w, 3, stride, 1, groups, false), BN2: batchNorm(w),
		Conv3: conv(w, planes*4, 1, 1, 0, 1, false), BN3: batchNorm(planes * 4),
		Downsample: downsample,
	}
}

// ResNet18 is Paddle's resnet18: NewResNet(BlockBasic, 18, opts...), 11,689,512 parameters with
// 1000 classes.
func ResNet18(opts ...ResNetOptions) (*ResNet, error) { return NewResNet(BlockBasic, 18, opts...) }

// ResNet34 is Paddle's resnet34: NewResNet(BlockBasic, 34, opts...), 21,797,672 parameters.
func ResNet34(opts ...ResNetOptions) (*ResNet, error) { return NewResNet(BlockBasic, 34, opts...) }

// ResNet50 is Paddle's resnet50: NewResNet(BlockBottleneck, 50, opts...), 25,557,032 parameters.
func ResNet50(opts ...ResNetOptions) (*ResNet, error) {
	return NewResNet(BlockBottleneck, 50, opts...)
}

// ResNet101 is Paddle's resnet101: NewResNet(BlockBottleneck, 101, opts...), 44,549,160
// parameters.
func ResNet101(opts ...ResNetOptions) (*ResNet, error) {
	return NewResNet(BlockBottleneck, 101, opts...)
}

// ResNet152 is Paddle's resnet152: NewResNet(BlockBottleneck, 152, opts...), 60,192,808
// parameters.
func ResNet152(opts ...ResNetOptions) (*ResNet, error) {
	return NewResNet(BlockBottleneck, 152, opts...)
}

// Forward maps images [N, 3, H, W] to logits [N, NumClasses] (with the pool and no classifier,
// features [N, 512·expansion, 1, 1]; without the pool, [N, C, H/32, W/32]). It panics, naming the
// layer, on another input shape.
func (m *ResNet) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.MaxPool.Forward(m.BN1.Forward(m.Conv1.Forward(x)).ReLU())
	x = m.Layer4.Forward(m.Layer3.Forward(m.Layer2.Forward(m.Layer1.Forward(x))))
	if m.AvgPool != nil {
		x = m.AvgPool.Forward(x)
	}
	if m.FC != nil {
		x = m.FC.Forward(x.Flatten(1, -1))
	}
	return x
}

// Params returns the parameters named as Paddle's state dict.
func (m *ResNet) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns conv1, bn1, maxpool, layer1 ... layer4 and, if present, avgpool and fc.
func (m *ResNet) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "conv1", Layer: m.Conv1}, {Name: "bn1", Layer: m.BN1}, {Name: "maxpool", Layer: m.MaxPool},
		{Name: "layer1", Layer: m.Layer1}, {Name: "layer2", Layer: m.Layer2}, {Name: "layer3", Layer: m.Layer3}, {Name: "layer4", Layer: m.Layer4}}
	subs = named(subs, "avgpool", m.AvgPool)
	return named(subs, "fc", m.FC)
}

// BasicBlock is Paddle's resnet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity),
// where identity is x or downsample(x) (a 1×1 Conv2D of the block's stride and a BatchNorm2D).
type BasicBlock struct {
	nn.Hooks
	Conv1      *nn.Conv2D // 3×3, the block's stride
	BN1        *nn.BatchNorm2D
	Conv2      *nn.Conv2D // 3×3
	BN2        *nn.BatchNorm2D
	Downsample *nn.Sequential // nil when the input already has the output's shape
}

// Forward applies the block to x [N, C, H, W].
func (b *BasicBlock) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	out := b.BN1.Forward(b.Conv1.Forward(x)).ReLU()
	out = b.BN2.Forward(b.Conv2.Forward(out))
	identity := x
	if b.Downsample != nil {
		identity = b.Downsample.Forward(x)
	}
	return out.Add(identity).ReLU()
}

// Params returns the parameters named as Paddle's.
func (b *BasicBlock) Params() []nn.Param { return nn.CollectParams(b.Sublayers()) }

// Sublayers returns conv1, bn1, conv2, bn2 and, if present, downsample.
func (b *BasicBlock) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "conv1", Layer: b.Conv1}, {Name: "bn1", Layer: b.BN1}, {Name: "conv2", Layer: b.Conv2}, {Name: "bn2", Layer: b.BN2}}
	return named(subs, "downsample", b.Downsample)
}

// BottleneckBlock is Paddle's resnet BottleneckBlock: 1×1 conv1 to the width, 3×3 conv2 (the
// block's stride and groups) and 1×1 conv3 to planes·4, each followed by its BatchNorm2D and
// ReLU, the last ReLU after adding identity (x or downsample(x)). As Paddle's and torchvision's
// (ResNet v1.5), the stride is on the 3×3 convolution.
type BottleneckBlock struct {
	nn.Hooks
	Conv1      *nn.Conv2D
	BN1        *nn.BatchNorm2D
	Conv2      *nn.Conv2D
	BN2        *nn.BatchNorm2D
	Conv3      *nn.Conv2D
	BN3        *nn.BatchNorm2D
	Downsample *nn.Sequential // nil when the input already has the output's shape
}

// Forward applies the block to x [N, C, H, W].
func (b *BottleneckBlock) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	out := b.BN1.Forward(b.Conv1.Forward(x)).ReLU()
	out = b.BN2.Forward(b.Conv2.Forward(out)).ReLU()
	out = b.BN3.Forward(b.Conv3.Forward(out))
	identity := x
	if b.Downsample != nil {
		identity = b.Downsample.Forward(x)
	}
	return out.Add(identity).ReLU()
}

// Params returns the parameters named as Paddle's.
func (b *BottleneckBlock) Params() []nn.Param { return nn.CollectParams(b.Sublayers()) }

// Sublayers returns conv1, bn1, conv2, bn2, conv3, bn3 and, if present, downsample.
func (b *BottleneckBlock) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "conv1", Layer: b.Conv1}, {Name: "bn1", Layer: b.BN1}, {Name: "conv2", Layer: b.Conv2},
		{Name: "bn2", Layer: b.BN2}, {Name: "conv3", Layer: b.Conv3}, {Name: "bn3", Layer: b.BN3}}
	return named(subs, "downsample", b.Downsample)
}
