package transforms_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// TestAgainstTorchvision compares rotations and resizes with torchvision 0.14's tensor
// functions, whose geometry Paddle's tensor backend shares (testdata/gen_torchvision.py).
func TestAgainstTorchvision(t *testing.T) {
	raw, err := os.ReadFile("testdata/torchvision.json")
	require.NoError(t, err)
	var cases []struct {
		Op       string
		Shape    []int
		Angle    float64
		Mode     transforms.Interpolation
		Expand   bool
		Center   []float64
		Size     []int
		OutShape []int `json:"out_shape"`
		Out      []float32
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.Equal(t, 60, len(cases))
	rng := rand.New(rand.NewPCG(0, 0))
	worst := 0.0
	for _, c := range cases {
		name := fmt.Sprintf("%s %v angle=%v mode=%s expand=%v center=%v size=%v", c.Op, c.Shape, c.Angle, c.Mode, c.Expand, c.Center, c.Size)
		n := c.Shape[0] * c.Shape[1] * c.Shape[2]
		d := make([]float32, n)
		for k := range d {
			d[k] = float32(k)*1.5 + 1
		}
		x := tensor.New(d, c.Shape...)
		var got *tensor.Tensor
		if c.Op == "rotate" {
			got = transforms.RandomRotation([]float64{c.Angle, c.Angle}, transforms.RandomRotationOptions{
				Interpolation: c.Mode, Expand: c.Expand, Center: c.Center}).ApplyRandom(x, rng)
		} else {
			got = transforms.Resize(c.Size, transforms.ResizeOptions{Interpolation: c.Mode}).Apply(x)
		}
		require.Equal(t, c.OutShape, got.Shape(), name)
		for k, v := range got.Data() {
			diff := math.Abs(float64(v - c.Out[k]))
			worst = max(worst, diff)
			require.InDelta(t, c.Out[k], v, 2e-4, "%s: element %d", name, k)
		}
	}
	t.Logf("max |oar - torchvision| = %g", worst)
}
