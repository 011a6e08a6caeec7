package tensor_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestAdaptivePool2DHandComputed(t *testing.T) {
	// One row of 5 into 2 bins: [0, 3) and [2, 5) (floor(1*5/2) = 2, ceil(5/2) = 3): element 2 is in
	// both.
	x := tensor.New([]float32{1, 2, 9, 4, 5}, 1, 1, 1, 5)
	tensortest.AllClose(t, x.AdaptiveAvgPool2D(1, 2), tensor.New([]float32{4, 6}, 1, 1, 1, 2), 1e-6, 0)
	tensortest.AllClose(t, x.AdaptiveMaxPool2D(1, 2), tensor.New([]float32{9, 9}, 1, 1, 1, 2), 0, 0)
	// 7 into 3: [0, 3), [2, 5), [4, 7).
	x = tensor.New([]float32{1, 2, 3, 4, 5, 6, 7}, 1, 1, 7, 1)
	tensortest.AllClose(t, x.AdaptiveAvgPool2D(3, 1), tensor.New([]float32{2, 4, 6}, 1, 1, 3, 1), 1e-6, 0)
	// 6x6 into (2, 3): 3x2 blocks, which divide.
	data := make([]float32, 36)
	for i := range data {
		data[i] = float32(i)
	}
	x = tensor.New(data, 1, 1, 6, 6)
	tensortest.AllClose(t, x.AdaptiveAvgPool2D(2, 3), tensor.New([]float32{6.5, 8.5, 10.5, 24.5, 26.5, 28.5}, 1, 1, 2, 3), 1e-6, 0)
	out, mask := x.AdaptiveMaxPool2DWithMask(2, 3)
	tensortest.AllClose(t, out, tensor.New([]float32{13, 15, 17, 31, 33, 35}, 1, 1, 2, 3), 0, 0)
	tensortest.AllClose(t, mask, tensor.New([]float32{13, 15, 17, 31, 33, 35}, 1, 1, 2, 3), 0, 0)
	// 0 keeps the axis (Paddle's None); more bins than inputs repeat elements.
	require.Equal(t, []int{1, 1, 6, 2}, x.AdaptiveAvgPool2D(0, 2).Shape())
	y := tensor.New([]float32{1, 3}, 1, 1, 1, 2).AdaptiveAvgPool2D(1, 3) // bins [0,1), [0,2), [1,2)
	tensortest.AllClose(t, y, tensor.New([]float32{1, 2, 3}, 1, 1, 1, 3), 1e-6, 0)
}

func TestAdaptiveMaxPool2DTies(t *testing.T) {
	// Ties go to the first in row-major order; overlapping bins that pick the same element add
	// their gradients into it.
	x := tensor.New([]float32{5, 1, 5, 5, 2}, 1, 1, 1, 5).SetRequiresGrad(true)
	out, mask := x.AdaptiveMaxPool2DWithMask(1, 2) // bins [0,3) and [2,5)
	tensortest.AllClose(t, mask, tensor.New([]float32{0, 2}, 1, 1, 1, 2), 0, 0)
	out.BackwardWith(tensor.New([]float32{1, 10}, 1, 1, 1, 2))
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{1, 0, 10, 0, 0}, 1, 1, 1, 5), 0, 0)
	x = tensor.New([]float32{1, 7, 2}, 1, 1, 1, 3).SetRequiresGrad(true)
	x.AdaptiveMaxPool2D(1, 2).BackwardWith(tensor.New([]float32{1, 10}, 1, 1, 1, 2)) // [0,2), [1,3): both pick 7
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{0, 11, 0}, 1, 1, 1, 3), 0, 0)
}

// adaptiveRef pools with the bin rule written out in float64: avg or max.
func adaptiveRef(x *tensor.Tensor, oh, ow int, avg bool) *tensor.Tensor {
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	y := make([]float32, n*c*oh*ow)
	for p := range n * c {
		for i := range oh {
			h0, h1 := int(math.Floor(float64(i*h)/float64(oh))), int(math.Ceil(float64((i+1)*h)/float64(oh)))
			for j := range ow {
				w0, w1 := int(math.Floor(float64(j*w)/float64(ow))), int(math.Ceil(float64((j+1)*w)/float64(ow)))
				s, m := 0.0, math.Inf(-1)
				for a := h0; a < h1; a++ {
					for b := w0; b < w1; b++ {
						v := float64(x.Data()[(p*h+a)*w+b])
						s += v
						m = math.Max(m, v)
					}
				}
				if avg {
					y[(p*oh+i)*ow+j] = float32(s / float64((h1-h0)*(w1-w0)))
				} else {
					y[(p*oh+i)*ow+j] = float32(m)
				}
			}
		}
	}
	return tensor.New(y, n, c, oh, ow)
}

var adaptiveCases = []struct {
	name   string
	x      []int
	oh, ow int
}{
	{"divides 6x6 to 2x3", []int{2, 2, 6, 6}, 2, 3},
	{"7 to 3", []int{1, 3, 7, 7}, 3, 3},
	{"5 to 2, 7 to 4", []int{2, 1, 5, 7}, 2, 4},
	{"global", []int{2, 3, 4, 5}, 1, 1},
	{"identity", []int{1, 2, 3, 4}, 3, 4},
	{"upsampling 3 to 5", []int{1, 1, 3, 2}, 5, 3},
	{"many planes", []int{40, 30, 5, 6}, 2, 4}, // several ParallelFor chunks
}

func TestAdaptivePool2DReference(t *testing.T) {
	rng := newRNG()
	for _, c := range adaptiveCases {
		t.Run(c.name, func(t *testing.T) {
			x := tensor.Randn(rng, c.x...)
			tensortest.AllClose(t, x.AdaptiveAvgPool2D(c.oh, c.ow), adaptiveRef(x, c.oh, c.ow, true), 1e-5, 1e-5)
			tensortest.AllClose(t, x.AdaptiveMaxPool2D(c.oh, c.ow), adaptiveRef(x, c.oh, c.ow, false), 0, 0)
			out, mask := x.AdaptiveMaxPool2DWithMask(c.oh, c.ow)
			// The mask indexes each plane: gathering x at it gives the output back.
			planes := x.Reshape(c.x[0]*c.x[1], c.x[2]*c.x[3])
			got := planes.TakeAlongAxis(mask.Reshape(c.x[0]*c.x[1], c.oh*c.ow), 1)
			tensortest.AllClose(t, got.Reshape(out.Shape()...), out, 0, 0)
		})
	}
}

func TestAdaptivePool2DGrad(t *testing.T) {
	rng := newRNG()
	for _, c := range adaptiveCases {
		if c.x[0]*c.x[1] > 10 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			// Distinct values far apart, so that no finite-difference step changes a bin's maximum.
			x := tensor.Randn(rng, c.x...)
			perm := rng.Perm(x.Len())
			for i := range x.Data() {
				x.Data()[i] = float32(perm[i]) * 0.1
			}
			tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor { return in[0].AdaptiveAvgPool2D(c.oh, c.ow) },
				[]*tensor.Tensor{tensor.Randn(rng, c.x...)}, tensortest.GradCheckOptions{})
			tensortest.GradCheck(t, func(in ...*tensor.Tensor) *tensor.Tensor { return in[0].AdaptiveMaxPool2D(c.oh, c.ow) },
				[]*tensor.Tensor{x}, tensortest.GradCheckOptions{})
		})
	}
}

func TestAdaptivePool2DPanics(t *testing.T) {
	requirePanic(t, "tensor: AdaptiveAvgPool2D: input [2 3 4] must be 4-D (NCHW)", func() { tensor.Zeros(2, 3, 4).AdaptiveAvgPool2D(1, 1) })
	requirePanic(t, "tensor: AdaptiveMaxPool2D: output size -1x2: want sizes of at least 1 (0 keeps the input's)",
		func() { tensor.Zeros(1, 1, 3, 3).AdaptiveMaxPool2D(-1, 2) })
	requirePanic(t, "tensor: AdaptiveMaxPool2D: input [1 1 0 3] has an empty plane",
		func() { tensor.Zeros(1, 1, 0, 3).AdaptiveMaxPool2DWithMask(1, 2) })
}
