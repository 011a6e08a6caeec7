package optim_test

import (
	"fmt"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// ExampleOneCycleLR prints Paddle's one-cycle schedule over 10 steps: up from max/25 to max over
// the first 30% (to step 0.3·10-1 = 2), then down to 0.0001 at step 9.
func ExampleOneCycleLR() {
	s := optim.NewOneCycleLR(1, 10)
	for range 10 {
		fmt.Printf("%.4f ", s.LR())
		s.Step()
	}
	fmt.Println()
	// Output: 0.0400 0.5200 1.0000 0.9505 0.8118 0.6113 0.3888 0.1883 0.0496 0.0001
}

// ExampleLamb fits y = 2x - 1 with Lamb; the bias is excluded from weight decay, as BERT's
// recipes do.
func ExampleLamb() {
	x := tensor.New([]float32{0, 1, 2, 3}, 4, 1)
	y := tensor.New([]float32{-1, 1, 3, 5}, 4, 1)
	w := tensor.Full(0.5, 1, 1).SetRequiresGrad(true)
	b := tensor.Full(0.5, 1).SetRequiresGrad(true)
	opt := optim.NewLamb([]nn.Param{{Name: "weight", Tensor: w}, {Name: "bias", Tensor: b}}, 0.05)
	opt.WeightDecay = 0 // lamb_weight_decay: the line's slope needs none
	opt.ExcludeFromWeightDecay = func(name string) bool { return name == "bias" }
	opt.Scheduler = optim.NewPolynomialDecay(0.05, 300)
	for range 300 {
		loss := x.MatMul(w).Add(b).Sub(y).Pow(2).Mean()
		loss.Backward()
		opt.Step()
		opt.ClearGrad()
		opt.Scheduler.Step()
	}
	fmt.Printf("w %.2f, b %.2f\n", w.Item(), b.Item())
	// Output: w 2.00, b -1.00
}
