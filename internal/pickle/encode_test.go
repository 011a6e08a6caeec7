package pickle

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	for _, proto := range []int{2, 3, 4} {
		var b bytes.Buffer
		if err := Encode(&b, want(), proto); err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		v, err := Decode(b.Bytes())
		if err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		w := want()
		// bytearray decodes as bytes; Encode writes []byte as bytes, so the values are equal.
		if s := diff("value", v, w); s != "" {
			t.Errorf("protocol %d: %s", proto, s)
		}
	}
	var b bytes.Buffer
	if err := Encode(&b, nil, 5); err == nil {
		t.Error("protocol 5: no error")
	}
	l := &List{}
	l.Items = append(l.Items, l)
	if err := Encode(&b, l, 4); err == nil || !strings.Contains(err.Error(), "holds itself") {
		t.Errorf("a cyclic list: %v", err)
	}
}

// python returns /usr/bin/python3 with numpy, or skips the test if OAR_SKIP_EXTERNAL=1; without
// it the test fails.
func python(t *testing.T) string {
	t.Helper()
	if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
		t.Skip("OAR_SKIP_EXTERNAL=1: not running Python")
	}
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Fatalf("%s with numpy is needed (OAR_SKIP_EXTERNAL=1 skips this test): %v\n%s", py, err, out)
	}
	return py
}

// TestEncodeByPython has Python's pickle.load read what Encode wrote and compare it with
// make_pickles.py's value(): types, dtypes, shapes, memory order and every bit of the arrays.
func TestEncodeByPython(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	for _, proto := range []int{2, 3, 4} {
		name := filepath.Join(dir, fmt.Sprintf("go_p%d.pkl", proto))
		var b bytes.Buffer
		if err := Encode(&b, want(), proto); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `
import pickle, sys, numpy as np
sys.path.insert(0, "testdata")
import make_pickles
want = make_pickles.value()
want["shared"] = want["f4"]
want["bytearray"] = bytes(want["bytearray"])  # Encode writes bytes
got = pickle.load(open(sys.argv[1], "rb"))
def same(a, b, path):
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        # NumPy itself unpickles a big-endian array as a native one with the same values.
        le = lambda x: np.asarray(x).astype(x.dtype.newbyteorder("<"))
        assert (a.dtype.kind, a.dtype.itemsize, a.shape) == (b.dtype.kind, b.dtype.itemsize, b.shape), (path, a.dtype, b.dtype, a.shape, b.shape)
        assert le(a).tobytes(order="A") == le(b).tobytes(order="A"), path
        if isinstance(a, np.ndarray):
            assert a.flags.f_contiguous == b.flags.f_contiguous, path
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), (path, list(a), list(b))
        for k in a:
            same(a[k], b[k], path + "." + str(k))
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, path + "[%d]" % i)
    elif isinstance(a, float):
        assert a.hex() == b.hex(), (path, a, b)
    else:
        assert a == b, (path, a, b)
same(got, want, "value")
print("ok")
`
		out, err := exec.Command(py, "-c", script, name).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("protocol %d: Python: %v\n%s", proto, err, out)
		}
	}
}
