package losses_test

import (
	"fmt"

	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/tensor"
)

func ExampleCrossEntropy() {
	logits := tensor.FromRows([][]float32{{2, 0, 0}, {0, 3, 0}}).SetRequiresGrad(true)
	labels := tensor.New([]float32{0, 1}, 2, 1) // class ids, [N, 1] as Paddle's MNIST labels

	loss := losses.NewCrossEntropy().Forward(logits, labels)
	loss.Backward()
	fmt.Printf("loss %.4f, shape %v\n", loss.Item(), loss.Shape())

	// Options are fields; IgnoreIndex takes a pointer so that its zero value is Paddle's -100.
	ce := &losses.CrossEntropy{IgnoreIndex: new(1), Reduction: losses.ReduceNone}
	fmt.Printf("%.4f\n", ce.Forward(logits, labels).Data())
	// Output:
	// loss 0.1672, shape []
	// [0.2395 0.0000]
}

func ExampleSquareErrorCost() {
	pred := tensor.New([]float32{0.5, 2}, 2, 1)
	label := tensor.New([]float32{1, 1}, 2, 1)
	// F.square_error_cost does not reduce; the tutorials follow it with paddle.mean.
	loss := losses.SquareErrorCost(pred, label).Mean()
	fmt.Printf("%.3f\n", loss.Item())
	// Output: 0.625
}
