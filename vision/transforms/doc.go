// Package transforms holds image transforms for data sets, as paddle.vision.transforms:
// Normalize, ToTensor and Compose.
//
// # Overview
//
// A Transform maps an image tensor ([C,H,W] float32) to another. MNIST's quick start normalizes
// its 0..255 pixels to [-1, 1]:
//
//	train, err := datasets.NewMNIST(datasets.MNISTOptions{
//		Mode:      "train",
//		Transform: transforms.Normalize([]float32{127.5}, []float32{127.5}),
//	})
//
// ToTensor scales 0..255 to 0..1, and Compose chains transforms. Func turns any function into a
// Transform.
//
// Transforms run on data, not on parameters: their results record no graph. A transform whose
// every output element depends only on the input element and its channel implements Pointwise,
// which lets a data set of 8-bit pixels tabulate it once for the 256 pixel values (MNIST does,
// when it builds whole batches); Normalize, ToTensor and a Compose of them are Pointwise.
//
// Transforms must be safe for concurrent use, since a data.Loader's workers apply them from
// several goroutines. Programmer errors (a mean and std of different lengths, a std of 0, a
// channel count that fits neither) panic with an *Error.
package transforms
