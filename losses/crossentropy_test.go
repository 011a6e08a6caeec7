package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// handLogits are chosen so that every log-softmax is a log of a small integer ratio:
//
//	row 0 [0, 0, ln2]    lse = ln4  log p = [-ln4, -ln4, -ln2]
//	row 1 [ln3, 0, 0]    lse = ln5  log p = [ln3-ln5, -ln5, -ln5]
//	row 2 [0, ln2, ln5]  lse = ln8  log p = [-ln8, -ln4, ln5-ln8]
//
// With labels [2, 0, 1] the rows' losses are ln2 = 0.6931472, ln(5/3) = 0.5108256, ln4 = 1.3862944.
func handLogits() *tensor.Tensor {
	l2, l3, l5 := float32(math.Ln2), float32(math.Log(3)), float32(math.Log(5))
	return tensor.FromRows([][]float32{{0, 0, l2}, {l3, 0, 0}, {0, l2, l5}})
}

func ints(v ...int) *tensor.Tensor {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(f, len(f))
}

func TestCrossEntropyHandValues(t *testing.T) {
	w := tensor.New([]float32{1, 2, 3}, 3)
	labels := ints(2, 0, 1)
	for _, tc := range []struct {
		name  string
		ce    CrossEntropy
		label *tensor.Tensor
		want  float64
	}{
		// (ln2 + ln(5/3) + ln4)/3 = ln(40/3)/3
		{"mean", CrossEntropy{}, labels, 0.8634224},
		{"mean [N,1] labels", CrossEntropy{}, labels.Reshape(3, 1), 0.8634224},
		{"constructor", *NewCrossEntropy(), labels, 0.8634224},
		// ln(40/3)
		{"sum", CrossEntropy{Reduction: ReduceSum}, labels, 2.5902672},
		// weight[label] = [3, 1, 2]: (3ln2 + ln(5/3) + 2ln4) / (3+1+2) = 5.3628559/6
		{"weighted mean", CrossEntropy{Weight: w}, labels, 0.8938093},
		{"weighted sum", CrossEntropy{Weight: w, Reduction: ReduceSum}, labels, 5.3628559},
		// non-negative ignore_index: row 2 (label 1) ignored, divide by the 2 rows left:
		// (ln2 + ln(5/3))/2
		{"ignore 1 mean", CrossEntropy{IgnoreIndex: new(1)}, labels, 0.6019864},
		{"ignore 1 sum", CrossEntropy{IgnoreIndex: new(1), Reduction: ReduceSum}, labels, 1.2039728},
		// negative ignore_index: row 2 ignored but the mean is over all N = 3 rows:
		// (ln2 + ln(5/3))/3
		{"ignore -1 mean", CrossEntropy{IgnoreIndex: new(-1)}, ints(2, 0, -1), 0.4013243},
		{"default ignore -100 mean", CrossEntropy{}, ints(2, 0, -100), 0.4013243},
		// weight with ignore: rows weigh [3, 1, 0]: (3ln2 + ln(5/3))/4, for either sign
		{"weighted ignore 1", CrossEntropy{Weight: w, IgnoreIndex: new(1)}, labels, 0.6475668},
		{"weighted ignore -100", CrossEntropy{Weight: w}, ints(2, 0, -100), 0.6475668},
		// every row ignored: 0/0 counts as 0/1
		{"all ignored", CrossEntropy{IgnoreIndex: new(1)}, ints(1, 1, 1), 0},
		{"all ignored weighted", CrossEntropy{Weight: w, IgnoreIndex: new(1)}, ints(1, 1, 1), 0},
		// soft labels, rows [.5 0 .5], [0 1 0], [.25 .25 .5]:
		// 1.5ln2 = 1.0397208, ln5 = 1.6094379, 2.75ln2 - .5ln5 = 1.1014358; mean 1.2501982
		{"soft", CrossEntropy{SoftLabel: true}, softLabels(), 1.2501982},
		// row weights Σ label·weight = [2, 2, 2.25]: (2·1.0397208 + 2·1.6094379 + 2.25·1.1014358)/6.25
		{"soft weighted", CrossEntropy{SoftLabel: true, Weight: w}, softLabels(), 1.2442477},
		// smoothing ε = 0.3, C = 3: targets [.1 .1 .8], [.8 .1 .1], [.1 .8 .1]:
		// 1.2ln2 = 0.8317766, .8ln(5/3) + .2ln5 = 0.7305481, 2.2ln2 - .1ln5 = 1.3639800
		{"smoothing", CrossEntropy{LabelSmoothing: 0.3}, labels, 0.9754349},
		{"smoothing [N,1]", CrossEntropy{LabelSmoothing: 0.3}, labels.Reshape(3, 1), 0.9754349},
		// row weights [2.7, 1.3, 2.0]: (2.7·0.8317766 + 1.3·0.7305481 + 2·1.3639800)/6
		{"smoothing weighted", CrossEntropy{LabelSmoothing: 0.3, Weight: w}, labels, 0.9872449},
		// smoothing with an ignored row (oar's extension): (0.8317766 + 0.7305481)/2
		{"smoothing ignore 1", CrossEntropy{LabelSmoothing: 0.3, IgnoreIndex: new(1)}, labels, 0.7811624},
		// smoothing soft labels: ε = 1 turns every target uniform: mean of -Σ log p /3 per row
		// row 0 (2ln4 + ln2)/3 = 5ln2/3, row 1 (ln5-ln3 + 2ln5)/3, row 2 (ln8 + ln4 + ln8-ln5)/3,
		// mean (5ln2 + 3ln5 - ln3 + 8ln2 - ln5)/9
		{"smoothing soft ε=1", CrossEntropy{SoftLabel: true, LabelSmoothing: 1}, softLabels(), 1.2367974},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ce.Forward(handLogits(), tc.label)
			require.Equal(t, []int{}, got.Shape())
			require.InDelta(t, tc.want, got.Item(), 2e-6)
		})
	}
}

func softLabels() *tensor.Tensor {
	return tensor.FromRows([][]float32{{0.5, 0, 0.5}, {0, 1, 0}, {0.25, 0.25, 0.5}})
}

func TestCrossEntropyNoSoftmax(t *testing.T) {
	p := tensor.FromRows([][]float32{{0.25, 0.25, 0.5}, {0.6, 0.2, 0.2}})
	got := CrossEntropy{NoSoftmax: true}.Forward(p, ints(2, 0))
	require.InDelta(t, (math.Ln2-math.Log(0.6))/2, got.Item(), 1e-6) // -log p[label], mean
	// a zero probability is clamped: large, finite, and the gradient has no NaN
	z := tensor.FromRows([][]float32{{0, 1}}).SetRequiresGrad(true)
	loss := CrossEntropy{NoSoftmax: true}.Forward(z, ints(0))
	require.InDelta(t, 126*math.Ln2, loss.Item(), 1e-4) // -log 2^-126
	loss.Backward()
	require.True(t, z.Grad().AllFinite())
}

func TestCrossEntropyNoneShapes(t *testing.T) {
	x := handLogits()
	for _, tc := range []struct {
		name  string
		ce    CrossEntropy
		label *tensor.Tensor
		shape []int
		want  []float32
	}{
		{"[N] labels", CrossEntropy{Reduction: ReduceNone}, ints(2, 0, 1), []int{3}, []float32{0.6931472, 0.5108256, 1.3862944}},
		{"[N,1] labels", CrossEntropy{Reduction: ReduceNone}, ints(2, 0, 1).Reshape(3, 1), []int{3, 1}, []float32{0.6931472, 0.5108256, 1.3862944}},
		{"ignored row is 0", CrossEntropy{Reduction: ReduceNone}, ints(2, -100, 1), []int{3}, []float32{0.6931472, 0, 1.3862944}},
		{"weighted", CrossEntropy{Reduction: ReduceNone, Weight: tensor.New([]float32{1, 2, 3}, 3)}, ints(2, 0, 1), []int{3}, []float32{3 * 0.6931472, 0.5108256, 2 * 1.3862944}},
		{"soft keeps a trailing 1", CrossEntropy{Reduction: ReduceNone, SoftLabel: true}, softLabels(), []int{3, 1}, []float32{1.0397208, 1.6094379, 1.1014358}},
		{"smoothing [N] gives [N,1]", CrossEntropy{Reduction: ReduceNone, LabelSmoothing: 0.3}, ints(2, 0, 1), []int{3, 1}, []float32{0.8317766, 0.7305481, 1.3639800}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ce.Forward(x, tc.label)
			tensortest.AllClose(t, got, tensor.New(tc.want, tc.shape...), 2e-6, 1e-6)
		})
	}
}

func TestCrossEntropyHigherRank(t *testing.T) {
	// [2, 3, C] logits with [2, 3] labels equal the [6, C] case row by row
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.Randn(rng, 2, 3, 4)
	y := ints(0, 1, 2, 3, 0, 1)
	got := CrossEntropy{Reduction: ReduceNone}.Forward(x, y.Reshape(2, 3))
	want := CrossEntropy{Reduction: ReduceNone}.Forward(x.Reshape(6, 4), y)
	require.Equal(t, []int{2, 3}, got.Shape())
	require.Equal(t, want.Data(), got.Data())
}

func TestCrossEntropyStable(t *testing.T) {
	x := tensor.FromRows([][]float32{{1000, 0}, {-1000, 1000}})
	got := CrossEntropy{Reduction: ReduceNone}.Forward(x, ints(0, 0))
	require.Equal(t, []float32{0, 2000}, got.Data())
}

func TestCrossEntropyGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := tensor.Uniform(rng, 0.5, 2, 5)
	labels := ints(0, 4, 2, 1)
	withIgnored := ints(0, 4, -100, 1)
	soft := tensor.Uniform(rng, 0, 1, 4, 5)
	probs := tensor.Uniform(rng, 0.2, 1, 4, 5)
	for _, tc := range []struct {
		name  string
		ce    CrossEntropy
		input *tensor.Tensor
		label *tensor.Tensor
	}{
		{"mean", CrossEntropy{}, nil, labels},
		{"sum", CrossEntropy{Reduction: ReduceSum}, nil, labels},
		{"none", CrossEntropy{Reduction: ReduceNone}, nil, labels},
		{"[N,1] labels", CrossEntropy{}, nil, labels.Reshape(4, 1)},
		{"weight", CrossEntropy{Weight: w}, nil, labels},
		{"weight none", CrossEntropy{Weight: w, Reduction: ReduceNone}, nil, labels},
		{"ignore default", CrossEntropy{}, nil, withIgnored},
		{"ignore 2", CrossEntropy{IgnoreIndex: new(2)}, nil, labels},
		{"ignore 2 weight", CrossEntropy{IgnoreIndex: new(2), Weight: w}, nil, labels},
		{"soft", CrossEntropy{SoftLabel: true}, nil, soft},
		{"soft weight", CrossEntropy{SoftLabel: true, Weight: w}, nil, soft},
		{"soft none", CrossEntropy{SoftLabel: true, Reduction: ReduceNone}, nil, soft},
		{"smoothing", CrossEntropy{LabelSmoothing: 0.1}, nil, labels},
		{"smoothing weight ignore", CrossEntropy{LabelSmoothing: 0.1, Weight: w}, nil, withIgnored},
		{"no softmax", CrossEntropy{NoSoftmax: true}, probs, labels},
		{"no softmax soft", CrossEntropy{NoSoftmax: true, SoftLabel: true}, probs, soft},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := tc.input
			if x == nil {
				x = tensor.Randn(rng, 4, 5)
			}
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return tc.ce.Forward(xs[0], tc.label)
			}, []*tensor.Tensor{x}, tensortest.GradCheckOptions{})
		})
	}
}

func TestCrossEntropyPanics(t *testing.T) {
	x := tensor.Zeros(4, 10)
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"label out of range", func() { NewCrossEntropy().Forward(x, ints(1, 2, 3, 10)) },
			"tensor: SoftmaxCrossEntropy: id 10 at index 3 is not an integer in [0, 10)"},
		{"negative label", func() { NewCrossEntropy().Forward(x, ints(1, -1, 3, 4)) },
			"tensor: SoftmaxCrossEntropy: id -1 at index 1 is not an integer in [0, 10)"},
		{"not an integer", func() { NewCrossEntropy().Forward(x, tensor.New([]float32{1, 2.5, 3, 4}, 4)) },
			"tensor: SoftmaxCrossEntropy: id 2.5 at index 1 is not an integer in [0, 10)"},
		{"NaN", func() { NewCrossEntropy().Forward(x, tensor.New([]float32{1, 2, float32(math.NaN()), 4}, 4)) },
			"tensor: SoftmaxCrossEntropy: id NaN at index 2 is not an integer in [0, 10)"},
		{"label out of range, weighted", func() { CrossEntropy{Weight: tensor.Ones(10)}.Forward(x, ints(1, 2, 3, 10)) },
			"tensor: CrossEntropy: id 10 at index 3 is not an integer in [0, 10)"},
		{"ignore index out of range is not a label", func() { CrossEntropy{IgnoreIndex: new(255), LabelSmoothing: 0.1}.Forward(x, ints(1, 255, 3, -100)) },
			"tensor: CrossEntropy: id -100 at index 3 is not an integer in [0, 10)"},
		{"wrong count", func() { NewCrossEntropy().Forward(x, ints(1, 2, 3)) },
			"losses: CrossEntropy: label shape [3] does not fit input [4 10]: want [4] or [4 1]"},
		{"wrong shape", func() { NewCrossEntropy().Forward(x, ints(1, 2, 3, 4).Reshape(2, 2)) },
			"losses: CrossEntropy: label shape [2 2] does not fit input [4 10]: want [4] or [4 1]"},
		{"soft shape", func() { CrossEntropy{SoftLabel: true}.Forward(x, tensor.Zeros(4, 9)) },
			"losses: CrossEntropy: input [4 10] and label [4 9] differ in shape"},
		{"weight", func() { CrossEntropy{Weight: tensor.Zeros(9)}.Forward(x, ints(1, 2, 3, 4)) },
			"losses: CrossEntropy: weight shape [9], want [10] (one per class)"},
		{"smoothing", func() { CrossEntropy{LabelSmoothing: 1.5}.Forward(x, ints(1, 2, 3, 4)) },
			"losses: CrossEntropy: label smoothing 1.5 outside [0, 1]"},
		{"soft ignore", func() { CrossEntropy{SoftLabel: true, IgnoreIndex: new(0)}.Forward(x, tensor.Zeros(4, 10)) },
			"losses: CrossEntropy: ignore index 0 with soft labels, which ignore nothing: leave IgnoreIndex nil"},
		{"reduction", func() { CrossEntropy{Reduction: 7}.Forward(x, ints(1, 2, 3, 4)) },
			"losses: CrossEntropy: unknown Reduction(7)"},
		{"scalar input", func() { NewCrossEntropy().Forward(tensor.Scalar(1), ints(0)) },
			"losses: CrossEntropy: input shape []: want [..., C] with at least one class"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}
