package tensor_test

import (
	"testing"

	"github.com/oarlab/oar/tensor"
)

func TestInputs(t *testing.T) {
	x := tensor.Ones(2, 3).SetRequiresGrad(true)
	w := tensor.Ones(3, 4)
	y := x.Linear(w, nil)
	if in := y.Inputs(); len(in) != 3 || in[0] != x || in[1] != w || in[2] != nil {
		t.Fatalf("Linear's inputs %v, want [x w nil]", in)
	}
	if y.Op() != "Linear" {
		t.Fatalf("Op %q", y.Op())
	}
	z := y.Reshape(8)
	if in := z.Inputs(); len(in) != 1 || in[0] != y {
		t.Fatalf("Reshape's inputs %v, want [y]", in)
	}
	if x.Inputs() != nil || w.Add(w).Inputs() != nil { // a leaf; an op recorded without gradients
		t.Fatal("a leaf or an unrecorded op has inputs")
	}
	z.BackwardWith(nil)
	if z.Inputs() != nil {
		t.Fatal("inputs kept after Backward released the graph")
	}
}
