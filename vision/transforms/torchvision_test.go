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

// TestAgainstTorchvision compares rotations, resizes and colour adjustments with torchvision
// 0.14's tensor functions, whose formulas Paddle's tensor backend shares
// (testdata/gen_torchvision.py).
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
		Factor   float64
		In       []float32
		OutShape []int `json:"out_shape"`
		Out      []float32
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.Equal(t, 73, len(cases))
	rng := rand.New(rand.NewPCG(0, 0))
	worst, worstColor := 0.0, 0.0
	for _, c := range cases {
		if c.In != nil { // a colour adjustment
			x := tensor.New(c.In, c.Shape...)
			var got *tensor.Tensor
			switch c.Op {
			case "brightness":
				got = transforms.AdjustBrightness(x, c.Factor, 1)
			case "contrast":
				got = transforms.AdjustContrast(x, c.Factor, 1)
			case "saturation":
				got = transforms.AdjustSaturation(x, c.Factor, 1)
			case "hue":
				got = transforms.AdjustHue(x, c.Factor, 1)
			}
			// oar's grey is 0.299 R where torchvision's (and Paddle's tensor backend's) is
			// 0.2989 R: at most 1e-4·|1 - factor| apart.
			tol := 1e-5 // brightness and hue use no grey
			if c.Op == "contrast" || c.Op == "saturation" {
				tol += 1e-4 * math.Abs(1-c.Factor)
			}
			for k, v := range got.Data() {
				diff := math.Abs(float64(v - c.Out[k]))
				worstColor = max(worstColor, diff)
				require.InDelta(t, c.Out[k], v, tol, "%s %v: element %d", c.Op, c.Factor, k)
			}
			continue
		}
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
	t.Logf("max |oar - torchvision|: geometry %g, colour %g", worst, worstColor)
}
