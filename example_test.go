package oar_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func ExampleSummary() {
	var table strings.Builder
	info := oar.SummaryTo(&table, models.LeNet(10), []int{1, 1, 28, 28})
	// Summary prints to standard output; the trimming is only for this example's comparison, as
	// Paddle's centred columns leave trailing spaces.
	for line := range strings.Lines(table.String()) {
		fmt.Println(strings.TrimRight(line, " \n"))
	}
	fmt.Println(info.TotalParams, info.TrainableParams)
	// Output:
	// ---------------------------------------------------------------------------
	//  Layer (type)       Input Shape          Output Shape         Param #
	// ===========================================================================
	//    Conv2D-1       [[1, 1, 28, 28]]      [1, 6, 28, 28]          60
	//     ReLU-1        [[1, 6, 28, 28]]      [1, 6, 28, 28]           0
	//   MaxPool2D-1     [[1, 6, 28, 28]]      [1, 6, 14, 14]           0
	//    Conv2D-2       [[1, 6, 14, 14]]     [1, 16, 10, 10]         2,416
	//     ReLU-2       [[1, 16, 10, 10]]     [1, 16, 10, 10]           0
	//   MaxPool2D-2    [[1, 16, 10, 10]]      [1, 16, 5, 5]            0
	//    Linear-1          [[1, 400]]            [1, 120]           48,120
	//    Linear-2          [[1, 120]]            [1, 84]            10,164
	//    Linear-3          [[1, 84]]             [1, 10]              850
	// ===========================================================================
	// Total params: 61,610
	// Trainable params: 61,610
	// Non-trainable params: 0
	// ---------------------------------------------------------------------------
	// Input size (MB): 0.00
	// Forward/backward pass size (MB): 0.11
	// Params size (MB): 0.24
	// Estimated Total Size (MB): 0.35
	// ---------------------------------------------------------------------------
	// 61610 61610
}

// ExampleModel_Fit trains a small classifier on four separable clusters and evaluates it.
func ExampleModel_Fit() {
	oar.Seed(1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.Randn(rng, 200, 2).Scale(0.2)
	labels := make([]float32, 200)
	for i := range labels {
		c := i % 4
		labels[i] = float32(c)
		x.Data()[2*i] += float32(c%2)*2 - 1 // cluster centres at (±1, ±1)
		x.Data()[2*i+1] += float32(c/2)*2 - 1
	}
	train := data.NewTensorDataset(x, tensor.New(labels, 200, 1))

	m := oar.NewModel(nn.NewSequential(nn.NewLinear(2, 16), nn.NewReLU(), nn.NewLinear(16, 4)))
	m.Prepare(optim.NewAdam(m.Params(), 0.05), losses.NewCrossEntropy(), metrics.NewAccuracy())
	hist, err := m.Fit(context.Background(), train, oar.FitOptions{Epochs: 5, BatchSize: 20, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := m.Evaluate(context.Background(), train, oar.EvalOptions{BatchSize: 50})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(hist.Train), "epochs, accuracy", res["acc"])
	// Output:
	// 5 epochs, accuracy 1
}
