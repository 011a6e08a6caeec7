package kernel

import "unsafe"

// The elementwise kernels below accept dst aliasing an input exactly (as
// AddTo does) but not partially overlapping it.

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

// ptr returns a pointer to x's first element, or nil for an empty x.
func ptr(x []float32) *float32 { return unsafe.SliceData(x) }

// AddTo computes dst += x. It panics if len(dst) != len(x).
func AddTo(dst, x []float32) {
	checkLen2("AddTo", dst, x)
	if useAVX2 {
		addAVX2(ptr(dst), ptr(dst), ptr(x), len(x))
		return
	}
	addGo(dst, dst, x)
}

// Add computes dst = a + b. It panics unless all lengths are equal.
func Add(dst, a, b []float32) {
	checkLen3("Add", dst, a, b)
	if useAVX2 {
		addAVX2(ptr(dst), ptr(a), ptr(b), len(dst))
		return
	}
	addGo(dst, a, b)
}

// Sub computes dst = a - b. It panics unless all lengths are equal.
func Sub(dst, a, b []float32) {
	checkLen3("Sub", dst, a, b)
	if useAVX2 {
		subAVX2(ptr(dst), ptr(a), ptr(b), len(dst))
		return
	}
	subGo(dst, a, b)
}

// Mul computes dst = a * b elementwise. It panics unless all lengths are equal.
func Mul(dst, a, b []float32) {
	checkLen3("Mul", dst, a, b)
	if useAVX2 {
		mulAVX2(ptr(dst), ptr(a), ptr(b), len(dst))
		return
	}
	mulGo(dst, a, b)
}

// Div computes dst = a / b elementwise. It panics unless all lengths are equal.
func Div(dst, a, b []float32) {
	checkLen3("Div", dst, a, b)
	if useAVX2 {
		divAVX2(ptr(dst), ptr(a), ptr(b), len(dst))
		return
	}
	divGo(dst, a, b)
}

// Scale computes x *= alpha.
func Scale(alpha float32, x []float32) {
	if useAVX2 {
		scaleAVX2(alpha, ptr(x), len(x))
		return
	}
	scaleGo(alpha, x)
}

// Dot returns the inner product of x and y. Products are exact in float64
// and are summed in float64 in a fixed order (sum64's), so the result is
// deterministic and accurate. It panics if len(x) != len(y).
func Dot(x, y []float32) float32 {
	checkLen2("Dot", x, y)
	if useAVX2 {
		return float32(dotAVX2(ptr(x), ptr(y), len(x)))
	}
	return float32(dot64Go(x, y))
}

// Sum returns the sum of x, accumulated in float64 in a fixed order (see
// sum64Go), so it is deterministic and accurate.
func Sum(x []float32) float32 {
	if useAVX2 {
		return float32(sumAVX2(ptr(x), len(x)))
	}
	return float32(sum64Go(x))
}

// Max returns the largest element of x and its index. Ties go to the first
// maximum; a NaN wins outright (the first NaN). It panics if x is empty.
func Max(x []float32) (v float32, i int) {
	if len(x) == 0 {
		panic("kernel: Max: empty slice")
	}
	v = x[0]
	if v != v {
		return v, 0
	}
	for j, e := range x[1:] {
		if e > v {
			v, i = e, j+1
		} else if e != e {
			return e, j + 1
		}
	}
	return v, i
}

// Pure-Go versions, used without AVX2 and as the tests' reference for the
// assembly (which must match them bit for bit).

func addGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func subGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

func mulGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func divGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

func scaleGo(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// sum64Go sums x in float64 with the assembly's order: element i of each
// whole block of 16 goes to lane i, the lanes are combined as
// ((l[j]+l[4+j]) + (l[8+j]+l[12+j])) for j = 0..3, then
// (c0+c2) + (c1+c3), and the leftover tail, summed in order, is added last.
// Sixteen independent lanes keep the vector units busy; float64 keeps the
// result accurate whatever the order.
func sum64Go(x []float32) float64 {
	var acc [16]float64
	n := len(x) / 16 * 16
	for i := 0; i < n; i += 16 {
		b := (*[16]float32)(x[i:])
		for l := range acc {
			acc[l] += float64(b[l])
		}
	}
	var tail float64
	for _, v := range x[n:] {
		tail += float64(v)
	}
	return combine16(&acc) + tail
}

// dot64Go is Dot's pure-Go version, in sum64Go's order. A product of two
// float32s is exact in float64, so the assembly's fused multiply-add gives
// the same sums.
func dot64Go(x, y []float32) float64 {
	y = y[:len(x)]
	var acc [16]float64
	n := len(x) / 16 * 16
	for i := 0; i < n; i += 16 {
		a, b := (*[16]float32)(x[i:]), (*[16]float32)(y[i:])
		for l := range acc {
			acc[l] += float64(a[l]) * float64(b[l])
		}
	}
	var tail float64
	for i := n; i < len(x); i++ {
		tail += float64(x[i]) * float64(y[i])
	}
	return combine16(&acc) + tail
}

func combine16(acc *[16]float64) float64 {
	var c [4]float64
	for j := range c {
		c[j] = (acc[j] + acc[4+j]) + (acc[8+j] + acc[12+j])
	}
	return (c[0] + c[2]) + (c[1] + c[3])
}
