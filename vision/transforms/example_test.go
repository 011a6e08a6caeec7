package transforms_test

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// An augmentation pipeline as Paddle's ImageNet recipe, applied reproducibly: the generator a
// data.Loader would give item 7 of epoch 0 with Seed 1 always gives the same image.
func Example_augmentation() {
	aug := transforms.Compose(
		transforms.RandomResizedCrop([]int{24}),
		transforms.RandomHorizontalFlip(0.5),
		transforms.ColorJitter(0.4, 0.4, 0.4, 0.1),
		transforms.Normalize([]float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}),
	)
	x := tensor.Uniform(rand.New(rand.NewPCG(1, 2)), 0, 1, 3, 32, 32) // an RGB image in [0, 1]
	a := transforms.ApplyRandom(aug, x, data.SampleRand(1, 0, 7))
	b := transforms.ApplyRandom(aug, x, data.SampleRand(1, 0, 7))
	c := transforms.ApplyRandom(aug, x, data.SampleRand(1, 1, 7)) // the next epoch
	fmt.Println(a.Shape(), slices.Equal(a.Data(), b.Data()), slices.Equal(a.Data(), c.Data()))
	// Output: [3 24 24] true false
}

// Evaluation transforms: resize the shorter side, then crop the centre.
func ExampleCenterCrop() {
	eval := transforms.Compose(transforms.Resize([]int{36}), transforms.CenterCrop([]int{32}))
	fmt.Println(eval.Apply(tensor.Zeros(3, 48, 64)).Shape())
	// Output: [3 32 32]
}
