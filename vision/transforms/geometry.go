package transforms

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

// img is a tensor seen as n planes of h×w values (the planes of every channel and batch item),
// row-major: the view the geometric transforms work on. lead is the shape before [H, W].
type img struct {
	lead    []int
	n, h, w int
	data    []float32
}

// imageOf views x, of rank 2 ([H,W]), 3 ([C,H,W]) or 4 ([N,C,H,W]), as planes. It panics with
// an *Error naming op for another rank or an empty plane.
func imageOf(op string, x *tensor.Tensor) img {
	shape := x.Shape()
	if len(shape) < 2 || len(shape) > 4 {
		panicf(op, "want an image [H,W], [C,H,W] or [N,C,H,W], got shape %v", shape)
	}
	r := len(shape)
	im := img{lead: shape[:r-2], h: shape[r-2], w: shape[r-1], data: x.Data(), n: 1}
	for _, d := range im.lead {
		im.n *= d
	}
	if im.h == 0 || im.w == 0 {
		panicf(op, "empty image of shape %v", shape)
	}
	return im
}

// channels returns the channel count: the dimension before H, or 1 for [H,W].
func (im img) channels() int {
	if len(im.lead) == 0 {
		return 1
	}
	return im.lead[len(im.lead)-1]
}

// channel returns the channel of plane p.
func (im img) channel(p int) int { return p % im.channels() }

func (im img) tensor() *tensor.Tensor {
	return tensor.New(im.data, append(append([]int(nil), im.lead...), im.h, im.w)...)
}

func (im img) like(h, w int) img {
	return img{lead: im.lead, n: im.n, h: h, w: w, data: make([]float32, im.n*h*w)}
}

func (im img) clone() img {
	out := im
	out.data = append([]float32(nil), im.data...)
	return out
}

// crop returns rows top..top+h-1 and columns left..left+w-1. It panics if the box leaves the
// image.
func (im img) crop(op string, top, left, h, w int) img {
	if top < 0 || left < 0 || h <= 0 || w <= 0 || top+h > im.h || left+w > im.w {
		panicf(op, "crop box top=%d left=%d height=%d width=%d outside the %dx%d image", top, left, h, w, im.h, im.w)
	}
	out := im.like(h, w)
	for p := range im.n {
		for y := range h {
			src := im.data[p*im.h*im.w+(top+y)*im.w+left:]
			copy(out.data[p*h*w+y*w:p*h*w+(y+1)*w], src[:w])
		}
	}
	return out
}

func (im img) hflip() img {
	out := im.like(im.h, im.w)
	for r := range im.n * im.h {
		src, dst := im.data[r*im.w:(r+1)*im.w], out.data[r*im.w:(r+1)*im.w]
		for x := range im.w {
			dst[x] = src[im.w-1-x]
		}
	}
	return out
}

func (im img) vflip() img {
	out := im.like(im.h, im.w)
	for p := range im.n {
		for y := range im.h {
			copy(out.data[(p*im.h+y)*im.w:(p*im.h+y+1)*im.w], im.data[(p*im.h+im.h-1-y)*im.w:(p*im.h+im.h-y)*im.w])
		}
	}
	return out
}

// A PaddingMode says how Pad (and RandomCrop's padding) fills the new border, as Paddle's
// padding_mode.
type PaddingMode string

const (
	// PadConstant fills with the Fill value (the default).
	PadConstant PaddingMode = "constant"
	// PadEdge repeats the edge pixel: [1 2 3 4] padded by 2 is [1 1 1 2 3 4 4 4].
	PadEdge PaddingMode = "edge"
	// PadReflect mirrors without repeating the edge: [1 2 3 4] padded by 2 is
	// [3 2 1 2 3 4 3 2].
	PadReflect PaddingMode = "reflect"
	// PadSymmetric mirrors repeating the edge: [1 2 3 4] padded by 2 is [2 1 1 2 3 4 4 3].
	PadSymmetric PaddingMode = "symmetric"
)

func checkMode(op string, m PaddingMode) PaddingMode {
	switch m {
	case "":
		return PadConstant
	case PadConstant, PadEdge, PadReflect, PadSymmetric:
		return m
	}
	panicf(op, "unknown padding mode %q (want constant, edge, reflect or symmetric)", string(m))
	return ""
}

// source maps a coordinate i of the padded axis, relative to the original n values (so i may be
// negative or ≥ n), to the original coordinate it copies; -1 means the fill value. Reflection
// repeats periodically, as numpy.pad does, so a border wider than the image is allowed.
func source(i, n int, mode PaddingMode) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case PadEdge:
		return min(max(i, 0), n-1)
	case PadReflect:
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - i
		}
		return i
	case PadSymmetric:
		period := 2 * n
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - 1 - i
		}
		return i
	}
	return -1
}

// pad adds left, top, right and bottom borders filled as mode says; fill holds 1 value or one
// per channel (nil means 0).
func (im img) pad(op string, left, top, right, bottom int, fill []float32, mode PaddingMode) img {
	if left < 0 || top < 0 || right < 0 || bottom < 0 {
		panicf(op, "negative padding %v", []int{left, top, right, bottom})
	}
	if len(fill) > 1 && len(fill) != im.channels() {
		panicf(op, "%d fill values for %d channels", len(fill), im.channels())
	}
	h, w := im.h+top+bottom, im.w+left+right
	out := im.like(h, w)
	xs := make([]int, w)
	for x := range w {
		xs[x] = source(x-left, im.w, mode)
	}
	for p := range im.n {
		f := float32(0)
		if len(fill) == 1 {
			f = fill[0]
		} else if len(fill) > 1 {
			f = fill[im.channel(p)]
		}
		for y := range h {
			dst := out.data[(p*h+y)*w : (p*h+y+1)*w]
			sy := source(y-top, im.h, mode)
			if sy < 0 {
				for x := range dst {
					dst[x] = f
				}
				continue
			}
			src := im.data[(p*im.h+sy)*im.w : (p*im.h+sy+1)*im.w]
			for x, sx := range xs {
				if sx < 0 {
					dst[x] = f
				} else {
					dst[x] = src[sx]
				}
			}
		}
	}
	return out
}

// sizePair reads a size of 1 value (square) or 2 (height, width), each positive.
func sizePair(op string, size []int) (h, w int) {
	switch len(size) {
	case 1:
		h, w = size[0], size[0]
	case 2:
		h, w = size[0], size[1]
	default:
		panicf(op, "size %v: want 1 value or 2 (height, width)", size)
	}
	if h <= 0 || w <= 0 {
		panicf(op, "size %v is not positive", size)
	}
	return h, w
}

// paddingOf reads Paddle's padding: 1 value (every side), 2 (left/right, top/bottom) or 4 (left,
// top, right, bottom), none negative. It returns left, top, right, bottom.
func paddingOf(op string, p []int) [4]int {
	var out [4]int
	switch len(p) {
	case 1:
		out = [4]int{p[0], p[0], p[0], p[0]}
	case 2:
		out = [4]int{p[0], p[1], p[0], p[1]}
	case 4:
		out = [4]int{p[0], p[1], p[2], p[3]}
	default:
		panicf(op, "padding %v: want 1, 2 or 4 values", p)
	}
	for _, v := range out {
		if v < 0 {
			panicf(op, "negative padding %v", p)
		}
	}
	return out
}

// PadOptions are Pad's optional settings; the zero value is Paddle's defaults (fill 0,
// padding_mode 'constant').
type PadOptions struct {
	// Fill is the constant of PadConstant: 1 value or one per channel; nil means 0.
	Fill []float32
	// PaddingMode is how the border is filled; "" means PadConstant.
	PaddingMode PaddingMode
}

// Pad returns the transform that pads an image on its borders (Paddle's Pad(padding, fill=0,
// padding_mode='constant')). padding is 1 value (every side), 2 (left/right, top/bottom) or 4
// (left, top, right, bottom). PadReflect and PadSymmetric mirror periodically, as numpy.pad (the
// cv2 and PIL backends), so a border may be wider than the image; Paddle's tensor backend
// rejects symmetric and borders not smaller than the image.
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors. It panics with an *Error if padding has the
// wrong number of values or a negative one, or the mode is unknown; Apply panics if Fill has
// neither 1 value nor one per channel.
func Pad(padding []int, opts ...PadOptions) Transform {
	o := oneOptions("Pad", opts)
	return &pad{p: paddingOf("Pad", padding), fill: append([]float32(nil), o.Fill...), mode: checkMode("Pad", o.PaddingMode)}
}

type pad struct {
	p    [4]int
	fill []float32
	mode PaddingMode
}

func (t *pad) Apply(x *tensor.Tensor) *tensor.Tensor {
	return imageOf("Pad", x).pad("Pad", t.p[0], t.p[1], t.p[2], t.p[3], t.fill, t.mode).tensor()
}

func (t *pad) String() string { return fmt.Sprintf("Pad(padding=%v, mode=%s)", t.p, t.mode) }
