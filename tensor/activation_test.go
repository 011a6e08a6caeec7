package tensor_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// normactAwayFromKinks returns random values in [-4, 4) at least 0.1 from each of the kinks.
func normactAwayFromKinks(shape []int, kinks ...float32) *tensor.Tensor {
	x := tensor.Uniform(newRNG(), -4, 4, shape...)
	for i, v := range x.Data() {
		for _, k := range kinks {
			if d := v - k; d > -0.1 && d < 0.1 {
				v = k + 0.1 + 0.3*float32(i%3)
			}
		}
		x.Data()[i] = v
	}
	return x
}

func TestGradActivations(t *testing.T) {
	shapes := [][]int{{7}, {3, 4}, {2, 3, 5}}
	for _, c := range []struct {
		name  string
		f     func(x *tensor.Tensor) *tensor.Tensor
		kinks []float32
	}{
		{"GELU", func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(false) }, nil},
		{"GELU/tanh", func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(true) }, nil},
		{"SiLU", (*tensor.Tensor).SiLU, nil},
		{"ELU", func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(1) }, []float32{0}},
		{"ELU/alpha", func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(0.5) }, []float32{0}},
		{"SELU", func(x *tensor.Tensor) *tensor.Tensor { return x.SELU(tensor.SELUScale, tensor.SELUAlpha) }, []float32{0}},
		{"Softplus", func(x *tensor.Tensor) *tensor.Tensor { return x.Softplus(1, 20) }, nil},
		{"Softplus/beta", func(x *tensor.Tensor) *tensor.Tensor { return x.Softplus(2, 3) }, []float32{1.5}},
		{"Softsign", (*tensor.Tensor).Softsign, []float32{0}},
		{"Hardswish", (*tensor.Tensor).Hardswish, []float32{-3, 3}},
		{"Hardsigmoid", func(x *tensor.Tensor) *tensor.Tensor { return x.Hardsigmoid(0.1666667, 0.5) }, []float32{-3, 3}},
		{"Hardsigmoid/slope", func(x *tensor.Tensor) *tensor.Tensor { return x.Hardsigmoid(0.2, 0.4) }, []float32{-2, 3}},
		{"Hardtanh", func(x *tensor.Tensor) *tensor.Tensor { return x.Hardtanh(-1, 1) }, []float32{-1, 1}},
		{"Hardtanh/range", func(x *tensor.Tensor) *tensor.Tensor { return x.Hardtanh(-2, 0.5) }, []float32{-2, 0.5}},
		{"ReLU6", func(x *tensor.Tensor) *tensor.Tensor { return x.Scale(2).ReLU6() }, []float32{0, 3}},
		{"LogSigmoid", (*tensor.Tensor).LogSigmoid, nil},
		{"Mish", (*tensor.Tensor).Mish, nil},
		{"Tanhshrink", (*tensor.Tensor).Tanhshrink, nil},
	} {
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s/%v", c.name, shape), func(t *testing.T) {
				tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return c.f(xs[0]) },
					[]*tensor.Tensor{normactAwayFromKinks(shape, c.kinks...)}, tensortest.GradCheckOptions{})
			})
		}
	}
}

// TestActivationValues compares each activation with its formula written out in float64.
func TestActivationValues(t *testing.T) {
	x := tensor.New([]float32{-25, -6, -3, -2.5, -1, -0.5, 0, 0.25, 1, 2.9, 3, 5, 7, 25}, 14)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	sp := func(v float64) float64 { return math.Log(1 + math.Exp(v)) }
	for _, c := range []struct {
		name string
		got  *tensor.Tensor
		f    func(v float64) float64
	}{
		{"GELU", x.GELU(false), func(v float64) float64 { return v * 0.5 * math.Erfc(-v/math.Sqrt2) }},
		{"GELU/tanh", x.GELU(true), func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{"SiLU", x.SiLU(), func(v float64) float64 { return v * sig(v) }},
		{"ELU", x.ELU(1.5), func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 1.5 * (math.Exp(v) - 1)
		}},
		{"SELU", x.SELU(tensor.SELUScale, tensor.SELUAlpha), func(v float64) float64 {
			return 1.0507009873554805 * (max(0, v) + min(0, 1.6732632423543772*(math.Exp(v)-1)))
		}},
		{"Softsign", x.Softsign(), func(v float64) float64 { return v / (1 + math.Abs(v)) }},
		{"Hardswish", x.Hardswish(), func(v float64) float64 { return v * min(max(v+3, 0), 6) / 6 }},
		{"Hardtanh", x.Hardtanh(-1, 1), func(v float64) float64 { return min(max(v, -1), 1) }},
		{"ReLU6", x.ReLU6(), func(v float64) float64 { return min(max(v, 0), 6) }},
		{"LogSigmoid", x.LogSigmoid(), func(v float64) float64 { return math.Log(sig(v)) }},
		{"Mish", x.Mish(), func(v float64) float64 { return v * math.Tanh(sp(v)) }},
		{"Tanhshrink", x.Tanhshrink(), func(v float64) float64 { return v - math.Tanh(v) }},
	} {
		want := make([]float32, x.Len())
		for i, v := range x.Data() {
			want[i] = float32(c.f(float64(v)))
		}
		if err := tensortest.Close(c.got, tensor.New(want, x.Len()), 1e-6, 1e-6); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestHardsigmoidPaddle: Paddle's default slope 0.1666667 and offset 0.5, worked by hand.
func TestHardsigmoidPaddle(t *testing.T) {
	x := tensor.New([]float32{-4, -3, -1.5, 0, 1.2, 2.9, 3, 3.5}, 8)
	x.SetRequiresGrad(true)
	y := x.Hardsigmoid(0.1666667, 0.5)
	// -3: 0.5 - 0.5000001 < 0 → 0; 3: 1.0000001 → 1; -1.5: 0.5 - 0.25000005 = 0.24999994
	want := []float32{0, 0, 0.24999994, 0.5, 0.70000005, 0.98333347, 1, 1}
	tensortest.AllClose(t, y, tensor.New(want, 8), 0, 0)
	y.Sum().Backward()
	s := float32(0.1666667)
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{0, 0, s, s, s, s, 0, 0}, 8), 0, 0)

	// PyTorch's hardsigmoid is slope 1/6: 2.9 gives 0.98333335 there, 0.98333347 here
	torch := tensor.New([]float32{2.9}, 1).Hardsigmoid(1.0/6, 0.5)
	tensortest.AllClose(t, torch, tensor.New([]float32{0.98333335}, 1), 0, 0)
}

// TestSoftplusThreshold: above threshold/beta, Softplus is x itself with gradient 1.
func TestSoftplusThreshold(t *testing.T) {
	x := tensor.New([]float32{-30, 0, 9.9, 10.1, 30}, 5)
	x.SetRequiresGrad(true)
	y := x.Softplus(2, 20) // threshold at x = 10
	want := []float32{
		float32(math.Log1p(math.Exp(-60)) / 2), float32(math.Log(2) / 2),
		float32(math.Log1p(math.Exp(19.8)) / 2), 10.1, 30,
	}
	tensortest.AllClose(t, y, tensor.New(want, 5), 0, 1e-7)
	y.Sum().Backward()
	sig := func(v float64) float32 { return float32(1 / (1 + math.Exp(-v))) }
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{sig(-60), 0.5, sig(19.8), 1, 1}, 5), 0, 1e-7)
	// the threshold gives x exactly, not log1p(e^x): at x = 20.5 (beta 1) they differ by e^-20.5
	// in float64, and both round to 20.5 in float32
	tensortest.AllClose(t, tensor.New([]float32{20.5}, 1).Softplus(1, 20), tensor.New([]float32{20.5}, 1), 0, 0)
	// a threshold of 0 (Paddle allows it) switches to x at every positive input
	tensortest.AllClose(t, tensor.New([]float32{0.5}, 1).Softplus(1, 0), tensor.New([]float32{0.5}, 1), 0, 0)
}

// TestGELUApproximate: the tanh form worked by hand at x = 1 and x = -2.
func TestGELUApproximate(t *testing.T) {
	// x = 1: u = 0.7978845608·1.044715 = 0.8335620, tanh(u) = 0.6823840, y = 0.5·1.6823840
	// x = -2: u = 0.7978845608·(-2 - 0.35772) = -1.8811884, tanh = -0.9545977, y = -0.0454023
	x := tensor.New([]float32{1, -2}, 2)
	tensortest.AllClose(t, x.GELU(true), tensor.New([]float32{0.8411920, -0.04540231}, 2), 2e-7, 0)
	// the exact form differs: Φ(1) = 0.8413447, -2·Φ(-2) = -0.04550026
	tensortest.AllClose(t, x.GELU(false), tensor.New([]float32{0.8413447, -0.04550026}, 2), 2e-7, 0)
}

// TestActivationKinks: gradients exactly at the kinks are Paddle's.
func TestActivationKinks(t *testing.T) {
	grad := func(f func(*tensor.Tensor) *tensor.Tensor, xs ...float32) []float32 {
		x := tensor.New(xs, len(xs)).SetRequiresGrad(true)
		f(x).Sum().Backward()
		return x.Grad().Data()
	}
	check := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				t.Errorf("%s: gradient %v, want %v", name, got, want)
				return
			}
		}
	}
	check("Hardswish", grad((*tensor.Tensor).Hardswish, -3, 3, 0), []float32{0, 1, 0.5})
	check("Hardtanh", grad(func(x *tensor.Tensor) *tensor.Tensor { return x.Hardtanh(-1, 1) }, -1, 1, 0), []float32{0, 0, 1})
	check("ReLU6", grad((*tensor.Tensor).ReLU6, 0, 6, 3), []float32{0, 0, 1})
	check("ELU", grad(func(x *tensor.Tensor) *tensor.Tensor { return x.ELU(0.7) }, 0), []float32{0.7})
	check("SELU", grad(func(x *tensor.Tensor) *tensor.Tensor { return x.SELU(tensor.SELUScale, tensor.SELUAlpha) }, 0),
		[]float32{float32(tensor.SELUScale * tensor.SELUAlpha)})
}

// TestActivationsLarge runs over several parallel chunks and checks against the small-tensor
// path element by element.
func TestActivationsLarge(t *testing.T) {
	x := tensor.Randn(newRNG(), 3, 20000).Scale(3)
	y := x.GELU(false)
	for i := 0; i < x.Len(); i += 997 {
		one := tensor.New([]float32{x.Data()[i]}, 1).GELU(false)
		if one.Data()[0] != y.Data()[i] {
			t.Fatalf("element %d: %v alone, %v in the large tensor", i, one.Data()[0], y.Data()[i])
		}
	}
}

// normactPReLURef is PReLU from elementary ops: max(x, 0) + w·min(x, 0).
func normactPReLURef(x, w *tensor.Tensor, wshape []int) *tensor.Tensor {
	zero := tensor.Zeros(1)
	return x.Maximum(zero).Add(x.Minimum(zero).Mul(w.Reshape(wshape...)))
}

func TestPReLU(t *testing.T) {
	rng := newRNG()
	for _, c := range []struct {
		shape, wshape []int
		last          bool
	}{
		{[]int{2, 3, 4, 4}, []int{1}, false},
		{[]int{2, 3, 4, 4}, []int{1, 3, 1, 1}, false},
		{[]int{2, 3, 5}, []int{1, 3, 1}, false},
		{[]int{4, 3}, []int{1, 3}, false},
		{[]int{2, 4, 4, 3}, []int{1, 1, 1, 3}, true},
		{[]int{2, 5, 3}, []int{1, 1, 3}, true},
	} {
		t.Run(fmt.Sprintf("%v/last=%v/w%v", c.shape, c.last, c.wshape), func(t *testing.T) {
			n := 1
			for _, d := range c.wshape {
				n *= d
			}
			x := normactAwayFromKinks(c.shape, 0)
			w := tensor.Uniform(rng, 0.1, 0.5, n)
			f := func(xs ...*tensor.Tensor) *tensor.Tensor { return xs[0].PReLU(xs[1], c.last) }
			compareNormactGrads(t, f, func(xs ...*tensor.Tensor) *tensor.Tensor { return normactPReLURef(xs[0], xs[1], c.wshape) },
				[]*tensor.Tensor{x, w}, 1e-5)
			tensortest.GradCheck(t, f, []*tensor.Tensor{x, w}, tensortest.GradCheckOptions{})
		})
	}
}

func TestActivationPanics(t *testing.T) {
	for _, c := range []struct {
		op string
		f  func()
	}{
		{"PReLU", func() { tensor.Zeros(2, 3).PReLU(tensor.Ones(2), false) }},
		{"PReLU", func() { tensor.Zeros(2, 3).PReLU(tensor.Ones(2), true) }},
		{"PReLU", func() { tensor.Zeros(3).PReLU(tensor.Ones(3), false) }},
		{"PReLU", func() { tensor.Zeros(2, 3).PReLU(tensor.Ones(1, 3), false) }},
		{"Hardtanh", func() { tensor.Zeros(2).Hardtanh(1, -1) }},
		{"Softplus", func() { tensor.Zeros(2).Softplus(0, 20) }},
	} {
		func() {
			defer func() {
				var e *tensor.Error
				if err, _ := recover().(error); !errors.As(err, &e) || e.Op != c.op {
					t.Errorf("recovered %v, want a *tensor.Error from %s", err, c.op)
				}
			}()
			c.f()
		}()
	}
}

// TestFastActivationAccuracy: GELU and SiLU run in float32 with approximations of erf and exp;
// on a dense grid their values and gradients stay within 1e-6 relative (plus a tiny absolute
// slack where they pass through 0) of the exact formulas in float64.
func TestFastActivationAccuracy(t *testing.T) {
	const n = 200001
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = -12 + 24*float32(i)/float32(n-1)
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	k := math.Sqrt(2 / math.Pi)
	for _, c := range []struct {
		name    string
		f       func(*tensor.Tensor) *tensor.Tensor
		val, dv func(v float64) float64
	}{
		{"GELU", func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(false) },
			func(v float64) float64 { return 0.5 * v * math.Erfc(-v/math.Sqrt2) },
			func(v float64) float64 {
				return 0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi)
			}},
		{"GELU/tanh", func(x *tensor.Tensor) *tensor.Tensor { return x.GELU(true) },
			func(v float64) float64 { return 0.5 * v * (1 + math.Tanh(k*(v+0.044715*v*v*v))) },
			func(v float64) float64 {
				th := math.Tanh(k * (v + 0.044715*v*v*v))
				return 0.5*(1+th) + 0.5*v*(1-th*th)*k*(1+3*0.044715*v*v)
			}},
		{"SiLU", (*tensor.Tensor).SiLU,
			func(v float64) float64 { return v * sig(v) },
			func(v float64) float64 { return sig(v) * (1 + v*(1-sig(v))) }},
	} {
		x := tensor.New(append([]float32(nil), xs...), n).SetRequiresGrad(true)
		y := c.f(x)
		y.Sum().Backward()
		want, dwant := make([]float32, n), make([]float32, n)
		for i, v := range xs {
			want[i], dwant[i] = float32(c.val(float64(v))), float32(c.dv(float64(v)))
		}
		if err := tensortest.Close(y, tensor.New(want, n), 1e-7, 1e-6); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if err := tensortest.Close(x.Grad(), tensor.New(dwant, n), 1e-6, 1e-6); err != nil {
			t.Errorf("%s gradient: %v", c.name, err)
		}
	}
}
