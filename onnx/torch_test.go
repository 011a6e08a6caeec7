package onnx_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// The fixtures of testdata/torch are models exported by torch.onnx.export from PyTorch 1.13, with
// torch's outputs for one input batch; testdata/torch/make_fixtures.py writes them and says what
// each is.
const torchDir = "testdata/torch"

// readTensorPB reads a float32 ONNX TensorProto file (raw_data or float_data) as a tensor.
func readTensorPB(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(torchDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if tp.DataType != int32(onnxpb.TensorProto_FLOAT) {
		t.Fatalf("%s: data type %d, want FLOAT", name, tp.DataType)
	}
	shape := make([]int, len(tp.Dims))
	n := 1
	for i, d := range tp.Dims {
		shape[i] = int(d)
		n *= int(d)
	}
	vals := tp.FloatData
	if len(tp.RawData) > 0 {
		vals = make([]float32, len(tp.RawData)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(tp.RawData[4*i:]))
		}
	}
	if len(vals) != n {
		t.Fatalf("%s: %d values for dims %v", name, len(vals), tp.Dims)
	}
	return tensor.New(vals, shape...)
}

// maxAbsDiff returns max |got-want| and max |want|, failing if the shapes differ.
func maxAbsDiff(t *testing.T, got, want *tensor.Tensor) (diff, scale float64) {
	t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Fatalf("output shape %v, want %v", got.Shape(), want.Shape())
	}
	g, w := got.Data(), want.Data()
	for i := range w {
		diff = math.Max(diff, math.Abs(float64(g[i])-float64(w[i])))
		scale = math.Max(scale, math.Abs(float64(w[i])))
	}
	return diff, scale
}

var lenetParams = []string{
	"features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
	"fc.0.weight", "fc.0.bias", "fc.1.weight", "fc.1.bias", "fc.2.weight", "fc.2.bias",
}

var cnnParams = []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}

// mixParams are the Mix net's: its state-dict keys, but for conv1 and bn1, which torch folded
// into one Conv whose weight and bias it named "onnx::Conv_39" and "onnx::Conv_40".
var (
	mixParams = []string{"onnx::Conv_39", "onnx::Conv_40", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
		"bn2.weight", "bn2.bias", "fc2.weight", "fc2.bias"}
	mixBuffers = []string{"bn2.running_mean", "bn2.running_var"}
)

// checkNames checks that ps has the names want, in any order.
func checkNames(t *testing.T, what string, ps []nn.Param, want []string) {
	t.Helper()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("%s %v, want %v", what, names, want)
	}
}

// TestTorchFixtures imports each PyTorch-exported model and checks that its output for the
// fixture batch matches torch's to within 1e-5 of the output's largest magnitude, for the whole
// batch and (the batch axis is dynamic) for its first image alone. It also checks that the
// parameters are the initializers under torch's state-dict names, and the BatchNormalization's
// running statistics its buffers.
func TestTorchFixtures(t *testing.T) {
	x := readTensorPB(t, "input.pb")
	for _, tc := range []struct {
		model, output   string
		params, buffers []string
	}{
		{"lenet_opset13.onnx", "lenet_output.pb", lenetParams, nil},
		{"lenet_opset17.onnx", "lenet_output.pb", lenetParams, nil},
		{"lenet_view_opset13.onnx", "lenet_view_output.pb", lenetParams, nil},
		{"cnn_opset13.onnx", "cnn_output.pb", cnnParams, nil},
		{"cnn_opset17.onnx", "cnn_output.pb", cnnParams, nil},
		{"bn_opset13.onnx", "bn_output.pb", []string{"0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"}, []string{"2.running_mean", "2.running_var"}},
		{"mix_opset13.onnx", "mix_output.pb", mixParams, mixBuffers},
		{"mix_opset17.onnx", "mix_output.pb", mixParams, mixBuffers},
	} {
		t.Run(tc.model, func(t *testing.T) {
			g, err := onnx.Load(filepath.Join(torchDir, tc.model))
			if err != nil {
				t.Fatal(err)
			}
			checkNames(t, "params", g.Params(), tc.params)
			checkNames(t, "buffers", g.Buffers(), tc.buffers)
			nn.Eval(g)
			wantY := readTensorPB(t, tc.output)
			diff, scale := maxAbsDiff(t, g.Forward(x.NoGrad()), wantY)
			t.Logf("batch %d: max |oar - torch| = %.3g, max |torch| = %.3g (relative %.3g)", x.Dim(0), diff, scale, diff/scale)
			if diff > 1e-5*scale {
				t.Errorf("max |oar - torch| = %g > 1e-5 * %g", diff, scale)
			}
			diff1, _ := maxAbsDiff(t, g.Forward(x.Slice(0, 0, 1).NoGrad()), wantY.Slice(0, 0, 1))
			t.Logf("batch 1: max |oar - torch| = %.3g", diff1)
			if diff1 > 1e-5*scale {
				t.Errorf("batch of 1: max |oar - torch| = %g > 1e-5 * %g", diff1, scale)
			}
		})
	}
}
