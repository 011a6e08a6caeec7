package onnx_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
)

// The outside references of the export tests: ONNX Runtime (node, onnxruntime-node pinned in
// testdata/ort/package.json) runs the exported models, and ONNX's own checker (python3 with onnx)
// validates them. A missing tool fails the test, saying how to install it, unless
// OAR_SKIP_EXTERNAL=1, which skips it instead.

// missingTool fails t (or skips it with OAR_SKIP_EXTERNAL=1) because a reference tool is missing.
func missingTool(t *testing.T, what, install string) {
	t.Helper()
	if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
		t.Skipf("OAR_SKIP_EXTERNAL=1 and %s is missing (%s)", what, install)
	}
	t.Fatalf("%s is missing: %s (or set OAR_SKIP_EXTERNAL=1 to skip the tests that need it)", what, install)
}

// ortJob is one model run by testdata/ort/run.js.
type ortJob struct {
	Model  string               `json:"model"`
	Inputs map[string]ortTensor `json:"inputs"`
}

type ortTensor struct {
	Dims []int     `json:"dims"`
	Data []float32 `json:"data"`
}

// runORT runs each model on its input with ONNX Runtime and returns each job's outputs.
func runORT(t *testing.T, jobs []ortJob) []map[string]ortTensor {
	t.Helper()
	const install = "install node, then run `cd onnx/testdata/ort && npm ci --ignore-scripts`"
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node", install)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "ort"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missingTool(t, "onnxruntime-node in onnx/testdata/ort/node_modules", install)
	}
	b, err := json.Marshal(jobs)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "jobs.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, filepath.Join(dir, "run.js"), path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "run.js: %s", stderr.String())
	var results []struct {
		Outputs map[string]ortTensor `json:"outputs"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &results))
	require.Len(t, results, len(jobs))
	out := make([]map[string]ortTensor, len(jobs))
	for i, r := range results {
		out[i] = r.Outputs
	}
	return out
}

// checkModels runs onnx.checker.check_model(model, full_check=True) on each file with Debian's
// python3 (which has onnx 1.12).
func checkModels(t *testing.T, paths ...string) {
	t.Helper()
	const install = "install python3 with the onnx package (Debian: apt-get install python3-onnx)"
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		missingTool(t, python, install)
	}
	if err := exec.Command(python, "-c", "import onnx").Run(); err != nil {
		missingTool(t, "the onnx module of "+python, install)
	}
	const script = `
import sys, onnx
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)
    print("ok", p)
`
	out, err := exec.Command(python, append([]string{"-c", script}, paths...)...).CombinedOutput()
	require.NoError(t, err, "onnx.checker: %s", out)
	require.Equal(t, len(paths), strings.Count(string(out), "ok "), "%s", out)
}

// maxDiff returns max |a - b| and max |a| over the elements of the oar tensor a and ONNX
// Runtime's b, requiring equal shapes.
func maxDiff(t *testing.T, a *tensor.Tensor, b ortTensor) (diff, scale float64) {
	t.Helper()
	require.Equal(t, a.Shape(), b.Dims)
	for i, v := range a.Data() {
		diff = max(diff, abs64(float64(v)-float64(b.Data[i])))
		scale = max(scale, abs64(float64(v)))
	}
	return diff, scale
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
