package tensor_test

import (
	"errors"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestNewTensorsRequireNoGrad(t *testing.T) {
	x := tensor.New([]float32{1, 2}, 2)
	require.False(t, x.RequiresGrad(), "Paddle's default: stop_gradient=True")
	y := x.Mul(x)
	require.False(t, y.RequiresGrad())
	require.True(t, y.IsLeaf(), "no graph is recorded when nothing requires a gradient")
	requirePanic(t, "tensor: Backward: output has shape [2], want one element; use BackwardWith to give its gradient", func() { y.Backward() })
	requirePanic(t, "tensor: Backward: tensor of shape [] does not require a gradient: no leaf it was computed from has SetRequiresGrad(true)", func() { y.Sum().Backward() })
}

func TestBackwardAccumulatesUntilClearGrad(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	loss := func() *tensor.Tensor { return x.Mul(x).Sum() } // d/dx = 2x
	loss().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{2, 4, 6}, 3), 0, 0)
	loss().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{4, 8, 12}, 3), 0, 0)
	x.ClearGrad()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{0, 0, 0}, 3), 0, 0)
	loss().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{2, 4, 6}, 3), 0, 0)
}

func TestBackwardWith(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	y := x.Scale(3)
	y.BackwardWith(tensor.New([]float32{1, 10, 100}, 3))
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{3, 30, 300}, 3), 0, 0)
	requirePanic(t, "tensor: BackwardWith: grad shape [2] differs from output shape [3]", func() {
		x.Scale(2).BackwardWith(tensor.New([]float32{1, 2}, 2))
	})
	x.ClearGrad()
	x.Scale(2).BackwardWith(nil) // nil means ones
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{2, 2, 2}, 3), 0, 0)
}

func TestGraphReleasedAfterBackward(t *testing.T) {
	x := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	h := x.Exp()
	loss := h.Sum()
	loss.Backward()
	requirePanic(t, "tensor: Backward: the graph of this [] tensor was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice",
		func() { loss.Backward() })
	// a new graph through a released intermediate fails too, naming the op
	requirePanic(t, "tensor: Backward: the graph through a [2] tensor (an input of Mul) was released by an earlier Backward; pass tensor.RetainGraph to that call to backpropagate twice",
		func() { h.Mul(x).Sum().Backward() })

	x.ClearGrad()
	h = x.Exp()
	loss = h.Sum()
	loss.Backward(tensor.RetainGraph)
	loss.Backward()
	e := h.Data()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{2 * e[0], 2 * e[1]}, 2), 1e-6, 1e-6)
}

func TestDetachAndSetRequiresGrad(t *testing.T) {
	x := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	y := x.Scale(2)
	d := y.Detach()
	require.False(t, d.RequiresGrad())
	require.True(t, d.IsLeaf())
	require.Equal(t, "Scale", y.Op())
	d.Data()[0] = 7 // shares data
	require.Equal(t, float32(7), y.Data()[0])
	requirePanic(t, "tensor: SetRequiresGrad: tensor of shape [2] is the result of Scale, not a leaf; use Detach",
		func() { y.SetRequiresGrad(false) })
	// only the path through x gets a gradient
	x.Mul(d).Sum().Backward()
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{7, 4}, 2), 0, 0)
}

func TestLongChainBackward(t *testing.T) {
	// 100,000 ops in a chain: the sort and the walk are iterative, so the goroutine stack stays
	// small. A recursive walk would need ~100k frames; cap the stack well below that.
	old := debug.SetMaxStack(1 << 20)
	defer debug.SetMaxStack(old)
	x := tensor.Scalar(1).SetRequiresGrad(true)
	y := x
	for range 100_000 {
		y = y.AddScalar(1e-5)
	}
	y.Backward()
	require.Equal(t, float32(1), x.Grad().Item())
}

func TestNoGradBuildsNoGraph(t *testing.T) {
	w := tensor.New([]float32{1, 2, 3, 4}, 2, 2).SetRequiresGrad(true)
	x := tensor.New([]float32{1, 1}, 1, 2)
	y := x.NoGrad().MatMul(w).ReLU().Sum()
	require.True(t, y.IsNoGrad())
	require.False(t, y.RequiresGrad())
	require.True(t, y.IsLeaf())
	require.Equal(t, float32(10), y.Item())
	// the mark travels through every op, including ones mixing in parameters later
	z := y.Add(w.Sum())
	require.False(t, z.RequiresGrad())
}

// TestNoGradConcurrentWithTraining evaluates one model on NoGrad inputs while another goroutine
// trains a second model; run with -race. The evaluation must see no graph and its results must be
// those of a plain forward pass.
func TestNoGradConcurrentWithTraining(t *testing.T) {
	rng := newRNG()
	wTrain := tensor.Randn(rng, 8, 4).SetRequiresGrad(true)
	wEval := tensor.Randn(rng, 8, 4).SetRequiresGrad(true)
	x := tensor.Randn(rng, 16, 8)
	want := x.MatMul(wEval.Detach()).Tanh().Data()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 200 {
			loss := x.MatMul(wTrain).Tanh().Sum()
			loss.Backward()
			for i, g := range wTrain.Grad().Data() {
				wTrain.Data()[i] -= 0.01 * g
			}
			wTrain.ClearGrad()
		}
	})
	wg.Go(func() {
		for range 200 {
			y := x.NoGrad().MatMul(wEval).Tanh()
			if y.RequiresGrad() || !y.IsLeaf() {
				t.Error("evaluation recorded a graph")
				return
			}
			for i, v := range y.Data() {
				if v != want[i] {
					t.Errorf("evaluation result %d = %v, want %v", i, v, want[i])
					return
				}
			}
		}
	})
	wg.Wait()
	require.Nil(t, wEval.Grad())
}

func TestCheckGradCatchesWrongGradient(t *testing.T) {
	// f's true derivative is 2x, but the graph only sees x*0 + constant: CheckGrad must object.
	wrong := func(in ...*tensor.Tensor) *tensor.Tensor {
		sq := make([]float32, in[0].Len())
		for i, v := range in[0].Data() {
			sq[i] = v * v
		}
		return in[0].Scale(0).Add(tensor.New(sq, in[0].Shape()...))
	}
	err := tensortest.CheckGrad(wrong, []*tensor.Tensor{tensor.New([]float32{1, 2}, 2)}, tensortest.GradCheckOptions{})
	require.ErrorContains(t, err, "input 0 [2], element 0 (at [0]): analytic gradient 0, numeric")
}

func TestAllCloseReportsWorst(t *testing.T) {
	err := tensortest.Close(tensor.New([]float32{1, 2, 3}, 3), tensor.New([]float32{1, 2.5, 3.1}, 3), 0.01, 0)
	require.EqualError(t, err, "shape [3]: worst element 1 (at [1]): got 2, want 2.5 (|diff| 0.5, allowed 0.01)")
	err = tensortest.Close(tensor.New([]float32{1, 2}, 2), tensor.New([]float32{1, 2}, 2, 1), 0, 0)
	require.EqualError(t, err, "shape [2], want [2 1]")
}

func TestCheckFiniteNamesFirstOp(t *testing.T) {
	w := tensor.New([]float32{1, -1}, 2).SetRequiresGrad(true)
	x := tensor.New([]float32{4, 0}, 2).CheckFinite()
	defer func() {
		r := recover()
		var nf *tensor.NonFiniteError
		require.True(t, errors.As(r.(error), &nf), "%v", r)
		require.Equal(t, "Log", nf.Op)
		require.Equal(t, 1, nf.Index)
		require.EqualError(t, nf, "tensor: Log: output [2] has -Inf at element 1 (inputs [[2]])")
		var te *tensor.Error
		require.True(t, errors.As(r.(error), &te))
	}()
	y := x.Mul(w).Sqrt() // finite: 2, -0
	require.True(t, y.RequiresGrad())
	y.Log() // log(0) = -Inf: Log is the first op with a non-finite output
	t.Fatal("no panic")
}

func TestCheckFiniteOffByDefault(t *testing.T) {
	y := tensor.New([]float32{0}, 1).Log()
	require.False(t, y.AllFinite())
	x := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	x.CheckFinite().Scale(2).Sum().Backward() // the mark passes gradients through
	tensortest.AllClose(t, x.Grad(), tensor.New([]float32{2, 2}, 2), 0, 0)
}
