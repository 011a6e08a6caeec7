package nn_test

import (
	"fmt"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

func ExampleLinear() {
	l := nn.NewLinear(3, 2, nn.LinearOptions{WeightInit: nn.Constant(0.5)}) // weight [3, 2], bias [2] (zeros)
	x := tensor.FromRows([][]float32{{1, 2, 3}})
	fmt.Println(l.Forward(x).Data())
	for _, p := range l.Params() {
		fmt.Println(p.Name, p.Shape())
	}
	// Output:
	// [3 3]
	// weight [3 2]
	// bias [2]
}

func ExampleSequential() {
	net := nn.NewSequential(
		nn.NewLinear(784, 10),
		nn.NewSigmoid(),
		nn.NewLinear(10, 1),
	)
	for _, p := range net.Params() {
		fmt.Println(p.Name, p.Shape())
	}
	y := net.Forward(tensor.Zeros(16, 784))
	fmt.Println(y.Shape())
	defer func() { fmt.Println(recover()) }()
	net.Forward(tensor.Zeros(16, 785)) // the panic names the layer's path and the shapes
	// Output:
	// 0.weight [784 10]
	// 0.bias [10]
	// 2.weight [10 1]
	// 2.bias [1]
	// [16 1]
	// nn: 0 (Linear): input [16 785], weight [784 10]
}

func ExampleFuse() {
	net := nn.NewSequential(nn.NewConv2D(1, 2, 3), nn.NewReLU(), nn.NewMaxPool2D(2, 2), nn.NewFlatten())
	fmt.Println(nn.Fuse(net), "run fused:", net.Len(), "layers, the first a", nn.TypeName(net.At(0)))
	for _, p := range net.Params() {
		fmt.Println(p.Name, p.Shape()) // the conv's keys, unchanged
	}
	// Output:
	// 1 run fused: 2 layers, the first a ConvReLUPool
	// 0.weight [2 1 3 3]
	// 0.bias [2]
}

func ExampleHooks_RegisterForwardPostHook() {
	fc := nn.NewLinear(4, 2)
	net := nn.NewSequential(fc, nn.NewTanh())
	remove := fc.RegisterForwardPostHook(func(l nn.Layer, in, out *tensor.Tensor) *tensor.Tensor {
		fmt.Println(nn.TypeName(l), in.Shape(), "->", out.Shape())
		return nil // keep the output
	})
	net.Forward(tensor.Zeros(3, 4))
	remove()
	net.Forward(tensor.Zeros(3, 4))
	// Output:
	// Linear [3 4] -> [3 2]
}
