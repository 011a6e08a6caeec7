package onnx

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

// netModel is a small CNN written as torch.onnx.export writes one at opset 13: Conv,
// BatchNormalization, Relu, MaxPool, the Shape→Gather→Unsqueeze→Concat→Reshape flattening chain,
// and Gemm. Input x [N, 1, 6, 6], output y [N, 3].
func netModel(rng *rand.Rand) *onnxpb.ModelProto {
	init := func(name string, shape ...int) *onnxpb.TensorProto {
		return floatProto(name, tensor.Randn(rng, shape...).Scale(0.5))
	}
	variance := floatProto("bn.running_var", tensor.Uniform(rng, 0.5, 1.5, 4))
	nodes := []*onnxpb.NodeProto{
		mkNode("Conv", "conv", []string{"x", "conv.weight", "conv.bias"}, []string{"c"}, attrIs("pads", 1, 1, 1, 1), attrIs("kernel_shape", 3, 3)),
		mkNode("BatchNormalization", "bn", []string{"c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, []string{"b"}, attrF("epsilon", 1e-5), attrF("momentum", 0.9)),
		mkNode("Relu", "relu", []string{"b"}, []string{"r"}),
		mkNode("MaxPool", "pool", []string{"r"}, []string{"p"}, attrIs("kernel_shape", 2, 2), attrIs("strides", 2, 2)),
		mkNode("Shape", "shape", []string{"p"}, []string{"s"}),
		mkNode("Gather", "gather", []string{"s", "zero"}, []string{"n"}, attrI("axis", 0)),
		mkNode("Unsqueeze", "unsq", []string{"n", "axes0"}, []string{"n1"}),
		mkNode("Concat", "concat", []string{"n1", "minus1"}, []string{"shp"}, attrI("axis", 0)),
		mkNode("Reshape", "flat", []string{"p", "shp"}, []string{"f"}),
		mkNode("Gemm", "fc", []string{"f", "fc.weight", "fc.bias"}, []string{"y"}, attrI("transB", 1)),
	}
	inits := []*onnxpb.TensorProto{
		init("conv.weight", 4, 1, 3, 3), init("conv.bias", 4),
		init("bn.weight", 4), init("bn.bias", 4), init("bn.running_mean", 4), variance,
		intInit("zero", []int64{0}), intInit("axes0", []int64{0}, 1), intInit("minus1", []int64{-1}, 1),
		init("fc.weight", 3, 36), init("fc.bias", 3),
	}
	return mkModel(13, nodes, inits, []*onnxpb.ValueInfoProto{vinfo("x", tFloat, -1, 1, 6, 6)},
		[]*onnxpb.ValueInfoProto{vinfo("y", tFloat, -1, 3)})
}

func TestGraphParamsBuffersAndShapes(t *testing.T) {
	g := mustImport(t, netModel(newRNG()))
	var names []string
	for _, p := range g.Params() {
		names = append(names, p.Name)
		if !p.RequiresGrad() {
			t.Errorf("param %s does not require a gradient", p.Name)
		}
	}
	want := []string{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias"}
	if !slices.Equal(names, want) {
		t.Errorf("Params %v, want %v", names, want)
	}
	var bufs []string
	for _, b := range g.Buffers() {
		bufs = append(bufs, b.Name)
	}
	if !slices.Equal(bufs, []string{"bn.running_mean", "bn.running_var"}) {
		t.Errorf("Buffers %v", bufs)
	}
	if g.Opset() != 13 || !slices.Equal(g.InputNames(), []string{"x"}) || !slices.Equal(g.OutputNames(), []string{"y"}) {
		t.Errorf("opset %d, inputs %v, outputs %v", g.Opset(), g.InputNames(), g.OutputNames())
	}
	if s := g.InputShapes(); len(s) != 1 || !slices.Equal(s[0], []int{-1, 1, 6, 6}) {
		t.Errorf("InputShapes %v", s)
	}
	if s := g.OutputShapes(); len(s) != 1 || !slices.Equal(s[0], []int{-1, 3}) {
		t.Errorf("OutputShapes %v", s)
	}
	if g.Training() {
		t.Error("an imported graph starts in training mode, want evaluation")
	}
}

// TestGraphMatchesTensorOps computes the same network with oar's ops directly.
func TestGraphMatchesTensorOps(t *testing.T) {
	rng := newRNG()
	g := mustImport(t, netModel(rng))
	p := map[string]*tensor.Tensor{}
	for _, q := range slices.Concat(g.Params(), g.Buffers()) {
		p[q.Name] = q.Tensor.Detach()
	}
	x := tensor.Randn(rng, 5, 1, 6, 6)
	c := x.Conv2D(p["conv.weight"], p["conv.bias"], tensor.ConvOptions{Padding: []int{1}})
	bs := []int{1, 4, 1, 1}
	b := c.Sub(p["bn.running_mean"].Reshape(bs...)).Div(p["bn.running_var"].AddScalar(1e-5).Sqrt().Reshape(bs...)).
		Mul(p["bn.weight"].Reshape(bs...)).Add(p["bn.bias"].Reshape(bs...))
	f := b.ReLU().MaxPool2D(tensor.PoolOptions{Kernel: []int{2}}).Reshape(5, 36)
	want := f.MatMul(p["fc.weight"], tensor.MatMulOptions{TransposeY: true}).Add(p["fc.bias"])
	tensortest.AllClose(t, g.Forward(x), want, 1e-5, 1e-4)
}

// TestFineTune trains an imported CNN with SGD in training mode: the loss falls and
// BatchNormalization's running statistics move.
func TestFineTune(t *testing.T) {
	rng := newRNG()
	g := mustImport(t, netModel(rng))
	x := tensor.Randn(rng, 16, 1, 6, 6)
	target := tensor.Randn(rng, 16, 3)
	mean0 := slices.Clone(g.Buffers()[0].Data())
	nn.Train(g)
	opt := optim.NewSGD(g.Params(), 0.05)
	loss := func() *tensor.Tensor { return g.Forward(x).Sub(target).Square().Mean() }
	first := loss().Item()
	for range 40 {
		l := loss()
		opt.ClearGrad()
		l.Backward()
		opt.Step()
	}
	last := loss().Item()
	if !(last < 0.5*first) {
		t.Errorf("loss %v -> %v after 40 SGD steps, want it halved", first, last)
	}
	if slices.Equal(mean0, g.Buffers()[0].Data()) {
		t.Error("training did not update BatchNormalization's running mean")
	}
	nn.Eval(g)
	if g.Training() {
		t.Error("nn.Eval left the graph in training mode")
	}
}

// TestFineTuneMLP trains an MLP of MatMul, Add, Relu, Gemm and Softmax-free MSE.
func TestFineTuneMLP(t *testing.T) {
	rng := newRNG()
	nodes := []*onnxpb.NodeProto{
		mkNode("MatMul", "mm", []string{"x", "w1"}, []string{"h"}),
		mkNode("Add", "add", []string{"h", "b1"}, []string{"h1"}),
		mkNode("Tanh", "act", []string{"h1"}, []string{"a"}),
		mkNode("Gemm", "out", []string{"a", "w2", "b2"}, []string{"y"}, attrF("alpha", 0.5)),
	}
	inits := []*onnxpb.TensorProto{floatProto("w1", tensor.Randn(rng, 4, 8).Scale(0.5)), floatProto("b1", tensor.Zeros(8)),
		floatProto("w2", tensor.Randn(rng, 8, 2).Scale(0.5)), floatProto("b2", tensor.Zeros(2))}
	g := mustImport(t, mkModel(11, nodes, inits, []*onnxpb.ValueInfoProto{vinfo("x", tFloat, -1, 4)}, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)}))
	x := tensor.Randn(rng, 32, 4)
	target := x.Sum(1).Reshape(32, 1).Mul(tensor.New([]float32{1, -1}, 2)).Tanh()
	opt := optim.NewSGD(g.Params(), 0.1)
	loss := func() *tensor.Tensor { return g.Forward(x).Sub(target).Square().Mean() }
	first := loss().Item()
	for range 100 {
		l := loss()
		opt.ClearGrad()
		l.Backward()
		opt.Step()
	}
	if last := loss().Item(); !(last < 0.3*first) {
		t.Errorf("loss %v -> %v after 100 SGD steps", first, last)
	}
}

// TestGradThroughImportedOps checks the gradient of every differentiable operator as imported.
func TestGradThroughImportedOps(t *testing.T) {
	rng := newRNG()
	randn := func(shape ...int) *tensor.Tensor { return tensor.Randn(rng, shape...) }
	pos := func(shape ...int) *tensor.Tensor { return tensor.Uniform(rng, 0.5, 2, shape...) }
	// distinct: spaced values in random order, so that maxima have no ties
	distinct := func(shape ...int) *tensor.Tensor {
		t := tensor.Zeros(shape...)
		for k, p := range rng.Perm(t.Len()) {
			t.Data()[k] = float32(p)*0.1 - float32(t.Len())*0.05
		}
		return t
	}
	away := func(shape ...int) *tensor.Tensor { // |x| >= 0.2: away from kinks at 0
		t := randn(shape...)
		for k, v := range t.Data() {
			if v >= 0 && v < 0.2 {
				t.Data()[k] += 0.2
			} else if v < 0 && v > -0.2 {
				t.Data()[k] -= 0.2
			}
		}
		return t
	}
	shape := func(name string, v ...int64) *onnxpb.TensorProto { return intInit(name, v, int64(len(v))) }
	cases := []struct {
		name   string
		m      *onnxpb.ModelProto
		inputs []*tensor.Tensor
	}{
		{"Conv", oneNode(13, "Conv", 3, 1, nil, nil, attrIs("pads", 1, 0, 0, 1), attrIs("strides", 2, 1)), []*tensor.Tensor{randn(2, 2, 5, 4), randn(3, 2, 3, 2), randn(3)}},
		{"Conv/groups+dilations", oneNode(13, "Conv", 2, 1, nil, nil, attrI("group", 2), attrIs("dilations", 2, 1), attrS("auto_pad", "SAME_UPPER")), []*tensor.Tensor{randn(1, 4, 5, 5), randn(2, 2, 2, 3)}},
		{"Conv/1-D", oneNode(13, "Conv", 3, 1, nil, nil, attrIs("pads", 1, 2)), []*tensor.Tensor{randn(2, 2, 6), randn(3, 2, 3), randn(3)}},
		{"MaxPool/fast", oneNode(13, "MaxPool", 1, 1, nil, nil, attrIs("kernel_shape", 2, 2), attrIs("pads", 1, 1, 0, 0)), []*tensor.Tensor{distinct(2, 2, 4, 4)}},
		{"MaxPool/3-D", oneNode(13, "MaxPool", 1, 1, nil, nil, attrIs("kernel_shape", 2, 2, 2), attrI("ceil_mode", 1)), []*tensor.Tensor{distinct(1, 2, 3, 3, 3)}},
		{"MaxPool/dilations", oneNode(13, "MaxPool", 1, 1, nil, nil, attrIs("kernel_shape", 2, 2), attrIs("dilations", 2, 2)), []*tensor.Tensor{distinct(1, 1, 5, 5)}},
		{"AveragePool/fast", oneNode(13, "AveragePool", 1, 1, nil, nil, attrIs("kernel_shape", 3, 3), attrIs("pads", 1, 1, 1, 1), attrIs("strides", 2, 2)), []*tensor.Tensor{randn(2, 1, 5, 5)}},
		{"AveragePool/1-D ceil", oneNode(13, "AveragePool", 1, 1, nil, nil, attrIs("kernel_shape", 3), attrIs("strides", 2), attrI("ceil_mode", 1), attrI("count_include_pad", 1), attrIs("pads", 1, 1)), []*tensor.Tensor{randn(2, 2, 6)}},
		{"GlobalAveragePool", oneNode(13, "GlobalAveragePool", 1, 1, nil, nil), []*tensor.Tensor{randn(2, 3, 2, 2)}},
		{"GlobalMaxPool", oneNode(13, "GlobalMaxPool", 1, 1, nil, nil), []*tensor.Tensor{distinct(2, 3, 2, 2)}},
		{"Gemm", oneNode(13, "Gemm", 3, 1, nil, nil, attrI("transA", 1), attrI("transB", 1), attrF("alpha", 0.7), attrF("beta", 1.5)), []*tensor.Tensor{randn(3, 2), randn(4, 3), randn(4)}},
		{"MatMul", oneNode(13, "MatMul", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 3, 4), randn(4, 2)}},
		{"Add", oneNode(13, "Add", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 3), randn(3)}},
		{"Sub", oneNode(13, "Sub", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 1), randn(3)}},
		{"Mul", oneNode(13, "Mul", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 3), randn(2, 3)}},
		{"Div", oneNode(13, "Div", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 3), pos(3)}},
		{"Pow/tensor", oneNode(13, "Pow", 2, 1, nil, nil), []*tensor.Tensor{pos(2, 3), randn(3)}},
		{"Pow/constant", oneNode(13, "Pow", 1, 1, []*onnxpb.TensorProto{floatProto("p", tensor.Scalar(2))}, []string{"p"}), []*tensor.Tensor{randn(2, 3)}},
		{"Relu", oneNode(13, "Relu", 1, 1, nil, nil), []*tensor.Tensor{away(3, 4)}},
		{"LeakyRelu", oneNode(13, "LeakyRelu", 1, 1, nil, nil, attrF("alpha", 0.2)), []*tensor.Tensor{away(3, 4)}},
		{"Sigmoid", oneNode(13, "Sigmoid", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 4)}},
		{"Tanh", oneNode(13, "Tanh", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 4)}},
		{"Sqrt", oneNode(13, "Sqrt", 1, 1, nil, nil), []*tensor.Tensor{pos(3, 4)}},
		{"Erf", oneNode(13, "Erf", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 4)}},
		{"Softmax/13", oneNode(13, "Softmax", 1, 1, nil, nil, attrI("axis", 1)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Softmax/11 coerced", oneNode(11, "Softmax", 1, 1, nil, nil), []*tensor.Tensor{randn(2, 3, 2)}},
		{"LogSoftmax/11", oneNode(11, "LogSoftmax", 1, 1, nil, nil, attrI("axis", 2)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Flatten", oneNode(13, "Flatten", 1, 1, nil, nil, attrI("axis", 2)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Reshape", oneNode(14, "Reshape", 1, 1, []*onnxpb.TensorProto{shape("s", 0, -1)}, []string{"s"}), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Transpose", oneNode(13, "Transpose", 1, 1, nil, nil, attrIs("perm", 1, 2, 0)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Concat", oneNode(13, "Concat", 2, 1, nil, nil, attrI("axis", -1)), []*tensor.Tensor{randn(2, 3), randn(2, 1)}},
		{"Identity", oneNode(13, "Identity", 1, 1, nil, nil), []*tensor.Tensor{randn(3)}},
		{"Dropout/eval", oneNode(13, "Dropout", 1, 1, nil, nil), []*tensor.Tensor{randn(3)}},
		{"BatchNormalization", oneNode(13, "BatchNormalization", 5, 1, nil, nil), []*tensor.Tensor{randn(2, 3, 2, 2), randn(3), randn(3), randn(3), pos(3)}},
		{"BatchNormalization/training", oneNode(15, "BatchNormalization", 3, 1, []*onnxpb.TensorProto{floatProto("m", tensor.Zeros(3)), floatProto("v", tensor.Ones(3))}, []string{"m", "v"}, attrI("training_mode", 1)), []*tensor.Tensor{randn(4, 3, 2), randn(3), randn(3)}},
		{"Clip", oneNode(13, "Clip", 1, 1, []*onnxpb.TensorProto{floatProto("lo", tensor.Scalar(-0.5)), floatProto("hi", tensor.Scalar(0.7))}, []string{"lo", "hi"}), []*tensor.Tensor{tensor.New([]float32{-1, -0.3, 0.1, 0.5, 0.9, 2}, 2, 3)}},
		{"Clip/7", oneNode(7, "Clip", 1, 1, nil, nil, attrF("min", -0.5)), []*tensor.Tensor{tensor.New([]float32{-1, -0.3, 0.1, 0.5, 0.9, 2}, 2, 3)}},
		{"Gather", oneNode(13, "Gather", 1, 1, []*onnxpb.TensorProto{intInit("i", []int64{2, -3, 2, 0}, 2, 2)}, []string{"i"}, attrI("axis", 1)), []*tensor.Tensor{randn(2, 3)}},
		{"Unsqueeze/13", oneNode(13, "Unsqueeze", 1, 1, []*onnxpb.TensorProto{shape("a", -1, 0)}, []string{"a"}), []*tensor.Tensor{randn(2, 3)}},
		{"Unsqueeze/11", oneNode(11, "Unsqueeze", 1, 1, nil, nil, attrIs("axes", 1)), []*tensor.Tensor{randn(2, 3)}},
		{"Squeeze", oneNode(13, "Squeeze", 1, 1, nil, nil), []*tensor.Tensor{randn(2, 1, 3, 1)}},
		{"ReduceMean", oneNode(13, "ReduceMean", 1, 1, nil, nil, attrIs("axes", 0, -1), attrI("keepdims", 0)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"Pad/constant", oneNode(13, "Pad", 1, 1, []*onnxpb.TensorProto{shape("p", 1, 0, 0, 2), floatProto("c", tensor.Scalar(1.5))}, []string{"p", "c"}), []*tensor.Tensor{randn(2, 3)}},
		{"Pad/reflect", oneNode(13, "Pad", 1, 1, []*onnxpb.TensorProto{shape("p", 0, 2, 0, 3)}, []string{"p"}, attrS("mode", "reflect")), []*tensor.Tensor{randn(2, 3)}},
		{"Pad/edge crop", oneNode(13, "Pad", 1, 1, []*onnxpb.TensorProto{shape("p", 1, -1, 0, 2)}, []string{"p"}, attrS("mode", "edge")), []*tensor.Tensor{randn(2, 3)}},
		{"Exp", oneNode(13, "Exp", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 2)}},
		{"Log", oneNode(13, "Log", 1, 1, nil, nil), []*tensor.Tensor{pos(3, 2)}},
		{"Neg", oneNode(13, "Neg", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 2)}},
		{"Abs", oneNode(13, "Abs", 1, 1, nil, nil), []*tensor.Tensor{away(3, 2)}},
		{"Reciprocal", oneNode(13, "Reciprocal", 1, 1, nil, nil), []*tensor.Tensor{pos(3, 2)}},
		{"ReduceMax", oneNode(13, "ReduceMax", 1, 1, nil, nil, attrIs("axes", 1)), []*tensor.Tensor{distinct(2, 3, 2)}},
		{"ReduceMin", oneNode(13, "ReduceMin", 1, 1, nil, nil, attrI("keepdims", 0)), []*tensor.Tensor{distinct(2, 3)}},
		{"ReduceSum/13", oneNode(13, "ReduceSum", 1, 1, []*onnxpb.TensorProto{shape("a", -1)}, []string{"a"}), []*tensor.Tensor{randn(2, 3)}},
		{"Sum", oneNode(13, "Sum", 3, 1, nil, nil), []*tensor.Tensor{randn(2, 3), randn(3), randn(2, 1)}},
		{"Mean", oneNode(13, "Mean", 2, 1, nil, nil), []*tensor.Tensor{randn(2, 3), randn(3)}},
		{"Max", oneNode(13, "Max", 2, 1, nil, nil), []*tensor.Tensor{distinct(2, 3), distinct(3).Scale(1.01)}},
		{"Where", mkModel(13, []*onnxpb.NodeProto{mkNode("Where", "n", []string{"c", "x0", "x1"}, []string{"y0"})},
			[]*onnxpb.TensorProto{{Name: "c", DataType: tBool, Dims: []int64{3}, Int32Data: []int32{1, 0, 1}}},
			[]*onnxpb.ValueInfoProto{vinfo("x0", tFloat), vinfo("x1", tFloat)}, []*onnxpb.ValueInfoProto{vinfo("y0", tFloat)}), []*tensor.Tensor{randn(2, 3), randn(2, 1)}},
		{"Cast", oneNode(13, "Cast", 1, 1, nil, nil, attrI("to", int64(tFloat))), []*tensor.Tensor{randn(3)}},
		{"Slice", oneNode(13, "Slice", 1, 1, []*onnxpb.TensorProto{shape("s", -1, 0), shape("e", -1000, 9), shape("a", 1, 0), shape("st", -2, 2)}, []string{"s", "e", "a", "st"}), []*tensor.Tensor{randn(3, 5)}},
		{"Expand", oneNode(13, "Expand", 1, 1, []*onnxpb.TensorProto{shape("s", 2, 1, 3)}, []string{"s"}), []*tensor.Tensor{randn(2, 1)}},
		{"Elu", oneNode(13, "Elu", 1, 1, nil, nil, attrF("alpha", 0.5)), []*tensor.Tensor{away(3, 4)}},
		{"Selu", oneNode(13, "Selu", 1, 1, nil, nil), []*tensor.Tensor{away(3, 4)}},
		{"HardSigmoid", oneNode(13, "HardSigmoid", 1, 1, nil, nil), []*tensor.Tensor{tensor.New([]float32{-4, -1, 0.3, 1.2, 4}, 5)}},
		{"HardSwish", oneNode(14, "HardSwish", 1, 1, nil, nil), []*tensor.Tensor{tensor.New([]float32{-4, -1, 0.3, 1.2, 4}, 5)}},
		{"Softplus", oneNode(13, "Softplus", 1, 1, nil, nil), []*tensor.Tensor{randn(3, 4)}},
		{"Softsign", oneNode(13, "Softsign", 1, 1, nil, nil), []*tensor.Tensor{away(3, 4)}},
		{"PRelu", oneNode(13, "PRelu", 2, 1, nil, nil), []*tensor.Tensor{away(2, 3, 2), randn(3, 1)}},
		{"ReduceL1", oneNode(13, "ReduceL1", 1, 1, nil, nil, attrIs("axes", 1)), []*tensor.Tensor{away(2, 3)}},
		{"ReduceL2", oneNode(13, "ReduceL2", 1, 1, nil, nil, attrI("keepdims", 0)), []*tensor.Tensor{randn(2, 3)}},
		{"ReduceSumSquare", oneNode(13, "ReduceSumSquare", 1, 1, nil, nil, attrIs("axes", 0)), []*tensor.Tensor{randn(2, 3)}},
		{"ReduceLogSum", oneNode(13, "ReduceLogSum", 1, 1, nil, nil, attrIs("axes", 1)), []*tensor.Tensor{pos(2, 3)}},
		{"ReduceLogSumExp", oneNode(13, "ReduceLogSumExp", 1, 1, nil, nil, attrIs("axes", 1), attrI("keepdims", 0)), []*tensor.Tensor{randn(2, 3)}},
		{"LayerNormalization", oneNode(17, "LayerNormalization", 3, 1, nil, nil, attrI("axis", -2)), []*tensor.Tensor{randn(2, 3, 2), randn(3, 2), randn(2)}},
		{"InstanceNormalization", oneNode(13, "InstanceNormalization", 3, 1, nil, nil), []*tensor.Tensor{randn(2, 2, 3), randn(2), randn(2)}},
		{"Split", oneNode(13, "Split", 1, 2, []*onnxpb.TensorProto{shape("s", 1, 2)}, []string{"s"}, attrI("axis", 1)), []*tensor.Tensor{randn(2, 3)}},
		{"Tile", oneNode(13, "Tile", 1, 1, []*onnxpb.TensorProto{shape("r", 2, 1)}, []string{"r"}), []*tensor.Tensor{randn(2, 3)}},
		{"ConvTranspose", oneNode(13, "ConvTranspose", 3, 1, nil, nil, attrIs("strides", 2, 1), attrIs("pads", 1, 0, 0, 1), attrIs("output_padding", 1, 0), attrI("group", 2)), []*tensor.Tensor{randn(2, 4, 3, 3), randn(4, 1, 3, 2), randn(2)}},
		{"ConvTranspose/1-D output_shape", oneNode(13, "ConvTranspose", 2, 1, nil, nil, attrIs("strides", 2), attrIs("output_shape", 8), attrS("auto_pad", "SAME_UPPER")), []*tensor.Tensor{randn(1, 2, 4), randn(2, 3, 3)}},
		{"LayerNormalization/fused", oneNode(17, "LayerNormalization", 3, 1, nil, nil), []*tensor.Tensor{randn(2, 3, 4), randn(4), randn(4)}},
		{"Resize/linear", oneNode(13, "Resize", 1, 1, []*onnxpb.TensorProto{floatProto("sc", tensor.New([]float32{1, 1, 1.5, 2}, 4))}, []string{"", "sc"}, attrS("mode", "linear")), []*tensor.Tensor{randn(1, 2, 3, 2)}},
		{"Resize/nearest sizes", oneNode(13, "Resize", 1, 1, []*onnxpb.TensorProto{intInit("sz", []int64{1, 2, 5, 3}, 4)}, []string{"", "", "sz"}, attrS("coordinate_transformation_mode", "asymmetric"), attrS("nearest_mode", "floor")), []*tensor.Tensor{randn(1, 2, 3, 2)}},
		{"GatherElements", oneNode(13, "GatherElements", 1, 1, []*onnxpb.TensorProto{intInit("i", []int64{2, -1, 0, 1, 1, 0}, 2, 3)}, []string{"i"}, attrI("axis", 1)), []*tensor.Tensor{randn(2, 3)}},
		{"Trilu", oneNode(14, "Trilu", 1, 1, []*onnxpb.TensorProto{intInit("k", []int64{-1})}, []string{"k"}, attrI("upper", 0)), []*tensor.Tensor{randn(2, 3, 4)}},
		{"NegativeLogLikelihoodLoss", oneNode(13, "NegativeLogLikelihoodLoss", 1, 1, []*onnxpb.TensorProto{intInit("t", []int64{2, 0, 1, 2}, 2, 2),
			floatProto("w", tensor.New([]float32{0.5, 1, 2}, 3))}, []string{"t", "w"}, attrI("ignore_index", 1)), []*tensor.Tensor{randn(2, 3, 2)}},
		{"SoftmaxCrossEntropyLoss", oneNode(13, "SoftmaxCrossEntropyLoss", 1, 1, []*onnxpb.TensorProto{intInit("t", []int64{2, 0, 1}, 3)}, []string{"t"}, attrS("reduction", "sum")), []*tensor.Tensor{randn(3, 4)}},
		{"Mod", oneNode(13, "Mod", 2, 1, nil, nil, attrI("fmod", 1)), []*tensor.Tensor{tensor.New([]float32{5.3, -7.1, 2.2, -0.4}, 4), tensor.New([]float32{2, 3, -1.5, 0.7}, 4)}},
		{"ThresholdedRelu", oneNode(13, "ThresholdedRelu", 1, 1, nil, nil, attrF("alpha", 0.5)), []*tensor.Tensor{tensor.New([]float32{-1, 0.2, 0.7, 2}, 4)}},
		{"Celu", oneNode(13, "Celu", 1, 1, nil, nil, attrF("alpha", 2)), []*tensor.Tensor{away(3, 4)}},
		{"Shrink", oneNode(13, "Shrink", 1, 1, nil, nil, attrF("bias", 0.3)), []*tensor.Tensor{tensor.New([]float32{-2, -0.2, 0.1, 1.5}, 4)}},
		{"DepthToSpace/CRD", oneNode(13, "DepthToSpace", 1, 1, nil, nil, attrI("blocksize", 2), attrS("mode", "CRD")), []*tensor.Tensor{randn(1, 8, 2, 3)}},
		{"SpaceToDepth", oneNode(13, "SpaceToDepth", 1, 1, nil, nil, attrI("blocksize", 2)), []*tensor.Tensor{randn(1, 2, 4, 2)}},
		{"TopK", oneNode(13, "TopK", 1, 1, []*onnxpb.TensorProto{intInit("k", []int64{2}, 1)}, []string{"k"}, attrI("axis", 0)), []*tensor.Tensor{distinct(4, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustImport(t, c.m)
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return run1(t, g, xs...) }, c.inputs, tensortest.GradCheckOptions{})
		})
	}
}

func TestUnsupportedNodesListedTogether(t *testing.T) {
	nodes := []*onnxpb.NodeProto{
		mkNode("Foo", "n1", []string{"x"}, []string{"a"}),
		mkNode("Relu", "n2", []string{"a"}, []string{"b"}),
		mkNode("Conv", "n3", []string{"b", "w"}, []string{"c"}, attrIs("kernel_shape", 1, 1, 1)),
		mkNode("MaxPool", "n4", []string{"c"}, []string{"d"}, attrIs("kernel_shape", 2, 2), attrS("auto_pad", "WRONG")),
		{OpType: "Gelu", Domain: "com.microsoft", Name: "n5", Input: []string{"d"}, Output: []string{"e"}},
		mkNode("Relu", "n6", []string{"e"}, []string{"y"}, attrI("alpha", 1)),
	}
	m := mkModel(13, nodes, []*onnxpb.TensorProto{floatProto("w", tensor.Zeros(1, 1, 1, 1, 1))},
		[]*onnxpb.ValueInfoProto{vinfo("x", tFloat)}, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)})
	_, err := Import(bytes.NewReader(encode(t, m)))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"onnx: 5 unsupported nodes: ",
		`node "n1" (Foo): unknown operator`,
		`node "n3" (Conv): 3-D convolution is not supported`,
		`node "n4" (MaxPool): auto_pad "WRONG" is not supported`,
		`node "n5" (com.microsoft.Gelu): domain "com.microsoft" is not supported`,
		`node "n6" (Relu): attribute "alpha" is not supported`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"n2"`) {
		t.Errorf("error %q names the supported node n2", err)
	}
}

// TestImportRejects feeds malformed and unsupported models: each is an error naming the problem.
func TestImportRejects(t *testing.T) {
	relu := func(opset int64, inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
		return oneNode(opset, "Add", 1, 1, inits, []string{"w"})
	}
	raw := func(dims []int64, n int) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: "w", DataType: tFloat, Dims: dims, RawData: make([]byte, n)}
	}
	cyc := mkModel(13, []*onnxpb.NodeProto{mkNode("Relu", "a", []string{"q"}, []string{"p"}), mkNode("Relu", "b", []string{"p"}, []string{"q"})},
		nil, nil, []*onnxpb.ValueInfoProto{vinfo("q", tFloat)})
	undefined := mkModel(13, []*onnxpb.NodeProto{mkNode("Relu", "a", []string{"nowhere"}, []string{"y"})}, nil, nil, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)})
	noDefault := relu(13, floatProto("w", tensor.Zeros(1)))
	noDefault.OpsetImport[0].Domain = "com.example"
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte("\xff\xff\xff\xff not a model"), "not an ONNX model"},
		{"no graph", encode(t, &onnxpb.ModelProto{IrVersion: 8}), "no graph"},
		{"opset 18", encode(t, relu(18, floatProto("w", tensor.Zeros(1)))), "opset 18 is not supported"},
		{"opset 0", encode(t, relu(0, floatProto("w", tensor.Zeros(1)))), "opset 0 is not supported"},
		{"no default opset", encode(t, noDefault), "no opset of the default domain"},
		{"huge dims", encode(t, relu(13, raw([]int64{1 << 40, 1 << 40}, 4))), "too many elements"},
		{"dims beyond data", encode(t, relu(13, raw([]int64{1 << 30}, 8))), "need 1073741824 values, raw_data holds 2"},
		{"raw not a multiple", encode(t, relu(13, raw([]int64{1}, 5))), "not a multiple of 4"},
		{"negative dims", encode(t, relu(13, raw([]int64{-1}, 4))), "negative dimension"},
		{"float_data short", encode(t, relu(13, &onnxpb.TensorProto{Name: "w", DataType: tFloat, Dims: []int64{3}, FloatData: []float32{1}})), "float_data holds 1"},
		{"double", encode(t, relu(13, &onnxpb.TensorProto{Name: "w", DataType: int32(onnxpb.TensorProto_DOUBLE), Dims: []int64{1}, DoubleData: []float64{1}})), `1 unsupported node: node "n" (Add): input 1 has data type DOUBLE`},
		{"external", encode(t, relu(13, &onnxpb.TensorProto{Name: "w", DataType: tFloat, Dims: []int64{1}, DataLocation: onnxpb.TensorProto_EXTERNAL,
			ExternalData: []*onnxpb.StringStringEntryProto{{Key: "location", Value: "/etc/passwd"}}})), "external data"},
		{"cycle", encode(t, cyc), "cycle"},
		{"undefined input", encode(t, undefined), `input "nowhere" is defined by no node`},
		{"output not computed", encode(t, mkModel(13, nil, nil, nil, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)})), `"y" is computed by no node`},
		{"float64 input", encode(t, mkModel(13, nil, nil, []*onnxpb.ValueInfoProto{vinfo("x", int32(onnxpb.TensorProto_DOUBLE))}, []*onnxpb.ValueInfoProto{vinfo("x", tFloat)})), "DOUBLE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(bytes.NewReader(c.data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRunErrorsNameTheNode: a shape mismatch at run time is an error (Run) or an *nn.Error panic
// (Forward) naming the node.
func TestRunErrorsNameTheNode(t *testing.T) {
	g := mustImport(t, oneNode(13, "Conv", 2, 1, nil, nil))
	_, err := g.Run(tensor.Zeros(1, 2, 4, 4), tensor.Zeros(3, 5, 1, 1))
	if err == nil || !strings.Contains(err.Error(), `onnx: node "n" (Conv): tensor: Conv2D:`) {
		t.Errorf("Run error %v", err)
	}
	var te *tensor.Error
	if !errors.As(err, &te) {
		t.Errorf("error %v does not wrap the *tensor.Error", err)
	}
	if _, err := g.Run(tensor.Zeros(1)); err == nil || !strings.Contains(err.Error(), "got 1 inputs, the graph takes 2") {
		t.Errorf("Run with one input: %v", err)
	}
	g = mustImport(t, netModel(newRNG()))
	if _, err := g.Run(tensor.Zeros(1, 2, 6, 6)); err == nil || !strings.Contains(err.Error(), `input "x" has shape [1 2 6 6], the model wants [-1 1 6 6]`) {
		t.Errorf("Run with the wrong channels: %v", err)
	}
	g = mustImport(t, oneNode(13, "MatMul", 1, 1, []*onnxpb.TensorProto{floatProto("w", tensor.Zeros(3, 2))}, []string{"w"}))
	defer func() {
		r := recover()
		e, ok := r.(*nn.Error)
		if !ok || !strings.Contains(e.Error(), `node "n" (MatMul)`) {
			t.Errorf("Forward panicked with %v, want an *nn.Error naming the node", r)
		}
	}()
	g.Forward(tensor.Zeros(2, 4))
}

// TestModelProtoHoldsCurrentValues: after training, modelProto carries the new parameters and
// buffers; importing it again gives the same outputs.
func TestModelProtoHoldsCurrentValues(t *testing.T) {
	rng := newRNG()
	g := mustImport(t, netModel(rng))
	x := tensor.Randn(rng, 4, 1, 6, 6)
	nn.Train(g)
	opt := optim.NewSGD(g.Params(), 0.1)
	for range 3 {
		l := g.Forward(x).Square().Mean()
		opt.ClearGrad()
		l.Backward()
		opt.Step()
	}
	nn.Eval(g)
	want := g.Forward(x)
	b, err := proto.Marshal(g.modelProto())
	if err != nil {
		t.Fatal(err)
	}
	g2, err := Import(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tensortest.AllClose(t, g2.Forward(x), want, 0, 0)
	before := mustImport(t, netModel(newRNG()))
	if tensortest.Close(before.Forward(x), want, 1e-6, 0) == nil {
		t.Error("training changed nothing: the test proves nothing")
	}
}

// TestIntegerValues: int64 shape arithmetic and uint8 wraparound.
func TestIntegerValues(t *testing.T) {
	m := mkModel(13, []*onnxpb.NodeProto{mkNode("Add", "add", []string{"a", "b"}, []string{"y"})}, nil,
		[]*onnxpb.ValueInfoProto{vinfo("a", tUint8), vinfo("b", tUint8)}, []*onnxpb.ValueInfoProto{vinfo("y", tUint8)})
	g := mustImport(t, m)
	y := run1(t, g, tensor.New([]float32{250, 3}, 2), tensor.New([]float32{10, 4}, 2))
	if !slices.Equal(y.Data(), []float32{4, 7}) {
		t.Errorf("uint8 250+10, 3+4 = %v, want [4 7]", y.Data())
	}
	if _, err := g.Run(tensor.New([]float32{1.5}, 1), tensor.New([]float32{1}, 1)); err == nil || !strings.Contains(err.Error(), "UINT8, element 0 is 1.5") {
		t.Errorf("non-integer input: %v", err)
	}
}

// TestLoad reads a model from a file, and names the file in its errors.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.onnx")
	if err := os.WriteFile(path, encode(t, netModel(newRNG())), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte("nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": onnx:") {
		t.Errorf("Load error %v does not name the file", err)
	}
}

// TestImportDocListsEveryOperator keeps Import's documentation and the operator table in step.
func TestImportDocListsEveryOperator(t *testing.T) {
	src, err := os.ReadFile("import.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	doc = doc[strings.Index(doc, "// Import reads"):strings.Index(doc, "func Import(")]
	for op := range ops {
		if !slices.ContainsFunc([]string{",", ";", " (", " and"}, func(end string) bool { return strings.Contains(doc, " "+op+end) }) {
			t.Errorf("Import's doc does not list %s", op)
		}
	}
}

// TestDoubleConstantsCastToFloat: torch.onnx.export writes a clamp's bounds as float64 constants
// cast to float32. Those are read (as constants, not parameters); float64 anywhere else is not.
func TestDoubleConstantsCastToFloat(t *testing.T) {
	dbl := func(name string, v float64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_DOUBLE), DoubleData: []float64{v}}
	}
	nodes := []*onnxpb.NodeProto{
		{OpType: "Constant", Name: "c", Output: []string{"lo64"}, Attribute: []*onnxpb.AttributeProto{{Name: "value", Type: onnxpb.AttributeProto_TENSOR, T: dbl("", -0.5)}}},
		mkNode("Cast", "cast_lo", []string{"lo64"}, []string{"lo"}, attrI("to", int64(tFloat))),
		mkNode("Cast", "cast_hi", []string{"hi64"}, []string{"hi"}, attrI("to", int64(tFloat))),
		mkNode("Clip", "clip", []string{"x", "lo", "hi"}, []string{"y"}),
	}
	m := mkModel(13, nodes, []*onnxpb.TensorProto{dbl("hi64", 0.25)}, []*onnxpb.ValueInfoProto{vinfo("x", tFloat)}, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)})
	g := mustImport(t, m)
	if len(g.Params()) != 0 {
		t.Errorf("params %v: a float64 constant became a parameter", g.Params())
	}
	y := run1(t, g, tensor.New([]float32{-1, 0, 1}, 3))
	if !slices.Equal(y.Data(), []float32{-0.5, 0, 0.25}) {
		t.Errorf("clip to [-0.5, 0.25]: %v", y.Data())
	}
	nodes[3] = mkNode("Add", "add", []string{"x", "hi64"}, []string{"y"})
	nodes = append(nodes[:1], nodes[3]) // Constant lo64 now unread, hi64 read by Add
	_, err := Import(bytes.NewReader(encode(t, mkModel(13, nodes, []*onnxpb.TensorProto{dbl("hi64", 0.25)},
		[]*onnxpb.ValueInfoProto{vinfo("x", tFloat)}, []*onnxpb.ValueInfoProto{vinfo("y", tFloat)}))))
	for _, want := range []string{`node "c" (Constant): data type DOUBLE is not supported`, `node "add" (Add): input 1 has data type DOUBLE`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
}

// TestTrainingModeNodes: nodes exported in training mode run so until nn.Eval, which puts them
// in evaluation mode; nn.Train puts eval-mode nodes in training mode.
func TestTrainingModeNodes(t *testing.T) {
	rng := newRNG()
	bn := oneNode(15, "BatchNormalization", 1, 1, []*onnxpb.TensorProto{floatProto("s", tensor.Ones(2)), floatProto("b", tensor.Zeros(2)),
		floatProto("m", tensor.Full(10, 2)), floatProto("v", tensor.Full(4, 2))}, []string{"s", "b", "m", "v"}, attrI("training_mode", 1))
	g := mustImport(t, bn)
	x := tensor.Randn(rng, 8, 2, 3)
	batch := x.Sub(x.MeanKeepDim(0, 2)).Div(x.Sub(x.MeanKeepDim(0, 2)).Square().MeanKeepDim(0, 2).AddScalar(1e-5).Sqrt())
	tensortest.AllClose(t, run1(t, g, x), batch, 1e-5, 1e-4)
	nn.Eval(g)
	tensortest.AllClose(t, run1(t, g, x), x.AddScalar(-10).Scale(float32(1/math.Sqrt(4+1e-5))), 1e-5, 1e-4)
	if mean := g.Buffers()[0].Data(); mean[0] != 10 {
		t.Errorf("evaluation changed the running mean to %v", mean)
	}
	nn.Train(g)
	run1(t, g, x)
	if mean := g.Buffers()[0].Data(); mean[0] == 10 {
		t.Error("training did not update the running mean")
	}

	drop := oneNode(13, "Dropout", 1, 2, []*onnxpb.TensorProto{floatProto("r", tensor.Scalar(0.5)),
		{Name: "tm", DataType: tBool, Int32Data: []int32{1}}}, []string{"r", "tm"})
	g = mustImport(t, drop)
	ones := tensor.Ones(1000)
	if y := run1(t, g, ones); tensortest.Close(y, ones, 0, 0) == nil {
		t.Error("Dropout with training_mode true passed its input through")
	}
	nn.Eval(g)
	tensortest.AllClose(t, run1(t, g, ones), ones, 0, 0)
}

// TestDropoutRandomState: restoring RandomState replays the same masks.
func TestDropoutRandomState(t *testing.T) {
	g := mustImport(t, oneNode(13, "Dropout", 1, 1, nil, nil))
	nn.Train(g)
	x := tensor.Ones(64)
	state := g.RandomState()
	first := run1(t, g, x)
	if second := run1(t, g, x); tensortest.Close(first, second, 0, 0) == nil {
		t.Fatal("two training runs drew the same mask")
	}
	if err := g.SetRandomState(state); err != nil {
		t.Fatal(err)
	}
	tensortest.AllClose(t, run1(t, g, x), first, 0, 0)
	if err := g.SetRandomState([]byte("junk")); err == nil {
		t.Error("SetRandomState accepted junk")
	}
}

// TestRunRefusesHugeResults: sizes a model computes from small inputs (a broadcast, a product,
// padding) are checked before allocation: an error, not an out-of-memory crash.
func TestRunRefusesHugeResults(t *testing.T) {
	col, row := tensor.Zeros(1<<16, 1), tensor.Zeros(1, 1<<16)
	cases := []struct {
		name string
		g    *Graph
		in   []*tensor.Tensor
	}{
		{"MatMul", mustImport(t, oneNode(13, "MatMul", 2, 1, nil, nil)), []*tensor.Tensor{col, row}},
		{"Add", mustImport(t, oneNode(13, "Add", 2, 1, nil, nil)), []*tensor.Tensor{col, row}},
		{"Conv pads", mustImport(t, oneNode(13, "Conv", 2, 1, nil, nil, attrIs("pads", 1<<27, 1<<27, 1<<27, 1<<27))), []*tensor.Tensor{tensor.Zeros(1, 1, 2, 2), tensor.Zeros(1, 1, 1, 1)}},
		{"Pad", mustImport(t, oneNode(13, "Pad", 1, 1, []*onnxpb.TensorProto{intInit("p", []int64{1 << 20, 1 << 20, 0, 0}, 4)}, []string{"p"})), []*tensor.Tensor{tensor.Zeros(2, 2)}},
		{"Expand", mustImport(t, oneNode(13, "Expand", 1, 1, []*onnxpb.TensorProto{intInit("s", []int64{1 << 20, 1 << 20}, 2)}, []string{"s"})), []*tensor.Tensor{tensor.Zeros(1)}},
		{"Resize", mustImport(t, oneNode(13, "Resize", 1, 1, []*onnxpb.TensorProto{floatProto("sc", tensor.New([]float32{1 << 15, 1 << 15}, 2))}, []string{"", "sc"})), []*tensor.Tensor{tensor.Zeros(1, 1)}},
	}
	for _, c := range cases {
		if _, err := c.g.Run(c.in...); err == nil || !strings.Contains(err.Error(), `node "n"`) || !strings.Contains(err.Error(), "2^28") {
			t.Errorf("%s: error %v, want one naming the node and the 2^28 limit", c.name, err)
		}
	}
}
