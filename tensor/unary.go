package tensor

import (
	"math"

	"github.com/oarlab/oar/internal/kernel"
)

// unary applies f element-wise. grad(x, y) is dy/dx at input x with output y.
func (t *Tensor) unary(op string, f func(x float32) float32, grad func(x, y float32) float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		out.data[i] = f(x)
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		for i, x := range t.data {
			gin[0][i] = g[i] * grad(x, out.data[i])
		}
	}, t)
}

// Neg returns -t.
func (t *Tensor) Neg() *Tensor { return t.Scale(-1) }

// Scale returns t*s for a constant s (paddle.scale without bias).
func (t *Tensor) Scale(s float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		out.data[i] = x * s
	}
	return out.record("Scale", func(g []float32, gin [][]float32) {
		for i, v := range g {
			gin[0][i] = s*v + 0 // + 0: a zero gradient is +0 (Scale(0) of a negative is -0)
		}
	}, t)
}

// AddScalar returns t+s for a constant s.
func (t *Tensor) AddScalar(s float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		out.data[i] = x + s
	}
	return out.record("AddScalar", identity, t)
}

// Square returns t*t element-wise (paddle.square); its gradient is 2t.
func (t *Tensor) Square() *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		out.data[i] = x * x
	}
	return out.record("Square", func(g []float32, gin [][]float32) {
		for i, x := range t.data {
			gin[0][i] = 2 * x * g[i]
		}
	}, t)
}

// Exp returns e^t element-wise.
func (t *Tensor) Exp() *Tensor {
	return t.unary("Exp", func(x float32) float32 { return float32(math.Exp(float64(x))) },
		func(_, y float32) float32 { return y })
}

// Log returns the natural logarithm element-wise (-Inf at 0, NaN below 0, as math.Log).
func (t *Tensor) Log() *Tensor {
	return t.unary("Log", func(x float32) float32 { return float32(math.Log(float64(x))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Sqrt returns the square root element-wise (NaN below 0).
func (t *Tensor) Sqrt() *Tensor {
	return t.unary("Sqrt", func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		func(_, y float32) float32 { return 0.5 / y })
}

// Abs returns |t| element-wise; its gradient at 0 is 0.
func (t *Tensor) Abs() *Tensor {
	return t.unary("Abs", func(x float32) float32 { return float32(math.Abs(float64(x))) },
		func(x, _ float32) float32 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		})
}

// Pow returns t^p element-wise for a constant exponent p.
func (t *Tensor) Pow(p float32) *Tensor {
	return t.unary("Pow", func(x float32) float32 { return float32(math.Pow(float64(x), float64(p))) },
		func(x, _ float32) float32 { return p * float32(math.Pow(float64(x), float64(p-1))) })
}

// Clip limits every element to [lo, hi]. As Paddle's clip, the gradient passes only where
// lo < x < hi strictly. It panics if lo > hi.
func (t *Tensor) Clip(lo, hi float32) *Tensor {
	if lo > hi {
		panicf("Clip", "lo %v > hi %v", lo, hi)
	}
	return t.unary("Clip", func(x float32) float32 { return min(max(x, lo), hi) },
		func(x, _ float32) float32 {
			if x > lo && x < hi {
				return 1
			}
			return 0
		})
}

// ReLU returns max(t, 0) element-wise (0 where t < 0; NaN stays NaN); its gradient at 0 is 0.
func (t *Tensor) ReLU() *Tensor { return t.LeakyReLU(0) }

// LeakyReLU returns t where t > 0 and slope*t elsewhere (Paddle's negative_slope; 0.01 is its
// default). Its gradient at 0 is slope.
func (t *Tensor) LeakyReLU(slope float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	if slope == 0 {
		kernel.ReLU(out.data, t.data)
		return out.record("ReLU", func(g []float32, gin [][]float32) { kernel.ReLUMask(gin[0], g, t.data) }, t)
	}
	for i, x := range t.data {
		if x > 0 {
			out.data[i] = x
		} else {
			out.data[i] = slope * x
		}
	}
	return out.record("LeakyReLU", func(g []float32, gin [][]float32) {
		for i, x := range t.data {
			if x > 0 {
				gin[0][i] = g[i]
			} else {
				gin[0][i] = slope * g[i]
			}
		}
	}, t)
}

// Sigmoid returns 1/(1+e^-t) element-wise, computed without overflow for large |t|.
func (t *Tensor) Sigmoid() *Tensor {
	return t.unary("Sigmoid", sigmoid, func(_, y float32) float32 { return y * (1 - y) })
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// Tanh returns the hyperbolic tangent element-wise.
func (t *Tensor) Tanh() *Tensor {
	return t.unary("Tanh", func(x float32) float32 { return float32(math.Tanh(float64(x))) },
		func(_, y float32) float32 { return 1 - y*y })
}

// Erf returns the error function erf(t) element-wise (paddle.erf; GELU's exact form is built on
// it). Its gradient is 2/√π·e^(-t²).
func (t *Tensor) Erf() *Tensor {
	return t.unary("Erf", func(x float32) float32 { return float32(math.Erf(float64(x))) },
		func(x, _ float32) float32 { return float32(2 / math.SqrtPi * math.Exp(-float64(x)*float64(x))) })
}
