package transforms

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// rotate returns the image rotated by angle degrees counter-clockwise about center (x, y in
// pixel units, the image spanning [0, W]×[0, H]; nil means the image's centre (W/2, H/2)), with
// fill (1 value or one per channel) where the output maps outside the input.
//
// The geometry is that of Paddle's tensor backend (and PIL's): pixel (x, y) has its centre at
// (x+0.5, y+0.5), so rotating a square image by a multiple of 90° about its centre permutes its
// pixels exactly. The sine and cosine are rounded to 15 decimals, as Paddle's cv2 backend does
// for expand, so that multiples of 90° are exact.
func (im img) rotate(angle float64, mode Interpolation, expand bool, center []float64, fill []float32) img {
	if len(fill) > 1 && len(fill) != im.channels() {
		panicf("RandomRotation", "%d fill values for %d channels", len(fill), im.channels())
	}
	w, h := float64(im.w), float64(im.h)
	cx, cy := w/2, h/2
	if center != nil {
		cx, cy = center[0], center[1]
	}
	// The output-to-input map, as Paddle's: a rotation by -angle about the centre.
	a := -angle * math.Pi / 180
	round15 := func(v float64) float64 { return math.Round(v*1e15) / 1e15 }
	cos, sin := round15(math.Cos(a)), round15(math.Sin(a))
	// In coordinates relative to the image's middle (w/2, h/2), the centre is (rx, ry).
	rx, ry := cx-w/2, cy-h/2
	m := [6]float64{cos, sin, 0, -sin, cos, 0}
	m[2] = m[0]*(-rx) + m[1]*(-ry) + rx
	m[5] = m[3]*(-rx) + m[4]*(-ry) + ry
	ow, oh := im.w, im.h
	if expand {
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range [4][2]float64{{-w / 2, -h / 2}, {-w / 2, h / 2}, {w / 2, h / 2}, {w / 2, -h / 2}} {
			px := m[0]*c[0] + m[1]*c[1] + m[2]
			py := m[3]*c[0] + m[4]*c[1] + m[5]
			minX, maxX = math.Min(minX, px), math.Max(maxX, px)
			minY, maxY = math.Min(minY, py), math.Max(maxY, py)
		}
		// In coordinates where the image spans [0, W]×[0, H], as PIL, cv2 and torchvision.
		ow = int(math.Ceil(maxX+w/2) - math.Floor(minX+w/2))
		oh = int(math.Ceil(maxY+h/2) - math.Floor(minY+h/2))
	}
	out := im.like(oh, ow)
	for p := range im.n {
		f := float32(0)
		if len(fill) == 1 {
			f = fill[0]
		} else if len(fill) > 1 {
			f = fill[im.channel(p)]
		}
		src := im.data[p*im.h*im.w : (p+1)*im.h*im.w]
		at := func(x, y int) float64 {
			if x < 0 || y < 0 || x >= im.w || y >= im.h {
				return float64(f)
			}
			return float64(src[y*im.w+x])
		}
		dst := out.data[p*oh*ow : (p+1)*oh*ow]
		for oy := range oh {
			y := float64(oy) + 0.5 - float64(oh)/2
			for ox := range ow {
				x := float64(ox) + 0.5 - float64(ow)/2
				// The input point, in pixel-index coordinates (centres at integers).
				sx := m[0]*x + m[1]*y + m[2] + w/2 - 0.5
				sy := m[3]*x + m[4]*y + m[5] + h/2 - 0.5
				if mode == InterpolationNearest {
					dst[oy*ow+ox] = float32(at(int(math.RoundToEven(sx)), int(math.RoundToEven(sy))))
					continue
				}
				x0, y0 := math.Floor(sx), math.Floor(sy)
				fx, fy := sx-x0, sy-y0
				ix, iy := int(x0), int(y0)
				v := (at(ix, iy)*(1-fx)+at(ix+1, iy)*fx)*(1-fy) + (at(ix, iy+1)*(1-fx)+at(ix+1, iy+1)*fx)*fy
				dst[oy*ow+ox] = float32(v)
			}
		}
	}
	return out
}

// RandomRotationOptions are RandomRotation's optional settings; the zero value is Paddle's
// defaults (interpolation 'nearest', expand False, center None, fill 0).
type RandomRotationOptions struct {
	// Interpolation is InterpolationNearest (the default, when "") or InterpolationBilinear.
	Interpolation Interpolation
	// Expand makes the output large enough to hold the whole rotated image; otherwise it has the
	// input's size.
	Expand bool
	// Center is the centre of rotation (x, y), in pixels from the top-left corner of the image
	// (which spans [0, W]×[0, H]); nil means the image's centre (W/2, H/2).
	Center []float64
	// Fill is the value of output pixels that map outside the image: 1 value or one per channel;
	// nil means 0.
	Fill []float32
}

// RandomRotation returns the transform that rotates an image counter-clockwise by an angle drawn
// uniformly from degrees (Paddle's RandomRotation(degrees, interpolation='nearest', expand=False,
// center=None, fill=0)): degrees is 1 value d (the range [-d, d]) or 2 (min, max).
//
// The geometry follows Paddle's tensor backend and PIL: pixel (x, y) has its centre at
// (x+0.5, y+0.5), the default centre is (W/2, H/2), so a square image turned by 90° is an exact
// permutation of its pixels; nearest rounds the source point half to even (grid_sample's
// nearbyint). Where bilinear samples straddle the border, the outside neighbours count as Fill,
// as OpenCV's BORDER_CONSTANT (the cv2 backend) — Paddle's tensor backend blends the
// zero-padded sample with Fill by the in-image weight instead, which differs only on the
// border pixels. Paddle's cv2 backend puts the default centre at (W/2, H/2) in pixel-index
// coordinates, half a pixel off; this is not followed. With Expand, the output's size is that
// of the rotated image's bounding box, ceil(max) − floor(min) of its corners' coordinates in
// [0, W]×[0, H] terms, as PIL, the cv2 backend and torchvision compute it (a 5x7 image turned by
// 30° becomes 9x9); Paddle's tensor backend takes ceil and floor of coordinates centred on the
// image, which can differ by one (8x10 here).
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors (one angle for the whole batch). It panics
// with an *Error if degrees has the wrong number of values, a single value is negative, Center
// has not 2 values or the interpolation is unknown; Apply panics if Fill has neither 1 value
// nor one per channel.
func RandomRotation(degrees []float64, opts ...RandomRotationOptions) Random {
	o := oneOptions("RandomRotation", opts)
	var lo, hi float64
	switch len(degrees) {
	case 1:
		if degrees[0] < 0 {
			panicf("RandomRotation", "a single degrees value must be non-negative, got %v", degrees[0])
		}
		lo, hi = -degrees[0], degrees[0]
	case 2:
		lo, hi = degrees[0], degrees[1]
	default:
		panicf("RandomRotation", "degrees %v: want 1 value or 2 (min, max)", degrees)
	}
	if o.Center != nil && len(o.Center) != 2 {
		panicf("RandomRotation", "center %v: want 2 values (x, y)", o.Center)
	}
	return &randomRotation{lo: lo, hi: hi, mode: checkInterp("RandomRotation", o.Interpolation, InterpolationNearest),
		expand: o.Expand, center: append([]float64(nil), o.Center...), fill: append([]float32(nil), o.Fill...)}
}

type randomRotation struct {
	lo, hi float64
	mode   Interpolation
	expand bool
	center []float64
	fill   []float32
}

func (r *randomRotation) Apply(x *tensor.Tensor) *tensor.Tensor { return r.ApplyRandom(x, shared) }

func (r *randomRotation) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	im := imageOf("RandomRotation", x)
	angle := randUniform(rng, r.lo, r.hi)
	var center []float64
	if len(r.center) == 2 {
		center = r.center
	}
	return im.rotate(angle, r.mode, r.expand, center, r.fill).tensor()
}

func (r *randomRotation) String() string {
	return fmt.Sprintf("RandomRotation(degrees=[%v %v], interpolation=%s, expand=%v)", r.lo, r.hi, r.mode, r.expand)
}
