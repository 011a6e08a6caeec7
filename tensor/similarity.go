package tensor

import (
	"math"
	"slices"
)

// CosineSimilarity returns the cosine similarity of x1 and x2 along axis, as
// paddle.nn.functional.cosine_similarity(x1, x2, axis, eps) (Paddle's defaults are axis 1 and
// eps 1e-8):
//
//	cos = Σ x1·x2 / sqrt(max(Σ x1² · Σ x2², eps²))
//
// the sums running over axis, which is removed from the shape. The other axes broadcast. eps
// bounds the product of the squared norms, as Paddle does; PyTorch 1.13 instead bounds each
// norm, x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)), which differs only when a norm is below eps.
// The gradient flows to both inputs; where the bound applies the denominator passes none. It
// panics if the ranks differ, axis is out of range, the two sizes along axis differ, the other
// axes do not broadcast, or eps is negative or NaN.
func CosineSimilarity(x1, x2 *Tensor, axis int, eps float32) *Tensor {
	const op = "CosineSimilarity"
	s1, s2 := x1.Shape(), x2.Shape()
	if len(s1) != len(s2) {
		panicf(op, "x1 %v and x2 %v differ in rank", s1, s2)
	}
	ax := normAxis(op, axis, len(s1))
	if s1[ax] != s2[ax] {
		panicf(op, "x1 %v and x2 %v differ along axis %d", s1, s2, axis)
	}
	if !(eps >= 0) {
		panicf(op, "eps %v must be >= 0", eps)
	}
	o1, o2 := slices.Delete(slices.Clone(s1), ax, ax+1), slices.Delete(slices.Clone(s2), ax, ax+1)
	if _, ok := broadcast(o1, o2); !ok {
		panicf(op, "x1 %v and x2 %v do not broadcast outside axis %d", s1, s2, axis)
	}
	w12 := x1.Mul(x2).Sum(ax)
	w1 := x1.Square().Sum(ax)
	w2 := x2.Square().Sum(ax)
	n12 := w1.Mul(w2).Clip(eps*eps, float32(math.Inf(1))).Sqrt()
	return w12.Div(n12)
}
