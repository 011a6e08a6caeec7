// Command cnn is section 4 of the tutorial (交叉熵的实现): MNIST classified by a small
// convolutional network trained with cross entropy in a hand-written loop, the tutorial's
// SimpleNet:
//
//	Conv2D(1, 20, 5, stride 1, padding 2) → ReLU → MaxPool2D(2, 2)
//	→ Conv2D(20, 20, 5, stride 1, padding 2) → ReLU → MaxPool2D(2, 2)
//	→ Flatten → Linear(980, 10)
//
// The steps, as the tutorial's:
//
//  1. MnistDataset(mode='train') over the tutorial's mnist.json.gz and a
//     paddle.io.DataLoader(train_dataset, batch_size=100, shuffle=True): a data.Loader over the
//     train split, whose flat [784] images are reshaped to [N, 1, 28, 28] for the convolutions;
//  2. train with SGD (learning rate 0.01): predicts = model(images);
//     loss = F.cross_entropy(predicts, labels); avg_loss = paddle.mean(loss); backward, step,
//     clear_grad, printing the loss every 200 batches ("epoch: 0, batch: 200, loss is: [...]");
//  3. after each epoch, evaluation(model, loader): the mean over batches of
//     paddle.metric.accuracy(input=pred, label=labels), here metrics.TopKAccuracy(pred, label, 1),
//     on the valid split, printed with the epoch's mean loss and training accuracy;
//  4. save the parameters (paddle.save(model.state_dict(), 'mnist.pdparams')) and report the
//     accuracy on the eval split, ending with a line such as "test accuracy: 0.9486" (one epoch).
//
// The default is the tutorial's 10 epochs (EPOCH_NUM = 10): test accuracy 0.9835, in 20 to 40
// seconds an epoch on a shared 2-core host (5 minutes in all); -epochs 1 gives 0.9486.
//
// The tutorial's file is not shipped: unless -json names one, the program writes it once from the
// real MNIST IDX files (acquired and cached by vision/datasets, or read from -data) to
// DataHome()/mnist/mnist.json.gz, with the tutorial's splits (the first 50,000 training images,
// the last 10,000, the 10,000 test images) and pixels normalized to [-1, 1].
//
// Run it from the repository root (out/ is ignored by git there):
//
//	go run ./examples/cnn                # the tutorial's 10 epochs
//	go run ./examples/cnn -epochs 1 -workers 2
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
)

type config struct {
	epochs, batch, workers, logEvery int
	lr                               float64
	jsonPath, dataDir, out           string
	seed                             uint64
}

func main() {
	c := defineFlags(flag.CommandLine)
	flag.Parse()

	tutorial.Main("cnn", func(ctx context.Context) error { return run(ctx, os.Stdout, *c) })
}

// defineFlags defines the command's flags on fs, with the tutorial's settings as defaults, and
// returns the settings they fill when fs is parsed.
func defineFlags(fs *flag.FlagSet) *config {
	c := &config{}
	fs.IntVar(&c.epochs, "epochs", 10, "training epochs (the tutorial's EPOCH_NUM); -epochs 1 or 2 for a quick run")
	fs.IntVar(&c.batch, "batch", 100, "batch size")
	fs.Float64Var(&c.lr, "lr", 0.01, "SGD's learning rate")
	fs.IntVar(&c.workers, "workers", 1, "loader goroutines that build batches ahead of training (0: inline)")
	fs.IntVar(&c.logEvery, "log", 200, "print the loss every this many batches")
	fs.StringVar(&c.jsonPath, "json", "", "the tutorial's mnist.json.gz (default: created once in the data cache)")
	fs.StringVar(&c.dataDir, "data", "", "directory holding the MNIST IDX files, to create the json.gz from (default: the cache, acquired if absent)")
	fs.StringVar(&c.out, "out", "out", "directory for the saved parameters")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the initial weights and of the shuffling")
	return c
}

// newNet returns the tutorial's network, with its layer names (conv1, max_pool1, ..., fc), so
// that the parameters are named as in its state dict ("conv1.weight", "fc.bias").
func newNet() *nn.Sequential {
	conv := nn.Conv2DOptions{Stride: []int{1}, Padding: []int{2}}
	return nn.NewSequentialNamed(
		nn.Named{Name: "conv1", Layer: nn.NewConv2D(1, 20, 5, conv)},
		nn.Named{Name: "relu1", Layer: nn.NewReLU()},
		nn.Named{Name: "max_pool1", Layer: nn.NewMaxPool2D(2, 2)},
		nn.Named{Name: "conv2", Layer: nn.NewConv2D(20, 20, 5, conv)},
		nn.Named{Name: "relu2", Layer: nn.NewReLU()},
		nn.Named{Name: "max_pool2", Layer: nn.NewMaxPool2D(2, 2)},
		nn.Named{Name: "flatten", Layer: nn.NewFlatten()},
		nn.Named{Name: "fc", Layer: nn.NewLinear(980, 10)},
	)
}

func run(ctx context.Context, w io.Writer, c config) error {
	if c.epochs < 1 || c.batch < 1 || c.logEvery < 1 || c.workers < 0 || !(c.lr > 0) {
		return fmt.Errorf("-epochs %d, -batch %d, -log %d and -lr %v must be positive, -workers %d not negative",
			c.epochs, c.batch, c.logEvery, c.lr, c.workers)
	}
	start := time.Now()
	path, err := tutorial.JSONFile(w, c.jsonPath, c.dataDir)
	if err != nil {
		return err
	}
	splits, err := tutorial.ReadData(w, path)
	if err != nil {
		return err
	}
	train, valid, eval := splits[0], splits[1], splits[2]
	fmt.Fprintf(w, "train samples: %d, valid samples: %d, eval samples: %d\n", train.Len(), valid.Len(), eval.Len())
	trainLoader := &data.Loader{Dataset: train, BatchSize: c.batch, Shuffle: true, Seed: c.seed, Workers: c.workers}
	validLoader := &data.Loader{Dataset: valid, BatchSize: c.batch, Workers: c.workers}
	evalLoader := &data.Loader{Dataset: eval, BatchSize: c.batch, Workers: c.workers}

	oar.Seed(c.seed)
	model := newNet()
	oar.SummaryTo(w, model, []int{1, 1, 28, 28})
	// Run each Conv2D, ReLU, MaxPool2D as one nn.ConvReLUPool: the same values and gradients bit
	// for bit and the same parameter names, faster. Without this line the layers run one by one.
	nn.Fuse(model)
	opt := optim.NewSGD(model.Params(), float32(c.lr))
	crossEntropy := losses.NewCrossEntropy()

	for epoch := range c.epochs {
		epochStart := time.Now()
		nn.Train(model)
		var lossSum, accSum float64
		batches := 0
		for b := range trainLoader.All(ctx) {
			images, labels := b[0].Reshape(-1, 1, 28, 28), b[1]
			predicts := model.Forward(images)
			avgLoss := crossEntropy.Forward(predicts, labels) // mean over the batch
			if batches%c.logEvery == 0 {
				fmt.Fprintf(w, "epoch: %d, batch: %d, loss is: %v\n", epoch, batches, []float32{avgLoss.Item()})
			}
			avgLoss.Backward()
			opt.Step()
			opt.ClearGrad()
			lossSum += float64(avgLoss.Item())
			accSum += float64(metrics.TopKAccuracy(predicts.Detach(), labels, 1).Item())
			batches++
		}
		if err := trainLoader.Err(); err != nil {
			return err
		}
		validAcc, err := evaluation(ctx, model, validLoader)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "epoch %d: train loss %.4f, train acc %.4f, valid acc %.4f (%v)\n", epoch,
			lossSum/float64(batches), accSum/float64(batches), validAcc, time.Since(epochStart).Round(time.Second))
	}

	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	params := filepath.Join(c.out, "mnist_cnn.safetensors")
	if err := nn.Save(params, model); err != nil {
		return err
	}
	fmt.Fprintln(w, "saved", params)
	testAcc, err := evaluation(ctx, model, evalLoader)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "time: %v\n", time.Since(start).Round(time.Second))
	fmt.Fprintf(w, "test accuracy: %.4f\n", testAcc)
	return nil
}

// evaluation is the tutorial's evaluation(model, datasets): the model in evaluation mode, the
// mean over the batches of paddle.metric.accuracy (top 1), computed without a graph.
func evaluation(ctx context.Context, model nn.Layer, loader *data.Loader) (float64, error) {
	nn.Eval(model)
	defer nn.Train(model)
	var accSet []float64
	for b := range loader.All(ctx) {
		images, labels := b[0].Reshape(-1, 1, 28, 28), b[1]
		pred := model.Forward(images.NoGrad())
		accSet = append(accSet, float64(metrics.TopKAccuracy(pred, labels, 1).Item()))
	}
	if err := loader.Err(); err != nil {
		return 0, err
	}
	var sum float64
	for _, a := range accSet {
		sum += a
	}
	return sum / float64(max(len(accSet), 1)), nil
}
