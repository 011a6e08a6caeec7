// Command linear is section 1 of the tutorial (数据处理优化 and 一层神经网络): the data of the
// tutorial's mnist.json.gz read by a generator-style load_data function, and a one-layer network,
// Linear(784, 1), that regresses the digit's value with the square error and SGD. It is the
// tutorial's starting point, not a good classifier: a linear regression onto 0..9 gets only
// about one digit in five right once rounded.
//
// The steps, as the tutorial's:
//
//  1. read mnist.json.gz and split it into train, valid and eval
//     (json.load(gzip.open(datafile)); train_set, val_set, eval_set = data), printing
//     "mnist dataset load done" and the counts "train samples: 50000", "valid samples: 10000",
//     "eval samples: 10000" (1.2);
//  2. load_data(mode) returns data_generator, a function whose every call is one pass over the
//     split in batches of 100, shuffled in train mode; the images and labels are checked to be
//     as many, and the first batch's shapes and types are printed (1.3-1.5): "image shape:
//     [100 784], label shape: [100], image type: *tensor.Tensor, label type: *tensor.Tensor",
//     one label per image as the tutorial's (100,); the loss compares the predictions [100 1]
//     with the labels reshaped to [100 1] (Paddle would broadcast [100 1] against [100] to
//     [100 100], and oar's SquareErrorCost refuses different shapes);
//  3. train for 10 epochs: predicts = model(images); loss = F.square_error_cost(predicts, labels);
//     avg_loss = paddle.mean(loss); backward, step, clear_grad; printing the loss every 200
//     batches ("epoch: 0, batch: 200, loss is: [...]") (1.6);
//  4. measure the eval split (load_data('eval'), not shuffled): the mean square error and how
//     often the prediction rounds to the true digit (about 3.2 and 21% with the defaults);
//  5. save the parameters (paddle.save(model.state_dict(), 'mnist.pdparams')), load them into a
//     new network and predict one image of the eval split.
//
// The tutorial's file is not shipped: unless -json names one, the program writes it once from
// the real MNIST IDX files (acquired and cached by vision/datasets, or read from -data) to
// DataHome()/mnist/mnist.json.gz, with the tutorial's splits (the first 50,000 training images,
// the last 10,000, the 10,000 test images) and pixels normalized to [-1, 1].
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/linear
//	go run ./examples/linear -epochs 2 -index 7 -json ./work/mnist.json.gz
package main

import (
	"context"
	"flag"
	"os"

	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/nn"
)

func main() {
	c := tutorial.RegressionFlags(flag.CommandLine)
	flag.Parse()

	tutorial.Main("linear", func(ctx context.Context) error {
		return tutorial.RunRegression(ctx, os.Stdout, "linear", newNet, *c)
	})
}

// newNet returns the network, one Linear layer named as in the tutorial's class
// MNIST(paddle.nn.Layer): Linear(784, 1), whose parameters are "fc.weight" and "fc.bias".
func newNet() nn.Layer {
	return nn.NewSequentialNamed(nn.Named{Name: "fc", Layer: nn.NewLinear(784, 1)})
}
