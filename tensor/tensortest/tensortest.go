package tensortest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oarlab/oar/tensor"
)

// Close reports whether got and want have the same shape and every element satisfies
// |got-want| <= atol + rtol*|want| (NaNs must match NaNs); if not, the error names the shapes or the
// worst element (its index, both values and the excess).
func Close(got, want *tensor.Tensor, atol, rtol float64) error {
	if !slices.Equal(got.Shape(), want.Shape()) {
		return fmt.Errorf("shape %v, want %v", got.Shape(), want.Shape())
	}
	worst, excess := -1, 0.0
	g, w := got.Data(), want.Data()
	for i := range g {
		a, b := float64(g[i]), float64(w[i])
		if math.IsNaN(a) || math.IsNaN(b) {
			if math.IsNaN(a) != math.IsNaN(b) {
				worst, excess = i, math.Inf(1)
			}
			continue
		}
		if a == b { // also equal infinities
			continue
		}
		if e := math.Abs(a-b) - (atol + rtol*math.Abs(b)); e > excess || math.IsNaN(e) {
			worst, excess = i, e
		}
	}
	if worst < 0 {
		return nil
	}
	return fmt.Errorf("shape %v: worst element %d (at %v): got %v, want %v (|diff| %.3g, allowed %.3g)",
		got.Shape(), worst, unravel(worst, got.Shape()), g[worst], w[worst],
		math.Abs(float64(g[worst])-float64(w[worst])), atol+rtol*math.Abs(float64(w[worst])))
}

// AllClose fails the test (t.Fatal) unless got and want are close as Close defines.
func AllClose(t testing.TB, got, want *tensor.Tensor, atol, rtol float64) {
	t.Helper()
	if err := Close(got, want, atol, rtol); err != nil {
		t.Fatalf("AllClose: %v", err)
	}
}

// unravel turns a flat row-major index into coordinates.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

// GradCheckOptions tune GradCheck. The zero value means the defaults in brackets.
type GradCheckOptions struct {
	Eps  float64 // finite-difference step [1e-2]
	Atol float64 // absolute tolerance on each gradient element [1e-2]
	Rtol float64 // relative tolerance [1e-2]
	Seed uint64  // seed of the random output weights [1]
}

// CheckGrad checks the gradients of f at inputs: it seeds Backward with random weights r on f's
// output (so the scalar checked is Σ r·f(inputs)), and compares each input's gradient with the
// central difference (L(x+eps) - L(x-eps)) / 2eps, where L is summed in float64 over f's float32
// output. f must be deterministic and must not keep state between calls; the inputs' data are
// perturbed in place and restored. Inputs are made to require gradients and their gradients are
// cleared. The error names the input, the element, and both values.
//
// Float32 ops leave about 1e-3 of noise in the differences; pick inputs away from kinks (ReLU at
// 0, ties in max) and keep the default tolerances unless an op needs looser ones.
func CheckGrad(f func(xs ...*tensor.Tensor) *tensor.Tensor, inputs []*tensor.Tensor, opt GradCheckOptions) error {
	eps, atol, rtol, seed := orDefault(opt.Eps, 1e-2), orDefault(opt.Atol, 1e-2), orDefault(opt.Rtol, 1e-2), opt.Seed
	if seed == 0 {
		seed = 1
	}
	for _, x := range inputs {
		x.SetRequiresGrad(true)
		x.ClearGrad()
	}
	out := f(inputs...)
	rng := rand.New(rand.NewPCG(seed, 7))
	r := make([]float32, out.Len())
	for i := range r {
		r[i] = float32(rng.Float64()*2 - 1)
	}
	if !out.RequiresGrad() {
		return fmt.Errorf("output of shape %v does not depend on any input", out.Shape())
	}
	out.BackwardWith(tensor.New(r, out.Shape()...))
	views := make([]*tensor.Tensor, len(inputs)) // same data, no graph
	for i, x := range inputs {
		views[i] = x.NoGrad()
	}
	loss := func() float64 {
		y := f(views...).Data()
		s := 0.0
		for i, v := range y {
			s += float64(r[i]) * float64(v)
		}
		return s
	}
	for k, x := range inputs {
		var analytic []float32
		if g := x.Grad(); g != nil {
			analytic = g.Data()
		} else {
			analytic = make([]float32, x.Len())
		}
		data := x.Data()
		for i := range data {
			orig := data[i]
			data[i] = orig + float32(eps)
			hi := loss()
			data[i] = orig - float32(eps)
			lo := loss()
			data[i] = orig
			// the step actually taken in float32, not eps itself
			step := float64(orig+float32(eps)) - float64(orig-float32(eps))
			numeric := (hi - lo) / step
			a := float64(analytic[i])
			if math.Abs(a-numeric) > atol+rtol*math.Abs(numeric) || math.IsNaN(a) {
				return fmt.Errorf("input %d %v, element %d (at %v): analytic gradient %.6g, numeric %.6g (|diff| %.3g, allowed %.3g)",
					k, x.Shape(), i, unravel(i, x.Shape()), a, numeric, math.Abs(a-numeric), atol+rtol*math.Abs(numeric))
			}
		}
	}
	return nil
}

// GradCheck fails the test (t.Fatal) if CheckGrad finds a gradient that differs from its finite
// difference.
func GradCheck(t testing.TB, f func(xs ...*tensor.Tensor) *tensor.Tensor, inputs []*tensor.Tensor, opt GradCheckOptions) {
	t.Helper()
	if err := CheckGrad(f, inputs, opt); err != nil {
		t.Fatalf("GradCheck: %v", err)
	}
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
