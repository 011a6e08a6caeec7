package transforms

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// A Transform maps an image tensor to another (paddle.vision.transforms). Apply must be safe
// for concurrent use: a data.Loader with workers calls it from several goroutines. It must not
// modify x.
type Transform interface {
	Apply(x *tensor.Tensor) *tensor.Tensor
}

// Func adapts a function to the Transform interface.
type Func func(x *tensor.Tensor) *tensor.Tensor

// Apply returns f(x).
func (f Func) Apply(x *tensor.Tensor) *tensor.Tensor { return f(x) }

// A Pointwise transform maps every element on its own: the output element is Point(c, v) of the
// input element v in channel c, and the shape is kept (except that ToTensor may add a channel
// axis). A data set that holds 8-bit pixels may tabulate Point for the 256 pixel values instead of
// calling Apply; it gets the same float32 results. Normalize, ToTensor and a Compose of
// Pointwise transforms are Pointwise.
type Pointwise interface {
	Transform
	Point(c int, v float32) float32
}

// Error is the value of the panics of this package (programmer errors: a mean and std of
// different lengths, a channel count that fits neither), e.g.
// "transforms: Normalize: 3 means for 1 channel".
type Error struct {
	Op  string // the function or method that panicked, e.g. "Normalize"
	Msg string // what was wrong
}

func (e *Error) Error() string { return "transforms: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// Normalize returns the transform (x - mean[c]) / std[c] for each channel c, as Paddle's
// Normalize(mean, std, data_format='CHW'). The channel axis is axis -3 of a tensor of rank 3 or
// more ([C,H,W], or [N,C,H,W]); a tensor of rank 1 or 2 is one channel. A mean or std of one value
// applies to every channel. MNIST's quick start uses Normalize([]float32{127.5},
// []float32{127.5}) on 0..255 pixels, giving values in [-1, 1].
//
// The result is a new tensor computed element by element; it records no graph. Normalize panics
// with an *Error if mean or std is empty, their lengths differ and neither is 1, or a std is 0;
// Apply panics if the tensor's channel count is not the length of mean or std (when not 1).
func Normalize(mean, std []float32) Transform {
	if len(mean) == 0 || len(std) == 0 {
		panicf("Normalize", "empty mean or std")
	}
	if len(mean) != len(std) && len(mean) != 1 && len(std) != 1 {
		panicf("Normalize", "%d means and %d stds", len(mean), len(std))
	}
	for _, s := range std {
		if s == 0 {
			panicf("Normalize", "std %v has a zero", std)
		}
	}
	return &normalize{mean: append([]float32(nil), mean...), std: append([]float32(nil), std...)}
}

type normalize struct{ mean, std []float32 }

func (n *normalize) Point(c int, v float32) float32 {
	return (v - pick(n.mean, c)) / pick(n.std, c)
}

func pick(s []float32, c int) float32 {
	if len(s) == 1 {
		return s[0]
	}
	return s[c]
}

func (n *normalize) Apply(x *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape()
	channels, plane := 1, x.Len()
	if len(shape) >= 3 {
		channels = shape[len(shape)-3]
		plane = shape[len(shape)-2] * shape[len(shape)-1]
	}
	for _, s := range [][]float32{n.mean, n.std} {
		if len(s) != 1 && len(s) != channels {
			panicf("Normalize", "%d values of mean or std for %d channels (shape %v)", len(s), channels, shape)
		}
	}
	src := x.Data()
	dst := make([]float32, len(src))
	for off := 0; off < len(src); {
		for c := range channels {
			m, s := pick(n.mean, c), pick(n.std, c)
			for k := off; k < off+plane; k++ {
				dst[k] = (src[k] - m) / s
			}
			off += plane
		}
	}
	return tensor.New(dst, shape...)
}

func (n *normalize) String() string { return fmt.Sprintf("Normalize(mean=%v, std=%v)", n.mean, n.std) }

// ToTensor returns the transform that scales 0..255 pixel values to 0..1 (x / 255), as Paddle's
// ToTensor does for 8-bit images, and gives an [H,W] image its channel axis, [1,H,W]. Tensors of
// another rank keep their shape: oar's image data sets already give CHW float32 tensors, so unlike
// Paddle's it does not transpose HWC to CHW.
//
// The result is a new tensor; it records no graph.
func ToTensor() Transform { return toTensor{} }

type toTensor struct{}

func (toTensor) Point(_ int, v float32) float32 { return v / 255 }

func (toTensor) Apply(x *tensor.Tensor) *tensor.Tensor {
	src := x.Data()
	dst := make([]float32, len(src))
	for k, v := range src {
		dst[k] = v / 255
	}
	shape := x.Shape()
	if len(shape) == 2 {
		shape = append([]int{1}, shape...)
	}
	return tensor.New(dst, shape...)
}

func (toTensor) String() string { return "ToTensor()" }

// Compose returns the transform that applies ts in order (Paddle's Compose). It is Pointwise when
// every one of ts is, and Random when one of ts is: its ApplyRandom passes rng to each Random
// member in order. Compose of nothing is the identity.
func Compose(ts ...Transform) Transform {
	ts = append([]Transform(nil), ts...)
	for _, t := range ts {
		if _, ok := t.(Random); ok {
			return randomCompose{compose(ts)}
		}
	}
	for _, t := range ts {
		if _, ok := t.(Pointwise); !ok {
			return compose(ts)
		}
	}
	return pointCompose{compose(ts)}
}

type randomCompose struct{ compose }

func (c randomCompose) ApplyRandom(x *tensor.Tensor, rng *rand.Rand) *tensor.Tensor {
	for _, t := range c.compose {
		x = ApplyRandom(t, x, rng)
	}
	return x
}

type compose []Transform

func (c compose) Apply(x *tensor.Tensor) *tensor.Tensor {
	for _, t := range c {
		x = t.Apply(x)
	}
	return x
}

func (c compose) String() string { return fmt.Sprintf("Compose%v", []Transform(c)) }

type pointCompose struct{ compose }

func (c pointCompose) Point(ch int, v float32) float32 {
	for _, t := range c.compose {
		v = t.(Pointwise).Point(ch, v)
	}
	return v
}
