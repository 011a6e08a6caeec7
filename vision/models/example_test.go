package models_test

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func ExampleLeNet() {
	net := models.LeNet(10)
	total := 0
	for _, p := range net.Params() {
		total += p.Len()
	}
	fmt.Println(len(net.Params()), "tensors,", total, "parameters")
	fmt.Println(net.Params()[0].Name, net.Params()[len(net.Params())-1].Name)
	logits := net.Forward(tensor.Zeros(64, 1, 28, 28).NoGrad())
	fmt.Println(logits.Shape())
	// Output:
	// 10 tensors, 61610 parameters
	// features.0.weight fc.2.bias
	// [64 10]
}
