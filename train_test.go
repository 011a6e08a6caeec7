package oar_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// bars returns n noisy 28x28 images of ten classes: class c < 5 has a horizontal bar at rows
// 5c+2..5c+5, class c >= 5 a vertical bar at columns 5(c-5)+2..; labels are [n, 1].
func bars(rng *rand.Rand, n int) (*tensor.Tensor, *tensor.Tensor) {
	x := tensor.Randn(rng, n, 1, 28, 28).Scale(0.3)
	labels := make([]float32, n)
	for i := range n {
		c := rng.IntN(10)
		labels[i] = float32(c)
		img := x.Data()[i*784 : (i+1)*784]
		for a := 5*(c%5) + 2; a < 5*(c%5)+6; a++ {
			for b := range 28 {
				if c < 5 {
					img[a*28+b] += 1
				} else {
					img[b*28+a] += 1
				}
			}
		}
	}
	return x, tensor.New(labels, n, 1)
}

// TestTutorialCNNLearns trains the tutorial's classification CNN (section 4) with SGD 0.01 and
// cross entropy on a synthetic, learnable image set and requires 95% held-out accuracy.
func TestTutorialCNNLearns(t *testing.T) {
	nn.Seed(3)
	rng := rand.New(rand.NewPCG(1, 2))
	net := nn.NewSequential(
		nn.NewConv2D(1, 20, 5, nn.Conv2DOptions{Stride: []int{1}, Padding: []int{2}}),
		nn.NewReLU(),
		nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(20, 20, 5, nn.Conv2DOptions{Stride: []int{1}, Padding: []int{2}}),
		nn.NewReLU(),
		nn.NewMaxPool2D(2, 2),
		nn.NewFlatten(),
		nn.NewLinear(980, 10),
	)
	nn.Fuse(net)
	opt := optim.NewSGD(net.Params(), 0.01)
	ce := losses.NewCrossEntropy()
	trainX, trainY := bars(rng, 400)
	testX, testY := bars(rng, 200)
	const batch = 50
	for epoch := range 2 {
		for i := 0; i < 400; i += batch {
			x := trainX.Slice(0, i, i+batch)
			y := trainY.Slice(0, i, i+batch)
			loss := ce.Forward(net.Forward(x), y)
			require.Truef(t, loss.AllFinite(), "epoch %d step %d: loss %v", epoch, i/batch, loss.Item())
			loss.Backward()
			opt.Step()
			opt.ClearGrad()
		}
	}
	acc := metrics.TopKAccuracy(net.Forward(testX.NoGrad()), testY, 1).Item()
	t.Logf("held-out accuracy %.4f", acc)
	require.GreaterOrEqual(t, acc, float32(0.95), "held-out accuracy")
}
