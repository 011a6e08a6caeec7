// Package oar is a deep-learning library for Go with PaddlePaddle's dygraph API shape: eager
// float32 tensors with reverse-mode autograd, layers, losses, optimizers, metrics, a goroutine
// data loader, and this package's Model, which trains, evaluates, predicts, saves and loads a
// network as paddle.Model does. It is pure Go (no cgo) and fast on CPU.
//
// # Packages
//
// From the bottom up (a package never imports one above it):
//
//   - tensor: Tensor, autograd (Backward, ClearGrad, Detach, NoGrad, CheckFinite) and every
//     differentiable op; tensor/tensortest: AllClose and GradCheck for your own tests.
//   - nn: Layer, Param, Sequential, Linear, Conv2D, pooling, BatchNorm2D, Dropout, Flatten,
//     activations, initializers, state dicts and safetensors checkpoints.
//   - losses, optim, metrics: Paddle's losses; SGD, Momentum, Adam, AdamW, LR schedulers and
//     clipping; Accuracy, Precision, Recall.
//   - data: Dataset, Loader (shuffling, batching, goroutine prefetch), samplers and splits.
//   - vision/datasets, vision/transforms, vision/models: MNIST (acquired and verified on first
//     use) and the tutorial's mnist.json.gz, Normalize/ToTensor, LeNet and MLP.
//   - oar (this package): Model with Prepare, Fit, Evaluate, Predict, Save and Load; Paddle's
//     callbacks (ProgBarLogger, ModelCheckpoint, EarlyStopping, LRScheduler) and a scalar logger;
//     Summary; Seed.
//
// # Quick start
//
// Paddle's quick start, in Go (examples/lenet is the full program):
//
//	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
//	train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train", Transform: norm})
//	...
//	m := oar.NewModel(models.LeNet(10))
//	m.Prepare(optim.NewAdam(m.Params(), 0.001), losses.NewCrossEntropy(), metrics.NewAccuracy())
//	hist, err := m.Fit(ctx, train, oar.FitOptions{Eval: test, Epochs: 5, BatchSize: 64, Verbose: 1})
//	res, err := m.Evaluate(ctx, test, oar.EvalOptions{BatchSize: 64})
//	err = m.Save("out/mnist")
//
// # Determinism and resuming
//
// A run is a function of its seeds: oar.Seed (initial weights, Dropout) and FitOptions.Seed
// (shuffling). The parameters after any number of steps are bitwise the same whatever GOMAXPROCS
// and the number of loader workers are, because parallel kernels split work into chunks fixed by
// the problem size and reduce them in a fixed order. Model.Save keeps everything a run needs to
// continue (parameters, buffers, optimizer moments and steps, the LR schedule, Dropout's
// generators, the epochs done), so a model loaded in a new process and trained on continues
// bitwise as if it had never stopped.
//
// # Errors
//
// A programmer error (shapes that do not fit, an axis out of range, a negative batch size, a
// label outside the classes) panics with a typed value that names the op or layer and the shapes,
// e.g. "nn: fc.2 (Linear): input [64 10], weight [784 10]". Anything read from outside the
// program — data sets, checkpoints, optimizer state — returns an error naming the file and the
// problem, as does a cancelled context or a non-finite loss during Fit (with the first op that
// produced it when FitOptions.DetectNonFinite is set). Checkpoints are written atomically: a crash
// leaves the old file or the new one.
package oar
