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
// Eval turns it off. Its random generator is seeded from the shared source (Seed) when created by
// NewDropout, or at its first use when the struct is built directly.
type Dropout struct {
	Hooks
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

// generator returns d's generator, seeding it from the shared source on first use.
func (d *Dropout) generator() *rand.Rand {
	if d.rng == nil {
		d.SetSeed(newSeed())
	}
	return d.rng
}

// RandomState returns the state of d's generator.
func (d *Dropout) RandomState() []byte {
	d.generator()
	b, _ := d.pcg.MarshalBinary() // a PCG always marshals
	return b
}

// SetRandomState restores a state returned by RandomState. It returns an error, and changes
// nothing, if state is not one.
func (d *Dropout) SetRandomState(state []byte) error {
	var p rand.PCG
	if err := p.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("Dropout random state: %w", err)
	}
	d.generator()
	*d.pcg = p
	return nil
}

// SetTraining switches between training (dropping) and evaluation.
func (d *Dropout) SetTraining(training bool) { d.eval = !training }

// Training reports whether d is in training mode.
func (d *Dropout) Training() bool { return !d.eval }

// Forward applies dropout to x (any shape). Calls from several goroutines at once must not share
// one Dropout in training mode: it draws from its own generator.
func (d *Dropout) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer d.Done(d, x, &y)
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
	if !(d.P >= 0 && d.P < 1) {
		panicf(d, "p %v outside [0, 1)", d.P)
	}
	rng := d.generator()
	mask := make([]float32, x.Len())
	for i := range mask {
		if rng.Float32() >= d.P {
			mask[i] = keep
		}
	}
	return x.Mul(tensor.New(mask, x.Shape()...))
}

// Params returns nothing.
func (d *Dropout) Params() []Param { return nil }
