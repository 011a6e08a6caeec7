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
