package nn

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oarlab/oar/tensor"
)

const paddleDir = "testdata/paddle"

// paddleLeNet is make_fixtures.py's LeNet-shaped network.
func paddleLeNet() *Sequential {
	return NewSequentialNamed(
		Named{"features", NewSequential(NewConv2D(1, 2, 3, Conv2DOptions{Padding: []int{1}}), NewReLU(), NewMaxPool2D(2, 2),
			NewConv2D(2, 4, 5), NewReLU(), NewMaxPool2D(2, 2))},
		Named{"fc", NewSequential(NewLinear(100, 12), NewLinear(12, 8), NewLinear(8, 10))},
	)
}

// paddleNames are the Paddle parameter names make_fixtures.py's name table holds.
var paddleNames = map[string]string{
	"features.0.weight": "conv2d_0.w_0", "features.0.bias": "conv2d_0.b_0",
	"features.3.weight": "conv2d_1.w_0", "features.3.bias": "conv2d_1.b_0",
	"fc.0.weight": "linear_0.w_0", "fc.0.bias": "linear_0.b_0",
	"fc.1.weight": "linear_1.w_0", "fc.1.bias": "linear_1.b_0",
	"fc.2.weight": "linear_2.w_0", "fc.2.bias": "linear_2.b_0",
}

// fixtureValue is make_fixtures.py's value(k, shape): ((i·37 + k·11) mod 97 − 48)/64.
func fixtureValue(k, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((i*37+k*11)%97-48) / 64
	}
	return v
}

// setFixtureValues fills l's state dict, in order, with fixtureValue.
func setFixtureValues(l Layer) {
	for k, p := range StateDict(l) {
		copy(p.Data(), fixtureValue(k, p.Len()))
	}
}

func checkFixtureValues(t *testing.T, what string, l Layer) {
	t.Helper()
	for k, p := range StateDict(l) {
		if !slices.Equal(p.Data(), fixtureValue(k, p.Len())) {
			t.Errorf("%s: %s differs from the fixture's values", what, p.Name)
		}
	}
}

func TestLoadPaddleFixtures(t *testing.T) {
	for _, name := range []string{"lenet_p4", "lenet_p2", "lenet_p2_split", "lenet_f16_f64"} {
		net := paddleLeNet()
		if err := LoadPaddle(filepath.Join(paddleDir, name+".pdparams"), net); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkFixtureValues(t, name, net)

		f, err := os.Open(filepath.Join(paddleDir, name+".pdparams"))
		if err != nil {
			t.Fatal(err)
		}
		sd, names, extra, err := ReadPaddleState(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(sd) != 10 || len(extra) != 0 {
			t.Errorf("%s: %d tensors and %d other entries, want 10 and 0", name, len(sd), len(extra))
		}
		if len(names) != len(paddleNames) {
			t.Errorf("%s: name table %v", name, names)
		}
		for k, v := range paddleNames {
			if names[k] != v {
				t.Errorf("%s: name of %s is %q, want %q", name, k, names[k], v)
			}
		}
	}
}

func TestPaddleRoundTrip(t *testing.T) {
	defer func(old int) { paddleSliceBytes = old }(paddleSliceBytes)
	for _, c := range []struct {
		proto, slice int
	}{{0, 1<<30 - 1}, {4, 1<<30 - 1}, {3, 1<<30 - 1}, {2, 1<<30 - 1}, {2, 4*64 + 3}, {3, 4 * 7}} {
		paddleSliceBytes = c.slice
		src := paddleLeNet()
		setFixtureValues(src)
		var b bytes.Buffer
		if err := WritePaddle(&b, src, PaddleOptions{Protocol: c.proto}); err != nil {
			t.Fatal(err)
		}
		split := bytes.Contains(b.Bytes(), []byte(paddleUnpackInfo))
		if split != (c.slice < 1<<30-1) {
			t.Errorf("protocol %d, slices of %d bytes: split %v", c.proto, c.slice, split)
		}
		dst := paddleLeNet()
		if err := ReadPaddle(bytes.NewReader(b.Bytes()), dst); err != nil {
			t.Fatalf("protocol %d: %v", c.proto, err)
		}
		checkFixtureValues(t, "round trip", dst)
	}
	// A BatchNorm2D's running statistics are buffers "_mean" and "_variance", as in Paddle.
	bn := NewSequential(NewConv2D(1, 3, 1), NewBatchNorm2D(3))
	setFixtureValues(bn)
	path := filepath.Join(t.TempDir(), "bn.pdparams")
	if err := SavePaddle(path, bn); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	sd, _, _, err := ReadPaddleState(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range sd {
		keys = append(keys, p.Name)
	}
	if want := []string{"0.weight", "0.bias", "1.weight", "1.bias", "1._mean", "1._variance"}; !slices.Equal(keys, want) {
		t.Errorf("BatchNorm keys %v, want %v", keys, want)
	}
	bn2 := NewSequential(NewConv2D(1, 3, 1), NewBatchNorm2D(3))
	if err := LoadPaddle(path, bn2); err != nil {
		t.Fatal(err)
	}
	checkFixtureValues(t, "BatchNorm", bn2)
}

// TestSavePaddleByPython has make_fixtures.py check, as paddle.load reads it (pickle and numpy:
// _pack_loaded_dict included), what SavePaddle wrote at each protocol and with arrays split:
// every array bit for bit and the name table. It runs /usr/bin/python3 with numpy and fails
// without it unless OAR_SKIP_EXTERNAL=1.
func TestSavePaddleByPython(t *testing.T) {
	if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
		t.Skip("OAR_SKIP_EXTERNAL=1: not running Python")
	}
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Fatalf("%s with numpy is needed (OAR_SKIP_EXTERNAL=1 skips this test): %v\n%s", python, err, out)
	}
	defer func(old int) { paddleSliceBytes = old }(paddleSliceBytes)
	dir := t.TempDir()
	net := paddleLeNet()
	setFixtureValues(net)
	for _, c := range []struct {
		name         string
		proto, slice int
	}{{"p4", 4, 1<<30 - 1}, {"p3", 3, 1<<30 - 1}, {"p2", 2, 1<<30 - 1}, {"p2_split", 2, 4*64 + 3}} {
		paddleSliceBytes = c.slice
		path := filepath.Join(dir, c.name+".pdparams")
		if err := SavePaddle(path, net, PaddleOptions{Protocol: c.proto}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(python, "make_fixtures.py", "check", path)
		cmd.Dir = paddleDir
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("%s: Python: %v\n%s", c.name, err, out)
		}
	}
	// With Paddle's names given, the table holds them.
	path := filepath.Join(dir, "names.pdparams")
	if err := SavePaddle(path, net, PaddleOptions{Names: paddleNames}); err != nil {
		t.Fatal(err)
	}
	script := `import sys, make_fixtures as m
names = {k: n for k, n, _ in m.LENET}
m.check(sys.argv[1], names)`
	cmd := exec.Command(python, "-c", script, path)
	cmd.Dir = paddleDir
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("names: Python: %v\n%s", err, out)
	}
}

func TestLoadPaddleErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(paddleDir, "lenet_p4.pdparams"))
	if err != nil {
		t.Fatal(err)
	}
	net := paddleLeNet()
	setFixtureValues(net)
	before := StateDict(net)[0].Tensor.Clone()

	// The wrong network: missing, unexpected and mis-shaped keys, all named; net unchanged.
	other := NewSequentialNamed(Named{"fc", NewSequential(NewLinear(100, 12), NewLinear(12, 9))})
	err = ReadPaddle(bytes.NewReader(good), other)
	for _, want := range []string{`unexpected key "features.0.weight"`, `key "fc.1.weight": shape [12 8]`, `unexpected key "fc.2.bias"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("wrong network: %v, want %q", err, want)
		}
	}
	// Truncated and hostile files are errors, not panics.
	for i := 0; i < len(good); i += 97 {
		if err := ReadPaddle(bytes.NewReader(good[:i]), net); err == nil {
			t.Fatalf("truncated at %d: no error", i)
		}
	}
	evil := []byte("\x80\x02}q\x00X\x01\x00\x00\x00xcos\nsystem\nX\x04\x00\x00\x00trueq\x01\x85R\x73.")
	if err := ReadPaddle(bytes.NewReader(evil), net); err == nil || !strings.Contains(err.Error(), "os.system is not allowed") {
		t.Errorf("a pickle calling os.system: %v", err)
	}
	if !slices.Equal(StateDict(net)[0].Data(), before.Data()) {
		t.Error("a failed read changed the network")
	}
	// An entry that is not an array.
	var b bytes.Buffer
	sd := StateDict(net)
	if err := WritePaddleState(&b, sd, map[string]any{"epoch": 3}); err != nil {
		t.Fatal(err)
	}
	if err := ReadPaddle(bytes.NewReader(b.Bytes()), net); err == nil || !strings.Contains(err.Error(), "not arrays: epoch") {
		t.Errorf("an int entry: %v", err)
	}
	if err := LoadPaddle(filepath.Join(t.TempDir(), "none.pdparams"), net); err == nil || !strings.Contains(err.Error(), "none.pdparams") {
		t.Errorf("a missing file: %v", err)
	}
	if err := WritePaddle(&b, net, PaddleOptions{Protocol: 5}); err == nil {
		t.Error("protocol 5: no error")
	}
}

func TestPaddleStateExtras(t *testing.T) {
	var b bytes.Buffer
	w := tensor.New([]float32{1, 2, 3}, 3)
	extra := map[string]any{
		"LR_Scheduler":   map[string]any{"last_epoch": 3, "last_lr": 0.5},
		"flag":           true,
		"list":           []any{int64(1), "a", nil},
		"master_weights": map[string]any{"w": tensor.New([]float32{4}, 1)},
	}
	if err := WritePaddleState(&b, []Param{{Name: "w_moment1_0", Tensor: w}}, extra); err != nil {
		t.Fatal(err)
	}
	sd, names, got, err := ReadPaddleState(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd) != 1 || sd[0].Name != "w_moment1_0" || !slices.Equal(sd[0].Data(), w.Data()) || names["w_moment1_0"] != "w_moment1_0" {
		t.Errorf("tensors %v names %v", sd, names)
	}
	lr := got["LR_Scheduler"].(map[string]any)
	if lr["last_epoch"] != int64(3) || lr["last_lr"] != 0.5 || got["flag"] != true {
		t.Errorf("extras %v", got)
	}
	if l := got["list"].([]any); len(l) != 3 || l[0] != int64(1) || l[1] != "a" || l[2] != nil {
		t.Errorf("list %v", l)
	}
	if tt := got["master_weights"].(map[string]any)["w"].(*tensor.Tensor); !slices.Equal(tt.Data(), []float32{4}) {
		t.Errorf("tensor extra %v", tt)
	}
	if err := WritePaddleState(&b, []Param{{Name: "a", Tensor: w}}, map[string]any{"a": 1}); err == nil {
		t.Error("an extra key that is a tensor's: no error")
	}
}

// FuzzReadPaddle: ReadPaddleState and ReadPaddle never panic on arbitrary bytes.
func FuzzReadPaddle(f *testing.F) {
	for _, name := range []string{"lenet_p4", "lenet_p2_split", "lenet_f16_f64"} {
		b, err := os.ReadFile(filepath.Join(paddleDir, name+".pdparams"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Reading is linear in the input: far beyond a second is a hang, which crashes the
		// worker so that the fuzzer records the input.
		hang := time.AfterFunc(20*time.Second, func() { panic("nn: ReadPaddle hangs") })
		defer hang.Stop()
		ReadPaddleState(bytes.NewReader(data))
		ReadPaddle(bytes.NewReader(data), paddleLeNet())
	})
}
