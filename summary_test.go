package oar_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// lenetSummary is paddle.summary(LeNet(), (1, 1, 28, 28)) as Paddle prints it (from the
// docstring of python/paddle/hapi/model_summary.py), with the trailing spaces that Python's
// centred format leaves.
const lenetSummary = `---------------------------------------------------------------------------
 Layer (type)       Input Shape          Output Shape         Param #    
===========================================================================
   Conv2D-1       [[1, 1, 28, 28]]      [1, 6, 28, 28]          60       
    ReLU-1        [[1, 6, 28, 28]]      [1, 6, 28, 28]           0       
  MaxPool2D-1     [[1, 6, 28, 28]]      [1, 6, 14, 14]           0       
   Conv2D-2       [[1, 6, 14, 14]]     [1, 16, 10, 10]         2,416     
    ReLU-2       [[1, 16, 10, 10]]     [1, 16, 10, 10]           0       
  MaxPool2D-2    [[1, 16, 10, 10]]      [1, 16, 5, 5]            0       
   Linear-1          [[1, 400]]            [1, 120]           48,120     
   Linear-2          [[1, 120]]            [1, 84]            10,164     
   Linear-3          [[1, 84]]             [1, 10]              850      
===========================================================================
Total params: 61,610
Trainable params: 61,610
Non-trainable params: 0
---------------------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.11
Params size (MB): 0.24
Estimated Total Size (MB): 0.35
---------------------------------------------------------------------------
`

func TestSummaryLeNetGolden(t *testing.T) {
	var buf bytes.Buffer
	info := oar.SummaryTo(&buf, models.LeNet(10), []int{1, 1, 28, 28})
	require.Equal(t, lenetSummary, buf.String())
	require.Equal(t, oar.ParamsInfo{TotalParams: 61610, TrainableParams: 61610}, info)
}

func TestSummaryRestoresModeAndBatchDim(t *testing.T) {
	drop := nn.NewDropout(0.5)
	net := nn.NewSequential(nn.NewLinear(4, 3), drop)
	var buf bytes.Buffer
	info := oar.SummaryTo(&buf, net, []int{-1, 4})
	require.True(t, drop.Training(), "Summary must restore training mode")
	require.Equal(t, 15, info.TotalParams)
	require.Contains(t, buf.String(), "   Linear-1           [[1, 4]]              [1, 3]              15       ")
	require.Contains(t, buf.String(), "   Dropout-1          [[1, 3]]              [1, 3]               0       ")

	nn.Eval(net)
	oar.SummaryTo(&buf, net, []int{2, 4})
	require.False(t, drop.Training(), "Summary must restore evaluation mode too")

	lone := oar.SummaryTo(&buf, nn.NewLinear(2, 2), []int{1, 2}) // a lone layer is its own row
	require.Equal(t, 6, lone.TotalParams)
	require.Panics(t, func() { oar.SummaryTo(&buf, net, []int{-1, -1}) })
	require.True(t, strings.HasSuffix(buf.String(), "---\n"))
}

// mnist is the tutorial's section-4 MNIST class written as a Go struct: its Forward calls its
// children directly and applies ReLU as a function (F.relu), so ReLU has no row.
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

// mnistSummary is what paddle.summary prints for the tutorial's MNIST on (1, 1, 28, 28), worked
// out from Paddle's formulas: Conv2D-1 20*1*5*5+20 = 520 parameters, Conv2D-2 20*20*5*5+20 =
// 10,020, Linear-1 980*10+10 = 9,810; outputs 15,680 + 3,920 + 3,920 + 980 + 10 = 24,510 values,
// forward/backward 2*24,510*4/2^20 = 0.187 MB; params 20,350*4/2^20 = 0.078 MB; input 784*4/2^20 =
// 0.003 MB; total 0.268 MB.
const mnistSummary = `---------------------------------------------------------------------------
 Layer (type)       Input Shape          Output Shape         Param #    
===========================================================================
   Conv2D-1       [[1, 1, 28, 28]]     [1, 20, 28, 28]          520      
  MaxPool2D-1    [[1, 20, 28, 28]]     [1, 20, 14, 14]           0       
   Conv2D-2      [[1, 20, 14, 14]]     [1, 20, 14, 14]        10,020     
  MaxPool2D-2    [[1, 20, 14, 14]]      [1, 20, 7, 7]            0       
   Linear-1          [[1, 980]]            [1, 10]             9,810     
===========================================================================
Total params: 20,350
Trainable params: 20,350
Non-trainable params: 0
---------------------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.19
Params size (MB): 0.08
Estimated Total Size (MB): 0.27
---------------------------------------------------------------------------
`

func TestSummaryStructLayerGolden(t *testing.T) {
	var buf bytes.Buffer
	info := oar.SummaryTo(&buf, newMNIST(), []int{1, 1, 28, 28})
	require.Equal(t, mnistSummary, buf.String())
	require.Equal(t, oar.ParamsInfo{TotalParams: 20350, TrainableParams: 20350}, info)
}

// Scaled is a custom parent layer with a parameter of its own: y = fc(x) * gain.
type Scaled struct {
	nn.Hooks
	fc   *nn.Linear
	gain *tensor.Tensor
}

func newScaled(in, out int) *Scaled {
	return &Scaled{fc: nn.NewLinear(in, out), gain: tensor.Ones(out).SetRequiresGrad(true)}
}

func (s *Scaled) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer s.Done(s, x, &y)
	return s.fc.Forward(x).Mul(s.gain)
}

func (s *Scaled) Params() []nn.Param {
	return append(nn.CollectParams(s.Sublayers()), nn.Param{Name: "gain", Tensor: s.gain})
}

func (s *Scaled) Sublayers() []nn.Named { return []nn.Named{{Name: "fc", Layer: s.fc}} }

// scaledSummary is paddle.summary of Sequential(Scaled(784, 64), ReLU(), Linear(64, 10)) on
// (-1, 784), worked out from Paddle's formulas: the child's row comes first (post-hook order),
// Scaled's row counts its own gain (64), not its child's 784*64+64 = 50,240; Linear-2 has
// 64*10+10 = 650; total 50,954, params 50,954*4/2^20 = 0.194 MB; outputs 64+64+64+10 = 202
// values, 2*202*4/2^20 = 0.002 MB; input 0.003 MB; total 0.199 MB.
const scaledSummary = `---------------------------------------------------------------------------
 Layer (type)       Input Shape          Output Shape         Param #    
===========================================================================
   Linear-1          [[1, 784]]            [1, 64]            50,240     
   Scaled-1          [[1, 784]]            [1, 64]              64       
    ReLU-1           [[1, 64]]             [1, 64]               0       
   Linear-2          [[1, 64]]             [1, 10]              650      
===========================================================================
Total params: 50,954
Trainable params: 50,954
Non-trainable params: 0
---------------------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.19
Estimated Total Size (MB): 0.20
---------------------------------------------------------------------------
`

func TestSummaryCustomParentGolden(t *testing.T) {
	var buf bytes.Buffer
	net := nn.NewSequential(newScaled(784, 64), nn.NewReLU(), nn.NewLinear(64, 10))
	info := oar.SummaryTo(&buf, net, []int{-1, 784})
	require.Equal(t, scaledSummary, buf.String())
	require.Equal(t, oar.ParamsInfo{TotalParams: 50954, TrainableParams: 50954}, info)

	// As the root, a custom parent has no row (Paddle), but its own parameters count in the
	// totals.
	buf.Reset()
	info = oar.SummaryTo(&buf, newScaled(784, 64), []int{1, 784})
	require.Equal(t, oar.ParamsInfo{TotalParams: 50304, TrainableParams: 50304}, info)
	require.NotContains(t, buf.String(), "Scaled-1")
	require.Contains(t, buf.String(), "   Linear-1          [[1, 784]]            [1, 64]            50,240     \n")
}

// A fused network's Summary shows the layer that runs, ConvReLUPool.
func TestSummaryFusedLeNet(t *testing.T) {
	net := models.LeNet(10)
	nn.Fuse(net)
	var buf bytes.Buffer
	info := oar.SummaryTo(&buf, net, []int{1, 1, 28, 28})
	require.Equal(t, oar.ParamsInfo{TotalParams: 61610, TrainableParams: 61610}, info)
	require.Contains(t, buf.String(), "ConvReLUPool-1    [[1, 1, 28, 28]]      [1, 6, 14, 14]          60       \n")
	require.Contains(t, buf.String(), "ConvReLUPool-2    [[1, 6, 14, 14]]      [1, 16, 5, 5]          2,416     \n")
	require.NotContains(t, buf.String(), "ReLU-1 ")
}

// twoLayers is a custom network in the tutorial's style, children called directly, that does not
// embed nn.Hooks.
type twoLayers struct{ fc1, fc2 *nn.Linear }

func (n *twoLayers) Forward(x *tensor.Tensor) *tensor.Tensor {
	return n.fc2.Forward(n.fc1.Forward(x).Sigmoid()) // no Hooks.Done: works, but has no row
}
func (n *twoLayers) Params() []nn.Param {
	return nn.CollectParams(n.Sublayers())
}
func (n *twoLayers) Sublayers() []nn.Named {
	return []nn.Named{{Name: "fc1", Layer: n.fc1}, {Name: "fc2", Layer: n.fc2}}
}

func TestSummaryCustomNetwork(t *testing.T) {
	var buf bytes.Buffer
	net := &twoLayers{nn.NewLinear(784, 10), nn.NewLinear(10, 1)}
	info := oar.SummaryTo(&buf, net, []int{1, 784})
	require.Equal(t, oar.ParamsInfo{TotalParams: 7861, TrainableParams: 7861}, info)
	// twoLayers embeds no nn.Hooks: it has no row, its children do.
	require.NotContains(t, buf.String(), "twoLayers")
	require.Contains(t, buf.String(), "   Linear-1          [[1, 784]]            [1, 10]             7,850     \n")
	require.Contains(t, buf.String(), "   Linear-2          [[1, 10]]              [1, 1]              11       \n")
	require.Contains(t, buf.String(), "Total params: 7,861")
	// nested in a Sequential, its parameters still count in the totals
	info = oar.SummaryTo(&buf, nn.NewSequential(net, nn.NewReLU()), []int{1, 784})
	require.Equal(t, 7861, info.TotalParams)
}

// A layer run twice has one row, with its last call's shapes, as in Paddle (its rows are keyed by
// layer), and its parameters count once.
func TestSummarySharedLayer(t *testing.T) {
	lin := nn.NewLinear(3, 3)
	var buf bytes.Buffer
	info := oar.SummaryTo(&buf, nn.NewSequential(lin, nn.NewReLU(), lin), []int{1, 3})
	require.Equal(t, 12, info.TotalParams, "shared weights count once")
	require.Equal(t, 1, strings.Count(buf.String(), "Linear-"))
	require.Contains(t, buf.String(), "    ReLU-1")
}
