package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// The luma weights of Grayscale and of the grey images that contrast and saturation blend with:
// ITU-R 601-2, as PIL's convert('L') and OpenCV's RGB2GRAY (Paddle's tensor backend uses
// 0.2989 for red).
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// colorImage views x ([C,H,W] or [N,C,H,W], C 1 or 3) as items of C planes.
type colorImage struct {
	img
	c     int // channels: 1 or 3
	items int // images: N, or 1
}

func colorOf(op string, x *tensor.Tensor) colorImage {
	shape := x.Shape()
	if len(shape) != 3 && len(shape) != 4 {
		panicf(op, "want an image [C,H,W] or [N,C,H,W], got shape %v", shape)
	}
	im := imageOf(op, x)
	c := im.channels()
	if c != 1 && c != 3 {
		panicf(op, "want 1 or 3 channels, got shape %v", shape)
	}
	return colorImage{img: im, c: c, items: im.n / c}
}

// gray returns the luma of item k's pixel q (its only value for 1 channel).
func (ci colorImage) gray(k, q int) float64 {
	hw := ci.h * ci.w
	base := k * ci.c * hw
	if ci.c == 1 {
		return float64(ci.data[base+q])
	}
	return lumaR*float64(ci.data[base+q]) + lumaG*float64(ci.data[base+hw+q]) + lumaB*float64(ci.data[base+2*hw+q])
}

// blend returns clip(f·x + (1−f)·target, 0, max) for every value, target(k, c, q) being the
// value blended with at item k, channel c, pixel q (Paddle's _blend_images).
func (ci colorImage) blend(f, max float64, target func(k, c, q int) float64) *tensor.Tensor {
	out := make([]float32, len(ci.data))
	hw := ci.h * ci.w
	for k := range ci.items {
		for c := range ci.c {
			off := (k*ci.c + c) * hw
			for q := range hw {
				v := f*float64(ci.data[off+q]) + (1-f)*target(k, c, q)
				out[off+q] = float32(math.Min(math.Max(v, 0), max))
			}
		}
	}
	return tensor.New(out, ci.tensor().Shape()...)
}

// AdjustBrightness returns x·factor clipped to [0, max] (Paddle's
// functional.adjust_brightness: a blend with black). x is [C,H,W] or [N,C,H,W] with 1 or 3
// channels; max is the image's white, 1 for Paddle's float tensors (255 for 0..255 values). It
// panics with an *Error if factor is negative or x has another shape.
func AdjustBrightness(x *tensor.Tensor, factor, max float64) *tensor.Tensor {
	if factor < 0 {
		panicf("AdjustBrightness", "negative factor %v", factor)
	}
	return colorOf("AdjustBrightness", x).blend(factor, max, func(int, int, int) float64 { return 0 })
}

// AdjustContrast returns factor·x + (1−factor)·m clipped to [0, max], m being the mean of the
// image's luma (of its values, for 1 channel), each image of a batch its own (Paddle's
// functional.adjust_contrast on tensors). It panics as AdjustBrightness does.
func AdjustContrast(x *tensor.Tensor, factor, max float64) *tensor.Tensor {
	if factor < 0 {
		panicf("AdjustContrast", "negative factor %v", factor)
	}
	ci := colorOf("AdjustContrast", x)
	hw := ci.h * ci.w
	means := make([]float64, ci.items)
	for k := range ci.items {
		s := 0.0
		for q := range hw {
			s += ci.gray(k, q)
		}
		means[k] = s / float64(hw)
	}
	return ci.blend(factor, max, func(k, _, _ int) float64 { return means[k] })
}

// AdjustSaturation returns factor·x + (1−factor)·gray(x) clipped to [0, max], gray being each
// pixel's luma (Paddle's functional.adjust_saturation on tensors); a 1-channel image is
// returned unchanged (copied). It panics as AdjustBrightness does.
func AdjustSaturation(x *tensor.Tensor, factor, max float64) *tensor.Tensor {
	if factor < 0 {
		panicf("AdjustSaturation", "negative factor %v", factor)
	}
	ci := colorOf("AdjustSaturation", x)
	if ci.c == 1 {
		return ci.clone().tensor()
	}
	return ci.blend(factor, max, func(k, _, q int) float64 { return ci.gray(k, q) })
}

// AdjustHue shifts the hue of an RGB image by factor turns, factor in [-0.5, 0.5] (Paddle's
// functional.adjust_hue on tensors): each pixel goes to HSV (Pillow's formulas, as Paddle's
// _rgb_to_hsv, on the values divided by max), its hue h becomes h+factor modulo 1, and it comes
// back to RGB, times max. A 1-channel image is returned unchanged (copied). It panics with an
// *Error if factor is outside [-0.5, 0.5] or x is not [C,H,W] or [N,C,H,W] with 1 or 3 channels.
func AdjustHue(x *tensor.Tensor, factor, max float64) *tensor.Tensor {
	if !(factor >= -0.5 && factor <= 0.5) {
		panicf("AdjustHue", "factor %v outside [-0.5, 0.5]", factor)
	}
	ci := colorOf("AdjustHue", x)
	if ci.c == 1 {
		return ci.clone().tensor()
	}
	out := make([]float32, len(ci.data))
	hw := ci.h * ci.w
	for k := range ci.items {
		off := k * 3 * hw
		for q := range hw {
			r := float64(ci.data[off+q]) / max
			g := float64(ci.data[off+hw+q]) / max
			b := float64(ci.data[off+2*hw+q]) / max
			h, s, v := rgbToHSV(r, g, b)
			h += factor
			h -= math.Floor(h)
			r, g, b = hsvToRGB(h, s, v)
			out[off+q], out[off+hw+q], out[off+2*hw+q] = float32(r*max), float32(g*max), float32(b*max)
		}
	}
	return tensor.New(out, ci.tensor().Shape()...)
}

// rgbToHSV is Paddle's _rgb_to_hsv (after Pillow) for one pixel: h in [0, 1).
func rgbToHSV(r, g, b float64) (h, s, v float64) {
	maxc := math.Max(r, math.Max(g, b))
	minc := math.Min(r, math.Min(g, b))
	if maxc == minc {
		return 0, 0, maxc
	}
	d := maxc - minc
	s = d / maxc
	rc, gc, bc := (maxc-r)/d, (maxc-g)/d, (maxc-b)/d
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = rc - bc + 2
	default:
		h = gc - rc + 4
	}
	h = h/6 + 1
	h -= math.Trunc(h)
	return h, s, maxc
}

// hsvToRGB is Paddle's _hsv_to_rgb for one pixel, p, q and t clipped to [0, 1].
func hsvToRGB(h, s, v float64) (r, g, b float64) {
	f := h * 6
	i := math.Floor(f)
	f -= i
	clip := func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
	p := clip(v * (1 - s))
	q := clip(v * (1 - s*f))
	t := clip(v * (1 - s*(1-f)))
	switch ((int(i) % 6) + 6) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

// ColorJitterOptions are ColorJitter's (and the single adjustments') optional settings.
type ColorJitterOptions struct {
	// Max is the value of white, the upper bound results are clipped to: 0 means 1, as Paddle's
	// float tensors (values in [0, 1], e.g. after ToTensor); use 255 for 0..255 values (raw
	// MNIST pixels, or images through ApplyImage).
	Max float64
}

// jitter is one of ColorJitter's adjustments: a factor drawn uniformly in [lo, hi] (or nothing
// drawn, and the image kept, when the range is nil) then adjust.
type jitter struct {
	name   string
	rng    *[2]float64
	max    float64
	adjust func(x *tensor.Tensor, factor, max float64) *tensor.Tensor
}

func (j *jitter) Apply(x *tensor.Tensor) *tensor.Tensor { return j.ApplyRandom(x, shared) }

func (j *jitter) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	if j.rng == nil {
		colorOf(j.name, x)
		return x.Detach().Clone()
	}
	return j.adjust(x, randUniform(rng, j.rng[0], j.rng[1]), j.max)
}

func (j *jitter) String() string {
	if j.rng == nil {
		return j.name + "(identity)"
	}
	return fmt.Sprintf("%s(%v)", j.name, *j.rng)
}

// jitterRange is Paddle's _check_input for a single value: [max(0, 1−v), 1+v] (or [−v, v]
// for hue), nil when it is the identity.
func jitterRange(op string, v float64, hue bool) *[2]float64 {
	if v < 0 || math.IsNaN(v) {
		panicf(op, "value %v must be non-negative", v)
	}
	if hue {
		if v > 0.5 {
			panicf(op, "hue %v outside [0, 0.5]", v)
		}
		if v == 0 {
			return nil
		}
		return &[2]float64{-v, v}
	}
	if v == 0 {
		return nil
	}
	return &[2]float64{math.Max(1-v, 0), 1 + v}
}

func maxOf(o ColorJitterOptions) float64 {
	if o.Max == 0 {
		return 1
	}
	if o.Max < 0 {
		panicf("ColorJitter", "negative Max %v", o.Max)
	}
	return o.Max
}

// BrightnessTransform returns the transform that scales the brightness by a factor drawn
// uniformly from [max(0, 1−value), 1+value] (Paddle's BrightnessTransform(value)); value 0 is
// the identity and draws nothing. See AdjustBrightness and ColorJitterOptions.Max. It panics
// with an *Error if value is negative.
func BrightnessTransform(value float64, opts ...ColorJitterOptions) Random {
	o := oneOptions("BrightnessTransform", opts)
	return &jitter{name: "BrightnessTransform", rng: jitterRange("BrightnessTransform", value, false), max: maxOf(o), adjust: AdjustBrightness}
}

// ContrastTransform is BrightnessTransform for contrast (Paddle's ContrastTransform(value)); see
// AdjustContrast.
func ContrastTransform(value float64, opts ...ColorJitterOptions) Random {
	o := oneOptions("ContrastTransform", opts)
	return &jitter{name: "ContrastTransform", rng: jitterRange("ContrastTransform", value, false), max: maxOf(o), adjust: AdjustContrast}
}

// SaturationTransform is BrightnessTransform for saturation (Paddle's
// SaturationTransform(value)); see AdjustSaturation.
func SaturationTransform(value float64, opts ...ColorJitterOptions) Random {
	o := oneOptions("SaturationTransform", opts)
	return &jitter{name: "SaturationTransform", rng: jitterRange("SaturationTransform", value, false), max: maxOf(o), adjust: AdjustSaturation}
}

// HueTransform returns the transform that shifts the hue by a factor drawn uniformly from
// [−value, value], value in [0, 0.5] (Paddle's HueTransform(value)); see AdjustHue. It panics
// with an *Error if value is outside [0, 0.5].
func HueTransform(value float64, opts ...ColorJitterOptions) Random {
	o := oneOptions("HueTransform", opts)
	return &jitter{name: "HueTransform", rng: jitterRange("HueTransform", value, true), max: maxOf(o), adjust: AdjustHue}
}

// ColorJitter returns the transform that changes brightness, contrast, saturation and hue by
// random factors (Paddle's ColorJitter(brightness=0, contrast=0, saturation=0, hue=0)). As
// Paddle does, it puts the four adjustments in a random order (a Fisher–Yates shuffle, as
// Python's random.shuffle: for i from 3 down to 1, swap i with a uniform j in [0, i]), then
// applies each in turn, each drawing its factor uniformly when it is applied: brightness from
// [max(0, 1−b), 1+b], contrast and saturation likewise, hue from [−h, h]. An adjustment of 0 is
// the identity and draws nothing.
//
// The formulas are those of Paddle's tensor backend (see AdjustBrightness, AdjustContrast,
// AdjustSaturation, AdjustHue; checked against torchvision 0.14's, which are the same), results
// clipped to [0, opts.Max] (1 by default, for [0, 1] images), except that the grey image of
// contrast and saturation weighs red 0.299 (PIL, cv2) rather than 0.2989: results differ by at
// most 1e-4·|1−factor|·Max. Paddle's cv2 backend differs more (contrast about a fixed 74,
// saturation drawing a second factor) and is not followed. x is [C,H,W] or [N,C,H,W] with 1 or 3 channels (saturation and hue leave 1 channel
// unchanged). It panics with an *Error if a value is negative or hue exceeds 0.5.
func ColorJitter(brightness, contrast, saturation, hue float64, opts ...ColorJitterOptions) Random {
	o := oneOptions("ColorJitter", opts)
	return &colorJitter{ts: [4]*jitter{
		BrightnessTransform(brightness, o).(*jitter),
		ContrastTransform(contrast, o).(*jitter),
		SaturationTransform(saturation, o).(*jitter),
		HueTransform(hue, o).(*jitter),
	}}
}

type colorJitter struct{ ts [4]*jitter }

func (c *colorJitter) Apply(x *tensor.Tensor) *tensor.Tensor { return c.ApplyRandom(x, shared) }

func (c *colorJitter) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	colorOf("ColorJitter", x)
	order := c.ts
	for i := len(order) - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	for _, t := range order {
		x = t.ApplyRandom(x, rng)
	}
	return x
}

func (c *colorJitter) String() string {
	return fmt.Sprintf("ColorJitter(%v, %v, %v, %v)", c.ts[0], c.ts[1], c.ts[2], c.ts[3])
}

// Grayscale returns the transform that turns an RGB image into its luma
// 0.299·R + 0.587·G + 0.114·B (Paddle's Grayscale(num_output_channels=1), with the ITU-R 601-2
// weights of its PIL and cv2 backends; its tensor backend uses 0.2989 for red), repeated on
// numOutputChannels channels (1 or 3). A 1-channel image is its own luma. x is [C,H,W] or
// [N,C,H,W] with 1 or 3 channels. It panics with an *Error if numOutputChannels is neither 1 nor
// 3.
func Grayscale(numOutputChannels int) Transform {
	if numOutputChannels != 1 && numOutputChannels != 3 {
		panicf("Grayscale", "num_output_channels %d: want 1 or 3", numOutputChannels)
	}
	return grayscale(numOutputChannels)
}

type grayscale int

func (g grayscale) Apply(x *tensor.Tensor) *tensor.Tensor {
	ci := colorOf("Grayscale", x)
	n := int(g)
	hw := ci.h * ci.w
	out := make([]float32, ci.items*n*hw)
	for k := range ci.items {
		for q := range hw {
			v := float32(ci.gray(k, q))
			for c := range n {
				out[(k*n+c)*hw+q] = v
			}
		}
	}
	shape := ci.tensor().Shape()
	shape[len(shape)-3] = n
	return tensor.New(out, shape...)
}

func (g grayscale) String() string { return fmt.Sprintf("Grayscale(num_output_channels=%d)", int(g)) }
