package nn_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
)

// The PyTorch 1.13 fixtures of testdata/convpool, testdata/normact and testdata/seq are JSON files
// that each folder's make_fixtures.py writes; a tensor in them is {"shape": [...], "data": [...]}.

// fixtureTensor is one tensor of a JSON fixture.
type fixtureTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

// tensor returns a tensor of f's shape holding a copy of its data, or nil if f is nil (a key the
// fixture does not have).
func (f *fixtureTensor) tensor() *tensor.Tensor {
	if f == nil {
		return nil
	}
	return tensor.New(append([]float32(nil), f.Data...), f.Shape...)
}

// readJSONFixture decodes the JSON file testdata/<dir>/<name> into v.
func readJSONFixture(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// readFixtureCases decodes the "cases" list of the JSON file testdata/<dir>/<name> into cases, a
// pointer to a slice, and requires at least one case.
func readFixtureCases(t *testing.T, dir, name string, cases any) {
	t.Helper()
	readJSONFixture(t, dir, name, &struct {
		Cases any `json:"cases"`
	}{cases})
	require.NotEmpty(t, cases, "testdata/%s/%s has no cases", dir, name)
}
