package onnx_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// tutorialCNN is the network of examples/cnn (newNet), with its layer names.
func tutorialCNN() *nn.Sequential {
	conv := nn.Conv2DOptions{Stride: []int{1}, Padding: []int{2}}
	return nn.NewSequentialNamed(
		nn.Named{Name: "conv1", Layer: nn.NewConv2D(1, 20, 5, conv)},
		nn.Named{Name: "relu1", Layer: nn.NewReLU()},
		nn.Named{Name: "max_pool1", Layer: nn.NewMaxPool2D(2, 2)},
		nn.Named{Name: "conv2", Layer: nn.NewConv2D(20, 20, 5, conv)},
		nn.Named{Name: "relu2", Layer: nn.NewReLU()},
		nn.Named{Name: "max_pool2", Layer: nn.NewMaxPool2D(2, 2)},
		nn.Named{Name: "flatten", Layer: nn.NewFlatten()},
		nn.Named{Name: "fc", Layer: nn.NewLinear(980, 10)},
	)
}

// randomize perturbs every parameter and buffer of l with values from rng (so that biases are not
// zero) and draws BatchNorm2D's running statistics, so that no layer computes with trivial values.
func randomize(l nn.Layer, rng *rand.Rand) {
	for _, p := range nn.StateDict(l) {
		for i := range p.Data() {
			p.Data()[i] += float32(rng.NormFloat64()) * 0.1
		}
	}
	nn.Walk(l, func(_ string, c nn.Layer) {
		if bn, ok := c.(*nn.BatchNorm2D); ok {
			for i := range bn.RunningVar.Data() {
				bn.RunningVar.Data()[i] = 0.5 + rng.Float32()
			}
		}
	})
}

// asymmetricAvgPool pools with asymmetric padding, inclusive and exclusive, where oar's and
// ONNX's divisors agree.
func asymmetricAvgPool() *nn.Sequential {
	inc, exc := nn.NewAvgPool2D(2, 2), nn.NewAvgPool2D(3, 1)
	inc.Options.Padding, inc.Options.Inclusive = []int{0, 1, 1, 0}, true // [4, 6] -> [2, 3]
	exc.Options.Padding = []int{1, 0, 2, 1}                              // [2, 3] -> [1, 4]
	return nn.NewSequential(inc, exc, nn.NewFlatten())
}

// flattenVariants flattens other axes than 1 to the last: Flatten(2) keeps the batch as dim 0
// (a Reshape), a Linear on the 3-D result is MatMul and Add, and Flatten(0, 1) merges the batch
// into dim 0, after which the output's shape is [batch*3, 5].
func flattenVariants() *nn.Sequential {
	return nn.NewSequential(nn.NewConv2D(1, 3, 3), nn.NewFlatten(2), nn.NewLinear(16, 5), nn.NewFlatten(0, 1), nn.NewSoftmax(-1))
}

// sharedWeights is two Linear layers holding one weight tensor, which is one initializer.
func sharedWeights() *nn.Sequential {
	a, b := nn.NewLinear(6, 6), nn.NewLinear(6, 6)
	b.Weight = a.Weight
	return nn.NewSequential(a, nn.NewTanh(), b, nn.NewDropout(0.3), nn.NewLinear(6, 2))
}

// bnNet is a Conv2D, a BatchNorm2D with non-trivial running statistics, a ReLU, an AvgPool2D in
// ceil mode with padding whose last windows overhang the padded input, a Flatten and a Linear.
func bnNet(inclusive bool) *nn.Sequential {
	pool := nn.NewAvgPool2D(3, 2)
	pool.Options.Padding = []int{1}
	pool.Options.CeilMode = true
	pool.Options.Inclusive = inclusive
	bn := nn.NewBatchNorm2D(4)
	bn.Epsilon, bn.Momentum = 1e-3, 0.8
	return nn.NewSequential(
		nn.NewConv2D(3, 4, 3, nn.Conv2DOptions{Padding: []int{1}}),
		bn,
		nn.NewReLU(),
		pool, // 8x8 -> 5x5 (floor rounding gives 4x4)
		nn.NewFlatten(),
		nn.NewLinear(4*5*5, 3),
	)
}

// convOptionsNet uses every Conv2D option: strides, 4-value padding, SAME and VALID, dilation and
// groups, and a MaxPool2D in ceil mode.
func convOptionsNet() *nn.Sequential {
	pool := nn.NewMaxPool2D(2, 2)
	pool.Options.CeilMode = true
	return nn.NewSequential(
		nn.NewConv2D(2, 6, 3, nn.Conv2DOptions{Stride: []int{2}, Padding: []int{1, 0, 2, 1}}),
		nn.NewLeakyReLU(),
		nn.NewConv2D(6, 6, 3, nn.Conv2DOptions{PadMode: tensor.PadSame, Groups: 3, Dilation: []int{2}, Stride: []int{2, 1}}),
		nn.NewSigmoid(),
		nn.NewConv2D(6, 4, 2, nn.Conv2DOptions{PadMode: tensor.PadValid, KernelSize: [2]int{2, 3}, NoBias: true}),
		nn.NewTanh(),
		pool,
		nn.NewFlatten(),
		nn.NewSoftmax(-1),
	)
}

// twoPath is a struct layer that calls its sublayers with tensor ops between them: Permute,
// Reshape, MatMul with a parameter, broadcast Add/Sub/Mul/Div, Exp, Log, Sqrt, Abs, Square,
// Maximum, a tensor Softmax, Concat, a Linear called twice (one set of weights), a Dropout (in
// evaluation mode it returns its input) and the layers of a LayerList.
type twoPath struct {
	nn.Hooks
	Proj   *tensor.Tensor // [24, 8]
	Shared *nn.Linear     // 8 -> 8, called twice
	Drop   *nn.Dropout
	Heads  *nn.LayerList // Linear(8, 4), Sigmoid
	Out    *nn.Linear    // 16 -> 3
}

func newTwoPath() *twoPath {
	return &twoPath{
		Proj:   tensor.Randn(rand.New(rand.NewPCG(3, 4)), 24, 8).SetRequiresGrad(true),
		Shared: nn.NewLinear(8, 8),
		Drop:   nn.NewDropout(0.5),
		Heads:  nn.NewLayerList(nn.NewLinear(8, 4), nn.NewSigmoid()),
		Out:    nn.NewLinear(16, 3),
	}
}

func (m *twoPath) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	h := x.Permute(0, 2, 1, 3).Flatten(1, -1).MatMul(m.Proj) // [N, 2, 3, 4] -> [N, 3, 2, 4] -> [N, 24] -> [N, 8]
	a := m.Shared.Forward(m.Drop.Forward(h)).Tanh()
	b := m.Shared.Forward(a.Square().Add(tensor.Scalar(1)).Sqrt()) // the same weights again
	c := a.Sub(b).Abs().Add(tensor.Full(0.5, 1, 8)).Log().Mul(b.Exp().Div(tensor.Full(3, 8)))
	d := m.Heads.At(1).Forward(m.Heads.At(0).Forward(c.Maximum(a)))          // [N, 4]
	e := d.Reshape(-1, 2, 2).Softmax(2).Reshape(-1, 4)                       // a tensor op softmax
	return m.Out.Forward(tensor.Concat([]*tensor.Tensor{c, e, d.Mul(d)}, 1)) // [N, 16] -> [N, 3]
}

func (m *twoPath) Params() []nn.Param {
	return append([]nn.Param{{Name: "proj", Tensor: m.Proj}}, nn.CollectParams(m.Sublayers())...)
}

func (m *twoPath) Sublayers() []nn.Named {
	return []nn.Named{{Name: "shared", Layer: m.Shared}, {Name: "drop", Layer: m.Drop},
		{Name: "heads", Layer: m.Heads}, {Name: "out", Layer: m.Out}}
}

// gapNet is a struct layer with reductions between its sublayers: a global average pool
// (x.Mean(2, 3)) and Sum, Mean, Max and Min over the features, with and without KeepDim; then
// Slice and Index.
type gapNet struct {
	nn.Hooks
	Conv *nn.Conv2D
	Act  *nn.ReLU
	FC   *nn.Linear
}

func newGapNet() *gapNet {
	return &gapNet{Conv: nn.NewConv2D(3, 8, 3), Act: nn.NewReLU(), FC: nn.NewLinear(8, 4)}
}

func (m *gapNet) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	h := m.Act.Forward(m.Conv.Forward(x)).Mean(2, 3) // [N, 8]
	h = h.Sub(h.MeanKeepDim(1)).Div(h.SumKeepDim(1).Abs().Add(tensor.Scalar(1)))
	h = tensor.Concat([]*tensor.Tensor{m.FC.Forward(h), h.MaxKeepDim(1), h.Min(1).Reshape(-1, 1)}, 1) // [N, 6]
	return h.Slice(1, 1, 5).Add(h.Index(1, -1).Unsqueeze(1).LogSoftmax(1))                            // Slice, Index, a LogSoftmax over one element
}

func (m *gapNet) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

func (m *gapNet) Sublayers() []nn.Named {
	return []nn.Named{{Name: "conv", Layer: m.Conv}, {Name: "act", Layer: m.Act}, {Name: "fc", Layer: m.FC}}
}

// exportCase is a network, the input shape it is traced at and the batch size it is run at.
type exportCase struct {
	name     string
	net      nn.Layer
	in       []int // traced
	runBatch int   // run by oar and ONNX Runtime
	opts     onnx.ExportOptions
}

func exportCases() []exportCase {
	mlp := models.MLP([]int{20, 32, 16, 5}, func() nn.Layer { return nn.NewReLU() })
	fusedLeNet, fusedCNN := models.LeNet(10), tutorialCNN()
	if nn.Fuse(fusedLeNet) != 2 || nn.Fuse(fusedCNN) != 2 {
		panic("Fuse did not fuse the networks")
	}
	cases := []exportCase{
		{name: "LeNet", net: models.LeNet(10), in: []int{2, 1, 28, 28}, runBatch: 5},
		{name: "tutorialCNN", net: tutorialCNN(), in: []int{3, 1, 28, 28}, runBatch: 4},
		{name: "MLP", net: mlp, in: []int{4, 20}, runBatch: 7},
		{name: "BatchNormInclusive", net: bnNet(true), in: []int{2, 3, 8, 8}, runBatch: 3},
		{name: "BatchNormExclusive", net: bnNet(false), in: []int{2, 3, 8, 8}, runBatch: 3},
		{name: "convOptions", net: convOptionsNet(), in: []int{2, 2, 15, 13}, runBatch: 3},
		{name: "structLayer", net: newTwoPath(), in: []int{3, 2, 3, 4}, runBatch: 6},
		{name: "asymmetricAvgPool", net: asymmetricAvgPool(), in: []int{2, 3, 4, 6}, runBatch: 3},
		{name: "reductions", net: newGapNet(), in: []int{2, 3, 7, 6}, runBatch: 5},
		{name: "flattenVariants", net: flattenVariants(), in: []int{2, 1, 6, 6}, runBatch: 3},
		{name: "sharedWeights", net: sharedWeights(), in: []int{1, 6}, runBatch: 4},
		{name: "fusedLeNet", net: fusedLeNet, in: []int{2, 1, 28, 28}, runBatch: 3},
		{name: "fusedTutorialCNN", net: fusedCNN, in: []int{2, 1, 28, 28}, runBatch: 3},
		{name: "LeNetStaticBatch", net: models.LeNet(10), in: []int{4, 1, 28, 28}, runBatch: 4, opts: onnx.ExportOptions{StaticBatch: true, InputName: "image", OutputName: "logits"}},
	}
	cases = append(cases,
		exportCase{name: "structLayerOpset17", net: newTwoPath(), in: []int{2, 2, 3, 4}, runBatch: 3, opts: onnx.ExportOptions{Opset: 17}},
		exportCase{name: "convOptionsOpset16", net: convOptionsNet(), in: []int{1, 2, 15, 13}, runBatch: 2, opts: onnx.ExportOptions{Opset: 16}},
		exportCase{name: "reductionsBatch1Opset17", net: newGapNet(), in: []int{1, 3, 7, 6}, runBatch: 4, opts: onnx.ExportOptions{Opset: 17}},
		exportCase{name: "fusedLeNetOpset15", net: fusedLeNet, in: []int{1, 1, 28, 28}, runBatch: 2, opts: onnx.ExportOptions{Opset: 15}},
	)
	for opset := 13; opset <= 17; opset++ {
		cases = append(cases, exportCase{name: fmt.Sprint("BatchNormOpset", opset), net: bnNet(true),
			in: []int{2, 3, 8, 8}, runBatch: 5, opts: onnx.ExportOptions{Opset: opset}})
	}
	return cases
}

// TestExportMatchesONNXRuntime exports each network, checks the file with onnx.checker, runs it
// with ONNX Runtime at a batch size other than the traced one (unless StaticBatch) and requires
// max |oar - ORT| <= 1e-5 * max |oar|.
func TestExportMatchesONNXRuntime(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	cases := exportCases()
	var paths []string
	var jobs []ortJob
	var want []*tensor.Tensor
	for _, c := range cases {
		randomize(c.net, rng)
		nn.Train(c.net)
		path := filepath.Join(dir, c.name+".onnx")
		require.NoError(t, onnx.Save(path, c.net, c.in, c.opts), c.name)
		nn.Walk(c.net, func(p string, l nn.Layer) { // Export restored the training mode
			if tr, ok := l.(nn.Trainer); ok {
				require.True(t, tr.Training(), "%s: %s left in evaluation mode", c.name, p)
			}
		})
		checkIO(t, c, path)
		shape := slices.Clone(c.in)
		shape[0] = c.runBatch
		x := tensor.Randn(rng, shape...)
		nn.Eval(c.net)
		want = append(want, c.net.Forward(x.NoGrad()))
		paths = append(paths, path)
		jobs = append(jobs, ortJob{Model: path, Inputs: map[string]ortTensor{names(c)[0]: {Dims: shape, Data: x.Data()}}})
	}
	t.Run("onnx.checker", func(t *testing.T) { checkModels(t, paths...) })
	t.Run("ONNXRuntime", func(t *testing.T) { compareORT(t, cases, jobs, want) })
}

// compareORT runs the jobs with ONNX Runtime and compares the outputs with oar's, want.
func compareORT(t *testing.T, cases []exportCase, jobs []ortJob, want []*tensor.Tensor) {
	got := runORT(t, jobs)
	for i, c := range cases {
		diff, scale := maxDiff(t, want[i], got[i][names(c)[1]])
		t.Logf("%-20s opset %2d, traced batch %d, run batch %d: max |oar - ORT| = %.3g (max |oar| = %.3g, ratio %.3g)",
			c.name, max(c.opts.Opset, 13), c.in[0], c.runBatch, diff, scale, diff/scale)
		require.LessOrEqual(t, diff, 1e-5*scale, c.name)
		require.Greater(t, scale, 0.0, c.name)
	}
}

// names returns the input and output names that c exports.
func names(c exportCase) [2]string {
	in, out := c.opts.InputName, c.opts.OutputName
	if in == "" {
		in = "input"
	}
	if out == "" {
		out = "output"
	}
	return [2]string{in, out}
}

// checkIO decodes the model at path and checks its version, input and output.
func checkIO(t *testing.T, c exportCase, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m onnxpb.ModelProto
	require.NoError(t, proto.Unmarshal(b, &m))
	opset := max(c.opts.Opset, 13)
	require.Equal(t, int64(opset), m.OpsetImport[0].Version)
	require.Equal(t, map[int]int64{13: 7, 14: 7, 15: 8, 16: 8, 17: 8}[opset], m.IrVersion)
	g := m.Graph
	require.Len(t, g.Input, 1)
	require.Len(t, g.Output, 1)
	require.Equal(t, names(c)[0], g.Input[0].Name)
	require.Equal(t, names(c)[1], g.Output[0].Name)
	for _, v := range []*onnxpb.ValueInfoProto{g.Input[0], g.Output[0]} {
		d0 := v.GetType().GetTensorType().GetShape().GetDim()[0]
		switch {
		case c.opts.StaticBatch:
			require.Equal(t, int64(c.in[0]), d0.GetDimValue(), c.name)
		case v == g.Output[0] && c.name == "flattenVariants": // the batch is merged into dim 0: unknown
			require.Nil(t, d0.GetValue(), c.name)
		default:
			require.Equal(t, "batch", d0.GetDimParam(), c.name)
		}
	}
	// Every parameter and buffer is one initializer named by its (first) state-dict key.
	inits := map[string]bool{}
	for _, in := range g.Initializer {
		require.False(t, inits[in.Name], "%s: initializer %s twice", c.name, in.Name)
		inits[in.Name] = true
	}
	seen := map[*tensor.Tensor]bool{}
	for _, p := range nn.StateDict(c.net) {
		require.Equal(t, !seen[p.Tensor], inits[p.Name], "%s: initializer %s", c.name, p.Name)
		seen[p.Tensor] = true
	}
	for _, n := range g.Node {
		require.NotEqual(t, "Dropout", n.OpType)
	}
}

// TestExportOps checks the ONNX operators that some of the networks become.
func TestExportOps(t *testing.T) {
	ops := func(l nn.Layer, in []int) []string {
		var buf bytes.Buffer
		require.NoError(t, onnx.Export(&buf, l, in))
		var m onnxpb.ModelProto
		require.NoError(t, proto.Unmarshal(buf.Bytes(), &m))
		var out []string
		for _, n := range m.Graph.Node {
			out = append(out, n.OpType)
		}
		return out
	}
	require.Equal(t, []string{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Gemm", "Gemm"},
		ops(models.LeNet(10), []int{1, 1, 28, 28}))
	fused := models.LeNet(10)
	nn.Fuse(fused)
	require.Equal(t, ops(models.LeNet(10), []int{1, 1, 28, 28}), ops(fused, []int{1, 1, 28, 28}))
	require.Equal(t, []string{"Conv", "BatchNormalization", "Relu", "AveragePool", "Flatten", "Gemm"},
		ops(bnNet(false), []int{2, 3, 8, 8}))
	// BatchNormalization keeps epsilon and momentum: ONNX's momentum is, as oar's and Paddle's, the
	// weight of the old running value.
	var buf bytes.Buffer
	require.NoError(t, onnx.Export(&buf, bnNet(false), []int{2, 3, 8, 8}))
	var m onnxpb.ModelProto
	require.NoError(t, proto.Unmarshal(buf.Bytes(), &m))
	bn := m.Graph.Node[1]
	require.Equal(t, "BatchNormalization", bn.OpType)
	require.Equal(t, []string{"1.weight", "1.bias", "1._mean", "1._variance"}, bn.Input[1:])
	attrs := map[string]float32{}
	for _, a := range bn.Attribute {
		attrs[a.Name] = a.F
	}
	require.Equal(t, map[string]float32{"epsilon": 1e-3, "momentum": 0.8}, attrs)

	// A Linear on a 3-D input is MatMul and Add; a Dropout in DownscaleInInfer mode is a Mul.
	drop := nn.NewDropout(0.25)
	drop.Mode = nn.DownscaleInInfer
	require.Equal(t, []string{"MatMul", "Add", "Mul"}, ops(nn.NewSequential(nn.NewLinear(4, 3), drop), []int{2, 5, 4}))
}

// scaler is a custom layer whose op Export cannot map.
type scaler struct{ nn.Hooks }

func (s *scaler) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer s.Done(s, x, &y)
	return x.Scale(2)
}

func (s *scaler) Params() []nn.Param { return nil }

func TestExportErrors(t *testing.T) {
	var buf bytes.Buffer
	net := nn.NewSequentialNamed(nn.Named{Name: "fc", Layer: nn.NewLinear(4, 4)},
		nn.Named{Name: "body", Layer: nn.NewSequential(nn.NewReLU(), &scaler{})})
	err := onnx.Export(&buf, net, []int{2, 4})
	require.EqualError(t, err, "onnx: Export: body.1 (*onnx_test.scaler): tensor op Scale has a scalar factor that the trace does not record; multiply by a tensor instead: x.Mul(tensor.Scalar(s))")
	require.Zero(t, buf.Len(), "nothing written on error")

	// An op between two sublayers is the enclosing layer's.
	err = onnx.Export(&buf, nn.NewSequentialNamed(nn.Named{Name: "head", Layer: &scaledBetween{A: nn.NewLinear(4, 4), B: nn.NewLinear(4, 2)}}), []int{2, 4})
	require.ErrorContains(t, err, "onnx: Export: head (*onnx_test.scaledBetween): tensor op Scale")

	for _, opset := range []int{1, 12, 18} {
		err := onnx.Export(&buf, models.LeNet(10), []int{1, 1, 28, 28}, onnx.ExportOptions{Opset: opset})
		require.EqualError(t, err, fmt.Sprintf("onnx: Export: opset %d is not supported; use 13 through 17 (0 means 13)", opset))
	}
	require.ErrorContains(t, onnx.Export(&buf, models.LeNet(10), nil), "empty input shape")
	require.ErrorContains(t, onnx.Export(&buf, models.LeNet(10), []int{0, 1, 28, 28}), "input shape [0 1 28 28] has a dimension below 1")
	err = onnx.Export(&buf, models.LeNet(10), []int{1, 3, 28, 28})
	require.ErrorContains(t, err, "features.0 (Conv2D): input [1 3 28 28], weight [6 1 3 3]: want [N, 1, H, W]")
	require.ErrorContains(t, onnx.Export(&buf, models.LeNet(10), []int{1, 1, 28, 28}, onnx.ExportOptions{}, onnx.ExportOptions{}), "at most one")

	// A ceil-mode window that starts in the padding: oar keeps it, ONNX Runtime drops it.
	pool := nn.NewMaxPool2D(2, 2)
	pool.Options.Padding, pool.Options.CeilMode = []int{1}, true
	err = onnx.Export(&buf, nn.NewSequentialNamed(nn.Named{Name: "pool", Layer: pool}), []int{1, 1, 5, 5})
	require.ErrorContains(t, err, "pool (*nn.MaxPool2D): MaxPool on [1 1 5 5]: the last window (output 4x4) starts in the padding")

	// An inclusive average whose divisor oar and ONNX compute differently.
	avg := nn.NewAvgPool2D(2, 1)
	avg.Options.Padding, avg.Options.Inclusive = []int{0, 1, 0, 0}, true
	err = onnx.Export(&buf, avg, []int{1, 1, 3, 3})
	require.ErrorContains(t, err, "the network (*nn.AvgPool2D): AveragePool on [1 1 3 3] with Inclusive and asymmetric padding (top 0 bottom 1 left 0 right 0)")

	// A Reshape that moves the batch axis holds at no other batch size.
	err = onnx.Export(&buf, &reshaper{}, []int{4, 6})
	require.ErrorContains(t, err, "the network (*onnx_test.reshaper): Reshape [4 6] -> [3 8] moves the batch dimension")
	require.NoError(t, onnx.Export(&buf, &reshaper{}, []int{4, 6}, onnx.ExportOptions{StaticBatch: true}))

	// An output computed from the input's values outside the recorded graph.
	err = onnx.Export(&buf, &detacher{}, []int{2, 3})
	require.ErrorContains(t, err, "the output of the network (*onnx_test.detacher) does not depend on its input through recorded ops")

	// A Slice of the batch axis holds at no other batch size.
	first := &fnLayer{f: func(x *tensor.Tensor) *tensor.Tensor { return x.Slice(0, 0, 1).Tanh() }}
	require.ErrorContains(t, onnx.Export(&buf, first, []int{3, 2}), "the network (*onnx_test.fnLayer): tensor op Slice [3 2] -> [1 2] of the batch axis: export with StaticBatch")
	require.NoError(t, onnx.Export(&buf, first, []int{3, 2}, onnx.ExportOptions{StaticBatch: true}))

	// Save reports the file, and leaves nothing behind on error.
	path := filepath.Join(t.TempDir(), "m.onnx")
	require.ErrorContains(t, onnx.Save(path, net, []int{2, 4}), path)
	_, err = os.Stat(path)
	require.True(t, os.IsNotExist(err))
}

type scaledBetween struct {
	nn.Hooks
	A, B *nn.Linear
}

func (m *scaledBetween) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	return m.B.Forward(m.A.Forward(x).Scale(3))
}

func (m *scaledBetween) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

func (m *scaledBetween) Sublayers() []nn.Named {
	return []nn.Named{{Name: "a", Layer: m.A}, {Name: "b", Layer: m.B}}
}

// fnLayer is a layer whose Forward is f.
type fnLayer struct {
	nn.Hooks
	f func(x *tensor.Tensor) *tensor.Tensor
}

func (l *fnLayer) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	return l.f(x)
}

func (l *fnLayer) Params() []nn.Param { return nil }

type reshaper struct{ nn.Hooks }

func (r *reshaper) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer r.Done(r, x, &y)
	return x.Reshape(3, -1).ReLU()
}

func (r *reshaper) Params() []nn.Param { return nil }

type detacher struct{ nn.Hooks }

func (d *detacher) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer d.Done(d, x, &y)
	return tensor.New(x.Data(), x.Shape()...).Sigmoid()
}

func (d *detacher) Params() []nn.Param { return nil }

func ExampleExport() {
	net := nn.NewSequential(nn.NewLinear(4, 8), nn.NewReLU(), nn.NewDropout(0.1), nn.NewLinear(8, 2), nn.NewSoftmax(-1))
	var buf bytes.Buffer
	if err := onnx.Export(&buf, net, []int{1, 4}); err != nil {
		fmt.Println(err)
		return
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(buf.Bytes(), &m); err != nil {
		fmt.Println(err)
		return
	}
	var ops, inits []string
	for _, n := range m.Graph.Node {
		ops = append(ops, n.OpType)
	}
	for _, in := range m.Graph.Initializer {
		inits = append(inits, fmt.Sprint(in.Name, in.Dims))
	}
	fmt.Println(ops)
	fmt.Println(inits)
	fmt.Println("opset", m.OpsetImport[0].Version, "IR", m.IrVersion)
	// Output:
	// [Gemm Relu Gemm Softmax]
	// [0.weight[4 8] 0.bias[8] 3.weight[8 2] 3.bias[2]]
	// opset 13 IR 7
}
