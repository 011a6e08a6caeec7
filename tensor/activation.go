package tensor

import (
	"math"

	"github.com/oarlab/oar/internal/kernel"
)

// Activation functions beyond ReLU, LeakyReLU, Sigmoid and Tanh (unary.go). Each is one op with
// Paddle's formula, computed in float64 and rounded once, and an analytic rule; their gradients
// at the kinks are Paddle's (see each function). Large tensors are split over goroutines in
// fixed chunks, so results do not depend on the thread count.

// SELUScale and SELUAlpha are the constants of SELU, Paddle's defaults for F.selu's scale and
// alpha (PyTorch's are the same).
const (
	SELUScale = 1.0507009873554804934193349852946
	SELUAlpha = 1.6732632423543772848170429916717
)

// activationGrain is the number of elements per parallel chunk of an activation.
const activationGrain = 1 << 14

// activation applies f element-wise; grad(x, y) is dy/dx at input x with output y. It is unary
// for the costly functions: forward and backward run in parallel chunks.
func (t *Tensor) activation(op string, f func(x float64) float64, grad func(x, y float64) float64) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	kernel.ParallelFor(len(t.data), activationGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out.data[i] = float32(f(float64(t.data[i])))
		}
	})
	return out.record(op, func(g []float32, gin [][]float32) {
		kernel.ParallelFor(len(t.data), activationGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gin[0][i] = float32(float64(g[i]) * grad(float64(t.data[i]), float64(out.data[i])))
			}
		})
	}, t)
}

// GELU returns the Gaussian error linear unit element-wise, as Paddle's F.gelu(x, approximate):
// x·Φ(x) = 0.5x(1 + erf(x/√2)) when approximate is false (Paddle's default), and the tanh form
// 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) when it is true (PyTorch's approximate="tanh"). Both
// gradients are analytic.
func (t *Tensor) GELU(approximate bool) *Tensor {
	if approximate {
		return t.activation("GELU", geluTanh, geluTanhGrad)
	}
	return t.activation("GELU", func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) },
		func(x, _ float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		})
}

const geluK = 0.7978845608028654 // √(2/π)

func geluTanh(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(geluK*(x+0.044715*x*x*x)))
}

func geluTanhGrad(x, _ float64) float64 {
	th := math.Tanh(geluK * (x + 0.044715*x*x*x))
	return 0.5*(1+th) + 0.5*x*(1-th*th)*geluK*(1+3*0.044715*x*x)
}

// sigmoid64 is 1/(1+e^-x) without overflow.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// SiLU returns x·sigmoid(x) element-wise (Paddle's F.silu, also called swish with beta 1).
func (t *Tensor) SiLU() *Tensor {
	return t.activation("SiLU", func(x float64) float64 { return x * sigmoid64(x) },
		func(x, _ float64) float64 {
			s := sigmoid64(x)
			return s * (1 + x*(1-s))
		})
}

// ELU returns x where x > 0 and alpha·(e^x - 1) elsewhere, as Paddle's F.elu (default alpha 1).
// Its gradient is 1 where x > 0 and alpha·e^x elsewhere (alpha at 0), as Paddle's and PyTorch's.
func (t *Tensor) ELU(alpha float32) *Tensor {
	a := float64(alpha)
	return t.activation("ELU", func(x float64) float64 {
		if x > 0 {
			return x
		}
		return a * math.Expm1(x)
	}, func(x, _ float64) float64 {
		if x > 0 {
			return 1
		}
		return a * math.Exp(x)
	})
}

// SELU returns scale·x where x > 0 and scale·alpha·(e^x - 1) elsewhere, as Paddle's F.selu; its
// defaults are SELUScale and SELUAlpha. The gradient at 0 is scale·alpha, as Paddle's.
func (t *Tensor) SELU(scale, alpha float32) *Tensor {
	s, a := float64(scale), float64(alpha)
	return t.activation("SELU", func(x float64) float64 {
		if x > 0 {
			return s * x
		}
		return s * a * math.Expm1(x)
	}, func(x, _ float64) float64 {
		if x > 0 {
			return s
		}
		return s * a * math.Exp(x)
	})
}

// Softplus returns log(1 + e^(beta·x))/beta element-wise, and x itself where beta·x > threshold,
// as Paddle's F.softplus (defaults beta 1, threshold 20; PyTorch's formula and defaults are the
// same). Its gradient is sigmoid(beta·x), and 1 above the threshold. It panics if beta is 0.
func (t *Tensor) Softplus(beta, threshold float32) *Tensor {
	if beta == 0 {
		panicf("Softplus", "beta is 0")
	}
	b, th := float64(beta), float64(threshold)
	return t.activation("Softplus", func(x float64) float64 {
		if b*x > th {
			return x
		}
		return math.Log1p(math.Exp(b*x)) / b
	}, func(x, _ float64) float64 {
		if b*x > th {
			return 1
		}
		return sigmoid64(b * x)
	})
}

// Softsign returns x/(1 + |x|) element-wise (Paddle's F.softsign); its gradient is 1/(1 + |x|)².
func (t *Tensor) Softsign() *Tensor {
	return t.activation("Softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) },
		func(x, _ float64) float64 {
			d := 1 + math.Abs(x)
			return 1 / (d * d)
		})
}

// Hardswish returns x·min(max(x + 3, 0), 6)/6 element-wise, as Paddle's F.hardswish. Its gradient
// is (2x + 3)/6 for -3 < x < 3, 0 for x ≤ -3 and 1 for x ≥ 3: Paddle's. PyTorch's differs at
// the two kinks only: it gives x/3 + 0.5 for -3 ≤ x ≤ 3, so -0.5 at -3 and 1.5 at 3.
func (t *Tensor) Hardswish() *Tensor {
	return t.activation("Hardswish", func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 },
		func(x, _ float64) float64 {
			switch {
			case x+3 <= 0:
				return 0
			case x+3 >= 6:
				return 1
			}
			return (2*x + 3) / 6
		})
}

// Hardsigmoid returns min(max(slope·x + offset, 0), 1) element-wise, as Paddle's F.hardsigmoid,
// whose defaults are slope 0.1666667 and offset 0.5. PyTorch's hardsigmoid is x/6 + 1/2: its
// slope 1/6 differs from Paddle's default in the eighth digit (0.16666666…), so the two agree
// within float32 rounding except very near the ends of the linear part. The gradient is slope
// where 0 < output < 1 and 0 elsewhere, as Paddle's (PyTorch's: 1/6 for -3 < x < 3).
func (t *Tensor) Hardsigmoid(slope, offset float32) *Tensor {
	s, o := float64(slope), float64(offset)
	return t.activation("Hardsigmoid", func(x float64) float64 { return min(max(s*x+o, 0), 1) },
		func(_, y float64) float64 {
			if y > 0 && y < 1 {
				return s
			}
			return 0
		})
}

// Hardtanh limits every element to [min, max], as Paddle's F.hardtanh (defaults -1 and 1). The
// gradient passes only where min < x < max strictly, as Paddle's and PyTorch's. It panics if
// min > max.
func (t *Tensor) Hardtanh(min, max float32) *Tensor {
	if min > max {
		panicf("Hardtanh", "min %v > max %v", min, max)
	}
	return t.clamp("Hardtanh", min, max)
}

// ReLU6 returns min(max(x, 0), 6) element-wise, as Paddle's F.relu6; the gradient passes only
// where 0 < x < 6.
func (t *Tensor) ReLU6() *Tensor { return t.clamp("ReLU6", 0, 6) }

// clamp is Hardtanh and ReLU6: cheap enough to run without float64 and closures.
func (t *Tensor) clamp(op string, lo, hi float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		out.data[i] = min(max(x, lo), hi) // NaN stays NaN
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		for i, x := range t.data {
			if x > lo && x < hi {
				gin[0][i] = g[i]
			} else {
				gin[0][i] = 0
			}
		}
	}, t)
}

// LogSigmoid returns log(sigmoid(x)) = -softplus(-x) element-wise (Paddle's F.log_sigmoid),
// computed without overflow for large |x|; its gradient is sigmoid(-x).
func (t *Tensor) LogSigmoid() *Tensor {
	return t.activation("LogSigmoid", func(x float64) float64 {
		return min(x, 0) - math.Log1p(math.Exp(-math.Abs(x)))
	}, func(x, _ float64) float64 { return sigmoid64(-x) })
}

// Mish returns x·tanh(softplus(x)) element-wise, as Paddle's F.mish, whose softplus is x itself
// above 20 (PyTorch's uses log1p(e^x) throughout; the two agree in float32). Its gradient is
// tanh(sp) + x·(1 - tanh²(sp))·sigmoid(x) with sp = softplus(x).
func (t *Tensor) Mish() *Tensor {
	sp := func(x float64) float64 {
		if x > 20 {
			return x
		}
		return math.Log1p(math.Exp(x))
	}
	return t.activation("Mish", func(x float64) float64 { return x * math.Tanh(sp(x)) },
		func(x, _ float64) float64 {
			s := sp(x)
			th := math.Tanh(s)
			return th + x*(1-th*th)*(-math.Expm1(-s)) // 1 - e^-sp = sigmoid(x)
		})
}

// Tanhshrink returns x - tanh(x) element-wise (Paddle's F.tanhshrink); its gradient is tanh²(x).
func (t *Tensor) Tanhshrink() *Tensor {
	return t.activation("Tanhshrink", func(x float64) float64 { return x - math.Tanh(x) },
		func(x, _ float64) float64 {
			th := math.Tanh(x)
			return th * th
		})
}

// PReLU returns x where x > 0 and weight·x elsewhere, as Paddle's F.prelu(x, weight,
// data_format): weight holds one value shared by every element, or one per channel, the
// channels being axis 1 (channelLast false: Paddle's "NCHW", "NCL", "NC") or the last axis
// (channelLast true: "NHWC", "NLC"). The gradient with respect to x is 1 where x > 0 and weight
// elsewhere; with respect to weight it is Σ x·g over the elements where x ≤ 0 (of its channel).
//
// It panics if weight is not 1-D, or has more than one value but not one per channel, or if t
// has no channel axis (rank 0, or rank 1 with a per-channel weight).
func (t *Tensor) PReLU(weight *Tensor, channelLast bool) *Tensor {
	const op = "PReLU"
	if len(weight.shape) != 1 || len(weight.data) == 0 {
		panicf(op, "weight %v: want [1] or [channels]", weight.shape)
	}
	// element i uses weight[(i / inner) % c]
	c, inner := 1, 1
	if len(weight.data) > 1 {
		ax := 1
		if channelLast {
			ax = len(t.shape) - 1
		}
		if len(t.shape) < 2 || t.shape[ax] != len(weight.data) {
			panicf(op, "weight %v for input %v: want one value or one per channel (axis %d)", weight.shape, t.shape, ax)
		}
		c = len(weight.data)
		for _, d := range t.shape[ax+1:] {
			inner *= d
		}
	}
	w := weight.data
	out := newTensor(make([]float32, len(t.data)), t.shape)
	for i, x := range t.data {
		if x > 0 {
			out.data[i] = x
		} else {
			out.data[i] = w[(i/inner)%c] * x
		}
	}
	return out.record(op, func(g []float32, gin [][]float32) {
		if gin[0] != nil {
			for i, x := range t.data {
				if x > 0 {
					gin[0][i] = g[i]
				} else {
					gin[0][i] = w[(i/inner)%c] * g[i]
				}
			}
		}
		if gin[1] != nil {
			sums := make([]float64, c)
			for i, x := range t.data {
				if x <= 0 {
					sums[(i/inner)%c] += float64(x) * float64(g[i])
				}
			}
			for k, s := range sums {
				gin[1][k] = float32(s)
			}
		}
	}, t, weight)
}
