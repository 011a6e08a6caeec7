package optim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// TestAgainstTorch runs Adagrad and Adadelta with the settings of testdata/torch_optim.json
// (written by testdata/make_fixtures.py) on seqGrad and compares every step with PyTorch 1.13's,
// whose updates equal Paddle's kernels' for these two optimizers.
func TestAgainstTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_optim.json"))
	require.NoError(t, err)
	var file struct {
		Cases []struct {
			Name                    string
			LR                      float32 `json:"lr"`
			Rho                     float32 `json:"rho"`
			Epsilon                 float32 `json:"epsilon"`
			InitialAccumulatorValue float32 `json:"initial_accumulator_value"`
			WeightDecay             float32 `json:"weight_decay"`
			Steps                   [][]float32
		}
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.Len(t, file.Cases, 2)
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p := seqParam()
			var o Optimizer
			switch c.Name {
			case "Adagrad":
				a := NewAdagrad([]nn.Param{p}, c.LR)
				a.Epsilon, a.InitialAccumulatorValue, a.WeightDecay = c.Epsilon, c.InitialAccumulatorValue, c.WeightDecay
				o = a
			case "Adadelta":
				a := NewAdadelta([]nn.Param{p}, c.LR)
				a.Rho, a.Epsilon, a.WeightDecay = c.Rho, c.Epsilon, c.WeightDecay
				o = a
			default:
				t.Fatalf("unknown optimizer %q", c.Name)
			}
			got := runSeq(o, p, 20)
			require.Len(t, c.Steps, 20)
			for s, want := range c.Steps {
				for i, w := range want {
					require.InEpsilon(t, w, got[s][i], 1e-5, "step %d element %d", s+1, i)
				}
			}
		})
	}
}
