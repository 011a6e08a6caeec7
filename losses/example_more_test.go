package losses_test

import (
	"fmt"
	"math"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/tensor"
)

// ExampleKLDiv measures how far a model's distribution (given as log-probabilities) is from the
// label distribution, per sample with batchmean.
func ExampleKLDiv() {
	logits := tensor.FromRows([][]float32{{1, 2, 3}, {0, 0, 0}})
	target := tensor.FromRows([][]float32{{0.1, 0.2, 0.7}, {1, 0, 0}})
	kl := losses.KLDiv{Reduction: losses.ReduceBatchMean}
	fmt.Printf("%.4f\n", kl.Forward(logits.LogSoftmax(1), target).Item())
	// per element, summed over each row: the second row is log 3, the cost of a uniform guess
	// for a sure label
	rows := losses.KLDiv{Reduction: losses.ReduceNone}.Forward(logits.LogSoftmax(1), target).Sum(1)
	fmt.Printf("%.4f %.4f\n", rows.Data(), math.Log(3))
	// Output:
	// 0.5522
	// [0.0058 1.0986] 1.0986
}

// ExampleSmoothL1 shows Paddle's delta: quadratic within delta, linear with slope delta beyond.
func ExampleSmoothL1() {
	pred := tensor.New([]float32{0.5, 3}, 2)
	label := tensor.Zeros(2)
	l := losses.SmoothL1{Delta: 2, Reduction: losses.ReduceNone}
	fmt.Println(l.Forward(pred, label).Data()) // 0.5·0.5², 2·(3 - 1)
	// Output: [0.125 4]
}
