package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
)

// nodeTestDir holds ONNX's backend node tests (Debian's libonnx-testdata).
const nodeTestDir = "/usr/share/libonnx-testdata/data/node"

// requiredNodeTests must import and pass: every node test whose operators are all among Conv,
// MaxPool, AveragePool, Gemm, MatMul, Relu, Sigmoid, Tanh, Softmax, LogSoftmax, Flatten,
// Reshape, Add, Mul, BatchNormalization, Dropout, GlobalAveragePool, GlobalMaxPool, Concat,
// Transpose and Identity, except test_training_dropout{,_default,_default_mask,_mask} (random
// masks drawn by numpy's generator) and test_identity_{opt,sequence} (optional and sequence
// types). The names are without the "test_" prefix.
var requiredNodeTests = []string{
	"add", "add_bcast", "add_uint8", "averagepool_1d_default", "averagepool_2d_ceil",
	"averagepool_2d_default", "averagepool_2d_pads", "averagepool_2d_pads_count_include_pad",
	"averagepool_2d_precomputed_pads", "averagepool_2d_precomputed_pads_count_include_pad",
	"averagepool_2d_precomputed_same_upper", "averagepool_2d_precomputed_strides",
	"averagepool_2d_same_lower", "averagepool_2d_same_upper", "averagepool_2d_strides",
	"averagepool_3d_default", "basic_conv_with_padding", "basic_conv_without_padding",
	"batchnorm_epsilon", "batchnorm_epsilon_training_mode", "batchnorm_example",
	"batchnorm_example_training_mode", "concat_1d_axis_0", "concat_1d_axis_negative_1",
	"concat_2d_axis_0", "concat_2d_axis_1", "concat_2d_axis_negative_1", "concat_2d_axis_negative_2",
	"concat_3d_axis_0", "concat_3d_axis_1", "concat_3d_axis_2", "concat_3d_axis_negative_1",
	"concat_3d_axis_negative_2", "concat_3d_axis_negative_3", "conv_with_autopad_same",
	"conv_with_strides_and_asymmetric_padding", "conv_with_strides_no_padding",
	"conv_with_strides_padding", "dropout_default", "dropout_default_mask",
	"dropout_default_mask_ratio", "dropout_default_old", "dropout_default_ratio",
	"dropout_random_old", "flatten_axis0", "flatten_axis1", "flatten_axis2", "flatten_axis3",
	"flatten_default_axis", "flatten_negative_axis1", "flatten_negative_axis2",
	"flatten_negative_axis3", "flatten_negative_axis4", "gemm_all_attributes", "gemm_alpha",
	"gemm_beta", "gemm_default_matrix_bias", "gemm_default_no_bias", "gemm_default_scalar_bias",
	"gemm_default_single_elem_vector_bias", "gemm_default_vector_bias", "gemm_default_zero_bias",
	"gemm_transposeA", "gemm_transposeB", "globalaveragepool", "globalaveragepool_precomputed",
	"globalmaxpool", "globalmaxpool_precomputed", "identity", "logsoftmax_axis_0",
	"logsoftmax_axis_1", "logsoftmax_axis_2", "logsoftmax_default_axis", "logsoftmax_example_1",
	"logsoftmax_large_number", "logsoftmax_negative_axis", "matmul_2d", "matmul_3d", "matmul_4d",
	"maxpool_1d_default", "maxpool_2d_ceil", "maxpool_2d_default", "maxpool_2d_dilations",
	"maxpool_2d_pads", "maxpool_2d_precomputed_pads", "maxpool_2d_precomputed_same_upper",
	"maxpool_2d_precomputed_strides", "maxpool_2d_same_lower", "maxpool_2d_same_upper",
	"maxpool_2d_strides", "maxpool_2d_uint8", "maxpool_3d_default",
	"maxpool_with_argmax_2d_precomputed_pads", "maxpool_with_argmax_2d_precomputed_strides", "mul",
	"mul_bcast", "mul_example", "mul_uint8", "relu", "reshape_allowzero_reordered",
	"reshape_extended_dims", "reshape_negative_dim", "reshape_negative_extended_dims",
	"reshape_one_dim", "reshape_reduced_dims", "reshape_reordered_all_dims",
	"reshape_reordered_last_dims", "reshape_zero_and_negative_dim", "reshape_zero_dim", "sigmoid",
	"sigmoid_example", "softmax_axis_0", "softmax_axis_1", "softmax_axis_2", "softmax_default_axis",
	"softmax_example", "softmax_large_number", "softmax_negative_axis", "tanh", "tanh_example",
	"training_dropout_zero_ratio", "training_dropout_zero_ratio_mask", "transpose_all_permutations_0",
	"transpose_all_permutations_1", "transpose_all_permutations_2", "transpose_all_permutations_3",
	"transpose_all_permutations_4", "transpose_all_permutations_5", "transpose_default",
}

// TestNodeTests runs ONNX's backend node test suite: each test's model is imported; a model
// Import refuses counts as unsupported (with the reason); the others run on every
// test_data_set_* and each output is compared with |got-want| <= 1e-7 + 1e-3·|want| (ONNX's
// runner's tolerances), integers exactly. It fails if a supported test fails or a required one
// is unsupported.
func TestNodeTests(t *testing.T) {
	dirs, err := os.ReadDir(nodeTestDir)
	if err != nil {
		if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
			t.Skipf("ONNX node tests not found (%v); skipped because OAR_SKIP_EXTERNAL=1", err)
		}
		t.Fatalf("ONNX node tests not found: %v (install libonnx-testdata, or set OAR_SKIP_EXTERNAL=1 to skip)", err)
	}
	passed, failed := 0, 0
	unsupported := map[string]string{}
	var failures []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		reason, err := runNodeTest(filepath.Join(nodeTestDir, name))
		switch {
		case reason != "":
			unsupported[name] = reason
		case err != nil:
			failed++
			failures = append(failures, name+": "+err.Error())
		default:
			passed++
		}
	}
	total := passed + failed + len(unsupported)
	summary := fmt.Sprintf("onnx node tests: %d passed, %d failed, %d unsupported of %d", passed, failed, len(unsupported), total)
	var names []string
	for n := range unsupported {
		names = append(names, n)
	}
	sort.Strings(names)
	var list strings.Builder
	for _, n := range names {
		fmt.Fprintf(&list, "  unsupported %s: %s\n", n, unsupported[n])
	}
	t.Logf("%s\n%s", summary, list.String())
	if testing.Verbose() {
		fmt.Println(summary)
	}
	for _, f := range failures {
		t.Errorf("failed %s", f)
	}
	for _, r := range requiredNodeTests {
		if reason, ok := unsupported["test_"+r]; ok {
			t.Errorf("required test_%s is unsupported: %s", r, reason)
		}
		if !slices.ContainsFunc(dirs, func(d os.DirEntry) bool { return d.Name() == "test_"+r }) {
			t.Errorf("required test_%s is missing from %s", r, nodeTestDir)
		}
	}
}

// randomDropoutTests draw their masks with numpy's generator, which oar does not reproduce: their
// outputs are checked for what they must be instead (see checkDropoutOutputs).
var randomDropoutTests = map[string]bool{"test_training_dropout": true, "test_training_dropout_default": true,
	"test_training_dropout_default_mask": true, "test_training_dropout_mask": true}

// checkDropoutOutputs checks a training-mode Dropout's outputs given inputs x, ratio: each
// element is dropped (0, mask false) or kept and scaled (x/(1-ratio), mask true), and the kept
// fraction is near 1-ratio.
func checkDropoutOutputs(ins, outs []*value) error {
	x, ratio := ins[0].f.Data(), float64(ins[1].f.Item())
	y := outs[0].f.Data()
	kept := 0
	for k := range x {
		want := float64(x[k]) / (1 - ratio)
		keep := math.Abs(float64(y[k])-want) <= 1e-6*math.Abs(want)
		if !keep && y[k] != 0 {
			return fmt.Errorf("element %d is %v: neither 0 nor x/(1-ratio) = %v", k, y[k], want)
		}
		if len(outs) > 1 && (outs[1].i[k] == 1) != keep {
			return fmt.Errorf("mask element %d is %d for output %v", k, outs[1].i[k], y[k])
		}
		if keep {
			kept++
		}
	}
	if f := float64(kept) / float64(len(x)); math.Abs(f-(1-ratio)) > 0.2 {
		return fmt.Errorf("kept %d of %d elements with ratio %v", kept, len(x), ratio)
	}
	return nil
}

// runNodeTest returns why the test's model is unsupported, or the first mismatch.
func runNodeTest(dir string) (unsupported string, err error) {
	g, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return strings.TrimPrefix(err.Error(), filepath.Join(dir, "model.onnx")+": "), nil
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return "", fmt.Errorf("no test data sets")
	}
	for _, set := range sets {
		ins, err := readTensors(set, "input")
		if err != nil {
			return "test data: " + err.Error(), nil
		}
		wants, err := readTensors(set, "output")
		if err != nil {
			return "test data: " + err.Error(), nil
		}
		if len(ins) != len(g.inputs) {
			return "", fmt.Errorf("%s: %d inputs for a graph of %d", filepath.Base(set), len(ins), len(g.inputs))
		}
		gots, err := g.run(ins)
		if err != nil {
			return "", fmt.Errorf("%s: %v", filepath.Base(set), err)
		}
		if len(gots) != len(wants) {
			return "", fmt.Errorf("%s: %d outputs, want %d", filepath.Base(set), len(gots), len(wants))
		}
		if randomDropoutTests[filepath.Base(dir)] {
			if err := checkDropoutOutputs(ins, gots); err != nil {
				return "", fmt.Errorf("%s: %v", filepath.Base(set), err)
			}
			continue
		}
		for k := range wants {
			if err := compareValues(gots[k], wants[k]); err != nil {
				return "", fmt.Errorf("%s: output %d (%s): %v", filepath.Base(set), k, g.outputs[k].name, err)
			}
		}
	}
	return "", nil
}

// readTensors reads prefix_0.pb, prefix_1.pb, ... from dir.
func readTensors(dir, prefix string) ([]*value, error) {
	var vs []*value
	for k := 0; ; k++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s_%d.pb", prefix, k)))
		if os.IsNotExist(err) {
			return vs, nil
		}
		if err != nil {
			return nil, err
		}
		tp := &onnxpb.TensorProto{}
		if err := proto.Unmarshal(b, tp); err != nil {
			return nil, fmt.Errorf("%s_%d.pb: %v", prefix, k, err)
		}
		v, err := decodeTensor(tp)
		if err != nil {
			return nil, fmt.Errorf("%s_%d.pb: %v", prefix, k, err)
		}
		vs = append(vs, v)
	}
}

// compareValues checks type, shape and elements: integers exactly, floats with ONNX's runner's
// tolerances (NaN matches NaN).
func compareValues(got, want *value) error {
	if got.dtype != want.dtype {
		return fmt.Errorf("data type %s, want %s", typeName(got.dtype), typeName(want.dtype))
	}
	if !slices.Equal(got.dims(), want.dims()) {
		return fmt.Errorf("shape %v, want %v", got.dims(), want.dims())
	}
	if !got.isFloat() {
		for k := range want.i {
			if got.i[k] != want.i[k] {
				return fmt.Errorf("element %d is %d, want %d", k, got.i[k], want.i[k])
			}
		}
		return nil
	}
	const atol, rtol = 1e-7, 1e-3
	g, w := got.f.Data(), want.f.Data()
	for k := range w {
		a, b := float64(g[k]), float64(w[k])
		if math.IsNaN(a) && math.IsNaN(b) || a == b {
			continue
		}
		if !(math.Abs(a-b) <= atol+rtol*math.Abs(b)) {
			return fmt.Errorf("element %d is %v, want %v", k, a, b)
		}
	}
	return nil
}

// TestORTPoolingCases runs the cases of testdata/import_ort (see gen.py there): pooling and
// convolution settings whose rules are easy to get wrong, checked against ONNX Runtime. With
// ceil_mode and padding, ONNX Runtime (as PyTorch, and ONNX's later spec) drops a last window
// that would start in the right padding, where Paddle's rule (oar's PoolOptions.CeilMode) keeps
// it: test_ort_maxpool_2d_ceil_pads has a 3x3 output, not 4x4.
func TestORTPoolingCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "import_ort", "test_ort_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/import_ort: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			unsupported, err := runNodeTest(dir)
			if unsupported != "" || err != nil {
				t.Errorf("unsupported %q, error %v", unsupported, err)
			}
		})
	}
}
