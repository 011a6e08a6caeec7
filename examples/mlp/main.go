// Command mlp is section 3.2 of the tutorial (全连接神经网络): the regression of section 1 (see
// examples/linear) with a fully connected network instead of one Linear layer, two hidden layers
// of 10 units with sigmoid activations and one output,
//
//	Linear(784, 10) → sigmoid → Linear(10, 10) → sigmoid → Linear(10, 1)
//
// built as models.MLP([]int{784, 10, 10, 1}, sigmoid). Everything else is section 1's: the
// tutorial's mnist.json.gz read by the generator-style load_data (batches of 100, shuffled each
// epoch), the square error averaged over the batch, SGD with learning rate 0.001 for 10 epochs,
// the loss printed every 200 batches ("epoch: 0, batch: 200, loss is: [...]"), then the
// parameters saved, loaded into a new network, and one eval image predicted. The program also
// reports the mean square error on the eval split and how often the prediction rounds to the
// true digit: about 2.9 and 21% with the defaults (the linear model: 3.2 and 21%); the sigmoid
// network learns slowly at this learning rate, and -epochs 20 -lr 0.01 gives about 1.15 and 59%.
//
// The tutorial's file is not shipped: unless -json names one, the program writes it once from
// the real MNIST IDX files (acquired and cached by vision/datasets, or read from -data) to
// DataHome()/mnist/mnist.json.gz, with the tutorial's splits (the first 50,000 training images,
// the last 10,000, the 10,000 test images) and pixels normalized to [-1, 1].
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/mlp
//	go run ./examples/mlp -epochs 20 -lr 0.01
package main

import (
	"context"
	"flag"

	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/vision/models"
)

func main() {
	c := tutorial.RegressionFlags(flag.CommandLine)
	flag.Parse()

	tutorial.Main("mlp", func(ctx context.Context) error {
		return tutorial.RunRegression(ctx, "mlp", newNet, *c)
	})
}

// newNet returns the network of the tutorial's section 3.2:
// Linear(784,10) sigmoid Linear(10,10) sigmoid Linear(10,1).
func newNet() nn.Layer {
	return models.MLP([]int{784, 10, 10, 1}, func() nn.Layer { return nn.NewSigmoid() })
}
