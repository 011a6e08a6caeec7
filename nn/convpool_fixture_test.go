package nn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// The fixtures in testdata/convpool are written by make_fixtures.py with PyTorch 1.13: inputs,
// weights, an output gradient gy, and torch's output and gradients of sum(y*gy) (in float64 from
// the float32 inputs). Where Paddle's rule differs from torch's (a "same" padding with stride, a
// transposed "same", asymmetric padding), the script applies Paddle's rule with torch's plain ops.

// fixture tolerances: float32 arithmetic against float64 references of sums of tens of terms.
const fixAtol, fixRtol = 1e-4, 1e-4

// checkAgainst runs y = forward(x), backpropagates gy and compares y, x's gradient and each
// parameter's gradient with the fixture.
func checkAgainst(t *testing.T, forward func(*tensor.Tensor) *tensor.Tensor, x, y, gy, gx *fixtureTensor,
	params []*tensor.Tensor, grads []*fixtureTensor) {
	t.Helper()
	xt := x.tensor().SetRequiresGrad(true)
	out := forward(xt)
	tensortest.AllClose(t, out, y.tensor(), fixAtol, fixRtol)
	out.BackwardWith(gy.tensor())
	tensortest.AllClose(t, xt.Grad(), gx.tensor(), fixAtol, fixRtol)
	for i, p := range params {
		tensortest.AllClose(t, p.Grad(), grads[i].tensor(), fixAtol, fixRtol)
	}
}

// setParam copies fixture values into a layer's parameter of the same shape.
func setParam(t *testing.T, p *tensor.Tensor, f *fixtureTensor) {
	t.Helper()
	require.Equal(t, f.Shape, p.Shape())
	copy(p.Data(), f.Data)
}

func padMode(s string) tensor.PadMode {
	switch s {
	case "same":
		return tensor.PadSame
	case "valid":
		return tensor.PadValid
	}
	return tensor.PadExplicit
}

func TestConv1DTorchFixtures(t *testing.T) {
	var cases []struct {
		Name                       string
		In, Out, Kernel            int
		Stride, Dilation, Groups   int
		Padding                    []int
		PadMode                    string
		PaddingMode                string `json:"padding_mode"`
		X, W, B, Y, GY, GX, GW, GB *fixtureTensor
	}
	readFixtureCases(t, "convpool", "conv1d.json", &cases)
	require.Len(t, cases, 13)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			opt := nn.Conv1DOptions{Stride: c.Stride, Dilation: c.Dilation, Groups: c.Groups, PadMode: padMode(c.PadMode),
				NoBias: c.B == nil, PaddingMode: c.PaddingMode}
			if opt.PadMode == tensor.PadExplicit {
				opt.Padding = c.Padding
			}
			l := nn.NewConv1D(c.In, c.Out, c.Kernel, opt)
			setParam(t, l.Weight, c.W)
			params, grads := []*tensor.Tensor{l.Weight}, []*fixtureTensor{c.GW}
			if c.B != nil {
				setParam(t, l.Bias, c.B)
				params, grads = append(params, l.Bias), append(grads, c.GB)
			}
			checkAgainst(t, l.Forward, c.X, c.Y, c.GY, c.GX, params, grads)
		})
	}
}

func TestConv2DTransposeTorchFixtures(t *testing.T) {
	var cases []struct {
		Name                       string
		In, Out                    int
		Kernel, Stride, Dilation   []int
		Groups                     int
		Padding                    []int
		PadMode                    string
		OutputPadding              []int `json:"output_padding"`
		OutputSize                 []int `json:"output_size"`
		X, W, B, Y, GY, GX, GW, GB *fixtureTensor
	}
	readFixtureCases(t, "convpool", "conv_transpose2d.json", &cases)
	require.Len(t, cases, 10)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			opt := nn.Conv2DTransposeOptions{Stride: c.Stride, Dilation: c.Dilation, Groups: c.Groups,
				PadMode: padMode(c.PadMode), KernelSize: [2]int{c.Kernel[0], c.Kernel[1]}, NoBias: c.B == nil}
			if opt.PadMode == tensor.PadExplicit {
				opt.Padding = c.Padding
			}
			if len(c.OutputSize) == 0 {
				opt.OutputPadding = c.OutputPadding
			}
			l := nn.NewConv2DTranspose(c.In, c.Out, c.Kernel[0], opt)
			setParam(t, l.Weight, c.W)
			params, grads := []*tensor.Tensor{l.Weight}, []*fixtureTensor{c.GW}
			if c.B != nil {
				setParam(t, l.Bias, c.B)
				params, grads = append(params, l.Bias), append(grads, c.GB)
			}
			forward := l.Forward
			if len(c.OutputSize) > 0 {
				forward = func(x *tensor.Tensor) *tensor.Tensor { return l.ForwardSize(x, c.OutputSize...) }
			}
			checkAgainst(t, forward, c.X, c.Y, c.GY, c.GX, params, grads)
		})
	}
}

func TestAdaptivePool2DTorchFixtures(t *testing.T) {
	var cases []struct {
		Name       string
		OutputSize []int `json:"output_size"`
		X          *fixtureTensor
		AvgY       *fixtureTensor `json:"avg_y"`
		AvgGY      *fixtureTensor `json:"avg_gy"`
		AvgGX      *fixtureTensor `json:"avg_gx"`
		MaxY       *fixtureTensor `json:"max_y"`
		MaxGY      *fixtureTensor `json:"max_gy"`
		MaxGX      *fixtureTensor `json:"max_gx"`
		MaxMask    *fixtureTensor `json:"max_mask"`
	}
	readFixtureCases(t, "convpool", "adaptive_pool2d.json", &cases)
	require.Len(t, cases, 6)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			checkAgainst(t, nn.NewAdaptiveAvgPool2D(c.OutputSize...).Forward, c.X, c.AvgY, c.AvgGY, c.AvgGX, nil, nil)
			mp := nn.NewAdaptiveMaxPool2D(c.OutputSize...)
			checkAgainst(t, mp.Forward, c.X, c.MaxY, c.MaxGY, c.MaxGX, nil, nil)
			_, mask := mp.ForwardWithMask(c.X.tensor())
			tensortest.AllClose(t, mask, c.MaxMask.tensor(), 0, 0)
		})
	}
}

func TestPool1DTorchFixtures(t *testing.T) {
	var cases []struct {
		Name                    string
		Kernel, Stride, Padding int
		CeilMode                bool `json:"ceil_mode"`
		Exclusive               bool
		X                       *fixtureTensor
		AvgY                    *fixtureTensor `json:"avg_y"`
		AvgGY                   *fixtureTensor `json:"avg_gy"`
		AvgGX                   *fixtureTensor `json:"avg_gx"`
		MaxY                    *fixtureTensor `json:"max_y"`
		MaxGY                   *fixtureTensor `json:"max_gy"`
		MaxGX                   *fixtureTensor `json:"max_gx"`
	}
	readFixtureCases(t, "convpool", "pool1d.json", &cases)
	require.Len(t, cases, 7)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ap := nn.NewAvgPool1D(c.Kernel, c.Stride)
			ap.Options.Padding, ap.Options.CeilMode, ap.Options.Inclusive = []int{c.Padding}, c.CeilMode, !c.Exclusive
			checkAgainst(t, ap.Forward, c.X, c.AvgY, c.AvgGY, c.AvgGX, nil, nil)
			mp := nn.NewMaxPool1D(c.Kernel, c.Stride)
			mp.Options.Padding, mp.Options.CeilMode = []int{c.Padding}, c.CeilMode
			checkAgainst(t, mp.Forward, c.X, c.MaxY, c.MaxGY, c.MaxGX, nil, nil)
		})
	}
}
