package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// mnist is the tutorial's section-4 MNIST class as a Go struct: its Forward calls its children
// directly and applies ReLU as a function.
type mnist struct {
	nn.Hooks
	conv1, conv2       *nn.Conv2D
	maxPool1, maxPool2 *nn.MaxPool2D
	fc                 *nn.Linear
}

func newMNIST() *mnist {
	conv := nn.Conv2DOptions{Stride: []int{1}, Padding: []int{2}}
	return &mnist{
		conv1: nn.NewConv2D(1, 20, 5, conv), maxPool1: nn.NewMaxPool2D(2, 2),
		conv2: nn.NewConv2D(20, 20, 5, conv), maxPool2: nn.NewMaxPool2D(2, 2),
		fc: nn.NewLinear(980, 10),
	}
}

func (m *mnist) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	x = m.maxPool1.Forward(m.conv1.Forward(x).ReLU())
	x = m.maxPool2.Forward(m.conv2.Forward(x).ReLU())
	return m.fc.Forward(x.Reshape(x.Dim(0), 980))
}

func (m *mnist) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

func (m *mnist) Sublayers() []nn.Named {
	return []nn.Named{{Name: "conv1", Layer: m.conv1}, {Name: "max_pool1", Layer: m.maxPool1},
		{Name: "conv2", Layer: m.conv2}, {Name: "max_pool2", Layer: m.maxPool2}, {Name: "fc", Layer: m.fc}}
}

// Post-hooks fire after every built-in layer's Forward, however it is called, children first.
func TestForwardPostHooks(t *testing.T) {
	m := newMNIST()
	var got []string
	var removes []func()
	nn.Walk(m, func(path string, l nn.Layer) {
		removes = append(removes, l.(interface {
			RegisterForwardPostHook(nn.ForwardPostHook) func()
		}).RegisterForwardPostHook(func(l nn.Layer, in, out *tensor.Tensor) *tensor.Tensor {
			got = append(got, fmt.Sprintf("%q %s %v->%v", path, nn.TypeName(l), in.Shape(), out.Shape()))
			return nil
		}))
	})
	m.Forward(tensor.Zeros(2, 1, 28, 28))
	require.Equal(t, []string{
		`"conv1" Conv2D [2 1 28 28]->[2 20 28 28]`,
		`"max_pool1" MaxPool2D [2 20 28 28]->[2 20 14 14]`,
		`"conv2" Conv2D [2 20 14 14]->[2 20 14 14]`,
		`"max_pool2" MaxPool2D [2 20 14 14]->[2 20 7 7]`,
		`"fc" Linear [2 980]->[2 10]`,
		`"" mnist [2 1 28 28]->[2 10]`,
	}, got)
	for _, r := range removes {
		r()
	}
	got = nil
	m.Forward(tensor.Zeros(1, 1, 28, 28))
	require.Empty(t, got, "removed hooks do not fire")

	// A hook's non-nil result replaces the output.
	relu := nn.NewReLU()
	relu.RegisterForwardPostHook(func(_ nn.Layer, _, out *tensor.Tensor) *tensor.Tensor { return out.Scale(2) })
	require.Equal(t, []float32{0, 4}, relu.Forward(tensor.New([]float32{-1, 2}, 2)).Data())
}

// The path of a failing layer is added in one place, Hooks.Done, whether its parent is a
// container or a struct layer calling it directly.
func TestErrorPathThroughStructLayer(t *testing.T) {
	m := newMNIST()
	requireLayerPanic(t, "nn: conv1 (Conv2D): input [2 3 28 28], weight [20 1 5 5]: want [N, 1, H, W]", func() {
		m.Forward(tensor.Zeros(2, 3, 28, 28))
	})
	net := nn.NewSequentialNamed(nn.Named{Name: "body", Layer: m})
	requireLayerPanic(t, "nn: body.fc (Linear): tensor: Linear: output [1 10] has NaN at element 0 (inputs [[1 980] [980 10] [10]])", func() {
		m.fc.Weight.Data()[0] = float32(math.NaN())
		net.Forward(tensor.Zeros(1, 1, 28, 28).CheckFinite())
	})
	requireLayerPanic(t, "nn: Conv2D: input [3], weight [20 1 5 5]: want [N, 1, H, W]", func() { m.conv1.Forward(tensor.Zeros(3)) })
	// other panics pass through unchanged
	require.PanicsWithValue(t, "boom", func() {
		nn.NewSequential(panicky{}).Forward(tensor.Zeros(1))
	})
}

type panicky struct{}

func (panicky) Forward(*tensor.Tensor) *tensor.Tensor { panic("boom") }
func (panicky) Params() []nn.Param                    { return nil }
