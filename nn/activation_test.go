package nn_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// normactOffKinks returns random values in [-5, 5) at least 0.1 away from the integers, where every
// activation here is smooth.
func normactOffKinks(shape ...int) *tensor.Tensor {
	x := tensor.Uniform(newRNG(), -5, 5, shape...)
	for i, v := range x.Data() {
		if r := v - float32(math.Round(float64(v))); r > -0.1 && r < 0.1 {
			x.Data()[i] = float32(math.Round(float64(v))) + 0.3
		}
	}
	return x
}

func TestActivationLayerDefaults(t *testing.T) {
	require.False(t, nn.NewGELU().Approximate)
	require.Equal(t, float32(1), nn.NewELU().Alpha)
	require.Equal(t, float32(tensor.SELUScale), nn.NewSELU().Scale)
	require.Equal(t, float32(tensor.SELUAlpha), nn.NewSELU().Alpha)
	require.Equal(t, &nn.Softplus{Beta: 1, Threshold: 20}, nn.NewSoftplus())
	require.Equal(t, &nn.Hardsigmoid{Slope: 0.1666667, Offset: 0.5}, nn.NewHardsigmoid())
	require.Equal(t, &nn.Hardtanh{Min: -1, Max: 1}, nn.NewHardtanh())
	p := nn.NewPReLU()
	require.Equal(t, []float32{0.25}, p.Weight.Data())
	require.Equal(t, []string{"_weight"}, normactParamNames(p), "Paddle's key")
	require.Equal(t, []float32{0.25, 0.25, 0.25}, nn.NewPReLU(nn.PReLUOptions{NumParameters: 3}).Weight.Data())
	require.Equal(t, []float32{0.1, 0.1}, nn.NewPReLU(nn.PReLUOptions{NumParameters: 2, WeightInit: nn.Constant(0.1)}).Weight.Data())
}

func TestActivationLayers(t *testing.T) {
	for _, c := range []struct {
		l       nn.Layer
		want    func(x *tensor.Tensor) *tensor.Tensor
		minRank int
	}{
		{nn.NewGELU(), func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(false) }, 0},
		{&nn.GELU{Approximate: true}, func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(true) }, 0},
		{nn.NewSiLU(), (*tensor.Tensor).SiLU, 0},
		{nn.NewELU(), func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(1) }, 0},
		{&nn.ELU{Alpha: 0.3}, func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(0.3) }, 0},
		{nn.NewSELU(), func(x *tensor.Tensor) *tensor.Tensor { return x.SELU(tensor.SELUScale, tensor.SELUAlpha) }, 0},
		{nn.NewSoftplus(), func(x *tensor.Tensor) *tensor.Tensor { return x.Softplus(1, 20) }, 0},
		{&nn.Softplus{Beta: 2, Threshold: 3}, func(x *tensor.Tensor) *tensor.Tensor { return x.Softplus(2, 3) }, 0},
		{nn.NewSoftsign(), (*tensor.Tensor).Softsign, 0},
		{nn.NewHardswish(), (*tensor.Tensor).Hardswish, 0},
		{nn.NewHardsigmoid(), func(x *tensor.Tensor) *tensor.Tensor { return x.Hardsigmoid(0.1666667, 0.5) }, 0},
		{nn.NewHardtanh(), func(x *tensor.Tensor) *tensor.Tensor { return x.Hardtanh(-1, 1) }, 0},
		{&nn.Hardtanh{Min: -2, Max: 3}, func(x *tensor.Tensor) *tensor.Tensor { return x.Hardtanh(-2, 3) }, 0},
		{nn.NewReLU6(), (*tensor.Tensor).ReLU6, 0},
		{nn.NewLogSigmoid(), (*tensor.Tensor).LogSigmoid, 0},
		{nn.NewMish(), (*tensor.Tensor).Mish, 0},
		{nn.NewTanhshrink(), (*tensor.Tensor).Tanhshrink, 0},
		{nn.NewLogSoftmax(-1), func(x *tensor.Tensor) *tensor.Tensor { return x.LogSoftmax(-1) }, 0},
		{nn.NewLogSoftmax(1), func(x *tensor.Tensor) *tensor.Tensor { return x.LogSoftmax(1) }, 2},
		{nn.NewIdentity(), func(x *tensor.Tensor) *tensor.Tensor { return x }, 0},
		{nn.NewPReLU(), func(x *tensor.Tensor) *tensor.Tensor { return x.PReLU(tensor.New([]float32{0.25}, 1), false) }, 0},
	} {
		for _, shape := range [][]int{{6}, {2, 5}, {2, 3, 4}} {
			if len(shape) < c.minRank {
				continue
			}
			name := fmt.Sprintf("%s/%v", nn.TypeName(c.l), shape)
			t.Run(name, func(t *testing.T) {
				x := normactOffKinks(shape...)
				tensortest.AllClose(t, c.l.Forward(x), c.want(x), 0, 0)
				checkLayer(t, c.l, x, tensortest.GradCheckOptions{})
			})
		}
	}
	x := tensor.Randn(newRNG(), 2, 3)
	require.Same(t, x, nn.NewIdentity().Forward(x), "Identity returns its input")
}

func TestPReLULayer(t *testing.T) {
	rng := newRNG()
	for _, c := range []struct {
		opt   nn.PReLUOptions
		shape []int
	}{
		{nn.PReLUOptions{}, []int{2, 3, 4}},
		{nn.PReLUOptions{NumParameters: 3}, []int{2, 3, 4, 4}},
		{nn.PReLUOptions{NumParameters: 3}, []int{5, 3}},
		{nn.PReLUOptions{NumParameters: 3, DataFormat: "NCL"}, []int{2, 3, 6}},
		{nn.PReLUOptions{NumParameters: 4, DataFormat: "NHWC"}, []int{2, 3, 3, 4}},
		{nn.PReLUOptions{NumParameters: 4, DataFormat: "NLC"}, []int{2, 5, 4}},
	} {
		l := nn.NewPReLU(c.opt)
		copy(l.Weight.Data(), tensor.Uniform(rng, 0.05, 0.6, l.Weight.Len()).Data())
		checkLayer(t, l, normactOffKinks(c.shape...), tensortest.GradCheckOptions{})
	}
	l := nn.NewPReLU(nn.PReLUOptions{NumParameters: 3})
	requireLayerPanic(t, "nn: PReLU: input [2 4 5], want 3 channels on axis 1", func() { l.Forward(tensor.Zeros(2, 4, 5)) })
	requireLayerPanic(t, "nn: PReLU: input [3], want 3 channels on axis 1", func() { l.Forward(tensor.Zeros(3)) })
	requireLayerPanic(t, `nn: PReLU: data format "HWC": want NC, NCL, NCHW, NCDHW, NLC, NHWC or NDHWC`, func() {
		nn.NewPReLU(nn.PReLUOptions{DataFormat: "HWC"})
	})
	requireLayerPanic(t, "nn: PReLU: num_parameters -2 < 1", func() { nn.NewPReLU(nn.PReLUOptions{NumParameters: -2}) })
}

func TestActivationLayerPanics(t *testing.T) {
	requireLayerPanic(t, "nn: Hardtanh: tensor: Hardtanh: min 1 > max -1", func() { (&nn.Hardtanh{Min: 1, Max: -1}).Forward(tensor.Zeros(2)) })
	requireLayerPanic(t, "nn: Softplus: tensor: Softplus: beta is 0", func() { (&nn.Softplus{}).Forward(tensor.Zeros(2)) })
	requireLayerPanic(t, "nn: LogSoftmax: tensor: LogSoftmax: axis 2 out of range for rank 2", func() { nn.NewLogSoftmax(2).Forward(tensor.Zeros(2, 2)) })
}

func TestFunc(t *testing.T) {
	sq := nn.NewFunc("square", func(x *tensor.Tensor) *tensor.Tensor { return x.Square() })
	require.Equal(t, "square", nn.TypeName(sq))
	require.Empty(t, sq.Params())
	net := nn.NewSequential(nn.NewLinear(3, 2), sq)
	x := tensor.Randn(newRNG(), 4, 3)
	checkLayer(t, net, x, tensortest.GradCheckOptions{})

	// hooks run on it as on any layer
	var seen []int
	remove := sq.RegisterForwardPostHook(func(l nn.Layer, in, out *tensor.Tensor) *tensor.Tensor {
		seen = out.Shape()
		return out.Scale(2)
	})
	y := net.Forward(x)
	require.Equal(t, []int{4, 2}, seen)
	tensortest.AllClose(t, y, net.At(0).Forward(x).Square().Scale(2), 1e-6, 1e-6)
	remove()

	// its name stands for its type in errors
	bad := nn.NewFunc("rows", func(x *tensor.Tensor) *tensor.Tensor { return x.Reshape(5, -1) })
	requireLayerPanic(t, "nn: 1 (rows): tensor: Reshape: cannot reshape [4 2] into [5 -1]",
		func() { nn.NewSequential(nn.NewLinear(3, 2), bad).Forward(x) })
	requireLayerPanic(t, "nn: Func: want a name and a non-nil function", func() { nn.NewFunc("f", nil) })
	requireLayerPanic(t, "nn: Func: want a name and a non-nil function", func() { nn.NewFunc("", (*tensor.Tensor).ReLU) })
}

func TestActivationsTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "activations") {
		var l nn.Layer
		params := map[string]*tensor.Tensor{}
		switch op := c.Args["op"].(string); op {
		case "GELU":
			l = &nn.GELU{Approximate: c.flag("approximate")}
		case "SiLU":
			l = nn.NewSiLU()
		case "ELU":
			l = &nn.ELU{Alpha: float32(c.num("alpha"))}
		case "SELU":
			l = nn.NewSELU()
		case "Softplus":
			l = &nn.Softplus{Beta: float32(c.num("beta")), Threshold: float32(c.num("threshold"))}
		case "Mish":
			l = nn.NewMish()
		case "Hardswish":
			l = nn.NewHardswish()
		case "Softsign":
			l = nn.NewSoftsign()
		case "Tanhshrink":
			l = nn.NewTanhshrink()
		case "LogSigmoid":
			l = nn.NewLogSigmoid()
		case "Hardtanh":
			l = &nn.Hardtanh{Min: float32(c.num("min")), Max: float32(c.num("max"))}
		case "ReLU6":
			l = nn.NewReLU6()
		case "PReLU":
			p := nn.NewPReLU(nn.PReLUOptions{NumParameters: c.ints("num_parameters")[0]})
			params = setNormactParams(t, c, p.Weight, nil)
			l = p
		default:
			t.Fatalf("%s: unknown op %q", c.Name, op)
		}
		checkNormactFixture(t, c, l, params)
	}
}
