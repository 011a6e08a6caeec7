package onnx_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// spread is a Linear from in to out features whose weights are tripled, so that an activation
// after it sees inputs well past its kinks (ReLU6's 6, Hardswish's ±3, Softplus's threshold).
func spread(in, out int) *nn.Linear {
	l := nn.NewLinear(in, out)
	for i := range l.Weight.Data() {
		l.Weight.Data()[i] *= 3
	}
	return l
}

// activationCases is one network per activation layer: spread(6, 16) and the layer.
func activationCases() []exportCase {
	softplus := nn.NewSoftplus()
	softplus.Beta, softplus.Threshold = 2, 1 // the threshold matters: a Where
	hardtanh := nn.NewHardtanh()
	hardtanh.Min, hardtanh.Max = -0.5, 0.8
	elu := nn.NewELU()
	elu.Alpha = 0.7
	acts := []struct {
		name string
		l    nn.Layer
	}{
		{"GELU", nn.NewGELU()}, {"GELUTanh", &nn.GELU{Approximate: true}}, {"SiLU", nn.NewSiLU()}, {"ELU", elu},
		{"SELU", nn.NewSELU()}, {"Softplus", nn.NewSoftplus()}, {"SoftplusBeta2Threshold1", softplus},
		{"Softsign", nn.NewSoftsign()}, {"Hardswish", nn.NewHardswish()}, {"Hardsigmoid", nn.NewHardsigmoid()},
		{"Hardtanh", hardtanh}, {"ReLU6", nn.NewReLU6()}, {"LogSigmoid", nn.NewLogSigmoid()}, {"Mish", nn.NewMish()},
		{"Tanhshrink", nn.NewTanhshrink()}, {"PReLU", nn.NewPReLU()}, {"LogSoftmax", nn.NewLogSoftmax(-1)},
	}
	var cases []exportCase
	for _, a := range acts {
		for _, opset := range []int{13, 17} {
			cases = append(cases, exportCase{name: fmt.Sprintf("%s-%d", a.name, opset), net: nn.NewSequential(spread(6, 16), a.l),
				in: []int{2, 6}, runBatch: 5, opts: onnx.ExportOptions{Opset: opset}})
		}
	}
	cases = append(cases, exportCase{name: "LayerNorm2D-15", net: nn.NewSequential(nn.NewConv2D(2, 3, 3), nn.NewLayerNorm([]int{4, 6})),
		in: []int{2, 2, 6, 8}, runBatch: 3, opts: onnx.ExportOptions{Opset: 15}})
	cases = append(cases, exportCase{name: "Hardswish-14", net: nn.NewSequential(spread(6, 16), nn.NewHardswish()),
		in: []int{2, 6}, runBatch: 5, opts: onnx.ExportOptions{Opset: 14}})
	// Per-channel PReLU, channels on axis 1 (a [C, 1, 1] slope) and last.
	for _, opset := range []int{13, 17} {
		cases = append(cases,
			exportCase{name: fmt.Sprint("PReLUNCHW-", opset), net: nn.NewSequential(nn.NewConv2D(2, 3, 3), nn.NewPReLU(nn.PReLUOptions{NumParameters: 3})),
				in: []int{2, 2, 6, 5}, runBatch: 3, opts: onnx.ExportOptions{Opset: opset}},
			exportCase{name: fmt.Sprint("PReLUNHWC-", opset), net: nn.NewSequential(nn.NewPReLU(nn.PReLUOptions{NumParameters: 3, DataFormat: "NHWC"}), nn.NewTanh()),
				in: []int{2, 4, 5, 3}, runBatch: 3, opts: onnx.ExportOptions{Opset: opset}},
			exportCase{name: fmt.Sprint("activationOps-", opset), net: nn.NewSequential(spread(6, 16), nn.NewFunc("ops", activationOps)),
				in: []int{2, 6}, runBatch: 4, opts: onnx.ExportOptions{Opset: opset}},
		)
	}
	return cases
}

// activationOps calls the activations' tensor ops between layers (in a Func, traced through).
func activationOps(x *tensor.Tensor) *tensor.Tensor {
	return x.GELU(true).Add(x.GELU(false)).Add(x.SiLU()).Add(x.Softsign()).Add(x.Hardswish()).Add(x.ReLU6()).
		Add(x.LogSigmoid()).Add(x.Mish()).Add(x.Tanhshrink()).Add(x.Erf())
}

// normCases are the normalisation layers, with and without their affine parameters.
func normCases() []exportCase {
	var cases []exportCase
	bnNLC := nn.NewBatchNorm1D(5, nn.BatchNorm1DOptions{DataFormat: "NLC"})
	for _, opset := range []int{13, 17} {
		o := onnx.ExportOptions{Opset: opset}
		cases = append(cases,
			exportCase{name: fmt.Sprint("LayerNorm-", opset), net: nn.NewSequential(spread(6, 8), nn.NewLayerNorm([]int{8})),
				in: []int{2, 5, 6}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("LayerNorm2D-", opset), net: nn.NewSequential(nn.NewConv2D(2, 3, 3), nn.NewLayerNorm([]int{4, 6})),
				in: []int{2, 2, 6, 8}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("LayerNormNoAffine-", opset), net: nn.NewSequential(spread(6, 8), nn.NewLayerNorm([]int{8}, nn.NormOptions{NoWeight: true, NoBias: true, Epsilon: 1e-3})),
				in: []int{2, 6}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("GroupNorm-", opset), net: nn.NewSequential(nn.NewConv2D(2, 6, 3), nn.NewGroupNorm(3, 6), nn.NewGroupNorm(2, 6, nn.NormOptions{NoBias: true})),
				in: []int{2, 2, 7, 6}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("InstanceNorm2D-", opset), net: nn.NewSequential(nn.NewConv2D(2, 4, 3), nn.NewInstanceNorm2D(4), nn.NewInstanceNorm2D(4, nn.NormOptions{NoWeight: true, NoBias: true})),
				in: []int{2, 2, 7, 6}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("BatchNorm1D-", opset), net: nn.NewSequential(spread(6, 5), nn.NewBatchNorm1D(5), nn.NewFunc("unsqueeze", func(x *tensor.Tensor) *tensor.Tensor { return x.Reshape(-1, 5, 1) }),
				nn.NewConv1D(5, 5, 1), nn.NewBatchNorm1D(5)), in: []int{2, 6}, runBatch: 4, opts: o},
			exportCase{name: fmt.Sprint("BatchNorm1DNLC-", opset), net: nn.NewSequential(nn.NewLinear(5, 5), bnNLC), in: []int{2, 7, 5}, runBatch: 4, opts: o},
		)
	}
	return cases
}

// embedder turns each [3] row of its input into an id in [0, 8) with mappable ops (the bits of
// min(max(x·1e8, 0), 1), weighted 1, 2, 4), so that the random input Export traces with gives
// integer ids; then an Embedding looks them up.
type embedder struct {
	nn.Hooks
	Emb *nn.Embedding
}

func (m *embedder) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	bits := x.Mul(tensor.Scalar(1e8)).Maximum(tensor.Scalar(0)).Minimum(tensor.Scalar(1))
	ids := bits.Mul(tensor.New([]float32{1, 2, 4}, 3)).Sum(2) // [N, T]
	return m.Emb.Forward(ids)
}

func (m *embedder) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

func (m *embedder) Sublayers() []nn.Named { return []nn.Named{{Name: "emb", Layer: m.Emb}} }

// convPoolCases are Conv1D with every option and padding mode, the 1-D pools, Conv2DTranspose,
// the adaptive pools and Embedding.
func convPoolCases() []exportCase {
	conv1D := func() nn.Layer {
		maxPool := nn.NewMaxPool1D(2, 2)
		maxPool.Options.CeilMode = true
		avgInc, avgExc := nn.NewAvgPool1D(3, 1), nn.NewAvgPool1D(3, 2)
		avgInc.Options.Padding, avgInc.Options.Inclusive = []int{1}, true
		avgExc.Options.Padding = []int{1, 1}
		return nn.NewSequential(
			nn.NewConv1D(3, 4, 3, nn.Conv1DOptions{Stride: 2, Padding: []int{1, 2}, Dilation: 2}), // 23 -> 12
			nn.NewConv1D(4, 4, 3, nn.Conv1DOptions{PadMode: tensor.PadSame, Stride: 2, Groups: 2, Dilation: 3}),
			nn.NewConv1D(4, 6, 3, nn.Conv1DOptions{PaddingMode: "reflect", Padding: []int{2}}),
			nn.NewConv1D(6, 4, 2, nn.Conv1DOptions{PaddingMode: "replicate", Padding: []int{1}, NoBias: true}),
			nn.NewConv1D(4, 4, 2, nn.Conv1DOptions{PadMode: tensor.PadValid}),
			nn.NewConv1D(4, 3, 3, nn.Conv1DOptions{PaddingMode: "circular", Padding: []int{2}}),
			maxPool, avgInc, avgExc)
	}
	convT := func() nn.Layer {
		sized := nn.NewConv2DTranspose(4, 4, 3, nn.Conv2DTransposeOptions{Stride: []int{2}})
		sized.Options.OutputSize = []int{34, 28} // computed 33x27
		return nn.NewSequential(
			nn.NewConv2DTranspose(3, 4, 3, nn.Conv2DTransposeOptions{Stride: []int{2}, Padding: []int{1}, OutputPadding: []int{1}}),
			nn.NewConv2DTranspose(4, 4, 3, nn.Conv2DTransposeOptions{Stride: []int{2, 1}, PadMode: tensor.PadSame, Groups: 2, Dilation: []int{2}}),
			nn.NewConv2DTranspose(4, 2, 2, nn.Conv2DTransposeOptions{KernelSize: [2]int{2, 3}, Padding: []int{0, 1, 1, 0}, Dilation: []int{1, 2}, NoBias: true}),
			nn.NewConv2DTranspose(2, 4, 3, nn.Conv2DTransposeOptions{Stride: []int{2}, PadMode: tensor.PadValid}),
			nn.NewMaxPool2D(2, 2), sized)
	}
	adaptive := func() nn.Layer {
		return nn.NewSequential(nn.NewConv2D(2, 3, 3), // 10x14 -> 8x12
			nn.NewAdaptiveMaxPool2D(4, 3), nn.NewAdaptiveAvgPool2D(0, 3), nn.NewAdaptiveAvgPool2D(2, 1), nn.NewAdaptiveMaxPool2D(1))
	}
	global := func() nn.Layer { return nn.NewSequential(nn.NewAdaptiveAvgPool2D(1), nn.NewFlatten()) }
	pad := nn.NewEmbedding(8, 5, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: 3})
	var cases []exportCase
	for _, opset := range []int{13, 17} {
		o := onnx.ExportOptions{Opset: opset}
		cases = append(cases,
			exportCase{name: fmt.Sprint("Conv1DPool1D-", opset), net: conv1D(), in: []int{2, 3, 23}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("Conv2DTranspose-", opset), net: convT(), in: []int{2, 3, 4, 5}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("AdaptivePool-", opset), net: adaptive(), in: []int{2, 2, 10, 14}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("GlobalAvgPool-", opset), net: global(), in: []int{2, 3, 5, 7}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("Embedding-", opset), net: &embedder{Emb: nn.NewEmbedding(8, 5)}, in: []int{2, 6, 3}, runBatch: 4, opts: o},
			exportCase{name: fmt.Sprint("EmbeddingPadding-", opset), net: &embedder{Emb: pad}, in: []int{2, 6, 3}, runBatch: 4, opts: o},
		)
	}
	return cases
}

// attentionCases are MultiHeadAttention and TransformerEncoderLayer (post-norm with ReLU,
// pre-norm with GELU).
func attentionCases() []exportCase {
	var cases []exportCase
	for _, opset := range []int{13, 17} {
		o := onnx.ExportOptions{Opset: opset}
		post := nn.NewTransformerEncoderLayer(8, 2, 16)
		pre := nn.NewTransformerEncoderLayer(8, 4, 12, nn.TransformerEncoderLayerOptions{Activation: "gelu", NormalizeBefore: true, LayerNormEps: 1e-4})
		cases = append(cases,
			exportCase{name: fmt.Sprint("MultiHeadAttention-", opset), net: nn.NewSequential(nn.NewLinear(6, 8), nn.NewMultiHeadAttention(8, 2)),
				in: []int{2, 5, 6}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("AttendNeedWeights-", opset), net: &attender{Attn: nn.NewMultiHeadAttention(8, 4, nn.MultiHeadAttentionOptions{NeedWeights: true})},
				in: []int{2, 5, 8}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("TransformerPostNorm-", opset), net: post, in: []int{2, 5, 8}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("TransformerEncoder-", opset), net: nn.NewTransformerEncoder(nn.NewTransformerEncoderLayer(8, 2, 8), 2, nn.NewLayerNorm([]int{8})),
				in: []int{2, 4, 8}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("TransformerPreNorm-", opset), net: nn.NewSequential(pre, nn.NewTransformerEncoderLayer(8, 2, 8)), in: []int{2, 4, 8}, runBatch: 3, opts: o},
		)
	}
	return cases
}

// rnnCases are SimpleRNN (tanh, and relu in two bidirectional layers), LSTM and GRU, batch-major
// and time-major.
func rnnCases() []exportCase {
	var cases []exportCase
	for _, opset := range []int{13, 17} {
		o := onnx.ExportOptions{Opset: opset}
		two := nn.RNNOptions{NumLayers: 2, Direction: "bidirect"}
		cases = append(cases,
			exportCase{name: fmt.Sprint("SimpleRNN-", opset), net: nn.NewSimpleRNN(4, 6), in: []int{2, 5, 4}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("SimpleRNNReLU2Bi-", opset), net: nn.NewSimpleRNN(4, 6, nn.RNNOptions{NumLayers: 2, Direction: "bidirect", Activation: "relu"}),
				in: []int{2, 5, 4}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("LSTM-", opset), net: nn.NewLSTM(4, 6), in: []int{2, 5, 4}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("LSTM2Bi-", opset), net: nn.NewSequential(nn.NewLSTM(4, 5, two), nn.NewLinear(10, 3)), in: []int{2, 6, 4}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("LSTMTimeMajor-", opset), net: nn.NewLSTM(4, 5, nn.RNNOptions{TimeMajor: true, NumLayers: 2, Dropout: 0.3}),
				in: []int{6, 2, 4}, runBatch: 4, opts: o},
			exportCase{name: fmt.Sprint("GRU-", opset), net: nn.NewGRU(4, 6), in: []int{2, 5, 4}, runBatch: 3, opts: o},
			exportCase{name: fmt.Sprint("GRU2Bi-", opset), net: nn.NewGRU(4, 5, two), in: []int{2, 6, 4}, runBatch: 3, opts: o},
		)
	}
	static := onnx.ExportOptions{StaticBatch: true, Opset: 16}
	cases = append(cases,
		exportCase{name: "LSTMStaticBatch-16", net: nn.NewLSTM(4, 5, nn.RNNOptions{Direction: "bidirect"}), in: []int{3, 6, 4}, runBatch: 3, opts: static},
		exportCase{name: "TransformerStaticBatch-16", net: nn.NewTransformerEncoderLayer(8, 2, 8), in: []int{3, 4, 8}, runBatch: 3, opts: static})
	return cases
}

// TestExportEmbeddingInput exports a network whose input is an Embedding's ids, traced on
// integer ids given as TraceInput, and runs it with ONNX Runtime on other ids at another batch
// size.
func TestExportEmbeddingInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ids := func(n ...int) *tensor.Tensor {
		x := tensor.Zeros(n...)
		for i := range x.Data() {
			x.Data()[i] = float32(rng.IntN(10))
		}
		return x
	}
	net := nn.NewSequential(nn.NewEmbedding(10, 6, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: 0}), nn.NewLayerNorm([]int{6}), nn.NewLinear(6, 3))
	randomize(net, rng)
	var cases []exportCase
	var paths []string
	var jobs []ortJob
	var want []*tensor.Tensor
	for _, opset := range []int{13, 17} {
		c := exportCase{name: fmt.Sprint("EmbeddingInput-", opset), net: net, in: []int{2, 7}, runBatch: 3,
			opts: onnx.ExportOptions{Opset: opset, TraceInput: ids(2, 7)}}
		path := filepath.Join(t.TempDir(), c.name+".onnx")
		require.NoError(t, onnx.Save(path, c.net, c.in, c.opts))
		checkIO(t, c, path)
		x := ids(3, 7)
		nn.Eval(net)
		cases, paths, want = append(cases, c), append(paths, path), append(want, net.Forward(x))
		jobs = append(jobs, ortJob{Model: path, Inputs: map[string]ortTensor{"input": {Dims: x.Shape(), Data: x.Data()}}})
	}
	t.Run("onnx.checker", func(t *testing.T) { checkModels(t, paths...) })
	t.Run("ONNXRuntime", func(t *testing.T) { compareORT(t, cases, jobs, want) })
}

// TestExportBlocksMatchONNXRuntime exports each network of the layers of export_blocks.go at
// opsets 13 and 17 (and HardSwish at 14), checks the files with onnx.checker, runs them with ONNX
// Runtime at another batch size and requires max |oar - ORT| <= 1e-5 * max |oar|.
func TestExportBlocksMatchONNXRuntime(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	cases := slices.Concat(activationCases(), normCases(), convPoolCases(), attentionCases(), rnnCases())
	var paths []string
	var jobs []ortJob
	var want []*tensor.Tensor
	for _, c := range cases {
		randomize(c.net, rng)
		nn.Train(c.net)
		path := filepath.Join(dir, c.name+".onnx")
		require.NoError(t, onnx.Save(path, c.net, c.in, c.opts), c.name)
		checkIO(t, c, path)
		shape := slices.Clone(c.in)
		shape[0] = c.runBatch
		x := tensor.Randn(rng, shape...)
		nn.Eval(c.net)
		want = append(want, c.net.Forward(x.NoGrad()))
		if emb, ok := c.net.(*embedder); ok && emb.Emb.PaddingIdx != nn.NoPadding { // the padding id occurs
			require.Contains(t, slices.Collect(slices.Chunk(want[len(want)-1].Data(), 5)), make([]float32, 5), c.name)
		}
		paths = append(paths, path)
		jobs = append(jobs, ortJob{Model: path, Inputs: map[string]ortTensor{names(c)[0]: {Dims: shape, Data: x.Data()}}})
	}
	t.Run("onnx.checker", func(t *testing.T) { checkModels(t, paths...) })
	t.Run("ONNXRuntime", func(t *testing.T) { compareORT(t, cases, jobs, want) })
}

// exportOps returns the operator types of l exported at opset.
func exportOps(t *testing.T, l nn.Layer, in []int, opset int) []string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, onnx.Export(&buf, l, in, onnx.ExportOptions{Opset: opset}))
	var m onnxpb.ModelProto
	require.NoError(t, proto.Unmarshal(buf.Bytes(), &m))
	var out []string
	for _, n := range m.Graph.Node {
		out = append(out, n.OpType)
	}
	return out
}

// TestExportBlocksOps checks the operators that the layers become, where the opset or options
// choose between forms.
func TestExportBlocksOps(t *testing.T) {
	require.Equal(t, []string{"LayerNormalization"}, exportOps(t, nn.NewLayerNorm([]int{4}), []int{2, 4}, 17))
	require.Equal(t, []string{"ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"},
		exportOps(t, nn.NewLayerNorm([]int{4}), []int{2, 4}, 13))
	require.Equal(t, []string{"Reshape", "Reshape", "LayerNormalization"}, exportOps(t, nn.NewLayerNorm([]int{2, 3}), []int{2, 2, 3}, 17))
	require.Equal(t, []string{"HardSwish"}, exportOps(t, nn.NewHardswish(), []int{2, 4}, 14))
	require.Equal(t, []string{"Add", "Clip", "Mul", "Div"}, exportOps(t, nn.NewHardswish(), []int{2, 4}, 13))
	require.Equal(t, []string{"Softplus"}, exportOps(t, nn.NewSoftplus(), []int{2, 4}, 13))
	require.Equal(t, []string{"Reshape", "InstanceNormalization", "Reshape", "Reshape", "Mul", "Reshape", "Add"},
		exportOps(t, nn.NewGroupNorm(2, 4), []int{2, 4, 3, 3}, 13))
	require.Equal(t, []string{"GlobalMaxPool"}, exportOps(t, nn.NewAdaptiveMaxPool2D(1), []int{2, 4, 3, 5}, 13))
	require.Equal(t, []string{"Transpose", "BatchNormalization", "Transpose"},
		exportOps(t, nn.NewBatchNorm1D(3, nn.BatchNorm1DOptions{DataFormat: "NLC"}), []int{2, 4, 3}, 13))
	// Alike weights (0.25 at first) fit channels on axis 1 and last: axis 1 is taken, the same
	// function.
	require.Equal(t, []string{"Reshape", "PRelu"}, exportOps(t, nn.NewPReLU(nn.PReLUOptions{NumParameters: 3}), []int{2, 3, 4, 3}, 13))
	// Identity writes no node: the output is the input.
	require.Equal(t, []string{"Identity"}, exportOps(t, nn.NewSequential(nn.NewIdentity()), []int{2, 4}, 13))
	require.Equal(t, []string{"Relu"}, exportOps(t, nn.NewSequential(nn.NewIdentity(), nn.NewReLU(), nn.NewIdentity()), []int{2, 4}, 13))
}

// attender is a struct layer that calls MultiHeadAttention.Attend(x, nil, nil, Mask).
type attender struct {
	nn.Hooks
	Attn *nn.MultiHeadAttention
	Mask *tensor.Tensor
}

func (m *attender) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	y, _ = m.Attn.Attend(x, nil, nil, m.Mask)
	return y
}

func (m *attender) Params() []nn.Param { return nn.CollectParams(m.Sublayers()) }

func (m *attender) Sublayers() []nn.Named { return []nn.Named{{Name: "attn", Layer: m.Attn}} }

func TestExportBlocksErrors(t *testing.T) {
	var buf bytes.Buffer
	err := onnx.Export(&buf, nn.NewSequential(nn.NewAdaptiveAvgPool2D(3)), []int{1, 2, 7, 7})
	require.ErrorContains(t, err, "onnx: Export: 0 (*nn.AdaptiveAvgPool2D): adaptive pool of [1 2 7 7] to 3x3: ONNX has no adaptive pool")

	mask := nn.AttentionMask(tensor.New([]float32{1, 1, 0, 1, 1, 1, 1, 0, 1}, 3, 3))
	err = onnx.Export(&buf, &attender{Attn: nn.NewMultiHeadAttention(4, 2), Mask: mask}, []int{2, 3, 4})
	require.ErrorContains(t, err, "onnx: Export: attn (*nn.MultiHeadAttention): MultiHeadAttention called with a mask")

	elu := nn.NewFunc("elu", func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(0.5) })
	err = onnx.Export(&buf, nn.NewSequential(elu), []int{2, 3})
	require.ErrorContains(t, err, "onnx: Export: 0 (*nn.Func): tensor op ELU has arguments that the trace does not record; use the nn.ELU layer")

	// A 1-D pool whose last ceil-mode window starts in the padding, as the 2-D one.
	pool := nn.NewMaxPool1D(2, 2)
	pool.Options.Padding, pool.Options.CeilMode = []int{1}, true
	err = onnx.Export(&buf, pool, []int{1, 1, 5})
	require.ErrorContains(t, err, "the network (*nn.MaxPool1D): MaxPool on [1 1 1 5]: the last window (output 1x4) starts in the padding")
	// An Embedding on the network's input: the random input Export traces with is not integer,
	// and a TraceInput must have the input shape.
	err = onnx.Export(&buf, nn.NewEmbedding(8, 4), []int{2, 5})
	require.ErrorContains(t, err, "onnx: Export: Embedding on an input of shape [2 5]: ")
	err = onnx.Export(&buf, nn.NewEmbedding(8, 4), []int{2, 5}, onnx.ExportOptions{TraceInput: tensor.Zeros(2, 4)})
	require.EqualError(t, err, "onnx: Export: TraceInput of shape [2 4] for input shape [2 5]")
	require.Zero(t, buf.Len())
}
