package nn_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// normactCase is one case of a PyTorch fixture: settings, input, parameters, output, the output
// gradient g and the gradients PyTorch computed.
type normactCase struct {
	Name       string         `json:"name"`
	Args       map[string]any `json:"args"`
	X          *fixtureTensor `json:"x"`
	Weight     *fixtureTensor `json:"weight"`
	Bias       *fixtureTensor `json:"bias"`
	Out        *fixtureTensor `json:"out"`
	G          *fixtureTensor `json:"g"`
	GradX      *fixtureTensor `json:"grad_x"`
	GradWeight *fixtureTensor `json:"grad_weight"`
	GradBias   *fixtureTensor `json:"grad_bias"`
	RunMean    *fixtureTensor `json:"running_mean"`
	RunVar     *fixtureTensor `json:"running_var"`
	EvalOut    *fixtureTensor `json:"eval_out"`
}

func (c normactCase) ints(key string) []int {
	var out []int
	switch v := c.Args[key].(type) {
	case []any:
		for _, e := range v {
			out = append(out, int(e.(float64)))
		}
	case float64:
		out = []int{int(v)}
	}
	return out
}

func (c normactCase) num(key string) float64 { return c.Args[key].(float64) }

func (c normactCase) flag(key string) bool { b, _ := c.Args[key].(bool); return b }

// readNormactFixtures reads the cases of nn/testdata/normact/<family>.json.
func readNormactFixtures(t *testing.T, family string) []normactCase {
	t.Helper()
	var cases []normactCase
	readFixtureCases(t, "normact", family+".json", &cases)
	return cases
}

// checkNormactFixture runs l on the fixture's input, seeds Backward with its g and compares the output
// and the gradients of the input and of the named parameters with PyTorch's.
func checkNormactFixture(t *testing.T, c normactCase, l nn.Layer, params map[string]*tensor.Tensor) {
	t.Helper()
	x := c.X.tensor()
	if c.GradX != nil {
		x.SetRequiresGrad(true)
	}
	for _, p := range params {
		p.ClearGrad()
	}
	y := l.Forward(x)
	if err := tensortest.Close(y, c.Out.tensor(), 1e-5, 1e-4); err != nil {
		t.Fatalf("%s: output: %v", c.Name, err)
	}
	y.BackwardWith(c.G.tensor())
	if c.GradX != nil {
		if err := tensortest.Close(x.Grad(), c.GradX.tensor(), 1e-4, 1e-3); err != nil {
			t.Fatalf("%s: input gradient: %v", c.Name, err)
		}
	}
	for name, p := range params {
		var want *fixtureTensor
		switch name {
		case "weight":
			want = c.GradWeight
		case "bias":
			want = c.GradBias
		}
		require.NotNil(t, want, "%s: no PyTorch gradient for %s", c.Name, name)
		if err := tensortest.Close(p.Grad().Reshape(-1), want.tensor().Reshape(-1), 1e-4, 1e-3); err != nil {
			t.Fatalf("%s: %s gradient: %v", c.Name, name, err)
		}
	}
}

// setNormactParams copies the fixture's weight and bias into the layer's.
func setNormactParams(t *testing.T, c normactCase, w, b *tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	ps := map[string]*tensor.Tensor{}
	if w != nil {
		require.Equal(t, w.Len(), len(c.Weight.Data), c.Name)
		copy(w.Data(), c.Weight.Data)
		ps["weight"] = w
	}
	if b != nil {
		require.Equal(t, b.Len(), len(c.Bias.Data), c.Name)
		copy(b.Data(), c.Bias.Data)
		ps["bias"] = b
	}
	return ps
}

func TestLayerNormLayer(t *testing.T) {
	rng := newRNG()
	l := nn.NewLayerNorm([]int{3, 4})
	require.Equal(t, []int{12}, l.Weight.Shape(), "Paddle's flattened layout")
	require.Equal(t, tensor.Ones(12).Data(), l.Weight.Data())
	require.Equal(t, tensor.Zeros(12).Data(), l.Bias.Data())
	require.Equal(t, float32(1e-5), l.Epsilon)
	names := []string{}
	for _, p := range l.Params() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"weight", "bias"}, names)

	x := tensor.Randn(rng, 2, 3, 4).Scale(3).AddScalar(1)
	y := l.Forward(x)
	// each sample has mean 0 and biased variance 1 over its last two axes
	tensortest.AllClose(t, y.Mean(1, 2), tensor.Zeros(2), 1e-5, 0)
	tensortest.AllClose(t, y.Mul(y).Mean(1, 2), tensor.Ones(2), 1e-4, 0)

	for _, c := range []struct {
		shape []int
		norm  []int
		opt   nn.NormOptions
	}{
		{[]int{3, 5}, []int{5}, nn.NormOptions{WeightInit: nn.Normal(1, 0.5), BiasInit: nn.Normal(0, 0.5), Rand: rng}},
		{[]int{2, 3, 4}, []int{3, 4}, nn.NormOptions{WeightInit: nn.Normal(1, 0.5), BiasInit: nn.Normal(0, 0.5), Rand: rng}},
		{[]int{2, 3, 4}, []int{4}, nn.NormOptions{NoWeight: true, NoBias: true}},
		{[]int{2, 3, 4}, []int{3, 4}, nn.NormOptions{NoBias: true, WeightInit: nn.Normal(1, 0.5), Rand: rng, Epsilon: 1e-3}},
		{[]int{2, 3, 4}, []int{4}, nn.NormOptions{NoWeight: true, BiasInit: nn.Normal(0, 0.5), Rand: rng}},
	} {
		l := nn.NewLayerNorm(c.norm, c.opt)
		require.Equal(t, !c.opt.NoWeight, l.Weight != nil)
		require.Equal(t, !c.opt.NoBias, l.Bias != nil)
		require.Len(t, l.Params(), 2-normactBtoi(c.opt.NoWeight)-normactBtoi(c.opt.NoBias))
		checkLayer(t, l, tensor.Randn(rng, c.shape...).Scale(2), tensortest.GradCheckOptions{})
	}

	requireLayerPanic(t, "nn: LayerNorm: input [2 4 3], want [..., 3, 4]", func() { l.Forward(tensor.Zeros(2, 4, 3)) })
	requireLayerPanic(t, "nn: LayerNorm: input [4], want [..., 3, 4]", func() { l.Forward(tensor.Zeros(4)) })
	requireLayerPanic(t, "nn: LayerNorm: normalized shape []: want one or more dimensions, each at least 1", func() { nn.NewLayerNorm(nil) })
	requireLayerPanic(t, "nn: LayerNorm: normalized shape [3 0]: want one or more dimensions, each at least 1", func() { nn.NewLayerNorm([]int{3, 0}) })
}

func normactBtoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLayerNormTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "layernorm") {
		opt := nn.NormOptions{}
		if !c.flag("affine") { // PyTorch's elementwise_affine=False
			opt.NoWeight, opt.NoBias = true, true
		}
		l := nn.NewLayerNorm(c.ints("normalized_shape"), opt)
		checkNormactFixture(t, c, l, setNormactParams(t, c, l.Weight, l.Bias))
	}
}

func normactParamNames(l nn.Layer) []string {
	var names []string
	for _, p := range l.Params() {
		names = append(names, p.Name)
	}
	return names
}

func TestGroupNormLayer(t *testing.T) {
	rng := newRNG()
	l := nn.NewGroupNorm(2, 4)
	require.Equal(t, []string{"weight", "bias"}, normactParamNames(l))
	require.Equal(t, []int{4}, l.Weight.Shape())
	x := tensor.Randn(rng, 3, 4, 2, 3).Scale(2).AddScalar(1)
	y := l.Forward(x)
	// each sample's group (2 channels × 6 positions) has mean 0 and variance 1
	g := y.Reshape(3, 2, 12)
	tensortest.AllClose(t, g.Mean(2), tensor.Zeros(3, 2), 1e-5, 0)
	tensortest.AllClose(t, g.Mul(g).Mean(2), tensor.Ones(3, 2), 1e-4, 0)

	for _, c := range []struct {
		groups, channels int
		shape            []int
		opt              nn.NormOptions
	}{
		{1, 4, []int{2, 4, 3, 3}, nn.NormOptions{}},
		{2, 4, []int{2, 4, 3, 3}, nn.NormOptions{}},
		{4, 4, []int{2, 4, 3, 3}, nn.NormOptions{}},
		{3, 6, []int{2, 6, 5}, nn.NormOptions{Epsilon: 1e-3}},
		{2, 4, []int{3, 4}, nn.NormOptions{NoWeight: true}},
		{2, 4, []int{2, 4, 2, 2}, nn.NormOptions{NoWeight: true, NoBias: true}},
	} {
		l := nn.NewGroupNorm(c.groups, c.channels, c.opt)
		if l.Weight != nil {
			copy(l.Weight.Data(), tensor.Uniform(rng, 0.5, 1.5, c.channels).Data())
		}
		if l.Bias != nil {
			copy(l.Bias.Data(), tensor.Randn(rng, c.channels).Data())
		}
		checkLayer(t, l, tensor.Randn(rng, c.shape...).Scale(2), tensortest.GradCheckOptions{})
	}
	requireLayerPanic(t, "nn: GroupNorm: input [2 3 4], want [N, 4, *]", func() { l.Forward(tensor.Zeros(2, 3, 4)) })
	requireLayerPanic(t, "nn: GroupNorm: 3 groups do not divide 4 channels", func() { nn.NewGroupNorm(3, 4) })
}

func TestGroupNormTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "groupnorm") {
		l := nn.NewGroupNorm(c.ints("num_groups")[0], c.ints("num_channels")[0])
		checkNormactFixture(t, c, l, setNormactParams(t, c, l.Weight, l.Bias))
	}
}

func TestInstanceNorm2D(t *testing.T) {
	rng := newRNG()
	l := nn.NewInstanceNorm2D(3)
	require.Equal(t, []string{"scale", "bias"}, normactParamNames(l), "Paddle's keys")
	x := tensor.Randn(rng, 2, 3, 4, 4).Scale(3).AddScalar(-1)
	y := l.Forward(x)
	tensortest.AllClose(t, y.Mean(2, 3), tensor.Zeros(2, 3), 1e-5, 0)
	// the same values in evaluation: no running statistics
	nn.Eval(l)
	tensortest.AllClose(t, l.Forward(x), y, 0, 0)
	copy(l.Scale.Data(), []float32{0.5, 1.5, -1})
	copy(l.Bias.Data(), []float32{0.1, 0.2, 0.3})
	checkLayer(t, l, tensor.Randn(rng, 2, 3, 3, 3), tensortest.GradCheckOptions{})
	plain := nn.NewInstanceNorm2D(2, nn.NormOptions{NoWeight: true, NoBias: true})
	require.Empty(t, plain.Params())
	checkLayer(t, plain, tensor.Randn(rng, 2, 2, 3, 2), tensortest.GradCheckOptions{})
	requireLayerPanic(t, "nn: InstanceNorm2D: input [2 3 4], want [N, 3, H, W]", func() { l.Forward(tensor.Zeros(2, 3, 4)) })
	requireLayerPanic(t, "nn: InstanceNorm2D: NoWeight and NoBias must be set together, as Paddle's weight_attr and bias_attr",
		func() { nn.NewInstanceNorm2D(2, nn.NormOptions{NoBias: true}) })
}

func TestInstanceNorm2DTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "instancenorm") {
		l := nn.NewInstanceNorm2D(c.ints("num_features")[0])
		checkNormactFixture(t, c, l, setNormactParams(t, c, l.Scale, l.Bias))
	}
}

func TestBatchNorm1D(t *testing.T) {
	rng := newRNG()
	for _, shape := range [][]int{{8, 3}, {4, 3, 5}} {
		bn := nn.NewBatchNorm1D(3)
		x := tensor.Randn(rng, shape...).Scale(2).AddScalar(1)
		axes := []int{0}
		if len(shape) == 3 {
			axes = []int{0, 2}
		}
		y := bn.Forward(x)
		tensortest.AllClose(t, y.Mean(axes...), tensor.Zeros(3), 1e-5, 0)
		// running statistics as BatchNorm2D keeps them: 0.9*old + 0.1*batch, biased variance
		mean := x.MeanKeepDim(axes...)
		xc := x.Sub(mean)
		variance := xc.Mul(xc).Mean(axes...)
		tensortest.AllClose(t, bn.RunningMean, mean.Reshape(3).Scale(0.1), 1e-6, 1e-6)
		tensortest.AllClose(t, bn.RunningVar, variance.Scale(0.1).AddScalar(0.9), 1e-6, 1e-6)

		// training-mode gradients with non-trivial weight and bias
		bn2 := nn.NewBatchNorm1D(3)
		copy(bn2.Weight.Data(), []float32{1.5, -0.5, 0.8})
		copy(bn2.Bias.Data(), []float32{0.2, 0.3, -0.1})
		checkLayer(t, bn2, tensor.Randn(rng, shape...), tensortest.GradCheckOptions{Atol: 2e-2})
		// evaluation uses the running statistics
		nn.Eval(bn)
		checkLayer(t, bn, x, tensortest.GradCheckOptions{})
	}
	// channels last: [N, L, C] equals [N, C, L] permuted
	x := tensor.Randn(rng, 4, 5, 3)
	a, b := nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{DataFormat: "NLC"}), nn.NewBatchNorm1D(3)
	tensortest.AllClose(t, a.Forward(x), b.Forward(x.Permute(0, 2, 1)).Permute(0, 2, 1), 1e-6, 1e-6)
	tensortest.AllClose(t, a.RunningVar, b.RunningVar, 1e-6, 1e-6)
	checkLayer(t, nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{DataFormat: "NLC"}), x, tensortest.GradCheckOptions{Atol: 2e-2})
	// use_global_stats: running statistics in training, left unchanged
	g := nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{UseGlobalStats: true})
	copy(g.RunningMean.Data(), []float32{1, 2, 3})
	y := g.Forward(tensor.Ones(2, 3))
	tensortest.AllClose(t, y, tensor.New([]float32{0, -1, -2, 0, -1, -2}, 2, 3), 1e-4, 0)
	require.Equal(t, []float32{1, 2, 3}, g.RunningMean.Data())

	bn := nn.NewBatchNorm1D(3)
	require.Equal(t, []string{"weight", "bias"}, normactParamNames(bn))
	require.Equal(t, "_mean", bn.Buffers()[0].Name)
	require.Equal(t, "_variance", bn.Buffers()[1].Name)
	requireLayerPanic(t, "nn: BatchNorm1D: input [4 2], want [N, 3] or [N, 3, L]", func() { bn.Forward(tensor.Zeros(4, 2)) })
	requireLayerPanic(t, "nn: BatchNorm1D: input [4 3 2 2], want [N, 3] or [N, 3, L]", func() { bn.Forward(tensor.Zeros(4, 3, 2, 2)) })
	requireLayerPanic(t, `nn: BatchNorm1D: data format "NHWC": want NC, NCL or NLC`, func() {
		nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{DataFormat: "NHWC"})
	})
}

func TestBatchNorm1DTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "batchnorm1d") {
		l := nn.NewBatchNorm1D(c.ints("num_features")[0])
		checkNormactFixture(t, c, l, setNormactParams(t, c, l.Weight, l.Bias))
		tensortest.AllClose(t, l.RunningMean, c.RunMean.tensor(), 1e-6, 1e-5)
		tensortest.AllClose(t, l.RunningVar, c.RunVar.tensor(), 1e-6, 1e-5)
		nn.Eval(l)
		tensortest.AllClose(t, l.Forward(c.X.tensor()), c.EvalOut.tensor(), 1e-5, 1e-4)
	}
}

// TestNormactStateDict: the new layers' state-dict keys are Paddle's, and a Write/Read round trip
// restores every parameter and running statistic.
func TestNormactStateDict(t *testing.T) {
	build := func() *nn.Sequential {
		return nn.NewSequential(
			nn.NewEmbedding(6, 4, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: 0}),
			nn.NewLayerNorm([]int{4}),
			nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{DataFormat: "NLC"}),
			nn.NewPReLU(nn.PReLUOptions{NumParameters: 4, DataFormat: "NLC"}),
			nn.NewGroupNorm(2, 4),
			nn.NewInstanceNorm2D(4),
		)
	}
	a := build()
	var keys []string
	for _, p := range nn.StateDict(a) {
		keys = append(keys, p.Name)
	}
	require.Equal(t, []string{
		"0.weight", "1.weight", "1.bias", "2.weight", "2.bias", "3._weight", "4.weight", "4.bias",
		"5.scale", "5.bias", "2._mean", "2._variance", // parameters, then buffers
	}, keys)
	rng := newRNG()
	for _, p := range nn.StateDict(a) {
		copy(p.Data(), tensor.Randn(rng, p.Shape()...).Data())
	}
	var buf bytes.Buffer
	require.NoError(t, nn.Write(&buf, a))
	b := build()
	_, err := nn.Read(&buf, b)
	require.NoError(t, err)
	for i, p := range nn.StateDict(b) {
		require.Equal(t, nn.StateDict(a)[i].Data(), p.Data(), p.Name)
	}
}
