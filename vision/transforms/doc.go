// Package transforms holds image transforms for data sets, as paddle.vision.transforms, with
// Paddle's names, parameters and defaults:
//
//   - geometry: Resize, CenterCrop, Pad, RandomCrop, RandomResizedCrop, RandomHorizontalFlip,
//     RandomVerticalFlip, RandomRotation;
//   - colour: ColorJitter (and BrightnessTransform, ContrastTransform, SaturationTransform,
//     HueTransform; AdjustBrightness, AdjustContrast, AdjustSaturation, AdjustHue), Grayscale;
//   - conversion: Normalize, ToTensor, Transpose, Compose; for image.Image, FromImage,
//     ImageToTensor (Paddle's ToTensor on an image), ToImage, ApplyImage.
//
// Transforms work on float32 tensors [C,H,W] (geometric ones also on [H,W] and [N,C,H,W], one
// random draw per call). Where Paddle's backends (PIL, cv2, tensor) disagree, each doc comment
// says which one is followed: resizing uses pixel centres at +0.5 with no antialiasing (cv2 and
// Paddle's tensor backend), rotation the geometry of the tensor backend and PIL (exact for
// multiples of 90°), colour adjustments the tensor backend's formulas, Grayscale the ITU-R 601-2
// weights 0.299, 0.587, 0.114. Values are not assumed to lie in [0, 1] except by the colour
// transforms, whose clipping bound is ColorJitterOptions.Max (1, or 255 for 0..255 values).
// Images (image.Image) go through FromImage as [C,H,W] tensors of 0..255 values.
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
// # Random transforms and reproducibility
//
// RandomCrop, RandomHorizontalFlip and the other random transforms implement Random: besides
// Apply (which draws from math/rand/v2's process-wide source, like Paddle's use of Python's
// random module) they have ApplyRandom(x, rng), which draws every choice from rng alone. A
// Compose holding one is Random and hands rng to its members in order. A data set makes its
// augmentation reproducible by implementing data.RandomDataset: a data.Loader then gives item i
// of an epoch the generator data.SampleRand(Seed, epoch, i), and the data set applies its
// transform with ApplyRandom (the function ApplyRandom does the right thing for any Transform).
// MNIST does so:
//
//	aug := transforms.Compose(
//		transforms.RandomCrop([]int{28}, transforms.RandomCropOptions{Padding: []int{2}}),
//		transforms.Normalize([]float32{127.5}, []float32{127.5}),
//	)
//	train, err := datasets.NewMNIST(datasets.MNISTOptions{Transform: aug})
//	loader := &data.Loader{Dataset: train, BatchSize: 64, Shuffle: true, Seed: 1, Workers: 4}
//
// and its batches are bitwise the same with Workers 0, 1 or 4, for a given Seed and epoch.
//
// Transforms must be safe for concurrent use, since a data.Loader's workers apply them from
// several goroutines. Programmer errors (a mean and std of different lengths, a std of 0, a
// channel count that fits neither) panic with an *Error.
package transforms
