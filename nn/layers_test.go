package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// checkLayer grad-checks l's output with respect to its input and every parameter.
func checkLayer(t *testing.T, l nn.Layer, x *tensor.Tensor, opt tensortest.GradCheckOptions) {
	t.Helper()
	inputs := []*tensor.Tensor{x}
	for _, p := range l.Params() {
		inputs = append(inputs, p.Tensor)
	}
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
		// GradCheck perturbs the parameters' data in place, so the layer sees the new values;
		// only the input is passed explicitly.
		return l.Forward(in[0])
	}, inputs, opt)
}

func TestLinear(t *testing.T) {
	rng := newRNG()
	l := nn.NewLinear(4, 3, nn.LinearOptions{Rand: rng})
	require.Equal(t, []int{4, 3}, l.Weight.Shape(), "Paddle's [in, out] layout")
	require.Equal(t, []float32{0, 0, 0}, l.Bias.Data())
	limit := float32(math.Sqrt(6.0 / 7))
	for _, v := range l.Weight.Data() {
		require.True(t, v >= -limit && v <= limit, "Xavier-uniform bound")
	}
	x := tensor.Randn(rng, 2, 4)
	want := x.MatMul(l.Weight.Detach()).Add(l.Bias.Detach())
	tensortest.AllClose(t, l.Forward(x), want, 0, 0)
	checkLayer(t, l, x, tensortest.GradCheckOptions{})
	checkLayer(t, nn.NewLinear(3, 2, nn.LinearOptions{NoBias: true, Rand: rng}), tensor.Randn(rng, 2, 5, 3), tensortest.GradCheckOptions{})
	require.Len(t, nn.NewLinear(3, 2, nn.LinearOptions{NoBias: true}).Params(), 1)
	requireLayerPanic(t, "nn: Linear: input [64 785], weight [4 3]", func() { l.Forward(tensor.Zeros(64, 785)) })
	requireLayerPanic(t, "nn: Linear: in and out features must be at least 1, got 0 and 3", func() { nn.NewLinear(0, 3) })
}

func TestConv2DLayer(t *testing.T) {
	rng := newRNG()
	cases := []struct {
		name       string
		in, out, k int
		opts       nn.Conv2DOptions
		x          []int
	}{
		{"3x3 pad 1", 2, 3, 3, nn.Conv2DOptions{Padding: []int{1}}, []int{2, 2, 5, 5}},
		{"5x5 stride 2", 1, 2, 5, nn.Conv2DOptions{Stride: []int{2}}, []int{1, 1, 9, 9}},
		{"groups 2 dilation 2 no bias", 4, 2, 3, nn.Conv2DOptions{Groups: 2, Dilation: []int{2}, NoBias: true}, []int{1, 4, 7, 7}},
		{"2x3 kernel SAME", 2, 2, 0, nn.Conv2DOptions{PadMode: tensor.PadSame, KernelSize: [2]int{2, 3}}, []int{1, 2, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Rand = rng
			l := nn.NewConv2D(c.in, c.out, c.k, c.opts)
			checkLayer(t, l, tensor.Randn(rng, c.x...), tensortest.GradCheckOptions{Atol: 2e-2})
		})
	}
	l := nn.NewConv2D(1, 6, 3, nn.Conv2DOptions{Padding: []int{1}})
	require.Equal(t, []int{6, 1, 3, 3}, l.Weight.Shape())
	requireLayerPanic(t, "nn: Conv2D: input [2 3 8 8], weight [6 1 3 3]: want [N, 1, H, W]", func() { l.Forward(tensor.Zeros(2, 3, 8, 8)) })
	requireLayerPanic(t, "nn: Conv2D: tensor: Conv2D: kernel 3x3 (dilated 3x3) larger than padded input 2x2 (input [1 1 2 2])",
		func() { nn.NewConv2D(1, 1, 3).Forward(tensor.Zeros(1, 1, 2, 2)) })
	requireLayerPanic(t, "nn: Conv2D: in 3, out 4, kernel 3x3, groups 2: sizes must be at least 1 and channels divisible by groups",
		func() { nn.NewConv2D(3, 4, 3, nn.Conv2DOptions{Groups: 2}) })
}

func TestConvDefaultInitScale(t *testing.T) {
	// Paddle's default conv weight is N(0, 2/(in*kh*kw)): check the sample std on a big layer.
	l := nn.NewConv2D(16, 64, 3, nn.Conv2DOptions{Rand: newRNG()})
	var ss float64
	for _, v := range l.Weight.Data() {
		ss += float64(v) * float64(v)
	}
	std := math.Sqrt(ss / float64(l.Weight.Len()))
	require.InDelta(t, math.Sqrt(2.0/(16*9)), std, 0.005)
}

func TestPoolingAndSimpleLayers(t *testing.T) {
	rng := newRNG()
	x := tensor.Randn(rng, 2, 3, 6, 6)
	mp := nn.NewMaxPool2D(2, 0)
	require.Equal(t, []int{2, 3, 3, 3}, mp.Forward(x).Shape(), "stride 0 means the kernel size")
	checkLayer(t, mp, x, tensortest.GradCheckOptions{})
	ap := nn.NewAvgPool2D(3, 2)
	ap.Options.Padding = []int{1}
	checkLayer(t, ap, x, tensortest.GradCheckOptions{})
	require.Equal(t, []int{2, 108}, nn.NewFlatten().Forward(x).Shape())
	for _, l := range []nn.Layer{nn.NewReLU(), nn.NewLeakyReLU(), nn.NewSigmoid(), nn.NewTanh(), nn.NewSoftmax(-1), nn.NewFlatten()} {
		t.Run(nn.TypeName(l), func(t *testing.T) {
			y := tensor.Randn(rng, 2, 5)
			for i, v := range y.Data() { // keep away from ReLU's kink
				y.Data()[i] = v + float32(math.Copysign(0.1, float64(v)))
			}
			checkLayer(t, l, y, tensortest.GradCheckOptions{})
		})
	}
	requireLayerPanic(t, "nn: MaxPool2D: tensor: MaxPool2D: input [3 3] must be 4-D (NCHW)", func() { mp.Forward(tensor.Zeros(3, 3)) })
}

func TestDropout(t *testing.T) {
	x := tensor.Ones(1000)
	d := nn.NewDropout(0.3)
	require.True(t, d.Training())
	y := d.Forward(x)
	zeros := 0
	for _, v := range y.Data() {
		if v == 0 {
			zeros++
		} else {
			require.InDelta(t, 1/0.7, v, 1e-6, "kept elements are scaled by 1/(1-p)")
		}
	}
	require.InDelta(t, 300, zeros, 60)
	nn.Eval(d)
	require.Same(t, x, d.Forward(x), "evaluation passes the input through")
	d.Mode = nn.DownscaleInInfer
	tensortest.AllClose(t, d.Forward(x), tensor.Full(0.7, 1000), 1e-6, 0)

	// Gradient check with a fixed mask: reseed before every forward.
	g := nn.NewDropout(0.5)
	tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor {
		g.SetSeed(7)
		return g.Forward(in[0])
	}, []*tensor.Tensor{tensor.Randn(newRNG(), 4, 5)}, tensortest.GradCheckOptions{})

	requireLayerPanic(t, "nn: Dropout: p 1 outside [0, 1)", func() { nn.NewDropout(1) })
	requireLayerPanic(t, "nn: Dropout: p -0.1 outside [0, 1)", func() { nn.NewDropout(-0.1) })
}

func TestBatchNorm2D(t *testing.T) {
	rng := newRNG()
	bn := nn.NewBatchNorm2D(3)
	x := tensor.Randn(rng, 4, 3, 2, 2).Scale(2).AddScalar(1)
	y := bn.Forward(x)
	// each channel of the output has mean 0 and biased variance 1 (weight 1, bias 0)
	tensortest.AllClose(t, y.Mean(0, 2, 3), tensor.Zeros(3), 1e-5, 0)
	tensortest.AllClose(t, y.Mul(y).Mean(0, 2, 3), tensor.Ones(3), 1e-3, 0)
	// running stats: 0.9*old + 0.1*batch (Paddle's momentum), biased variance
	mean := x.Mean(0, 2, 3)
	xc := x.Sub(mean.Reshape(1, 3, 1, 1))
	variance := xc.Mul(xc).Mean(0, 2, 3)
	tensortest.AllClose(t, bn.RunningMean, mean.Scale(0.1), 1e-6, 1e-6)
	tensortest.AllClose(t, bn.RunningVar, variance.Scale(0.1).AddScalar(0.9), 1e-6, 1e-6)

	// training-mode gradient, with non-trivial weight and bias
	bn2 := nn.NewBatchNorm2D(2)
	copy(bn2.Weight.Data(), []float32{1.5, -0.5})
	copy(bn2.Bias.Data(), []float32{0.2, 0.3})
	checkLayer(t, bn2, tensor.Randn(rng, 3, 2, 2, 3), tensortest.GradCheckOptions{Atol: 2e-2})

	// evaluation uses the running statistics
	nn.Eval(bn)
	z := bn.Forward(x)
	want := x.Sub(bn.RunningMean.Reshape(1, 3, 1, 1)).Div(bn.RunningVar.AddScalar(1e-5).Sqrt().Reshape(1, 3, 1, 1))
	tensortest.AllClose(t, z, want, 1e-6, 1e-6)
	checkLayer(t, bn, x, tensortest.GradCheckOptions{})
	requireLayerPanic(t, "nn: BatchNorm2D: input [4 2 2 2], want [N, 3, H, W]", func() { bn.Forward(tensor.Zeros(4, 2, 2, 2)) })
}

// TestBatchNormMatchesItsFormula checks the fused training pass (a GroupNorm over [1, C, rest])
// against the formula written with elementary ops, on the layouts it treats apart: several
// positions per channel, one position (a permute of [N, C]), and a batch of one (no permute).
func TestBatchNormMatchesItsFormula(t *testing.T) {
	rng := newRNG()
	for _, shape := range [][]int{{4, 3, 2, 5}, {6, 3, 1, 1}, {1, 3, 4, 4}} {
		bn := nn.NewBatchNorm2D(3)
		copy(bn.Weight.Data(), []float32{1.5, -0.5, 2})
		copy(bn.Bias.Data(), []float32{0.2, 0.3, -1})
		x := tensor.Randn(rng, shape...).Scale(3).AddScalar(2)
		mean := x.MeanKeepDim(0, 2, 3)
		xc := x.Sub(mean)
		want := xc.Div(xc.Mul(xc).MeanKeepDim(0, 2, 3).AddScalar(1e-5).Sqrt()).
			Mul(bn.Weight.Reshape(1, 3, 1, 1)).Add(bn.Bias.Reshape(1, 3, 1, 1))
		tensortest.AllClose(t, bn.Forward(x), want, 2e-5, 2e-5)
		tensortest.AllClose(t, bn.RunningMean, mean.Reshape(3).Scale(0.1), 1e-6, 1e-5)
	}
	bn1 := nn.NewBatchNorm1D(3)
	x := tensor.Randn(rng, 5, 3).AddScalar(1)
	mean := x.MeanKeepDim(0)
	xc := x.Sub(mean)
	tensortest.AllClose(t, bn1.Forward(x), xc.Div(xc.Mul(xc).MeanKeepDim(0).AddScalar(1e-5).Sqrt()), 2e-5, 2e-5)
}

func TestSequentialNamesAndErrorPaths(t *testing.T) {
	fc := nn.NewSequential(nn.NewLinear(784, 10), nn.NewReLU(), nn.NewLinear(784, 10))
	net := nn.NewSequentialNamed(nn.Named{Name: "fc", Layer: fc})
	names := []string{}
	for _, p := range net.Params() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"fc.0.weight", "fc.0.bias", "fc.2.weight", "fc.2.bias"}, names)
	require.Equal(t, 3, fc.Len())
	require.IsType(t, &nn.ReLU{}, fc.At(1))
	require.IsType(t, &nn.Linear{}, fc.At(-1))
	requireLayerPanic(t, "nn: fc.2 (Linear): input [64 10], weight [784 10]", func() { net.Forward(tensor.Zeros(64, 784)) })
	requireLayerPanic(t, "nn: Sequential: index 3 out of range for 3 layers", func() { fc.At(3) })
	requireLayerPanic(t, `nn: Sequential: name "a" repeated`, func() {
		nn.NewSequentialNamed(nn.Named{Name: "a", Layer: nn.NewReLU()}, nn.Named{Name: "a", Layer: nn.NewReLU()})
	})
	fc.Append(nn.NewTanh())
	require.Equal(t, 4, fc.Len())
	checkLayer(t, nn.NewSequential(nn.NewLinear(3, 4), nn.NewTanh(), nn.NewLinear(4, 2)), tensor.Randn(newRNG(), 2, 3), tensortest.GradCheckOptions{})
}

func TestLayerList(t *testing.T) {
	l := nn.NewLayerList(nn.NewLinear(2, 2), nn.NewLinear(2, 3))
	l.Insert(0, nn.NewLinear(1, 2))
	require.Equal(t, 3, l.Len())
	require.Equal(t, "0.weight", l.Params()[0].Name)
	require.Equal(t, []int{1, 2}, l.Params()[0].Shape())
	require.Equal(t, []int{2, 3}, l.At(-1).(*nn.Linear).Weight.Shape())
	requireLayerPanic(t, "nn: LayerList: a LayerList has no Forward; run its layers with At(i)", func() { l.Forward(tensor.Zeros(1)) })
}

func TestTrainEvalWalk(t *testing.T) {
	d1, d2 := nn.NewDropout(0.1), nn.NewDropout(0.2)
	bn := nn.NewBatchNorm2D(1)
	net := nn.NewSequential(d1, nn.NewSequential(d2, bn))
	nn.Eval(net)
	require.False(t, d1.Training() || d2.Training() || bn.Training())
	nn.Train(net)
	require.True(t, d1.Training() && d2.Training() && bn.Training())
	var paths []string
	nn.Walk(net, func(path string, _ nn.Layer) { paths = append(paths, path) })
	require.Equal(t, []string{"", "0", "1", "1.0", "1.1"}, paths)
}

func TestSeedMakesInitRepeatable(t *testing.T) {
	nn.Seed(42)
	a := nn.NewLinear(5, 5)
	nn.Seed(42)
	b := nn.NewLinear(5, 5)
	require.Equal(t, a.Weight.Data(), b.Weight.Data())
	c := nn.NewLinear(5, 5)
	require.NotEqual(t, a.Weight.Data(), c.Weight.Data())
}

func TestInitializers(t *testing.T) {
	rng := newRNG()
	stats := func(init nn.Init, fanIn, fanOut int) (mean, std float64) {
		w := tensor.Zeros(200, 200)
		init(w, fanIn, fanOut, rng)
		var s, ss float64
		for _, v := range w.Data() {
			s += float64(v)
			ss += float64(v) * float64(v)
		}
		n := float64(w.Len())
		return s / n, math.Sqrt(ss/n - (s/n)*(s/n))
	}
	cases := []struct {
		name    string
		init    nn.Init
		in, out int
		std     float64
	}{
		{"XavierUniform", nn.XavierUniform(), 100, 50, math.Sqrt(2.0 / 150)},
		{"XavierNormal", nn.XavierNormal(), 100, 50, math.Sqrt(2.0 / 150)},
		{"KaimingUniform", nn.KaimingUniform(), 100, 50, math.Sqrt(2.0 / 100)},
		{"KaimingNormal", nn.KaimingNormal(), 100, 50, math.Sqrt(2.0 / 100)},
		{"Normal", nn.Normal(0, 0.5), 1, 1, 0.5},
		{"Uniform", nn.Uniform(-1, 1), 1, 1, 1 / math.Sqrt(3)},
	}
	for _, c := range cases {
		mean, std := stats(c.init, c.in, c.out)
		require.InDelta(t, 0, mean, 0.01, c.name)
		require.InDelta(t, c.std, std, c.std*0.03, c.name)
	}
	w := tensor.Zeros(3)
	nn.Constant(2.5)(w, 1, 1, rng)
	require.Equal(t, []float32{2.5, 2.5, 2.5}, w.Data())
}

// requireLayerPanic asserts that f panics with an error whose message is msg.
func requireLayerPanic(t *testing.T, msg string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "no panic, want %q", msg)
		err, ok := r.(error)
		require.True(t, ok, "panic value %T (%v) is not an error", r, r)
		require.Equal(t, msg, err.Error())
	}()
	f()
}

func TestZeroValueAndConstructorDefaults(t *testing.T) {
	x := tensor.Randn(newRNG(), 2, 3, 4)
	require.Equal(t, []int{2, 12}, nn.NewFlatten().Forward(x).Shape())
	require.Equal(t, []int{6, 4}, nn.NewFlatten(0, 1).Forward(x).Shape())
	require.Equal(t, []int{2, 12}, nn.NewFlatten(-2).Forward(x).Shape())
	tensortest.AllClose(t, nn.NewSoftmax(-1).Forward(x).Sum(-1), tensor.Ones(2, 3), 1e-6, 0)
	d := &nn.Dropout{P: 0.5} // built directly: seeded on first use, no nil generator
	require.Equal(t, []int{2, 3, 4}, d.Forward(x).Shape())
	require.NotEmpty(t, d.RandomState())
	requireLayerPanic(t, "nn: Dropout: p 2 outside [0, 1)", func() { (&nn.Dropout{P: 2}).Forward(x) })
}

func TestSetRandomStatesIsAtomic(t *testing.T) {
	a, b := nn.NewDropout(0.5), nn.NewDropout(0.5)
	net := nn.NewSequential(a, b)
	before := nn.RandomStates(net)
	other := nn.RandomStates(nn.NewSequential(nn.NewDropout(0.5), nn.NewDropout(0.5)))
	other["rng.1"] = "00ff" // decodes, but is no PCG state
	require.ErrorContains(t, nn.SetRandomStates(net, other), "rng.1: Dropout random state")
	require.Equal(t, before, nn.RandomStates(net), "a failed restore leaves every generator as it was")
}
