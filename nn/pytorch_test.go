package nn_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// testdata/pytorch holds PyTorch 1.13's state dicts of two networks with an input and torch's
// outputs; testdata/pytorch/make_fixtures.py writes them and says what each is.
const torchDir = "testdata/pytorch"

// bnNet is the fixture script's bn_net: Sequential(Conv2d(1,4,3,padding=1), BatchNorm2d(4),
// ReLU, MaxPool2d(2,2), Flatten, Linear(784,10)).
func bnNet() *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2D(1, 4, 3, nn.Conv2DOptions{Padding: []int{1}}),
		nn.NewBatchNorm2D(4),
		nn.NewReLU(),
		nn.NewMaxPool2D(2, 2),
		nn.NewFlatten(),
		nn.NewLinear(784, 10),
	)
}

var torchNets = []struct {
	name string
	net  func() nn.Layer
}{
	{"lenet", func() nn.Layer { return models.LeNet(10) }},
	{"bn", func() nn.Layer { return bnNet() }},
}

// readOne reads the one tensor called name of a safetensors file of testdata/pytorch or path.
func readOne(t *testing.T, path, name string) *tensor.Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sd, _, err := nn.ReadSafetensors(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(sd) != 1 || sd[0].Name != name {
		t.Fatalf("%s: want one tensor %q, got %d", path, name, len(sd))
	}
	return sd[0].Tensor
}

// relDiff returns max |got-want| / max |want|, failing if the shapes differ.
func relDiff(t *testing.T, got, want *tensor.Tensor) float64 {
	t.Helper()
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
	}
	var diff, scale float64
	for i, w := range want.Data() {
		diff = math.Max(diff, math.Abs(float64(got.Data()[i])-float64(w)))
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	return diff / scale
}

// TestLoadPyTorchFixtures loads torch's state dicts into the oar networks built the same way and
// checks that their outputs match torch's to 1e-5 of the largest.
func TestLoadPyTorchFixtures(t *testing.T) {
	x := readOne(t, filepath.Join(torchDir, "input.safetensors"), "x")
	for _, tc := range torchNets {
		t.Run(tc.name, func(t *testing.T) {
			net := tc.net()
			if err := nn.LoadPyTorch(filepath.Join(torchDir, tc.name+".safetensors"), net); err != nil {
				t.Fatal(err)
			}
			nn.Eval(net)
			rel := relDiff(t, net.Forward(x.NoGrad()), readOne(t, filepath.Join(torchDir, tc.name+"_output.safetensors"), "y"))
			t.Logf("max |oar - torch| / max |torch| = %.3g", rel)
			if rel > 1e-5 {
				t.Errorf("relative difference %g > 1e-5", rel)
			}
		})
	}
}

// TestSavePyTorchInTorch writes oar networks with their own random weights (and, for the
// BatchNorm2D, non-trivial running statistics) in PyTorch's layout, has torch load them with
// load_state_dict(strict=True) and run them (make_fixtures.py forward), and compares torch's
// output with oar's. It runs /usr/bin/python3 (or $OAR_PYTHON), which must have torch; it fails
// when that is missing unless OAR_SKIP_EXTERNAL=1.
func TestSavePyTorchInTorch(t *testing.T) {
	if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
		t.Skip("OAR_SKIP_EXTERNAL=1: not running PyTorch")
	}
	python := os.Getenv("OAR_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	if out, err := exec.Command(python, "-c", "import torch, numpy").CombinedOutput(); err != nil {
		t.Fatalf("%s with torch and numpy is needed (OAR_SKIP_EXTERNAL=1 skips this test): %v\n%s", python, err, out)
	}
	x := readOne(t, filepath.Join(torchDir, "input.safetensors"), "x")
	script, err := filepath.Abs(filepath.Join(torchDir, "make_fixtures.py"))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range torchNets {
		t.Run(tc.name, func(t *testing.T) {
			net := tc.net()
			nn.Walk(net, func(_ string, l nn.Layer) {
				if bn, ok := l.(*nn.BatchNorm2D); ok { // statistics and affine parameters of the BatchNorm
					for c := range bn.Weight.Len() {
						bn.RunningMean.Data()[c] = 0.1 * float32(c+i)
						bn.RunningVar.Data()[c] = 0.5 + 0.25*float32(c)
						bn.Weight.Data()[c] = 1 - 0.2*float32(c)
						bn.Bias.Data()[c] = 0.05 * float32(c)
					}
				}
			})
			dir := t.TempDir()
			weights, out := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "y.safetensors")
			if err := nn.SavePyTorch(weights, net); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(python, script, "forward", tc.name, weights, out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
			}
			nn.Eval(net)
			rel := relDiff(t, net.Forward(x.NoGrad()), readOne(t, out, "y"))
			t.Logf("torch's output from oar's weights: max |oar - torch| / max |torch| = %.3g", rel)
			if rel > 1e-5 {
				t.Errorf("relative difference %g > 1e-5", rel)
			}
		})
	}
}

// rawTensor is a tensor of any dtype for writeRaw.
type rawTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// writeRaw writes a safetensors stream of tensors of any dtype, as another program would.
func writeRaw(tensors ...rawTensor) []byte {
	header := map[string]any{}
	var data []byte
	for _, t := range tensors {
		header[t.name] = map[string]any{"dtype": t.dtype, "shape": t.shape, "data_offsets": []int{len(data), len(data) + len(t.data)}}
		data = append(data, t.data...)
	}
	js, _ := json.Marshal(header)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	return append(append(out, js...), data...)
}

func f32Bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// TestWritePyTorchLayout checks what WritePyTorch writes for a net with a Conv2D, a BatchNorm2D
// and a Linear: PyTorch's names, the Linear weight transposed, the BatchNorm2D's counter, the
// "pt" format metadata.
func TestWritePyTorchLayout(t *testing.T) {
	net := bnNet()
	fc := net.At(5).(*nn.Linear)
	for i := range fc.Weight.Data() {
		fc.Weight.Data()[i] = float32(i)
	}
	var buf bytes.Buffer
	if err := nn.WritePyTorch(&buf, net); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header of %d bytes: the data is not 8-byte aligned", n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	type info struct {
		DType       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets [2]int `json:"data_offsets"`
	}
	infos := map[string]info{}
	var keys []string
	for k, v := range header {
		if k == "__metadata__" {
			if string(v) != `{"format":"pt"}` {
				t.Errorf("metadata %s, want {\"format\":\"pt\"}", v)
			}
			continue
		}
		var in info
		if err := json.Unmarshal(v, &in); err != nil {
			t.Fatal(err)
		}
		infos[k] = in
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight", "5.bias", "5.weight"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if c := infos["1.num_batches_tracked"]; c.DType != "I64" || len(c.Shape) != 0 || c.DataOffsets[1]-c.DataOffsets[0] != 8 {
		t.Errorf("num_batches_tracked %+v, want a 0-d I64", c)
	}
	w := infos["5.weight"]
	if w.DType != "F32" || !slices.Equal(w.Shape, []int{10, 784}) {
		t.Fatalf("5.weight %+v, want F32 [10 784]", w)
	}
	data := b[8+n:]
	for _, oi := range [][2]int{{0, 0}, {3, 7}, {9, 783}} { // torch's [o, i] is oar's [i, o]
		o, i := oi[0], oi[1]
		got := math.Float32frombits(binary.LittleEndian.Uint32(data[w.DataOffsets[0]+4*(o*784+i):]))
		if want := fc.Weight.Data()[i*10+o]; got != want {
			t.Errorf("5.weight[%d][%d] = %v, want oar's [%d][%d] %v", o, i, got, i, o, want)
		}
	}
}

// TestPyTorchRoundTrip writes a net in PyTorch's layout and reads it into another: every tensor
// comes back.
func TestPyTorchRoundTrip(t *testing.T) {
	src, dst := bnNet(), bnNet()
	bn := src.At(1).(*nn.BatchNorm2D)
	copy(bn.RunningMean.Data(), []float32{1, 2, 3, 4})
	copy(bn.RunningVar.Data(), []float32{5, 6, 7, 8})
	var buf bytes.Buffer
	if err := nn.WritePyTorch(&buf, src); err != nil {
		t.Fatal(err)
	}
	if err := nn.ReadPyTorch(&buf, dst); err != nil {
		t.Fatal(err)
	}
	want, got := nn.StateDict(src), nn.StateDict(dst)
	for i := range want {
		if !slices.Equal(got[i].Data(), want[i].Data()) {
			t.Errorf("%s differs after the round trip", want[i].Name)
		}
	}
}

// TestPyTorchNames loads torch's bn fixture into a net whose layers have other names, through
// PyTorchOptions.Names, and writes it back under torch's names.
func TestPyTorchNames(t *testing.T) {
	named := func() *nn.Sequential {
		s := bnNet()
		var subs []nn.Named
		for i, name := range []string{"conv", "bn", "relu", "pool", "flatten", "fc"} {
			subs = append(subs, nn.Named{Name: name, Layer: s.At(i)})
		}
		return nn.NewSequentialNamed(subs...)
	}
	opts := nn.PyTorchOptions{Names: map[string]string{
		"conv.weight": "0.weight", "conv.bias": "0.bias",
		"bn.weight": "1.weight", "bn.bias": "1.bias", "bn._mean": "1.running_mean", "bn._variance": "1.running_var",
		"fc.weight": "5.weight", "fc.bias": "5.bias",
	}}
	net := named()
	if err := nn.LoadPyTorch(filepath.Join(torchDir, "bn.safetensors"), net, opts); err != nil {
		t.Fatal(err)
	}
	nn.Eval(net)
	x := readOne(t, filepath.Join(torchDir, "input.safetensors"), "x")
	if rel := relDiff(t, net.Forward(x.NoGrad()), readOne(t, filepath.Join(torchDir, "bn_output.safetensors"), "y")); rel > 1e-5 {
		t.Errorf("relative difference %g > 1e-5", rel)
	}
	var buf bytes.Buffer
	if err := nn.WritePyTorch(&buf, net, opts); err != nil {
		t.Fatal(err)
	}
	plain := bnNet() // the default names are torch's: what was written under opts loads without
	if err := nn.ReadPyTorch(&buf, plain); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain.At(1).(*nn.BatchNorm2D).RunningVar.Data(), net.At(1).(*nn.BatchNorm2D).RunningVar.Data()) {
		t.Error("running_var not carried over")
	}

	err := nn.WritePyTorch(io.Discard, named(), nn.PyTorchOptions{Names: map[string]string{"conv.wieght": "0.weight"}})
	if err == nil || !strings.Contains(err.Error(), `"conv.wieght" is not a key`) {
		t.Errorf("unknown key in Names: error %v", err)
	}
	err = nn.WritePyTorch(io.Discard, named(), nn.PyTorchOptions{Names: map[string]string{"conv.weight": "x", "fc.weight": "x"}})
	if err == nil || !strings.Contains(err.Error(), `PyTorch key "x" given to both "conv.weight" and "fc.weight"`) {
		t.Errorf("clashing names: error %v", err)
	}
}

// TestReadPyTorchDTypes reads F16, BF16 and F64 tensors (converted) and refuses I64 and values
// beyond float32.
func TestReadPyTorchDTypes(t *testing.T) {
	f64 := func(v ...float64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
		return b
	}
	// Linear(2, 1): torch's weight [1, 2], bias [1]. 0x3c00 is 1 in F16, 0xc000 is -2; 0x3fc0 is 1.5 in BF16.
	l := nn.NewLinear(2, 1)
	err := nn.ReadPyTorch(bytes.NewReader(writeRaw(
		rawTensor{"weight", "F16", []int{1, 2}, []byte{0x00, 0x3c, 0x00, 0xc0}},
		rawTensor{"bias", "BF16", []int{1}, []byte{0xc0, 0x3f}},
	)), l)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Weight.Data(), []float32{1, -2}) || l.Bias.Data()[0] != 1.5 {
		t.Errorf("F16/BF16: weight %v bias %v, want [1 -2] [1.5]", l.Weight.Data(), l.Bias.Data())
	}
	err = nn.ReadPyTorch(bytes.NewReader(writeRaw(
		rawTensor{"weight", "F64", []int{1, 2}, f64(0.1, 3)},
		rawTensor{"bias", "F32", []int{1}, f32Bytes(4)},
	)), l)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Weight.Data(), []float32{0.1, 3}) || l.Bias.Data()[0] != 4 {
		t.Errorf("F64: weight %v bias %v, want [0.1 3] [4]", l.Weight.Data(), l.Bias.Data())
	}
	for _, tc := range []struct {
		weight rawTensor
		msg    string
	}{
		{rawTensor{"weight", "I64", []int{1, 2}, make([]byte, 16)}, `key "weight": dtype I64, want F32`},
		{rawTensor{"weight", "F64", []int{1, 2}, f64(1e39, 0)}, `key "weight": F64 value 1e+39 at index 0 is beyond float32's range`},
	} {
		err := nn.ReadPyTorch(bytes.NewReader(writeRaw(tc.weight, rawTensor{"bias", "F32", []int{1}, f32Bytes(9)})), l)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("error %v, want one containing %q", err, tc.msg)
		}
		if l.Bias.Data()[0] != 4 {
			t.Errorf("the bias changed to %v although reading failed", l.Bias.Data())
		}
	}
}

// TestReadPyTorchErrors checks that every mismatch is reported, at once, with the keys and
// shapes, and that the net is left as it was.
func TestReadPyTorchErrors(t *testing.T) {
	net := bnNet()
	before := slices.Clone(net.At(0).(*nn.Conv2D).Weight.Data())
	file := writeRaw(
		rawTensor{"0.weight", "F32", []int{4, 1, 3, 3}, make([]byte, 4*36)},
		rawTensor{"0.bias", "F32", []int{4}, make([]byte, 16)},
		rawTensor{"1.weight", "F32", []int{4}, make([]byte, 16)},
		rawTensor{"1.bias", "F32", []int{4}, make([]byte, 16)},
		rawTensor{"1.running_mean", "F32", []int{4}, make([]byte, 16)},
		// 1.running_var missing; 1.num_batches_tracked absent, which is allowed
		rawTensor{"1.running_variance", "F32", []int{4}, make([]byte, 16)},
		rawTensor{"5.weight", "F32", []int{784, 10}, make([]byte, 4*7840)}, // oar's layout, not torch's
		rawTensor{"5.bias", "F32", []int{10}, make([]byte, 40)},
	)
	err := nn.ReadPyTorch(bytes.NewReader(file), net)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`missing key "1.running_var" (oar's "1._variance"), shape [4]`,
		`unexpected key "1.running_variance" (F32 [4])`,
		`key "5.weight": shape [784 10] in the file, want [10 784], Linear's [in, out] [784 10] transposed`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	t.Log(err)
	if !slices.Equal(net.At(0).(*nn.Conv2D).Weight.Data(), before) {
		t.Error("the net changed although reading failed")
	}
	// A truncated stream is an error, not a panic: cut anywhere in the header, then every 997
	// bytes of the data, and one byte short.
	dataStart := 8 + int(binary.LittleEndian.Uint64(file))
	for i := 0; i < len(file); i++ {
		if i > dataStart+64 {
			i = min(i+996, len(file)-1)
		}
		if err := nn.ReadPyTorch(bytes.NewReader(file[:i]), net); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
	err = nn.LoadPyTorch(filepath.Join(t.TempDir(), "none.safetensors"), net)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v", err)
	}
}

// A Linear layer's weight is [in, out] in oar and [out, in] in PyTorch: WritePyTorch transposes
// it, ReadPyTorch transposes it back, and a mismatch is an error naming both layouts.
func ExampleWritePyTorch() {
	fc := nn.NewLinear(3, 2, nn.LinearOptions{WeightInit: nn.Constant(0.5)})
	fc.Weight.Data()[1] = 2 // W[0][1]: from input 0 to output 1
	var buf bytes.Buffer
	if err := nn.WritePyTorch(&buf, fc); err != nil {
		fmt.Println(err)
		return
	}
	sd, meta, _ := nn.ReadSafetensors(bytes.NewReader(buf.Bytes())) // as torch would see it
	for _, p := range sd {
		fmt.Println(p.Name, p.Shape(), p.Data())
	}
	fmt.Println(meta)

	back := nn.NewLinear(3, 2)
	fmt.Println(nn.ReadPyTorch(bytes.NewReader(buf.Bytes()), back), back.Weight.Data())
	fmt.Println(back.Forward(tensor.FromRows([][]float32{{1, 0, 0}})).Data())

	fmt.Println(nn.ReadPyTorch(bytes.NewReader(buf.Bytes()), nn.NewLinear(2, 3)))
	// Output:
	// weight [2 3] [0.5 0.5 0.5 2 0.5 0.5]
	// bias [2] [0 0]
	// map[format:pt]
	// <nil> [0.5 2 0.5 0.5 0.5 0.5]
	// [0.5 2]
	// nn: ReadPyTorch: key "weight": shape [2 3] in the file, want [3 2], Linear's [in, out] [2 3] transposed
	// key "bias": shape [2] in the file, want [3]
}

// fuzzNet is a small net with a Linear and a BatchNorm2D, for FuzzReadPyTorch.
func fuzzNet() *nn.Sequential {
	return nn.NewSequential(nn.NewLinear(3, 2), nn.NewBatchNorm2D(2))
}

// FuzzReadPyTorch feeds arbitrary bytes to nn.ReadPyTorch: it never panics, allocates no more
// than allocBound, leaves the net as it was on error, and what it reads writes back and reads
// again to the same state.
func FuzzReadPyTorch(f *testing.F) {
	seedCheckpoints(f)
	var buf bytes.Buffer
	if err := nn.WritePyTorch(&buf, fuzzNet()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(writeRaw(
		rawTensor{"0.weight", "F16", []int{2, 3}, make([]byte, 12)},
		rawTensor{"0.bias", "BF16", []int{2}, []byte{0x80, 0x3f, 0x80, 0xbf}},
		rawTensor{"1.weight", "F64", []int{2}, make([]byte, 16)},
		rawTensor{"1.bias", "F32", []int{2}, f32Bytes(1, 2)},
		rawTensor{"1.running_mean", "F32", []int{2}, f32Bytes(3, 4)},
		rawTensor{"1.running_var", "F32", []int{2}, f32Bytes(5, 6)},
		rawTensor{"1.num_batches_tracked", "I64", []int{}, make([]byte, 8)},
	))
	f.Fuzz(func(t *testing.T, raw []byte) {
		net := fuzzNet()
		before := slices.Clone(net.At(0).(*nn.Linear).Weight.Data())
		var err error
		if a := allocated(func() { err = nn.ReadPyTorch(bytes.NewReader(raw), net) }); a > allocBound(len(raw)) {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than the bound of %d", a, len(raw), allocBound(len(raw)))
		}
		if err != nil {
			if !slices.Equal(net.At(0).(*nn.Linear).Weight.Data(), before) {
				t.Fatal("a failed read changed the net")
			}
			return
		}
		var buf bytes.Buffer
		if err := nn.WritePyTorch(&buf, net); err != nil {
			t.Fatal(err)
		}
		again := fuzzNet()
		if err := nn.ReadPyTorch(&buf, again); err != nil {
			t.Fatal(err)
		}
		want, got := nn.StateDict(net), nn.StateDict(again)
		for i := range want {
			for j, v := range want[i].Data() {
				if g := got[i].Data()[j]; g != v && !(g != g && v != v) { // NaN reads back as NaN
					t.Fatalf("%s[%d]: %v, then %v", want[i].Name, j, v, g)
				}
			}
		}
	})
}
