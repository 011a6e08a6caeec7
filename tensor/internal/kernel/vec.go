package kernel

import "math"

func checkLen2(fn string, x, y []float32) {
	if len(x) != len(y) {
		panic("kernel: " + fn + ": slice lengths differ")
	}
}

func checkLen3(fn string, x, y, z []float32) {
	if len(x) != len(y) || len(x) != len(z) {
		panic("kernel: " + fn + ": slice lengths differ")
	}
}

// Axpy computes y += alpha*x. It panics if len(x) != len(y).
func Axpy(alpha float32, x, y []float32) {
	checkLen2("Axpy", x, y)
	for i, v := range x {
		y[i] += alpha * v
	}
}

// AddTo computes dst += x. It panics if len(dst) != len(x).
func AddTo(dst, x []float32) {
	checkLen2("AddTo", dst, x)
	for i, v := range x {
		dst[i] += v
	}
}

// Add computes dst = a + b. It panics unless all lengths are equal.
func Add(dst, a, b []float32) {
	checkLen3("Add", dst, a, b)
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// Sub computes dst = a - b. It panics unless all lengths are equal.
func Sub(dst, a, b []float32) {
	checkLen3("Sub", dst, a, b)
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

// Mul computes dst = a * b elementwise. It panics unless all lengths are equal.
func Mul(dst, a, b []float32) {
	checkLen3("Mul", dst, a, b)
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// Div computes dst = a / b elementwise. It panics unless all lengths are equal.
func Div(dst, a, b []float32) {
	checkLen3("Div", dst, a, b)
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

// Scale computes x *= alpha.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// Dot returns the inner product of x and y, accumulated in float64 in index
// order, so it is deterministic. It panics if len(x) != len(y).
func Dot(x, y []float32) float32 {
	checkLen2("Dot", x, y)
	return dotRef(x, y)
}

// Sum returns the sum of x, accumulated in float64 in index order, so it is
// deterministic.
func Sum(x []float32) float32 {
	return sumRef(x)
}

// Max returns the largest element of x and its index; the first maximum wins
// ties, and the first NaN, if any, wins outright. It panics if x is empty.
func Max(x []float32) (v float32, i int) {
	if len(x) == 0 {
		panic("kernel: Max: empty slice")
	}
	return maxRef(x)
}

var _ = math.Inf
