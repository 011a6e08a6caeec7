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

// mapActivation64 applies f element-wise in float64; grad(x, y) is dy/dx at input x with output y.
// It is unary (unary.go) for costly functions: forward and backward run in parallel chunks.
func (t *Tensor) mapActivation64(op string, f func(x float64) float64, grad func(x, y float64) float64) *Tensor {
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

// mapActivation32 is mapActivation64 in float32, for the hot functions (GELU, SiLU), which use
// fastExp and fastErf below.
func (t *Tensor) mapActivation32(op string, f func(x float32) float32, grad func(x, y float32) float32) *Tensor {
	out := newTensor(make([]float32, len(t.data)), t.shape)
	kernel.ParallelFor(len(t.data), activationGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out.data[i] = f(t.data[i])
		}
	})
	return out.record(op, func(g []float32, gin [][]float32) {
		kernel.ParallelFor(len(t.data), activationGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gin[0][i] = g[i] * grad(t.data[i], out.data[i])
			}
		})
	}, t)
}

// GELU returns the Gaussian error linear unit element-wise, as Paddle's F.gelu(x, approximate):
// x·Φ(x) = 0.5x(1 + erf(x/√2)) when approximate is false (Paddle's default), and the tanh form
// 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) when it is true (PyTorch's approximate="tanh"). Both
// gradients are analytic. It is computed in float32 with rational and polynomial approximations
// of erf and exp (relative error below 1e-6 of the exact value; float64 below x = -1.5, where
// 1 + erf loses relative precision).
func (t *Tensor) GELU(approximate bool) *Tensor {
	if approximate {
		return t.mapActivation32("GELU", geluTanh, geluTanhGrad)
	}
	return t.mapActivation32("GELU", gelu, geluGrad)
}

const (
	geluK      = 0.7978845608028654 // √(2/π)
	geluC      = 0.044715
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// gelu is x·Φ(x). Below -1.5 it takes float64's erfc: 1 + erf(x/√2) is small there, and the
// float32 erf's absolute error would be a large relative one.
func gelu(x float32) float32 {
	if x < -1.5 || x != x {
		return float32(0.5 * float64(x) * math.Erfc(-float64(x)/math.Sqrt2))
	}
	return 0.5 * x * (1 + fastErf(x*(1/math.Sqrt2)))
}

// geluGrad is Φ(x) + x·φ(x).
func geluGrad(x, _ float32) float32 {
	if x < -1.5 || x != x {
		v := float64(x)
		return float32(0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-0.5*v*v)*invSqrt2Pi)
	}
	return 0.5*(1+fastErf(x*(1/math.Sqrt2))) + x*fastExp(-0.5*x*x)*invSqrt2Pi
}

// geluTanh is 0.5x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³), computed as x·sigmoid(2u),
// which is the same value without tanh's cancellation near -1.
func geluTanh(x float32) float32 {
	return x * fastSigmoid(2*geluK*(x+geluC*x*x*x))
}

// geluTanhGrad is sigmoid(2u) + x·sigmoid(2u)(1 - sigmoid(2u))·2u'.
func geluTanhGrad(x, _ float32) float32 {
	s, sm := fastSigmoidPair(2 * geluK * (x + geluC*x*x*x))
	return s + x*s*sm*2*geluK*(1+3*geluC*x*x)
}

// stableSigmoid64 is 1/(1+e^-x) without overflow.
func stableSigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// fastSigmoid is 1/(1+e^-x) in float32 (e^-x overflows to +Inf for x < -88: the result is 0).
func fastSigmoid(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + fastExp(-x))
	}
	e := fastExp(x)
	return e / (1 + e)
}

// fastSigmoidPair returns sigmoid(x) and 1 - sigmoid(x) = sigmoid(-x), from one exponential and
// without cancellation in either.
func fastSigmoidPair(x float32) (s, sm float32) {
	if x >= 0 {
		e := fastExp(-x)
		return 1 / (1 + e), e / (1 + e)
	}
	e := fastExp(x)
	return e / (1 + e), 1 / (1 + e)
}

// fastExp is e^x in float32, within 2e-7 of the exact value relative: x = k·ln2 + r with
// |r| ≤ ln2/2 (ln2 split in two for an exact product), e^r from its Taylor series to r⁷, times
// 2^k built from its bits. Outside (-87, 88), where 2^k is not a normal float32, and for NaN it
// falls back to math.Exp.
func fastExp(x float32) float32 {
	if !(x > -87 && x < 88) {
		return float32(math.Exp(float64(x)))
	}
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693359375 // exact in float32, few bits, so k·ln2Hi is exact
		ln2Lo = -2.12194440e-4
	)
	kf := x*log2e + 0.5
	k := int32(kf)
	if kf < 0 && float32(k) != kf {
		k-- // floor
	}
	fk := float32(k)
	r := x - fk*ln2Hi - fk*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// fastErf is erf(x) in float32, within 5e-7 of the exact value: the rational approximation
// x·P(x²)/Q(x²) on [-4, 4] of Eigen's generic_fast_erf_float (also XLA's and TVM's), with x
// clamped to that range (erf(4) is 1 in float32).
func fastErf(x float32) float32 {
	x = min(max(x, -4), 4)
	x2 := x * x
	p := ((((((-2.72614225801306e-10*x2+2.77068142495902e-08)*x2-2.10102402082508e-06)*x2-
		5.69250639462346e-05)*x2-7.34990630326855e-04)*x2-2.95459980854025e-03)*x2 - 1.60960333262415e-02) * x
	q := (((-1.45660718464996e-05*x2-2.13374055278905e-04)*x2-1.68282697438203e-03)*x2-
		7.37332916720468e-03)*x2 - 1.42647390514189e-02
	return p / q
}

// SiLU returns x·sigmoid(x) element-wise (Paddle's F.silu, also called swish with beta 1),
// computed in float32 (within 1e-6 relative of the exact value).
func (t *Tensor) SiLU() *Tensor {
	return t.mapActivation32("SiLU", func(x float32) float32 { return x * fastSigmoid(x) },
		func(x, _ float32) float32 {
			s, sm := fastSigmoidPair(x)
			return s * (1 + x*sm)
		})
}

// ELU returns x where x > 0 and alpha·(e^x - 1) elsewhere, as Paddle's F.elu (default alpha 1).
// Its gradient is 1 where x > 0 and alpha·e^x elsewhere (alpha at 0), as Paddle's and PyTorch's.
func (t *Tensor) ELU(alpha float32) *Tensor {
	a := float64(alpha)
	return t.mapActivation64("ELU", func(x float64) float64 {
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
	return t.mapActivation64("SELU", func(x float64) float64 {
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
	return t.mapActivation64("Softplus", func(x float64) float64 {
		if b*x > th {
			return x
		}
		return math.Log1p(math.Exp(b*x)) / b
	}, func(x, _ float64) float64 {
		if b*x > th {
			return 1
		}
		return stableSigmoid64(b * x)
	})
}

// Softsign returns x/(1 + |x|) element-wise (Paddle's F.softsign); its gradient is 1/(1 + |x|)².
func (t *Tensor) Softsign() *Tensor {
	return t.mapActivation64("Softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) },
		func(x, _ float64) float64 {
			d := 1 + math.Abs(x)
			return 1 / (d * d)
		})
}

// Hardswish returns x·min(max(x + 3, 0), 6)/6 element-wise, as Paddle's F.hardswish. Its gradient
// is (2x + 3)/6 for -3 < x < 3, 0 for x ≤ -3 and 1 for x ≥ 3: Paddle's. PyTorch's differs at
// the two kinks only: it gives x/3 + 0.5 for -3 ≤ x ≤ 3, so -0.5 at -3 and 1.5 at 3.
func (t *Tensor) Hardswish() *Tensor {
	return t.mapActivation64("Hardswish", func(x float64) float64 { return x * min(max(x+3, 0), 6) / 6 },
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
	return t.mapActivation64("Hardsigmoid", func(x float64) float64 { return min(max(s*x+o, 0), 1) },
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
	return t.clampRange("Hardtanh", min, max)
}

// ReLU6 returns min(max(x, 0), 6) element-wise, as Paddle's F.relu6; the gradient passes only
// where 0 < x < 6.
func (t *Tensor) ReLU6() *Tensor { return t.clampRange("ReLU6", 0, 6) }

// clampRange is Hardtanh and ReLU6: cheap enough to run without float64 and closures.
func (t *Tensor) clampRange(op string, lo, hi float32) *Tensor {
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
	return t.mapActivation64("LogSigmoid", func(x float64) float64 {
		return min(x, 0) - math.Log1p(math.Exp(-math.Abs(x)))
	}, func(x, _ float64) float64 { return stableSigmoid64(-x) })
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
	return t.mapActivation64("Mish", func(x float64) float64 { return x * math.Tanh(sp(x)) },
		func(x, _ float64) float64 {
			s := sp(x)
			th := math.Tanh(s)
			return th + x*(1-th*th)*(-math.Expm1(-s)) // 1 - e^-sp = sigmoid(x)
		})
}

// Tanhshrink returns x - tanh(x) element-wise (Paddle's F.tanhshrink); its gradient is tanh²(x).
func (t *Tensor) Tanhshrink() *Tensor {
	return t.mapActivation64("Tanhshrink", func(x float64) float64 { return x - math.Tanh(x) },
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
