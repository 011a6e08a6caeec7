package losses

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// The PyTorch 1.13 fixtures of testdata/losses.json, written by testdata/make_fixtures.py for the
// settings where PyTorch computes what Paddle does (the script says which).

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (f *torchTensor) tensor() *tensor.Tensor {
	if f == nil {
		return nil
	}
	return tensor.New(append([]float32(nil), f.Data...), f.Shape...)
}

type torchCase struct {
	Loss string `json:"loss"`
	Args struct {
		Reduction string  `json:"reduction"`
		Delta     float32 `json:"delta"`
		Margin    float32 `json:"margin"`
		LogTarget bool    `json:"log_target"`
		Axis      int     `json:"axis"`
		Blank     int     `json:"blank"`
		InputLens []int   `json:"input_lengths"`
		LabelLens []int   `json:"label_lengths"`
	} `json:"args"`
	Input, Other, Label, Weight, Out, G *torchTensor
	GradInput                           *torchTensor `json:"grad_input"`
	GradOther                           *torchTensor `json:"grad_other"`
	GradLabel                           *torchTensor `json:"grad_label"`
}

func reductionOf(t *testing.T, s string) Reduction {
	for _, r := range []Reduction{ReduceMean, ReduceSum, ReduceNone, ReduceBatchMean} {
		if r.String() == s {
			return r
		}
	}
	t.Fatalf("unknown reduction %q", s)
	return 0
}

func TestAgainstTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "losses.json"))
	require.NoError(t, err)
	var file struct {
		Torch string      `json:"torch"`
		Cases []torchCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	seen := map[string]int{}
	for i, c := range file.Cases {
		seen[c.Loss]++
		t.Run(c.Loss, func(t *testing.T) {
			in, other, label := c.Input.tensor().SetRequiresGrad(true), c.Other.tensor(), c.Label.tensor()
			if other != nil {
				other.SetRequiresGrad(true)
			}
			if c.GradLabel != nil {
				label.SetRequiresGrad(true)
			}
			var r Reduction
			if c.Args.Reduction != "" {
				r = reductionOf(t, c.Args.Reduction)
			}
			var out *tensor.Tensor
			switch c.Loss {
			case "L1":
				out = L1{Reduction: r}.Forward(in, label)
			case "SmoothL1":
				out = SmoothL1{Delta: c.Args.Delta, Reduction: r}.Forward(in, label)
			case "KLDiv":
				out = KLDiv{Reduction: r, LogTarget: c.Args.LogTarget}.Forward(in, label)
			case "BCE":
				out = BCE{Weight: c.Weight.tensor(), Reduction: r}.Forward(in, label)
			case "MarginRanking":
				out = MarginRanking{Margin: c.Args.Margin, Reduction: r}.Forward(in, other, label)
			case "CosineEmbedding":
				out = CosineEmbedding{Margin: c.Args.Margin, Reduction: r}.Forward(in, other, label)
			case "HingeEmbedding":
				m := c.Args.Margin
				out = HingeEmbedding{Margin: &m, Reduction: r}.Forward(in, label)
			case "CTC":
				out = CTC{Blank: c.Args.Blank, Reduction: r}.Forward(in, label, c.Args.InputLens, c.Args.LabelLens)
			case "CosineSimilarity":
				out = tensor.CosineSimilarity(in, other, c.Args.Axis, 1e-8)
			default:
				t.Fatalf("case %d: unknown loss %q", i, c.Loss)
			}
			tensortest.AllClose(t, out, c.Out.tensor(), 1e-6, 1e-5)
			out.BackwardWith(c.G.tensor())
			tensortest.AllClose(t, in.Grad(), c.GradInput.tensor(), 1e-6, 1e-5)
			if c.GradOther != nil {
				tensortest.AllClose(t, other.Grad(), c.GradOther.tensor(), 1e-6, 1e-5)
			}
			if c.GradLabel != nil {
				tensortest.AllClose(t, label.Grad(), c.GradLabel.tensor(), 1e-6, 1e-5)
			}
		})
	}
	require.Equal(t, map[string]int{"L1": 3, "SmoothL1": 10, "KLDiv": 8, "BCE": 6, "MarginRanking": 6,
		"CosineEmbedding": 6, "HingeEmbedding": 6, "CosineSimilarity": 4, "CTC": 6}, seen, "fixture cases, from %s", file.Torch)
}
