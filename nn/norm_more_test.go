package nn_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// fixtureTensor is a tensor as nn/testdata/normact/make_fixtures.py writes it.
type fixtureTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (f *fixtureTensor) tensor() *tensor.Tensor {
	if f == nil {
		return nil
	}
	return tensor.New(append([]float32(nil), f.Data...), f.Shape...)
}

// fixtureCase is one case of a PyTorch fixture: settings, input, parameters, output, the output
// gradient g and the gradients PyTorch computed.
type fixtureCase struct {
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

func (c fixtureCase) ints(key string) []int {
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

func (c fixtureCase) num(key string) float64 { return c.Args[key].(float64) }

func (c fixtureCase) flag(key string) bool { b, _ := c.Args[key].(bool); return b }

// readFixtures reads the cases of nn/testdata/normact/<family>.json.
func readFixtures(t *testing.T, family string) []fixtureCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "normact", family+".json"))
	require.NoError(t, err)
	var f struct {
		Cases []fixtureCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.Cases)
	return f.Cases
}

// checkFixture runs l on the fixture's input, seeds Backward with its g and compares the output
// and the gradients of the input and of the named parameters with PyTorch's.
func checkFixture(t *testing.T, c fixtureCase, l nn.Layer, params map[string]*tensor.Tensor) {
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
		if err := tensortest.Close(p.Grad().Reshape(-1), want.tensor(), 1e-4, 1e-3); err != nil {
			t.Fatalf("%s: %s gradient: %v", c.Name, name, err)
		}
	}
}

// setParams copies the fixture's weight and bias into the layer's.
func setParams(t *testing.T, c fixtureCase, w, b *tensor.Tensor) map[string]*tensor.Tensor {
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
		require.Len(t, l.Params(), 2-btoi(c.opt.NoWeight)-btoi(c.opt.NoBias))
		checkLayer(t, l, tensor.Randn(rng, c.shape...).Scale(2), tensortest.GradCheckOptions{})
	}

	requireLayerPanic(t, "nn: LayerNorm: input [2 4 3], want [..., 3, 4]", func() { l.Forward(tensor.Zeros(2, 4, 3)) })
	requireLayerPanic(t, "nn: LayerNorm: input [4], want [..., 3, 4]", func() { l.Forward(tensor.Zeros(4)) })
	requireLayerPanic(t, "nn: LayerNorm: normalized shape []: want one or more dimensions, each at least 1", func() { nn.NewLayerNorm(nil) })
	requireLayerPanic(t, "nn: LayerNorm: normalized shape [3 0]: want one or more dimensions, each at least 1", func() { nn.NewLayerNorm([]int{3, 0}) })
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLayerNormTorch(t *testing.T) {
	for _, c := range readFixtures(t, "layernorm") {
		opt := nn.NormOptions{}
		if !c.flag("affine") { // PyTorch's elementwise_affine=False
			opt.NoWeight, opt.NoBias = true, true
		}
		l := nn.NewLayerNorm(c.ints("normalized_shape"), opt)
		checkFixture(t, c, l, setParams(t, c, l.Weight, l.Bias))
	}
}
