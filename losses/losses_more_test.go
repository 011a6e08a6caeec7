package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

var allReductions = []Reduction{ReduceMean, ReduceSum, ReduceNone}

func vec(v ...float32) *tensor.Tensor { return tensor.New(v, len(v)) }

// reduced checks a loss's three reductions against per-element values.
func reduced(t *testing.T, f func(Reduction) *tensor.Tensor, none []float64, tol float64) {
	t.Helper()
	sum := 0.0
	for _, v := range none {
		sum += v
	}
	got := f(ReduceNone)
	require.Len(t, got.Data(), len(none))
	for i, v := range none {
		require.InDelta(t, v, got.Data()[i], tol, "element %d", i)
	}
	require.Equal(t, []int{}, f(ReduceSum).Shape())
	require.InDelta(t, sum, f(ReduceSum).Item(), tol)
	require.InDelta(t, sum/float64(len(none)), f(ReduceMean).Item(), tol)
}

func TestL1(t *testing.T) {
	x, y := vec(1, 2, 3), vec(1.5, 2, 1)
	reduced(t, func(r Reduction) *tensor.Tensor { return L1{Reduction: r}.Forward(x, y) }, []float64{0.5, 0, 2}, 1e-7)
	require.InDelta(t, 2.5/3, NewL1().Forward(x, y).Item(), 1e-7)
	// the gradient is sign(d)/n, 0 where d = 0
	xg := vec(1, 2, 3).SetRequiresGrad(true)
	L1{Reduction: ReduceSum}.Forward(xg, y).Backward()
	require.Equal(t, []float32{-1, 0, 1}, xg.Grad().Data())

	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range allReductions {
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return L1{Reduction: r}.Forward(xs[0], xs[1]) },
			[]*tensor.Tensor{tensor.Randn(rng, 3, 4), tensor.Randn(rng, 3, 4).AddScalar(0.1)}, tensortest.GradCheckOptions{})
	}
}

// TestSmoothL1 checks Paddle's delta semantics by hand: d = [0.5, 0, 2, -3].
func TestSmoothL1(t *testing.T) {
	x, y := vec(1.5, 1, 3, -2), vec(1, 1, 1, 1)
	// δ 1 (default): 0.5·0.25, 0, 1·(2-0.5), 1·(3-0.5)
	reduced(t, func(r Reduction) *tensor.Tensor { return SmoothL1{Reduction: r}.Forward(x, y) },
		[]float64{0.125, 0, 1.5, 2.5}, 1e-7)
	// δ 2: 0.125, 0, 0.5·4 = 2 (|d| = δ is quadratic, and both forms agree there), 2·(3-1) = 4.
	// PyTorch's SmoothL1Loss(beta=2) would give 0.0625, 0, 1, 2: Paddle's divided by δ.
	reduced(t, func(r Reduction) *tensor.Tensor { return SmoothL1{Delta: 2, Reduction: r}.Forward(x, y) },
		[]float64{0.125, 0, 2, 4}, 1e-7)
	require.InDelta(t, 4.125/4, NewSmoothL1().Forward(x, y).Item(), 1e-7)
	// the gradient is d inside, ±δ outside
	xg := vec(1.5, 1, 3, -2).SetRequiresGrad(true)
	SmoothL1{Delta: 0.5, Reduction: ReduceSum}.Forward(xg, y).Backward()
	require.Equal(t, []float32{0.5, 0, 0.5, -0.5}, xg.Grad().Data())

	// away from |d| = δ, where the second derivative jumps
	in := tensor.FromRows([][]float32{{-2.1, -0.7, 0.05, 0.4}, {1.3, 2.6, -0.2, 0.9}})
	lab := tensor.FromRows([][]float32{{0.3, -0.1, 0.4, -1.1}, {0.2, 0.1, 0.6, 0.3}})
	for _, r := range allReductions {
		for _, d := range []float32{0, 0.5, 2} {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return SmoothL1{Delta: d, Reduction: r}.Forward(xs[0], xs[1])
			}, []*tensor.Tensor{in.Clone(), lab.Clone()}, tensortest.GradCheckOptions{})
		}
	}
}

// TestKLDiv checks the divergence of [1/4, 1/4, 1/2] from [1/2, 1/4, 1/4] by hand: per element
// 1/4·ln(1/2), 0, 1/2·ln 2, summing to ln2/4.
func TestKLDiv(t *testing.T) {
	ln2 := math.Ln2
	in := tensor.New([]float32{float32(math.Log(0.5)), float32(math.Log(0.25)), float32(math.Log(0.25))}, 1, 3)
	p := tensor.New([]float32{0.25, 0.25, 0.5}, 1, 3)
	logP := tensor.New([]float32{float32(math.Log(0.25)), float32(math.Log(0.25)), float32(math.Log(0.5))}, 1, 3)
	for _, lt := range []bool{false, true} {
		label := p
		if lt {
			label = logP
		}
		reduced(t, func(r Reduction) *tensor.Tensor { return KLDiv{Reduction: r, LogTarget: lt}.Forward(in, label) },
			[]float64{-ln2 / 4, 0, ln2 / 2}, 2e-7)
		// batchmean divides the sum by the batch size, 1 here
		require.InDelta(t, ln2/4, KLDiv{Reduction: ReduceBatchMean, LogTarget: lt}.Forward(in, label).Item(), 2e-7)
	}
	require.InDelta(t, ln2/12, NewKLDiv().Forward(in, p).Item(), 1e-7)
	// batch of 2: the same row twice, batchmean ln2/4, mean ln2/12
	in2, p2 := tensor.Concat([]*tensor.Tensor{in, in}, 0), tensor.Concat([]*tensor.Tensor{p, p}, 0)
	require.InDelta(t, ln2/4, KLDiv{Reduction: ReduceBatchMean}.Forward(in2, p2).Item(), 2e-7)

	// a zero or negative label contributes 0, even against log 0 = -Inf, and passes no gradient
	x := vec(float32(math.Inf(-1)), -1, -2).SetRequiresGrad(true)
	l := KLDiv{Reduction: ReduceSum}.Forward(x, vec(0, -0.5, 0.5))
	require.InDelta(t, 0.5*(math.Log(0.5)+2), l.Item(), 1e-6)
	l.Backward()
	require.Equal(t, []float32{0, 0, -0.5}, x.Grad().Data())

	rng := rand.New(rand.NewPCG(5, 6))
	lab := tensor.Uniform(rng, 0.05, 1, 3, 4)
	lab.Data()[2] = 0
	for _, r := range []Reduction{ReduceMean, ReduceSum, ReduceNone, ReduceBatchMean} {
		for _, lt := range []bool{false, true} {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return KLDiv{Reduction: r, LogTarget: lt}.Forward(xs[0], lab)
			}, []*tensor.Tensor{tensor.Randn(rng, 3, 4).LogSoftmax(1).Detach()}, tensortest.GradCheckOptions{})
		}
	}
}

func TestBCE(t *testing.T) {
	x, y := vec(0.5, 0.8, 0.25), vec(1, 0, 0.5)
	// -ln 0.5; -ln 0.2; -(0.5·ln 0.25 + 0.5·ln 0.75)
	none := []float64{math.Ln2, math.Log(5), -(0.5*math.Log(0.25) + 0.5*math.Log(0.75))}
	reduced(t, func(r Reduction) *tensor.Tensor { return BCE{Reduction: r}.Forward(x, y) }, none, 1e-6)
	// gradient (x-y)/(x(1-x)): -0.5/0.25, 0.8/0.16, -0.25/0.1875
	xg := vec(0.5, 0.8, 0.25).SetRequiresGrad(true)
	BCE{Reduction: ReduceSum}.Forward(xg, y).Backward()
	tensortest.AllClose(t, xg.Grad(), vec(-2, 5, -4.0/3), 1e-6, 1e-6)
	// a weight broadcast over the last axis multiplies loss and gradient
	w := BCE{Weight: vec(2), Reduction: ReduceSum}.Forward(x, y)
	require.InDelta(t, 2*(none[0]+none[1]+none[2]), w.Item(), 1e-5)

	// at 0 and 1 the logs are clamped at -100 and the gradient's denominator at 1e-12
	xe := vec(0, 0, 1, 1).SetRequiresGrad(true)
	l := BCE{Reduction: ReduceNone}.Forward(xe, vec(0, 1, 1, 0))
	require.Equal(t, []float32{0, 100, 0, 100}, l.Data())
	l.Sum().Backward()
	require.Equal(t, []float32{0, -1e12, 0, 1e12}, xe.Grad().Data())

	rng := rand.New(rand.NewPCG(7, 8))
	lab := tensor.Uniform(rng, 0, 1, 3, 4)
	lab.Data()[0], lab.Data()[1] = 0, 1
	for _, r := range allReductions {
		for _, wt := range []*tensor.Tensor{nil, tensor.Uniform(rng, 0.5, 1.5, 4)} {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return BCE{Weight: wt, Reduction: r}.Forward(xs[0], lab)
			}, []*tensor.Tensor{tensor.Uniform(rng, 0.1, 0.9, 3, 4)}, tensortest.GradCheckOptions{Eps: 1e-3})
		}
	}
	// evaluation: a NoGrad input gives a NoGrad loss
	require.True(t, NewBCE().Forward(x.NoGrad(), y).IsNoGrad())
}

func TestMarginRanking(t *testing.T) {
	x, o, y := vec(1, 2, 3), vec(2, 1, 3), vec(1, 1, -1)
	// -y·(x-o) = [1, -1, 0]: margin 0 → [1, 0, 0]; margin 0.5 → [1.5, 0, 0.5]
	reduced(t, func(r Reduction) *tensor.Tensor { return MarginRanking{Reduction: r}.Forward(x, o, y) }, []float64{1, 0, 0}, 1e-7)
	reduced(t, func(r Reduction) *tensor.Tensor { return MarginRanking{Margin: 0.5, Reduction: r}.Forward(x, o, y) },
		[]float64{1.5, 0, 0.5}, 1e-7)
	xg, og := vec(1, 2, 3).SetRequiresGrad(true), vec(2, 1, 3).SetRequiresGrad(true)
	MarginRanking{Margin: 0.5, Reduction: ReduceSum}.Forward(xg, og, y).Backward()
	require.Equal(t, []float32{-1, 0, 1}, xg.Grad().Data())
	require.Equal(t, []float32{1, 0, -1}, og.Grad().Data())

	in, oth := vec(0.3, -1.2, 0.8, 2, -0.4), vec(-0.5, 0.2, 0.9, 0.1, 0.6)
	lab := vec(1, -1, 1, -1, 1)
	for _, r := range allReductions {
		for _, m := range []float32{0, 0.25} {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return MarginRanking{Margin: m, Reduction: r}.Forward(xs[0], xs[1], lab)
			}, []*tensor.Tensor{in.Clone(), oth.Clone()}, tensortest.GradCheckOptions{})
		}
	}
}

func TestHingeEmbedding(t *testing.T) {
	x, y := vec(0.3, 0.3, 2, 0.5), vec(1, -1, -1, 0)
	// label 1: x; label -1: max(0, 1-x); other labels 0 (PyTorch would give 0.5 + 0.5 for the last)
	reduced(t, func(r Reduction) *tensor.Tensor { return HingeEmbedding{Reduction: r}.Forward(x, y) },
		[]float64{0.3, 0.7, 0, 0}, 1e-7)
	m := float32(2.5)
	reduced(t, func(r Reduction) *tensor.Tensor { return HingeEmbedding{Margin: &m, Reduction: r}.Forward(x, y) },
		[]float64{0.3, 2.2, 0.5, 0}, 1e-6)
	require.InDelta(t, 0.25, NewHingeEmbedding().Forward(x, y).Item(), 1e-7)

	in := tensor.FromRows([][]float32{{0.3, 1.6, 0.2}, {0.7, 0.1, 2.2}})
	lab := tensor.FromRows([][]float32{{1, -1, -1}, {-1, 1, -1}})
	for _, r := range allReductions {
		for _, mg := range []*float32{nil, &m} {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return HingeEmbedding{Margin: mg, Reduction: r}.Forward(xs[0], lab)
			}, []*tensor.Tensor{in.Clone()}, tensortest.GradCheckOptions{})
		}
	}
}

func TestCosineEmbedding(t *testing.T) {
	x1 := tensor.FromRows([][]float32{{1, 0}, {1, 1}, {3, 4}})
	x2 := tensor.FromRows([][]float32{{1, 0}, {1, -1}, {4, 3}})
	y := vec(1, -1, -1)
	// cos = 1, 0, 24/25: label 1 → 1 - 1 = 0; label -1 → max(0, cos - margin)
	reduced(t, func(r Reduction) *tensor.Tensor { return CosineEmbedding{Reduction: r}.Forward(x1, x2, y) },
		[]float64{0, 0, 0.96}, 1e-6)
	reduced(t, func(r Reduction) *tensor.Tensor { return CosineEmbedding{Margin: 0.5, Reduction: r}.Forward(x1, x2, y) },
		[]float64{0, 0, 0.46}, 1e-6)
	// one pair of [M] vectors with a label [1] or []
	one := CosineEmbedding{Reduction: ReduceNone}.Forward(vec(3, 4), vec(4, 3), vec(1))
	require.Equal(t, []int{1}, one.Shape())
	require.InDelta(t, 0.04, one.Data()[0], 1e-6)
	require.InDelta(t, 0.04, NewCosineEmbedding().Forward(vec(3, 4), vec(4, 3), tensor.Scalar(1)).Item(), 1e-6)
	// zero vectors: Paddle's 1e-11 keeps the cosine 0, not NaN
	require.Equal(t, float32(1), NewCosineEmbedding().Forward(vec(0, 0), vec(1, 2), vec(1)).Item())

	rng := rand.New(rand.NewPCG(9, 10))
	a, b := tensor.Randn(rng, 4, 3), tensor.Randn(rng, 4, 3)
	lab := vec(1, -1, -1, 1)
	for _, r := range allReductions {
		for _, m := range []float32{-0.9, 0} { // -0.9 keeps every dissimilar pair's hinge open
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return CosineEmbedding{Margin: m, Reduction: r}.Forward(xs[0], xs[1], lab)
			}, []*tensor.Tensor{a.Clone(), b.Clone()}, tensortest.GradCheckOptions{})
		}
	}
}

func TestMoreLossPanics(t *testing.T) {
	neg := float32(-1)
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"l1 shapes", func() { NewL1().Forward(tensor.Zeros(2, 1), tensor.Zeros(2)) },
			"losses: L1: input [2 1] and label [2] differ in shape"},
		{"batchmean elsewhere", func() { MSE{Reduction: ReduceBatchMean}.Forward(tensor.Zeros(2), tensor.Zeros(2)) },
			"losses: MSE: reduction batchmean is KLDiv's only"},
		{"smooth delta", func() { SmoothL1{Delta: -1}.Forward(tensor.Zeros(2), tensor.Zeros(2)) },
			"losses: SmoothL1: Delta -1 must be positive and finite"},
		{"kl reduction", func() { KLDiv{Reduction: 7}.Forward(tensor.Zeros(2), tensor.Zeros(2)) },
			"losses: KLDiv: unknown Reduction(7)"},
		{"kl batchmean 0-D", func() { KLDiv{Reduction: ReduceBatchMean}.Forward(tensor.Scalar(0), tensor.Scalar(1)) },
			"losses: KLDiv: batchmean of a 0-D input: there is no batch axis"},
		{"bce input", func() { NewBCE().Forward(vec(0.5, 1.5), vec(0, 1)) },
			"losses: BCE: input 1.5 at index 1 outside [0, 1]: BCE takes probabilities (use BCEWithLogits on logits)"},
		{"bce label", func() { NewBCE().Forward(vec(0.5, 0.5), vec(0, -1)) },
			"losses: BCE: label -1 at index 1 outside [0, 1]"},
		{"bce weight", func() { BCE{Weight: tensor.Zeros(2, 2)}.Forward(vec(0.5, 0.5), vec(0, 1)) },
			"losses: BCE: weight [2 2] broadcasts the loss to [2 2], beyond the input [2]"},
		{"ranking shapes", func() { NewMarginRanking().Forward(vec(1, 2), vec(1, 2), vec(1)) },
			"losses: MarginRanking: input [2], other [2] and label [1] differ in shape"},
		{"hinge shapes", func() { HingeEmbedding{Margin: &neg}.Forward(vec(1, 2), vec(1)) },
			"losses: HingeEmbedding: input [2] and label [1] differ in shape"},
		{"cosine inputs", func() { NewCosineEmbedding().Forward(tensor.Zeros(2, 3), tensor.Zeros(2, 4), vec(1, 1)) },
			"losses: CosineEmbedding: inputs [2 3] and [2 4]: want the same shape, [N, M] or [M]"},
		{"cosine rank", func() { NewCosineEmbedding().Forward(tensor.Zeros(1, 2, 3), tensor.Zeros(1, 2, 3), vec(1)) },
			"losses: CosineEmbedding: inputs [1 2 3] and [1 2 3]: want the same shape, [N, M] or [M]"},
		{"cosine label", func() { NewCosineEmbedding().Forward(tensor.Zeros(2, 3), tensor.Zeros(2, 3), vec(1)) },
			"losses: CosineEmbedding: label shape [1] does not fit inputs [2 3]: want [2]"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}
