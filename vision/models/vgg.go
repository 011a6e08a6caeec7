package models

import (
	"fmt"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// VGGOptions are the optional settings of VGG11 ... VGG19, Paddle's keyword arguments of
// vgg11 ... vgg19 and VGG. The zero value is Paddle's default.
type VGGOptions struct {
	// BatchNorm puts a BatchNorm2D after each convolution (Paddle's batch_norm=True, the
	// "vgg16_bn" models).
	BatchNorm bool
	// NumClasses is the size of the last Linear layer. 0 means Paddle's default 1000; a negative
	// value is Paddle's num_classes <= 0: no classifier, and Forward returns the pooled features
	// [N, 512, 7, 7].
	NumClasses int
	// NoPool leaves out the AdaptiveAvgPool2D(7) (Paddle's with_pool=False): with a classifier,
	// the input must then be 224×224 (or any size giving a 7×7 feature map).
	NoPool bool
	// Pretrained loads ImageNet weights from a file the user provides (see LoadPretrained).
	Pretrained bool
	// WeightsPath is the file Pretrained reads; "" means DefaultWeightsPath(arch).
	WeightsPath string
}

// VGGMaxPool marks a 2×2 max pool in a VGGLayers configuration (Paddle's 'M').
const VGGMaxPool = 0

// vggConfigs are Paddle's cfgs A, B, D and E (0 is 'M').
var vggConfigs = map[int][]int{
	11: {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	13: {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
	16: {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
	19: {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
}

// VGG is paddle.vision.models.VGG: features (3×3 convolutions with padding 1, each followed by
// an optional BatchNorm2D and a ReLU, and 2×2 max pools), an AdaptiveAvgPool2D(7) and the
// classifier Linear(25088, 4096), ReLU, Dropout(0.5), Linear(4096, 4096), ReLU, Dropout(0.5),
// Linear(4096, NumClasses). Keys are Paddle's and torchvision's: "features.0.weight",
// "classifier.6.bias" (torchvision's VGG is the same network).
type VGG struct {
	nn.Hooks
	Features   *nn.Sequential
	AvgPool    *nn.AdaptiveAvgPool2D // nil with NoPool
	Classifier *nn.Sequential        // nil if NumClasses < 0
}

// VGGLayers is Paddle's vgg.make_layers: a Sequential from 3 input channels where each entry of
// cfg is a 3×3 convolution (padding 1) to that many channels, followed by a BatchNorm2D if
// withBN and a ReLU, or VGGMaxPool for a 2×2 max pool of stride 2. It panics on a negative
// entry.
func VGGLayers(cfg []int, withBN bool) *nn.Sequential {
	s := nn.NewSequential()
	in := 3
	for _, v := range cfg {
		switch {
		case v == VGGMaxPool:
			s.Append(nn.NewMaxPool2D(2, 2))
		case v > 0:
			s.Append(conv(in, v, 3, 1, 1, 1, true))
			if withBN {
				s.Append(batchNorm(v))
			}
			s.Append(nn.NewReLU())
			in = v
		default:
			panic(&nn.Error{Layer: "VGG", Msg: fmt.Sprintf("configuration entry %d: want channels > 0 or VGGMaxPool", v)})
		}
	}
	return s
}

// NewVGG is Paddle's VGG(features, num_classes, with_pool): features must end with 512
// channels. It does not read Pretrained or WeightsPath (there is no architecture name to look
// up): build with VGG11 ... VGG19, or call LoadPretrained on the result.
func NewVGG(features *nn.Sequential, opts ...VGGOptions) *VGG {
	o := oneOptions("VGG", opts)
	m := &VGG{Features: features}
	if !o.NoPool {
		m.AvgPool = nn.NewAdaptiveAvgPool2D(7, 7)
	}
	if n := classes(o.NumClasses); n > 0 {
		m.Classifier = nn.NewSequential(
			nn.NewLinear(512*7*7, 4096), nn.NewReLU(), nn.NewDropout(0.5),
			nn.NewLinear(4096, 4096), nn.NewReLU(), nn.NewDropout(0.5),
			nn.NewLinear(4096, n))
	}
	return m
}

func vgg(depth int, opts []VGGOptions) (*VGG, error) {
	o := oneOptions("VGG", opts)
	m := NewVGG(VGGLayers(vggConfigs[depth], o.BatchNorm), o)
	if o.Pretrained {
		arch := fmt.Sprintf("vgg%d", depth)
		if o.BatchNorm {
			arch += "_bn"
		}
		return m, loadPretrained(arch, m, o.WeightsPath)
	}
	return m, nil
}

// VGG11 is Paddle's vgg11 (configuration A): 132,863,336 parameters with 1000 classes, 132,868,840
// with BatchNorm.
func VGG11(opts ...VGGOptions) (*VGG, error) { return vgg(11, opts) }

// VGG13 is Paddle's vgg13 (configuration B): 133,047,848 parameters, 133,053,736 with BatchNorm.
func VGG13(opts ...VGGOptions) (*VGG, error) { return vgg(13, opts) }

// VGG16 is Paddle's vgg16 (configuration D): 138,357,544 parameters, 138,365,992 with BatchNorm.
func VGG16(opts ...VGGOptions) (*VGG, error) { return vgg(16, opts) }

// VGG19 is Paddle's vgg19 (configuration E): 143,667,240 parameters, 143,678,248 with BatchNorm.
func VGG19(opts ...VGGOptions) (*VGG, error) { return vgg(19, opts) }

// Forward maps images [N, 3, H, W] (H, W >= 32 with the pool) to logits [N, NumClasses].
func (m *VGG) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.Features.Forward(x)
	if m.AvgPool != nil {
		x = m.AvgPool.Forward(x)
	}
	if m.Classifier != nil {
		x = m.Classifier.Forward(x.Flatten(1, -1))
	}
	return x
}

// Params returns the parameters named as Paddle's state dict.
func (m *VGG) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns features and, if present, avgpool and classifier.
func (m *VGG) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "features", Layer: m.Features}}
	subs = named(subs, "avgpool", m.AvgPool)
	return named(subs, "classifier", m.Classifier)
}
