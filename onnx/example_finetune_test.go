package onnx_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// Example_fineTune exports an oar network, imports the file back and fine-tunes the imported
// model with autograd and an optimizer, as any oar layer, then exports it again. A model written
// by torch.onnx.export or paddle2onnx is fine-tuned the same way after onnx.Load.
func Example_fineTune() {
	nn.Seed(1)
	net := nn.NewSequential(nn.NewLinear(4, 16), nn.NewReLU(), nn.NewLinear(16, 3))
	var file bytes.Buffer
	if err := onnx.Export(&file, net, []int{1, 4}); err != nil {
		panic(err)
	}
	g, err := onnx.Import(&file)
	if err != nil {
		panic(err)
	}
	for _, p := range g.Params() {
		fmt.Println(p.Name, p.Shape())
	}

	// A toy task: the class is the index of the largest of the first three features.
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.Uniform(rng, -1, 1, 64, 4)
	labels := make([]float32, 64)
	for i := range labels {
		row := x.Data()[4*i : 4*i+3]
		for j := range row {
			if row[j] > row[int(labels[i])] {
				labels[i] = float32(j)
			}
		}
	}
	y := tensor.New(labels, 64)
	loss := losses.NewCrossEntropy()
	opt := optim.NewAdam(g.Params(), 0.05)
	nn.Train(g)
	first := loss.Forward(g.Forward(x), y).Item()
	var last float32
	for range 100 {
		l := loss.Forward(g.Forward(x), y)
		l.Backward()
		opt.Step()
		opt.ClearGrad()
		last = l.Item()
	}
	fmt.Println("loss fell below a quarter of its start:", last < first/4)

	file.Reset()
	if err := onnx.Export(&file, g, []int{1, 4}); err != nil { // the fine-tuned weights
		panic(err)
	}
	again, err := onnx.Import(&file)
	if err != nil {
		panic(err)
	}
	nn.Eval(g)
	fmt.Println("re-exported model agrees:", tensorEqual(again.Forward(x), g.Forward(x)))
	// Output:
	// 0.weight [4 16]
	// 0.bias [16]
	// 2.weight [16 3]
	// 2.bias [3]
	// loss fell below a quarter of its start: true
	// re-exported model agrees: true
}

func tensorEqual(a, b *tensor.Tensor) bool {
	for i, v := range a.Data() {
		if v != b.Data()[i] {
			return false
		}
	}
	return a.Len() == b.Len()
}
