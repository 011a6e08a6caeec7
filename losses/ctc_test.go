package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// TestCTCPaddleDocstring is the example of Paddle's ctc_loss docstring: its printed results are
// [3.9179852, 2.9076521] per sample and 1.1376063 for the mean.
func TestCTCPaddleDocstring(t *testing.T) {
	logits := tensor.New([]float32{
		4.17021990e-01, 7.20324516e-01, 1.14374816e-04,
		3.02332580e-01, 1.46755889e-01, 9.23385918e-02,

		1.86260208e-01, 3.45560730e-01, 3.96767467e-01,
		5.38816750e-01, 4.19194520e-01, 6.85219526e-01,

		2.04452246e-01, 8.78117442e-01, 2.73875929e-02,
		6.70467496e-01, 4.17304814e-01, 5.58689833e-01,

		1.40386939e-01, 1.98101491e-01, 8.00744593e-01,
		9.68261600e-01, 3.13424170e-01, 6.92322612e-01,

		8.76389146e-01, 8.94606650e-01, 8.50442126e-02,
		3.90547849e-02, 1.69830427e-01, 8.78142476e-01,
	}, 5, 2, 3)
	labels := tensor.FromRows([][]float32{{1, 2, 2}, {1, 2, 2}})
	none := CTC{Reduction: ReduceNone}.Forward(logits, labels, []int{5, 5}, []int{3, 3})
	tensortest.AllClose(t, none, tensor.New([]float32{3.9179852, 2.9076521}, 2), 1e-6, 1e-6)
	require.InDelta(t, 1.1376063, NewCTC().Forward(logits, labels, []int{5, 5}, []int{3, 3}).Item(), 1e-6)
	require.InDelta(t, 3.9179852+2.9076521, CTC{Reduction: ReduceSum}.Forward(logits, labels, []int{5, 5}, []int{3, 3}).Item(), 2e-6)
}

// TestCTCHand counts alignments by hand with uniform logits over 2 classes (blank 0), so every
// path has probability 2^-T.
func TestCTCHand(t *testing.T) {
	uniform := func(nt int) *tensor.Tensor { return tensor.Zeros(nt, 1, 2) }
	ctc := CTC{Reduction: ReduceNone}
	for _, tc := range []struct {
		name   string
		frames int
		labels []float32
		want   float64
	}{
		// "1" in 1 frame: one path, p = 1/2
		{"one frame", 1, []float32{1}, math.Ln2},
		// "1" in 2 frames: 11, _1, 1_ → p = 3/4
		{"two frames", 2, []float32{1}, math.Log(4.0 / 3)},
		// "11" in 3 frames needs 1_1: p = 1/8
		{"repeat", 3, []float32{1, 1}, 3 * math.Ln2},
		// "11" in 2 frames: no alignment
		{"impossible", 2, []float32{1, 1}, math.Inf(1)},
		// the empty label: only blanks, p = 2^-3
		{"empty", 3, nil, 3 * math.Ln2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := tensor.New(append(tc.labels, 0), 1, len(tc.labels)+1)
			x := uniform(tc.frames).SetRequiresGrad(true)
			got := ctc.Forward(x, lab, []int{tc.frames}, []int{len(tc.labels)})
			if math.IsInf(tc.want, 1) {
				require.True(t, math.IsInf(float64(got.Item()), 1))
				got.Backward()
				require.Equal(t, []float32{0, 0, 0, 0}, x.Grad().Data(), "no gradient")
				return
			}
			require.InDelta(t, tc.want, got.Item(), 1e-6)
		})
	}
	// frames beyond the input length are ignored and get no gradient
	x := tensor.New([]float32{0, 0, 5, -5}, 2, 1, 2).SetRequiresGrad(true)
	l := ctc.Forward(x, tensor.New([]float32{1}, 1, 1), []int{1}, []int{1})
	require.InDelta(t, math.Ln2, l.Item(), 1e-6)
	l.Backward()
	// d(-log softmax_1)/dx = softmax - onehot(1) = [0.5, -0.5] on frame 0
	require.Equal(t, []float32{0.5, -0.5, 0, 0}, x.Grad().Data())
}

func TestCTCGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	labels := tensor.FromRows([][]float32{{1, 1, 3}, {2, 3, 0}, {3, 0, 0}})
	inLens, labLens := []int{6, 5, 3}, []int{3, 2, 1}
	for _, r := range allReductions {
		for _, blank := range []int{0, 4} {
			l := CTC{Blank: blank, Reduction: r}
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
				return l.Forward(xs[0], labels, inLens, labLens)
			}, []*tensor.Tensor{tensor.Randn(rng, 6, 3, 5)}, tensortest.GradCheckOptions{})
		}
	}
	// NormByTimes divides each sample's gradient by its input length, and leaves the loss
	x := tensor.Randn(rng, 6, 3, 5)
	a, b := x.Clone().SetRequiresGrad(true), x.Clone().SetRequiresGrad(true)
	la := CTC{Reduction: ReduceSum}.Forward(a, labels, inLens, labLens)
	lb := CTC{Reduction: ReduceSum, NormByTimes: true}.Forward(b, labels, inLens, labLens)
	require.Equal(t, la.Item(), lb.Item())
	la.Backward()
	lb.Backward()
	ga, gb := a.Grad().Data(), b.Grad().Data()
	for i := range ga {
		sample := (i / 5) % 3
		require.InDelta(t, ga[i]/float32(inLens[sample]), gb[i], 1e-7, "element %d", i)
	}
	// a NoGrad input gives a NoGrad loss
	require.True(t, NewCTC().Forward(x.NoGrad(), labels, inLens, labLens).IsNoGrad())
}

func TestCTCPanics(t *testing.T) {
	x, lab := tensor.Zeros(4, 2, 3), tensor.FromRows([][]float32{{1, 2}, {2, 0}})
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"rank", func() { NewCTC().Forward(tensor.Zeros(4, 3), lab, []int{4, 4}, []int{2, 1}) },
			"losses: CTC: logits shape [4 3]: want [max_logit_length, batch_size, num_classes+1]"},
		{"labels", func() { NewCTC().Forward(x, tensor.Zeros(3, 2), []int{4, 4}, []int{2, 1}) },
			"losses: CTC: labels shape [3 2] does not fit logits [4 2 3]: want [2, max_label_length]"},
		{"lengths", func() { NewCTC().Forward(x, lab, []int{4}, []int{2, 1}) },
			"losses: CTC: 1 input lengths and 2 label lengths for a batch of 2"},
		{"input length", func() { NewCTC().Forward(x, lab, []int{5, 4}, []int{2, 1}) },
			"losses: CTC: sample 0: input length 5 outside [0, 4] or label length 2 outside [0, 2]"},
		{"blank label", func() { NewCTC().Forward(x, lab, []int{4, 4}, []int{2, 2}) },
			"losses: CTC: label 0 at [1, 1] is not a class in [0, 3) other than the blank 0"},
		{"blank", func() { CTC{Blank: 3}.Forward(x, lab, []int{4, 4}, []int{2, 1}) },
			"losses: CTC: blank 3 outside [0, 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}
