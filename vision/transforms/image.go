package transforms

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// Transpose returns the transform that reorders the axes of an image (Paddle's
// Transpose(order=(2, 0, 1))): output axis i is input axis order[i]; nil means {2, 0, 1}, which
// turns an [H,W,C] image into [C,H,W]. As Paddle does for arrays, an [H,W] image is first given
// a trailing channel axis, [H,W,1]. It panics with an *Error if order is not a permutation of
// 0..2; Apply panics if x has neither rank 2 nor rank 3.
func Transpose(order []int) Transform {
	if order == nil {
		order = []int{2, 0, 1}
	}
	if len(order) != 3 {
		panicf("Transpose", "order %v: want a permutation of 0, 1, 2", order)
	}
	seen := [3]bool{}
	for _, a := range order {
		if a < 0 || a > 2 || seen[a] {
			panicf("Transpose", "order %v: want a permutation of 0, 1, 2", order)
		}
		seen[a] = true
	}
	return &transpose{order: append([]int(nil), order...)}
}

type transpose struct{ order []int }

func (t *transpose) Apply(x *tensor.Tensor) *tensor.Tensor {
	x = x.Detach()
	switch x.Rank() {
	case 2:
		x = x.Reshape(x.Dim(0), x.Dim(1), 1)
	case 3:
	default:
		panicf("Transpose", "want an image [H,W,C] or [H,W], got shape %v", x.Shape())
	}
	return x.Permute(t.order...)
}

func (t *transpose) String() string { return fmt.Sprintf("Transpose(order=%v)", t.order) }

// FromImage returns the pixels of img as a [C,H,W] float32 tensor of 0..255 values: C is 1 for
// a grey image (*image.Gray, *image.Gray16, whose 16-bit values are scaled to 0..255) and 3
// (R, G, B) for every other kind; alpha is dropped, as Paddle's image data sets convert to 'RGB'
// or 'L'. Pixels are read through img.At, colours not premultiplied by alpha.
func FromImage(img image.Image) *tensor.Tensor {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	switch g := img.(type) {
	case *image.Gray:
		out := make([]float32, h*w)
		for y := range h {
			for x := range w {
				out[y*w+x] = float32(g.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
			}
		}
		return tensor.New(out, 1, h, w)
	case *image.Gray16:
		out := make([]float32, h*w)
		for y := range h {
			for x := range w {
				out[y*w+x] = float32(g.Gray16At(b.Min.X+x, b.Min.Y+y).Y) / 257
			}
		}
		return tensor.New(out, 1, h, w)
	}
	out := make([]float32, 3*h*w)
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			out[y*w+x] = float32(c.R)
			out[h*w+y*w+x] = float32(c.G)
			out[2*h*w+y*w+x] = float32(c.B)
		}
	}
	return tensor.New(out, 3, h, w)
}

// ImageToTensor returns img as a [C,H,W] float32 tensor of values in [0, 1]: FromImage divided
// by 255. It is Paddle's ToTensor() (to_tensor) on a PIL image or an HWC uint8 array: HWC
// 8-bit pixels become CHW float32 / 255.
func ImageToTensor(img image.Image) *tensor.Tensor {
	x := FromImage(img)
	d := x.Data()
	for k := range d {
		d[k] /= 255
	}
	return x
}

// ToImage returns a [1,H,W] or [3,H,W] tensor of 0..255 values as an *image.Gray or an
// *image.RGBA (opaque), each value rounded to the nearest integer (halves away from zero) and
// clamped to 0..255 (NaN becomes 0). It panics with an *Error for another shape.
func ToImage(x *tensor.Tensor) image.Image {
	shape := x.Shape()
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) {
		panicf("ToImage", "want an image [1,H,W] or [3,H,W], got shape %v", shape)
	}
	h, w := shape[1], shape[2]
	d := x.Data()
	to8 := func(v float32) uint8 {
		if !(v > 0) {
			return 0
		}
		return uint8(math.Min(math.Round(float64(v)), 255))
	}
	if shape[0] == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for k, v := range d {
			g.Pix[k] = to8(v)
		}
		return g
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for q := range h * w {
		m.Pix[4*q] = to8(d[q])
		m.Pix[4*q+1] = to8(d[h*w+q])
		m.Pix[4*q+2] = to8(d[2*h*w+q])
		m.Pix[4*q+3] = 255
	}
	return m
}

// ApplyImage applies t to an image.Image: ToImage(t.Apply(FromImage(img))). The transform sees
// a [C,H,W] tensor of 0..255 values, so fills are given in 0..255 and colour transforms need
// ColorJitterOptions{Max: 255}. It panics where t panics, or if t's result is not a [1,H,W] or
// [3,H,W] image.
func ApplyImage(t Transform, img image.Image) image.Image {
	return ToImage(t.Apply(FromImage(img)))
}

// ApplyImageRandom is ApplyImage drawing from rng: ToImage(ApplyRandom(t, FromImage(img), rng)).
func ApplyImageRandom(t Transform, img image.Image, rng *rand.Rand) image.Image {
	return ToImage(ApplyRandom(t, FromImage(img), rng))
}
