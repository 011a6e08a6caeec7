package transforms_test

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

func TestTranspose(t *testing.T) {
	// An HWC image [2,3,2] (pixel (y, x) has channels 10y+x and 100+10y+x) to CHW [2,2,3].
	var d []float32
	for y := range 2 {
		for x := range 3 {
			d = append(d, float32(10*y+x), float32(100+10*y+x))
		}
	}
	hwc := tensor.New(d, 2, 3, 2)
	got := transforms.Transpose(nil).Apply(hwc)
	require.Equal(t, []int{2, 2, 3}, got.Shape())
	require.Equal(t, ramp(2, 2, 3).Data(), got.Data())
	// HW gets a trailing channel: [H,W] → [1,H,W].
	require.Equal(t, []int{1, 2, 3}, transforms.Transpose(nil).Apply(tensor.Zeros(2, 3)).Shape())
	// Another order: back from CHW to HWC.
	require.Equal(t, d, transforms.Transpose([]int{1, 2, 0}).Apply(got).Data())
	require.PanicsWithError(t, "transforms: Transpose: order [0 0 1]: want a permutation of 0, 1, 2", func() { transforms.Transpose([]int{0, 0, 1}) })
	require.PanicsWithError(t, "transforms: Transpose: want an image [H,W,C] or [H,W], got shape [1 2 3 4]", func() { transforms.Transpose(nil).Apply(tensor.Zeros(1, 2, 3, 4)) })
}

func TestImages(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			m.SetNRGBA(x, y, color.NRGBA{R: uint8(10*y + x), G: uint8(100 + 10*y + x), B: uint8(200 + 10*y + x), A: 255})
		}
	}
	x := transforms.FromImage(m)
	require.Equal(t, []int{3, 2, 3}, x.Shape())
	require.Equal(t, []float32{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112, 200, 201, 202, 210, 211, 212}, x.Data())
	// ImageToTensor is Paddle's ToTensor on an HWC uint8 image: CHW / 255.
	tt := transforms.ImageToTensor(m)
	for k, v := range tt.Data() {
		require.Equal(t, x.Data()[k]/255, v)
	}
	// Back to an image, exactly.
	back := transforms.ToImage(x)
	for y := range 2 {
		for xx := range 3 {
			r, g, b, a := back.At(xx, y).RGBA()
			want := m.NRGBAAt(xx, y)
			require.Equal(t, []uint32{uint32(want.R), uint32(want.G), uint32(want.B), 255}, []uint32{r >> 8, g >> 8, b >> 8, a >> 8})
		}
	}
	// Grey images have one channel; ToImage rounds and clamps.
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[0], gray.Pix[1] = 7, 250
	require.Equal(t, []float32{7, 250}, transforms.FromImage(gray).Data())
	gi := transforms.ToImage(tensor.New([]float32{-3, 2.5, 300}, 1, 1, 3)).(*image.Gray)
	require.Equal(t, []uint8{0, 3, 255}, gi.Pix)

	// A transform on an image.Image: a horizontal flip, then a pad.
	flipped := transforms.ApplyImage(transforms.Compose(transforms.RandomHorizontalFlip(1), transforms.Pad([]int{1, 0}, transforms.PadOptions{Fill: []float32{9}})), gray).(*image.Gray)
	require.Equal(t, []uint8{9, 250, 7, 9}, flipped.Pix)
	rng := rand.New(rand.NewPCG(1, 1))
	c := transforms.ApplyImageRandom(transforms.RandomCrop([]int{1, 2}), m, rng)
	require.Equal(t, image.Rect(0, 0, 2, 1), c.Bounds())
	require.PanicsWithError(t, "transforms: ToImage: want an image [1,H,W] or [3,H,W], got shape [2 1 1]", func() { transforms.ToImage(tensor.Zeros(2, 1, 1)) })
}
