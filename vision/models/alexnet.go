package models

import (
	"math"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// AlexNetOptions are the optional settings of NewAlexNet, Paddle's keyword arguments of alexnet
// and AlexNet. The zero value is Paddle's default.
type AlexNetOptions struct {
	// NumClasses is the size of the last Linear layer, "_fc8". 0 means Paddle's default 1000; a
	// negative value is Paddle's num_classes <= 0: no classifier (no dropout, _fc6, _fc7, _fc8),
	// and Forward returns the features [N, 256, 6, 6].
	NumClasses int
	// Pretrained loads ImageNet weights from a file the user provides (see LoadPretrained).
	Pretrained bool
	// WeightsPath is the file Pretrained reads; "" means DefaultWeightsPath("alexnet").
	WeightsPath string
}

// ConvPool is Paddle's alexnet.ConvPoolLayer: "_conv" (a Conv2D with bias), an optional ReLU and
// "_pool", a 3×3 max pool of stride 2.
type ConvPool struct {
	nn.Hooks
	Conv *nn.Conv2D
	ReLU bool
	Pool *nn.MaxPool2D
}

// Forward applies the convolution, the ReLU if set, and the pool to x [N, C, H, W].
func (c *ConvPool) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer c.Done(c, x, &y)
	x = c.Conv.Forward(x)
	if c.ReLU {
		x = x.ReLU()
	}
	return c.Pool.Forward(x)
}

// Params returns "_conv.weight" and "_conv.bias".
func (c *ConvPool) Params() []nn.Param { return nn.CollectParams(c.Sublayers()) }

// Sublayers returns _conv and _pool.
func (c *ConvPool) Sublayers() []nn.Named {
	return []nn.Named{{Name: "_conv", Layer: c.Conv}, {Name: "_pool", Layer: c.Pool}}
}

// AlexNet is paddle.vision.models.AlexNet, with Paddle's keys "_conv1._conv.weight",
// "_conv3.weight", "_fc6.weight" ... "_fc8.bias": _conv1 (11×11, stride 4, padding 2, 64
// channels, ReLU, pool), _conv2 (5×5, padding 2, 192, ReLU, pool), _conv3 (3×3, 384) and ReLU,
// _conv4 (3×3, 256) and ReLU, _conv5 (3×3, 256, ReLU, pool), then Dropout, _fc6 (9216→4096),
// ReLU, Dropout, _fc7 (4096→4096), ReLU, _fc8. It has 61,100,840 parameters with 1000 classes,
// as torchvision's alexnet, but differs from it in three ways: there is no adaptive pool, so the
// input must give a 6×6 map (224×224 does); the dropouts are Paddle's "downscale_in_infer"
// (evaluation multiplies by 0.5 where torchvision passes through); and every weight and bias
// starts Uniform(-1/√fan_in, 1/√fan_in), Paddle's initializer.
type AlexNet struct {
	nn.Hooks
	Conv1, Conv2, Conv5 *ConvPool
	Conv3, Conv4        *nn.Conv2D
	Drop1, Drop2        *nn.Dropout // nil without a classifier
	FC6, FC7, FC8       *nn.Linear  // nil without a classifier
}

// NewAlexNet is Paddle's alexnet / AlexNet(num_classes).
func NewAlexNet(opts ...AlexNetOptions) (*AlexNet, error) {
	o := oneOptions("AlexNet", opts)
	uconv := func(in, out, k, stride, pad int) *nn.Conv2D {
		stdv := float32(1 / math.Sqrt(float64(in*k*k)))
		return nn.NewConv2D(in, out, k, nn.Conv2DOptions{Stride: []int{stride}, Padding: []int{pad},
			WeightInit: nn.Uniform(-stdv, stdv), BiasInit: nn.Uniform(-stdv, stdv)})
	}
	convPool := func(in, out, k, stride, pad int) *ConvPool {
		return &ConvPool{Conv: uconv(in, out, k, stride, pad), ReLU: true, Pool: nn.NewMaxPool2D(3, 2)}
	}
	m := &AlexNet{
		Conv1: convPool(3, 64, 11, 4, 2),
		Conv2: convPool(64, 192, 5, 1, 2),
		Conv3: uconv(192, 384, 3, 1, 1),
		Conv4: uconv(384, 256, 3, 1, 1),
		Conv5: convPool(256, 256, 3, 1, 1),
	}
	if n := classes(o.NumClasses); n > 0 {
		stdv := float32(1 / math.Sqrt(256*6*6)) // Paddle uses this one bound for all three
		lin := func(in, out int) *nn.Linear {
			return nn.NewLinear(in, out, nn.LinearOptions{WeightInit: nn.Uniform(-stdv, stdv), BiasInit: nn.Uniform(-stdv, stdv)})
		}
		m.Drop1, m.Drop2 = dropout(0.5, nn.DownscaleInInfer), dropout(0.5, nn.DownscaleInInfer)
		m.FC6, m.FC7, m.FC8 = lin(256*6*6, 4096), lin(4096, 4096), lin(4096, n)
	}
	if o.Pretrained {
		return m, loadPretrained("alexnet", m, o.WeightsPath)
	}
	return m, nil
}

// Forward maps images [N, 3, 224, 224] to logits [N, NumClasses]. It panics, naming the layer,
// if the features are not [N, 256, 6, 6] with a classifier.
func (m *AlexNet) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.Conv2.Forward(m.Conv1.Forward(x))
	x = m.Conv4.Forward(m.Conv3.Forward(x).ReLU()).ReLU()
	x = m.Conv5.Forward(x)
	if m.FC8 == nil {
		return x
	}
	x = m.FC6.Forward(m.Drop1.Forward(x.Flatten(1, -1))).ReLU()
	x = m.FC7.Forward(m.Drop2.Forward(x)).ReLU()
	return m.FC8.Forward(x)
}

// Params returns the parameters named as Paddle's state dict.
func (m *AlexNet) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

// Sublayers returns _conv1 ... _conv5 and, with a classifier, _drop1, _fc6, _drop2, _fc7, _fc8.
func (m *AlexNet) Sublayers() []nn.Named {
	subs := []nn.Named{{Name: "_conv1", Layer: m.Conv1}, {Name: "_conv2", Layer: m.Conv2}, {Name: "_conv3", Layer: m.Conv3},
		{Name: "_conv4", Layer: m.Conv4}, {Name: "_conv5", Layer: m.Conv5}}
	if m.FC8 != nil {
		subs = append(subs, nn.Named{Name: "_drop1", Layer: m.Drop1}, nn.Named{Name: "_fc6", Layer: m.FC6},
			nn.Named{Name: "_drop2", Layer: m.Drop2}, nn.Named{Name: "_fc7", Layer: m.FC7}, nn.Named{Name: "_fc8", Layer: m.FC8})
	}
	return subs
}
