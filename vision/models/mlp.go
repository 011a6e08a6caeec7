package models

import (
	"fmt"

	"github.com/oarlab/oar/nn"
)

// MLP returns a multi-layer perceptron: Linear layers of the given sizes (sizes[0] inputs,
// sizes[len-1] outputs) with a fresh activation from newActivation between consecutive Linears and
// none after the last, as one Sequential. The tutorial's sigmoid network is
// MLP([]int{784, 10, 10, 1}, func() nn.Layer { return nn.NewSigmoid() }). A nil newActivation means
// no activations. It panics if there are fewer than two sizes or a size is below 1.
func MLP(sizes []int, newActivation func() nn.Layer) *nn.Sequential {
	if len(sizes) < 2 {
		panic(&nn.Error{Layer: "MLP", Msg: fmt.Sprintf("sizes %v: want at least an input and an output size", sizes)})
	}
	s := nn.NewSequential()
	for i := 0; i+1 < len(sizes); i++ {
		if i > 0 && newActivation != nil {
			s.Append(newActivation())
		}
		s.Append(nn.NewLinear(sizes[i], sizes[i+1]))
	}
	return s
}
