package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestSquareErrorCostAndMSE(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3}, 3)
	y := tensor.New([]float32{1.5, 2, 1}, 3)
	// (1-1.5)² = 0.25, 0, (3-1)² = 4
	tensortest.AllClose(t, SquareErrorCost(x, y), tensor.New([]float32{0.25, 0, 4}, 3), 0, 0)
	tensortest.AllClose(t, Func(SquareErrorCost).Forward(x, y), tensor.New([]float32{0.25, 0, 4}, 3), 0, 0)
	for _, tc := range []struct {
		m    *MSE
		want *tensor.Tensor
	}{
		{NewMSE(), tensor.Scalar(4.25 / 3)},
		{&MSE{Reduction: ReduceSum}, tensor.Scalar(4.25)},
		{&MSE{Reduction: ReduceNone}, tensor.New([]float32{0.25, 0, 4}, 3)},
	} {
		t.Run(tc.m.Reduction.String(), func(t *testing.T) {
			tensortest.AllClose(t, tc.m.Forward(x, y), tc.want, 1e-7, 1e-6)
		})
	}
	// Paddle's MSELoss docstring: input 1.5, label 1.7 gives 0.04000002 (0-D inputs)
	require.InDelta(t, 0.04000002, NewMSE().Forward(tensor.Scalar(1.5), tensor.Scalar(1.7)).Item(), 1e-8)
}

func TestRegressionGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := tensor.Randn(rng, 3, 4), tensor.Randn(rng, 3, 4)
	tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return SquareErrorCost(xs[0], xs[1]) },
		[]*tensor.Tensor{x, y}, tensortest.GradCheckOptions{})
	for _, r := range []Reduction{ReduceMean, ReduceSum, ReduceNone} {
		t.Run(r.String(), func(t *testing.T) {
			tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return MSE{Reduction: r}.Forward(xs[0], xs[1]) },
				[]*tensor.Tensor{x, y}, tensortest.GradCheckOptions{})
		})
	}
}

func TestNLL(t *testing.T) {
	logp := handLogits().LogSoftmax(1)
	w := tensor.New([]float32{1, 2, 3}, 3)
	for _, tc := range []struct {
		name  string
		l     NLL
		label *tensor.Tensor
		want  float64
	}{
		// the same numbers as CrossEntropy on the logits (see handLogits)
		{"mean", NLL{}, ints(2, 0, 1), 0.8634224},
		{"[N,1] labels", *NewNLL(), ints(2, 0, 1).Reshape(3, 1), 0.8634224},
		{"sum", NLL{Reduction: ReduceSum}, ints(2, 0, 1), 2.5902672},
		{"weighted", NLL{Weight: w}, ints(2, 0, 1), 0.8938093},
		// unlike CrossEntropy, a negative ignore index still divides by the rows not ignored:
		// (ln2 + ln(5/3))/2
		{"ignore -100", NLL{}, ints(2, 0, -100), 0.6019864},
		{"ignore 1", NLL{IgnoreIndex: new(1)}, ints(2, 0, 1), 0.6019864},
		{"all ignored", NLL{}, ints(-100, -100, -100), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.l.Forward(logp, tc.label)
			require.Equal(t, []int{}, got.Shape())
			require.InDelta(t, tc.want, got.Item(), 2e-6)
		})
	}
	none := NLL{Reduction: ReduceNone}.Forward(logp, ints(2, -100, 1))
	tensortest.AllClose(t, none, tensor.New([]float32{0.6931472, 0, 1.3862944}, 3), 2e-6, 0)

	// Paddle's nll_loss docstring: log_softmax of this input with labels [0, 2, 1, 1, 0] gives 1.07202101
	in := tensor.FromRows([][]float32{
		{0.88103855, 0.9908683, 0.6226845},
		{0.53331435, 0.07999352, 0.8549948},
		{0.25879037, 0.39530203, 0.698465},
		{0.73427284, 0.63575995, 0.18827209},
		{0.05689114, 0.0862954, 0.6325046}})
	require.InDelta(t, 1.07202101, NewNLL().Forward(in.LogSoftmax(1), ints(0, 2, 1, 1, 0)).Item(), 1e-6)

	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []NLL{{}, {Weight: w, IgnoreIndex: new(0)}, {Reduction: ReduceNone}} {
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return l.Forward(xs[0], ints(2, 0, 1)) },
			[]*tensor.Tensor{tensor.Randn(rng, 3, 3)}, tensortest.GradCheckOptions{})
	}
}

func TestBCEWithLogits(t *testing.T) {
	l3 := float32(math.Log(3))
	x := tensor.New([]float32{0, l3, -l3}, 3)
	y := tensor.New([]float32{1, 0, 1}, 3)
	// σ(0) = 1/2 → ln2; σ(ln3) = 3/4 with y = 0 → -ln(1/4) = ln4; σ(-ln3) = 1/4 with y = 1 → ln4
	tensortest.AllClose(t, BCEWithLogits{Reduction: ReduceNone}.Forward(x, y),
		tensor.New([]float32{math.Ln2, 2 * math.Ln2, 2 * math.Ln2}, 3), 1e-6, 0)
	require.InDelta(t, 5*math.Ln2/3, NewBCEWithLogits().Forward(x, y).Item(), 1e-6)
	require.InDelta(t, 5*math.Ln2, BCEWithLogits{Reduction: ReduceSum}.Forward(x, y).Item(), 2e-6)
	// PosWeight 2 multiplies positives by 1 + (2-1)·y = [2, 1, 2]: 2ln2 + ln4 + 2ln4 = 8ln2
	pw := BCEWithLogits{PosWeight: tensor.New([]float32{2}, 1), Reduction: ReduceSum}
	require.InDelta(t, 8*math.Ln2, pw.Forward(x, y).Item(), 4e-6)
	// Weight multiplies element-wise: [1, 0, 2] → ln2 + 2ln4 = 5ln2
	wt := BCEWithLogits{Weight: tensor.New([]float32{1, 0, 2}, 3), Reduction: ReduceSum}
	require.InDelta(t, 5*math.Ln2, wt.Forward(x, y).Item(), 4e-6)
	// a soft label 1/2 at ln3: -(½ln(3/4) + ½ln(1/4)) = ln4 - ½ln3
	soft := BCEWithLogits{Reduction: ReduceNone}.Forward(tensor.New([]float32{l3}, 1), tensor.New([]float32{0.5}, 1))
	require.InDelta(t, 2*math.Ln2-math.Log(3)/2, soft.Data()[0], 1e-6)
	// Paddle's docstring: logit [5, 1, 3], label [1, 0, 1] gives 0.45618808
	require.InDelta(t, 0.45618808, NewBCEWithLogits().Forward(tensor.New([]float32{5, 1, 3}, 3), y).Item(), 1e-7)
	// stable for large logits
	big := BCEWithLogits{Reduction: ReduceNone}.Forward(tensor.New([]float32{100, -100, 1000}, 3), tensor.New([]float32{0, 1, 1}, 3))
	require.Equal(t, []float32{100, 100, 0}, big.Data())
}

func TestBCEWithLogitsGrad(t *testing.T) {
	// the gradient is σ(x) - y, also at x = 0, where max(x,0) and |x| have kinks
	x := tensor.New([]float32{0, 0, 2}, 3).SetRequiresGrad(true)
	BCEWithLogits{Reduction: ReduceSum}.Forward(x, tensor.New([]float32{1, 0, 0.5}, 3)).Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{-0.5, 0.5, float32(1/(1+math.Exp(-2)) - 0.5)}, 3), 1e-6, 0)

	rng := rand.New(rand.NewPCG(1, 2))
	y := tensor.Uniform(rng, 0, 1, 2, 3)
	for _, b := range []BCEWithLogits{{}, {Reduction: ReduceNone}, {Reduction: ReduceSum},
		{PosWeight: tensor.New([]float32{1, 2, 3}, 3), Weight: tensor.Uniform(rng, 0.5, 1.5, 2, 1)}} {
		in := tensor.Randn(rng, 2, 3)
		in.Data()[0] = 0
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return b.Forward(xs[0], y) },
			[]*tensor.Tensor{in}, tensortest.GradCheckOptions{})
	}
}

func TestOtherPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"square shapes", func() { SquareErrorCost(tensor.Zeros(4, 1), tensor.Zeros(4)) },
			"losses: SquareErrorCost: input [4 1] and label [4] differ in shape"},
		{"mse reduction", func() { MSE{Reduction: -1}.Forward(tensor.Zeros(2), tensor.Zeros(2)) },
			"losses: MSE: unknown Reduction(-1)"},
		{"nll rank", func() { NewNLL().Forward(tensor.Zeros(2, 3, 4), ints(0, 1)) },
			"losses: NLL: input shape [2 3 4]: want [N, C] log-probabilities"},
		{"nll label", func() { NewNLL().Forward(tensor.Zeros(2, 3), ints(0, 3)) },
			"tensor: NLL: id 3 at index 1 is not an integer in [0, 3)"},
		{"bce label", func() { NewBCEWithLogits().Forward(tensor.Zeros(3), tensor.New([]float32{0, 1, 2}, 3)) },
			"losses: BCEWithLogits: label 2 at index 2 outside [0, 1]"},
		{"bce weight", func() { BCEWithLogits{Weight: tensor.Zeros(2, 3)}.Forward(tensor.Zeros(3), tensor.Zeros(3)) },
			"losses: BCEWithLogits: weights broadcast the loss to [2 3], beyond the input [3]"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}

func TestReductionString(t *testing.T) {
	require.Equal(t, "mean", ReduceMean.String())
	require.Equal(t, "sum", ReduceSum.String())
	require.Equal(t, "none", ReduceNone.String())
	require.Equal(t, "Reduction(9)", Reduction(9).String())
}
