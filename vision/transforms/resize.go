package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// An Interpolation says how a resize or a rotation computes an output pixel from the input
// pixels around the point it maps to, as Paddle's interpolation argument.
type Interpolation string

const (
	// InterpolationNearest takes the nearest input pixel.
	InterpolationNearest Interpolation = "nearest"
	// InterpolationBilinear weighs the four input pixels around the point.
	InterpolationBilinear Interpolation = "bilinear"
)

func checkInterp(op string, m, def Interpolation) Interpolation {
	switch m {
	case "":
		return def
	case InterpolationNearest, InterpolationBilinear:
		return m
	}
	panicf(op, "unknown interpolation %q (want nearest or bilinear)", string(m))
	return ""
}

// resizeAxis returns, for each of the out output coordinates of an axis of n input pixels, the
// input pixel i0 and the weight f of pixel i0+1 (1-f for i0), in the half-pixel convention of
// OpenCV's INTER_LINEAR (and of Paddle's interpolate with align_corners=False, align_mode=0):
// the source of output coordinate d is (d+0.5)·n/out − 0.5, clamped to [0, n−1]. For nearest it
// returns floor(d·n/out) with f = 0, as cv2.INTER_NEAREST and Paddle's interpolate.
func resizeAxis(n, out int, mode Interpolation) (i0 []int, f []float64) {
	i0, f = make([]int, out), make([]float64, out)
	scale := float64(n) / float64(out)
	for d := range out {
		if mode == InterpolationNearest {
			i0[d] = min(int(math.Floor(float64(d)*scale)), n-1)
			continue
		}
		s := (float64(d)+0.5)*scale - 0.5
		i := int(math.Floor(s))
		w := s - float64(i)
		if i < 0 {
			i, w = 0, 0
		}
		if i >= n-1 {
			i, w = n-1, 0
		}
		i0[d], f[d] = i, w
	}
	return i0, f
}

// resize returns the image resized to oh×ow.
func (im img) resize(oh, ow int, mode Interpolation) img {
	out := im.like(oh, ow)
	ys, fy := resizeAxis(im.h, oh, mode)
	xs, fx := resizeAxis(im.w, ow, mode)
	for p := range im.n {
		src := im.data[p*im.h*im.w : (p+1)*im.h*im.w]
		dst := out.data[p*oh*ow : (p+1)*oh*ow]
		for y := range oh {
			r0 := src[ys[y]*im.w:]
			r1 := r0
			if fy[y] > 0 {
				r1 = src[(ys[y]+1)*im.w:]
			}
			wy := fy[y]
			for x := range ow {
				x0, wx := xs[x], fx[x]
				x1 := x0
				if wx > 0 {
					x1 = x0 + 1
				}
				top := float64(r0[x0])*(1-wx) + float64(r0[x1])*wx
				bot := float64(r1[x0])*(1-wx) + float64(r1[x1])*wx
				dst[y*ow+x] = float32(top*(1-wy) + bot*wy)
			}
		}
	}
	return out
}

// resizeTarget returns Paddle's output size for size (1 value: the shorter side, the longer one
// scaled and truncated, int(size·long/short); 2 values: height, width) and whether the image
// already has it.
func resizeTarget(h, w int, size []int) (oh, ow int, same bool) {
	if len(size) == 2 {
		return size[0], size[1], size[0] == h && size[1] == w
	}
	s := size[0]
	if (w <= h && w == s) || (h <= w && h == s) {
		return h, w, true
	}
	if w < h {
		return int(float64(s) * float64(h) / float64(w)), s, false
	}
	return s, int(float64(s) * float64(w) / float64(h)), false
}

// ResizeOptions are Resize's optional settings; the zero value is Paddle's default
// (interpolation 'bilinear').
type ResizeOptions struct {
	// Interpolation is InterpolationBilinear (the default, when "") or InterpolationNearest.
	Interpolation Interpolation
}

// Resize returns the transform that resizes an image (Paddle's Resize(size,
// interpolation='bilinear')). size is 1 value, the length the shorter side gets (the longer one
// becomes int(size·long/short), and an image whose shorter side already has it is returned as
// it is), or 2 values, the height and width.
//
// Pixel centres follow OpenCV (Paddle's cv2 backend) and Paddle's tensor backend
// (paddle.nn.functional.interpolate with align_corners=False, align_mode=0), which agree:
// bilinear samples output pixel d at input coordinate (d+0.5)·in/out − 0.5, clamped to the
// image, with no antialiasing; nearest takes input pixel floor(d·in/out). Paddle's default PIL
// backend differs: PIL's nearest rounds (d+0.5)·in/out, and its bilinear filter widens (it
// antialiases) when shrinking. Upscaling bilinear gives the same values as PIL.
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors. It panics with an *Error if size has the
// wrong number of values or one not positive, or the interpolation is unknown.
func Resize(size []int, opts ...ResizeOptions) Transform {
	o := oneOptions("Resize", opts)
	if len(size) == 1 && size[0] <= 0 {
		panicf("Resize", "size %v is not positive", size)
	}
	if len(size) != 1 {
		sizePair("Resize", size)
	}
	return &resize{size: append([]int(nil), size...), mode: checkInterp("Resize", o.Interpolation, InterpolationBilinear)}
}

type resize struct {
	size []int
	mode Interpolation
}

func (r *resize) Apply(x *tensor.Tensor) *tensor.Tensor {
	im := imageOf("Resize", x)
	oh, ow, same := resizeTarget(im.h, im.w, r.size)
	if same {
		return im.clone().tensor()
	}
	if oh <= 0 || ow <= 0 {
		panicf("Resize", "size %v gives an empty %dx%d image from %dx%d", r.size, oh, ow, im.h, im.w)
	}
	return im.resize(oh, ow, r.mode).tensor()
}

func (r *resize) String() string {
	return fmt.Sprintf("Resize(size=%v, interpolation=%s)", r.size, r.mode)
}

// CenterCrop returns the transform that crops the centre of an image (Paddle's
// CenterCrop(size)). size is 1 value (a square) or 2 (height, width). The crop's top is
// round((H−th)/2) and its left round((W−tw)/2), rounding halves to even as Python's round does
// (a 5-row image cropped to 2 rows starts at row 2).
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors. It panics with an *Error if size is not 1
// or 2 positive values; Apply panics if the crop is larger than the image (Paddle's backends
// then return a smaller or shifted image; torchvision pads).
func CenterCrop(size []int) Transform {
	h, w := sizePair("CenterCrop", size)
	return &centerCrop{h: h, w: w}
}

type centerCrop struct{ h, w int }

func (c *centerCrop) Apply(x *tensor.Tensor) *tensor.Tensor {
	im := imageOf("CenterCrop", x)
	if c.h > im.h || c.w > im.w {
		panicf("CenterCrop", "crop %dx%d larger than the image %dx%d (shape %v)", c.h, c.w, im.h, im.w, x.Shape())
	}
	top := int(math.RoundToEven(float64(im.h-c.h) / 2))
	left := int(math.RoundToEven(float64(im.w-c.w) / 2))
	return im.crop("CenterCrop", top, left, c.h, c.w).tensor()
}

func (c *centerCrop) String() string { return fmt.Sprintf("CenterCrop(size=[%d %d])", c.h, c.w) }

// RandomResizedCropOptions are RandomResizedCrop's optional settings; the zero value is Paddle's
// defaults (scale (0.08, 1.0), ratio (3/4, 4/3), interpolation 'bilinear').
type RandomResizedCropOptions struct {
	// Scale is the range of the crop's area as a fraction of the image's; zero means
	// {0.08, 1}.
	Scale [2]float64
	// Ratio is the range of the crop's aspect ratio, width/height; zero means {3/4, 4/3}.
	Ratio [2]float64
	// Interpolation of the resize: InterpolationBilinear (the default, when "") or
	// InterpolationNearest.
	Interpolation Interpolation
}

// RandomResizedCrop returns the transform that crops a random part of an image and resizes it
// to size (Paddle's RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3),
// interpolation='bilinear')); size is 1 value (a square) or 2 (height, width).
//
// The crop is drawn as Paddle does: up to 10 attempts each draw an area fraction uniformly in
// Scale and a log aspect ratio uniformly in [log Ratio[0], log Ratio[1]], giving
// w = round(sqrt(area·ratio)) and h = round(sqrt(area/ratio)) (halves to even, as Python); the
// first that fits (0 < w ≤ W, 0 < h ≤ H) draws its top in [0, H−h] and then its left in
// [0, W−w]. If none fits, the fallback is a centred crop of the whole image clamped to the ratio
// range. The crop is then resized as Resize does.
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors (one crop for the whole batch). It panics
// with an *Error if size is wrong, a range is reversed or not positive, or the interpolation
// is unknown.
func RandomResizedCrop(size []int, opts ...RandomResizedCropOptions) Random {
	o := oneOptions("RandomResizedCrop", opts)
	h, w := sizePair("RandomResizedCrop", size)
	if o.Scale == [2]float64{} {
		o.Scale = [2]float64{0.08, 1}
	}
	if o.Ratio == [2]float64{} {
		o.Ratio = [2]float64{3.0 / 4, 4.0 / 3}
	}
	if !(o.Scale[0] <= o.Scale[1]) || o.Scale[0] < 0 {
		panicf("RandomResizedCrop", "scale %v should be (min, max) with 0 <= min", o.Scale)
	}
	if !(o.Ratio[0] <= o.Ratio[1]) || o.Ratio[0] <= 0 {
		panicf("RandomResizedCrop", "ratio %v should be (min, max) with 0 < min", o.Ratio)
	}
	return &randomResizedCrop{h: h, w: w, scale: o.Scale, ratio: o.Ratio,
		mode: checkInterp("RandomResizedCrop", o.Interpolation, InterpolationBilinear)}
}

type randomResizedCrop struct {
	h, w         int
	scale, ratio [2]float64
	mode         Interpolation
}

// params returns the crop box (top, left, height, width) of a height×width image.
func (r *randomResizedCrop) params(height, width int, rng *rand.Rand) (i, j, h, w int) {
	area := float64(height * width)
	logLo, logHi := math.Log(r.ratio[0]), math.Log(r.ratio[1])
	for range 10 {
		target := randUniform(rng, r.scale[0], r.scale[1]) * area
		aspect := math.Exp(randUniform(rng, logLo, logHi))
		w := int(math.RoundToEven(math.Sqrt(target * aspect)))
		h := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < w && w <= width && 0 < h && h <= height {
			i := randInt(rng, 0, height-h)
			j := randInt(rng, 0, width-w)
			return i, j, h, w
		}
	}
	in := float64(width) / float64(height)
	switch {
	case in < r.ratio[0]:
		w = width
		h = int(math.RoundToEven(float64(w) / r.ratio[0]))
	case in > r.ratio[1]:
		h = height
		w = int(math.RoundToEven(float64(h) * r.ratio[1]))
	default:
		w, h = width, height
	}
	return (height - h) / 2, (width - w) / 2, h, w
}

func (r *randomResizedCrop) Apply(x *tensor.Tensor) *tensor.Tensor { return r.ApplyRandom(x, shared) }

func (r *randomResizedCrop) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	im := imageOf("RandomResizedCrop", x)
	i, j, h, w := r.params(im.h, im.w, rng)
	c := im.crop("RandomResizedCrop", i, j, h, w)
	if h == r.h && w == r.w {
		return c.tensor()
	}
	return c.resize(r.h, r.w, r.mode).tensor()
}

func (r *randomResizedCrop) String() string {
	return fmt.Sprintf("RandomResizedCrop(size=[%d %d], scale=%v, ratio=%v, interpolation=%s)", r.h, r.w, r.scale, r.ratio, r.mode)
}
