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

// twoLayers is a custom network in the tutorial's style: children called directly.
type twoLayers struct{ fc1, fc2 *nn.Linear }

func (n *twoLayers) Forward(x *tensor.Tensor) *tensor.Tensor {
	return n.fc2.Forward(n.fc1.Forward(x).Sigmoid())
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
	require.Contains(t, buf.String(), " twoLayers-1 ")
	require.Contains(t, buf.String(), "Total params: 7,861")
	// nested in a Sequential, its parameters still count in the totals
	info = oar.SummaryTo(&buf, nn.NewSequential(net, nn.ReLU{}), []int{1, 784})
	require.Equal(t, 7861, info.TotalParams)
}
