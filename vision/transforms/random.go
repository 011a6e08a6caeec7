package transforms

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// A Random transform draws random choices (a crop's position, whether to flip, a jitter factor).
// ApplyRandom draws every one of them from rng and from nothing else, so that the same rng state
// gives the same output; it must not keep rng. Apply, the plain Transform method, draws from the
// process-wide source of math/rand/v2 instead: it works anywhere but is not reproducible.
//
// A data set applies a Random transform reproducibly by implementing data.RandomDataset: a
// data.Loader then hands item i of an epoch its own generator, data.SampleRand(Seed, epoch, i),
// and the data set calls ApplyRandom(x, rng) (vision/datasets' MNIST does). A Compose holding a
// Random transform is Random and passes rng to each of its Random members in order.
type Random interface {
	Transform
	ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor
}

// ApplyRandom applies t to x with rng: t.ApplyRandom(x, rng) if t is Random, t.Apply(x)
// otherwise. Data sets call it with the generator a data.Loader gives each item.
func ApplyRandom(t Transform, x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	if r, ok := t.(Random); ok {
		return r.ApplyRandom(x, rng)
	}
	return t.Apply(x)
}

// globalSource is math/rand/v2's process-wide source, safe for concurrent use.
type globalSource struct{}

func (globalSource) Uint64() uint64 { return rand.Uint64() }

// shared is the generator of the Apply method of Random transforms. A rand.Rand of math/rand/v2
// holds no state besides its source, so sharing it across goroutines is safe.
var shared = rand.New(globalSource{})

// randInt returns a uniform integer in [lo, hi], both included, as Python's random.randint.
func randInt(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

// randUniform returns a uniform float in [lo, hi), as Python's random.uniform.
func randUniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// RandomCropOptions are RandomCrop's optional settings; the zero value is Paddle's defaults
// (padding None, pad_if_needed False, fill 0, padding_mode 'constant').
type RandomCropOptions struct {
	// Padding, if set, pads the image before cropping: 1 value (every side), 2 (left/right,
	// top/bottom) or 4 (left, top, right, bottom), as Pad.
	Padding []int
	// PadIfNeeded pads a side shorter than the crop by the difference on both ends (Paddle's
	// pad_if_needed: a width w < tw becomes w + 2(tw-w)) before the crop is drawn.
	PadIfNeeded bool
	// Fill is the constant of PadConstant: 1 value or one per channel; nil means 0.
	Fill []float32
	// PaddingMode is how padding is filled; "" means PadConstant.
	PaddingMode PaddingMode
}

// RandomCrop returns the transform that crops an image at a random position (Paddle's
// RandomCrop(size, padding=None, pad_if_needed=False, fill=0, padding_mode='constant')). size is
// 1 value (a square crop) or 2 (height, width). The image is first padded by opts.Padding, then,
// with PadIfNeeded, padded where it is smaller than the crop; the crop's top and left are then
// drawn uniformly, top in [0, H-th] and then left in [0, W-tw] (nothing is drawn when the image
// already has the crop's size).
//
// It works on [H,W], [C,H,W] and [N,C,H,W] tensors (one crop for the whole batch, as Paddle's
// tensor backend). It panics with an *Error if size or Padding has the wrong number of values
// or a negative one; Apply panics if the (padded) image is smaller than the crop.
func RandomCrop(size []int, opts ...RandomCropOptions) Random {
	o := oneOptions("RandomCrop", opts)
	th, tw := sizePair("RandomCrop", size)
	rc := &randomCrop{th: th, tw: tw, padIfNeeded: o.PadIfNeeded, fill: append([]float32(nil), o.Fill...),
		mode: checkMode("RandomCrop", o.PaddingMode)}
	if o.Padding != nil {
		p := paddingOf("RandomCrop", o.Padding)
		rc.padding = &p
	}
	return rc
}

type randomCrop struct {
	th, tw      int
	padding     *[4]int // left, top, right, bottom
	padIfNeeded bool
	fill        []float32
	mode        PaddingMode
}

func (r *randomCrop) Apply(x *tensor.Tensor) *tensor.Tensor { return r.ApplyRandom(x, shared) }

func (r *randomCrop) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	im := imageOf("RandomCrop", x)
	if r.padding != nil {
		p := r.padding
		im = im.pad("RandomCrop", p[0], p[1], p[2], p[3], r.fill, r.mode)
	}
	if r.padIfNeeded && im.w < r.tw {
		d := r.tw - im.w
		im = im.pad("RandomCrop", d, 0, d, 0, r.fill, r.mode)
	}
	if r.padIfNeeded && im.h < r.th {
		d := r.th - im.h
		im = im.pad("RandomCrop", 0, d, 0, d, r.fill, r.mode)
	}
	if im.h < r.th || im.w < r.tw {
		panicf("RandomCrop", "crop %dx%d larger than the (padded) image %dx%d (shape %v); set PadIfNeeded", r.th, r.tw, im.h, im.w, x.Shape())
	}
	top, left := 0, 0
	if im.h != r.th || im.w != r.tw {
		top = randInt(rng, 0, im.h-r.th)
		left = randInt(rng, 0, im.w-r.tw)
	}
	return im.crop("RandomCrop", top, left, r.th, r.tw).tensor()
}

func (r *randomCrop) String() string {
	return fmt.Sprintf("RandomCrop(size=[%d %d])", r.th, r.tw)
}

// RandomHorizontalFlip returns the transform that flips an image left to right with probability
// prob (Paddle's RandomHorizontalFlip(prob=0.5)): it draws u uniform in [0, 1) and flips when
// u < prob. It works on [H,W], [C,H,W] and [N,C,H,W] tensors (one draw for the whole batch). It
// panics with an *Error if prob is outside [0, 1].
func RandomHorizontalFlip(prob float64) Random {
	checkProb("RandomHorizontalFlip", prob)
	return &randomFlip{prob: prob, horizontal: true}
}

// RandomVerticalFlip returns the transform that flips an image top to bottom with probability
// prob (Paddle's RandomVerticalFlip(prob=0.5)), drawing as RandomHorizontalFlip does. It panics
// with an *Error if prob is outside [0, 1].
func RandomVerticalFlip(prob float64) Random {
	checkProb("RandomVerticalFlip", prob)
	return &randomFlip{prob: prob}
}

func checkProb(op string, p float64) {
	if !(p >= 0 && p <= 1) {
		panicf(op, "probability %v outside [0, 1]", p)
	}
}

type randomFlip struct {
	prob       float64
	horizontal bool
}

func (r *randomFlip) Apply(x *tensor.Tensor) *tensor.Tensor { return r.ApplyRandom(x, shared) }

func (r *randomFlip) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	op := "RandomVerticalFlip"
	if r.horizontal {
		op = "RandomHorizontalFlip"
	}
	im := imageOf(op, x)
	if rng.Float64() < r.prob {
		if r.horizontal {
			return im.hflip().tensor()
		}
		return im.vflip().tensor()
	}
	return im.clone().tensor()
}

func (r *randomFlip) String() string {
	if r.horizontal {
		return fmt.Sprintf("RandomHorizontalFlip(prob=%v)", r.prob)
	}
	return fmt.Sprintf("RandomVerticalFlip(prob=%v)", r.prob)
}

// oneOptions returns the options struct a constructor was given, or the zero value if none. It
// panics with an *Error if more than one was given.
func oneOptions[T any](op string, opts []T) (o T) {
	switch len(opts) {
	case 0:
		return o
	case 1:
		return opts[0]
	}
	panicf(op, "%d options structs given, want at most one", len(opts))
	return o
}
