package optim_test

import (
	"bytes"
	"fmt"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// ExampleAdam fits y = 2x - 1 with one weight and one bias, as paddle.optimizer.Adam would.
func ExampleAdam() {
	x := tensor.New([]float32{0, 1, 2, 3}, 4, 1)
	y := tensor.New([]float32{-1, 1, 3, 5}, 4, 1)
	w := tensor.Zeros(1, 1).SetRequiresGrad(true)
	b := tensor.Zeros(1).SetRequiresGrad(true)
	params := []nn.Param{{Name: "weight", Tensor: w}, {Name: "bias", Tensor: b}}

	opt := optim.NewAdam(params, 0.1)
	opt.Scheduler = optim.NewStepDecay(0.1, 100, 0.5) // halve the rate every 100 steps
	var loss *tensor.Tensor
	for range 400 {
		loss = x.MatMul(w).Add(b).Sub(y).Pow(2).Mean()
		loss.Backward()
		opt.Step()
		opt.ClearGrad()
		opt.Scheduler.Step()
	}
	fmt.Printf("w %.3f, b %.3f, loss < 1e-5: %v, lr %g\n", w.Item(), b.Item(), loss.Item() < 1e-5, opt.LR())

	// The state (moments, step counts, schedule) saves and loads to resume training exactly.
	var buf bytes.Buffer
	if err := optim.Write(&buf, opt); err != nil {
		fmt.Println(err)
	}
	resumed := optim.NewAdam(params, 0.1)
	resumed.Scheduler = optim.NewStepDecay(0.1, 100, 0.5)
	fmt.Println(optim.Read(&buf, resumed), resumed.LR())
	// Output:
	// w 2.000, b -1.000, loss < 1e-5: true, lr 0.00625
	// <nil> 0.00625
}
