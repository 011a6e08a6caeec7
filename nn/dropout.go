package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// DropoutMode is Paddle's dropout mode.
type DropoutMode int

const (
	// UpscaleInTrain zeroes elements with probability P in training and scales the rest by
	// 1/(1-P); evaluation passes the input through (Paddle's default "upscale_in_train").
	UpscaleInTrain DropoutMode = iota
	// DownscaleInInfer zeroes elements in training without scaling and multiplies by (1-P) in
	// evaluation ("downscale_in_infer").
	DownscaleInInfer
)

// Dropout zeroes random elements in training, as paddle.nn.Dropout. It starts in training mode;
// Eval turns it off. Its random generator is seeded from the shared source (Seed) when created.
type Dropout struct {
	P    float32
	Mode DropoutMode
	eval bool
	pcg  *rand.PCG
	rng  *rand.Rand
}

// NewDropout returns a Dropout with drop probability p. It panics unless 0 ≤ p < 1.
func NewDropout(p float32) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(&Error{Layer: "Dropout", Msg: fmt.Sprintf("p %v outside [0, 1)", p)})
	}
	d := &Dropout{P: p}
	d.SetSeed(newSeed())
	return d
}

// SetSeed restarts the dropout mask sequence from seed, e.g. to fix the mask in a test.
func (d *Dropout) SetSeed(seed uint64) {
	d.pcg = rand.NewPCG(seed, 0x64726f70)
	d.rng = rand.New(d.pcg)
}

// SetTraining switches between training (dropping) and evaluation.
func (d *Dropout) SetTraining(training bool) { d.eval = !training }

// Training reports whether d is in training mode.
func (d *Dropout) Training() bool { return !d.eval }

// Forward applies dropout to x (any shape). Calls from several goroutines at once must not share
// one Dropout in training mode: it draws from its own generator.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if d.eval {
		if d.Mode == DownscaleInInfer {
			return x.Scale(1 - d.P)
		}
		return x
	}
	if d.P == 0 {
		return x
	}
	keep := float32(1)
	if d.Mode == UpscaleInTrain {
		keep = 1 / (1 - d.P)
	}
	mask := make([]float32, x.Len())
	for i := range mask {
		if d.rng.Float32() >= d.P {
			mask[i] = keep
		}
	}
	return x.Mul(tensor.New(mask, x.Shape()...))
}

// Params returns nothing.
func (d *Dropout) Params() []Param { return nil }
