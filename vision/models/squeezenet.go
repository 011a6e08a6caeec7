package models

import (
	"fmt"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// SqueezeNetOptions are the optional settings of NewSqueezeNet, Paddle's keyword arguments of
// SqueezeNet, squeezenet1_0 and squeezenet1_1. The zero value is Paddle's default.
type SqueezeNetOptions struct {
	// NumClasses is the output channels of the last 1×1 convolution, "_conv9". 0 means Paddle's
	// default 1000; a negative value leaves out the dropout and _conv9 (Paddle runs neither for
	// num_classes <= 0, though its constructor would fail building a Conv2D of that size).
	NumClasses int
	// NoPool leaves out the final ReLU, global average pool and squeeze (Paddle's
	// with_pool=False): Forward then returns [N, NumClasses, H', W'].
	NoPool bool
	// Pretrained loads ImageNet weights from a file the user provides (see LoadPretrained).
	Pretrained bool
	// WeightsPath is the file Pretrained reads; "" means DefaultWeightsPath(arch).
	WeightsPath string
}

// FireConv is Paddle's squeezenet.MakeFireConv: "_conv", a Conv2D with bias, then a ReLU.
type FireConv struct {
	nn.Hooks
	Conv *nn.Conv2D
}

// Forward applies the convolution and the ReLU to x [N, C, H, W].
func (f *FireConv) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer f.Done(f, x, &y)
	return f.Conv.Forward(x).ReLU()
}

// Params returns "_conv.weight" and "_conv.bias".
func (f *FireConv) Params() []nn.Param { return nn.CollectParams(f.Sublayers()) }

// Sublayers returns _conv.
func (f *FireConv) Sublayers() []nn.Named { return []nn.Named{{Name: "_conv", Layer: f.Conv}} }

// Fire is Paddle's squeezenet.MakeFire: a 1×1 squeeze FireConv "_conv", then a 1×1 and a 3×3
// (padding 1) expand FireConv, "_conv_path1" and "_conv_path2", concatenated on the channels.
type Fire struct {
	nn.Hooks
	Squeeze, Expand1, Expand3 *FireConv
}

func newFire(in, squeeze, e1, e3 int) *Fire {
	return &Fire{
		Squeeze: &FireConv{Conv: conv(in, squeeze, 1, 1, 0, 1, true)},
		Expand1: &FireConv{Conv: conv(squeeze, e1, 1, 1, 0, 1, true)},
		Expand3: &FireConv{Conv: conv(squeeze, e3, 3, 1, 1, 1, true)},
	}
}

// Forward maps x [N, in, H, W] to [N, e1+e3, H, W].
func (f *Fire) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer f.Done(f, x, &y)
	x = f.Squeeze.Forward(x)
	return tensor.Concat([]*tensor.Tensor{f.Expand1.Forward(x), f.Expand3.Forward(x)}, 1)
}

// Params returns the parameters named as Paddle's.
func (f *Fire) Params() []nn.Param { return nn.CollectParams(f.Sublayers()) }

// Sublayers returns _conv, _conv_path1 and _conv_path2.
func (f *Fire) Sublayers() []nn.Named {
	return []nn.Named{{Name: "_conv", Layer: f.Squeeze}, {Name: "_conv_path1", Layer: f.Expand1}, {Name: "_conv_path2", Layer: f.Expand3}}
}

// SqueezeNet is paddle.vision.models.SqueezeNet, with Paddle's keys ("_conv.weight",
// "_conv1._conv._conv.weight", "_conv1._conv_path2._conv.bias", "_conv9.weight"): "_conv"
// (1.0: 7×7 stride 2 to 96 channels; 1.1: 3×3 stride 2 padding 1 to 64) and ReLU, a 3×3 max
// pool of stride 2 ("_pool", used three times), eight Fire modules "_conv1" ... "_conv8",
// Dropout(0.5, downscale_in_infer), "_conv9" (1×1 to NumClasses), ReLU, a global average pool and
// a squeeze. Its parameter counts equal torchvision's squeezenet1_0/1_1 (1,248,424 and
// 1,235,496), but Paddle's network differs from torchvision's: its max pools round down
// (torchvision's ceil_mode=True), 1.1's first convolution has padding 1 (torchvision's none), and
// its dropout multiplies by 0.5 in evaluation (torchvision's passes through).
type SqueezeNet struct {
	nn.Hooks
	Version string
	Conv    *nn.Conv2D
	Pool    *nn.MaxPool2D
	Fires   [8]*Fire
	Drop    *nn.Dropout           // nil without a classifier
	Conv9   *nn.Conv2D            // nil without a classifier
	AvgPool *nn.AdaptiveAvgPool2D // nil with NoPool
}

// NewSqueezeNet is Paddle's SqueezeNet(version, num_classes, with_pool) for version "1.0" or
// "1.1" (squeezenet1_0, squeezenet1_1). It panics on another version.
func NewSqueezeNet(version string, opts ...SqueezeNetOptions) (*SqueezeNet, error) {
	o := oneOptions("SqueezeNet", opts)
	m := &SqueezeNet{Version: version, Pool: nn.NewMaxPool2D(3, 2)}
	first := 64
	switch version {
	case "1.0":
		m.Conv, first = conv(3, 96, 7, 2, 0, 1, true), 96
	case "1.1":
		m.Conv = conv(3, 64, 3, 2, 1, 1, true)
	default:
		panic(&nn.Error{Layer: "SqueezeNet", Msg: fmt.Sprintf("version %q: want \"1.0\" or \"1.1\"", version)})
	}
	for i, c := range [8][4]int{{first, 16, 64, 64}, {128, 16, 64, 64}, {128, 32, 128, 128}, {256, 32, 128, 128},
		{256, 48, 192, 192}, {384, 48, 192, 192}, {384, 64, 256, 256}, {512, 64, 256, 256}} {
		m.Fires[i] = newFire(c[0], c[1], c[2], c[3])
	}
	if n := classes(o.NumClasses); n > 0 {
		m.Drop = dropout(0.5, nn.DownscaleInInfer)
		m.Conv9 = conv(512, n, 1, 1, 0, 1, true)
	}
	if !o.NoPool {
		m.AvgPool = nn.NewAdaptiveAvgPool2D(1)
	}
	if o.Pretrained {
		arch := "squeezenet1_0"
		if version == "1.1" {
			arch = "squeezenet1_1"
		}
		return m, loadPretrained(arch, m, o.WeightsPath)
	}
	return m, nil
}

// Forward maps images [N, 3, H, W] to logits [N, NumClasses] (see SqueezeNetOptions for the
// other shapes).
func (m *SqueezeNet) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.Pool.Forward(m.Conv.Forward(x).ReLU())
	f := m.Fires
	if m.Version == "1.0" {
		x = m.Pool.Forward(f[2].Forward(f[1].Forward(f[0].Forward(x))))
		x = m.Pool.Forward(f[6].Forward(f[5].Forward(f[4].Forward(f[3].Forward(x)))))
		x = f[7].Forward(x)
	} else {
		x = m.Pool.Forward(f[1].Forward(f[0].Forward(x)))
		x = m.Pool.Forward(f[3].Forward(f[2].Forward(x)))
		x = f[7].Forward(f[6].Forward(f[5].Forward(f[4].Forward(x))))
	}
	if m.Conv9 != nil {
		x = m.Conv9.Forward(m.Drop.Forward(x))
	}
	if m.AvgPool != nil {
		x = m.AvgPool.Forward(x.ReLU()).Squeeze(2, 3)
	}
	return x
}

// Params returns the parameters named as Paddle's state dict.
func (m *SqueezeNet) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns _conv, _pool, _conv1 ... _conv8 and, if present, _drop, _conv9 and
// _avg_pool.
func (m *SqueezeNet) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "_conv", Layer: m.Conv}, {Name: "_pool", Layer: m.Pool}}
	for i, f := range m.Fires {
		subs = append(subs, nn.Named{Name: fmt.Sprintf("_conv%d", i+1), Layer: f})
	}
	subs = named(subs, "_drop", m.Drop)
	subs = named(subs, "_conv9", m.Conv9)
	return named(subs, "_avg_pool", m.AvgPool)
}
