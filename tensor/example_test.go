package tensor_test

import (
	"fmt"

	"github.com/oarlab/oar/tensor"
)

func ExampleNew() {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(x.Shape(), x.At(1, 2))
	fmt.Println(x)
	// Output:
	// [2 3] 6
	// Tensor(shape=[2, 3], requires_grad=false,
	//        [[1, 2, 3],
	//         [4, 5, 6]])
}

func ExampleTensor_Backward() {
	// y = sum(w*x + b): dy/dw = x, dy/db = 1 for each element.
	w := tensor.New([]float32{2, 3}, 2).SetRequiresGrad(true)
	b := tensor.Scalar(1).SetRequiresGrad(true)
	x := tensor.New([]float32{10, 20}, 2)
	y := w.Mul(x).Add(b).Sum()
	y.Backward()
	fmt.Println(y.Item(), w.Grad().Data(), b.Grad().Item())
	// Gradients accumulate until cleared, as in Paddle.
	w.Mul(x).Add(b).Sum().Backward()
	fmt.Println(w.Grad().Data())
	w.ClearGrad()
	fmt.Println(w.Grad().Data())
	// Output:
	// 82 [10 20] 2
	// [20 40]
	// [0 0]
}

func ExampleTensor_MatMul() {
	x := tensor.FromRows([][]float32{{1, 2}, {3, 4}})
	w := tensor.FromRows([][]float32{{1, 0, 1}, {0, 1, 1}})
	fmt.Println(x.MatMul(w).Data())
	defer func() { fmt.Println(recover()) }()
	x.MatMul(tensor.Zeros(3, 1))
	// Output:
	// [1 2 3 3 4 7]
	// tensor: MatMul: shape mismatch [2 2] x [3 1]
}

func ExampleTensor_Conv2D() {
	// One 3x3 image, one 2x2 filter, stride 1, no padding: [1,1,3,3] → [1,1,2,2].
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	w := tensor.New([]float32{1, 0, 0, -1}, 1, 1, 2, 2)
	y := x.Conv2D(w, nil, tensor.ConvOptions{})
	fmt.Println(y.Shape(), y.Data())
	// Padding 1 on every side and stride 2 give a 2x2 output as well.
	y = x.Conv2D(w, tensor.New([]float32{0.5}, 1), tensor.ConvOptions{Padding: []int{1}, Stride: []int{2}})
	fmt.Println(y.Shape(), y.Data())
	// Output:
	// [1 1 2 2] [-4 -4 -4 -4]
	// [1 1 2 2] [-0.5 -2.5 -6.5 -3.5]
}

func ExampleTensor_Conv2DReLUMaxPool() {
	// A 1x1x4x4 image, a 3x3 kernel of ones with padding 1, ReLU, then 2x2 max pooling: the
	// fused op gives the three ops' values (and gradients).
	x := tensor.New([]float32{
		1, -2, 3, -4,
		-5, 6, -7, 8,
		9, -10, 11, -12,
		-13, 14, -15, 16}, 1, 1, 4, 4)
	w := tensor.Ones(1, 1, 3, 3).SetRequiresGrad(true)
	conv, pool := tensor.ConvOptions{Padding: []int{1}}, tensor.PoolOptions{Kernel: []int{2}}
	fused := x.Conv2DReLUMaxPool(w, nil, conv, pool)
	separate := x.Conv2D(w, nil, conv).ReLU().MaxPool2D(pool)
	fmt.Println(fused.Shape(), fused.Data(), separate.Data())
	fused.Sum().Backward()
	fmt.Println(w.Grad().Data())
	// Output:
	// [1 1 2 2] [6 4 1 11] [6 4 1 11]
	// [7 -14 17 -17 29 -33 29 -45 49]
}

func ExampleTensor_NoGrad() {
	w := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	x := tensor.New([]float32{3, 4}, 2)
	train := x.Mul(w).Sum()
	eval := x.NoGrad().Mul(w).Sum()
	fmt.Println(train.RequiresGrad(), eval.RequiresGrad(), eval.Item())
	// Output:
	// true false 11
}

// Example_gradientDescent is the program in README.md: fit y = 2x - 1 by gradient descent.
func Example_gradientDescent() {
	x := tensor.New([]float32{0, 1, 2, 3}, 4, 1)
	y := tensor.New([]float32{-1, 1, 3, 5}, 4, 1)
	w := tensor.Zeros(1, 1).SetRequiresGrad(true)
	b := tensor.Zeros(1).SetRequiresGrad(true)
	for step := 0; step < 500; step++ {
		loss := x.MatMul(w).Add(b).Sub(y).Pow(2).Mean()
		loss.Backward()
		for _, p := range []*tensor.Tensor{w, b} {
			for i, g := range p.Grad().Data() {
				p.Data()[i] -= 0.1 * g // plain SGD
			}
			p.ClearGrad() // gradients accumulate until cleared, as in Paddle
		}
	}
	fmt.Printf("w=%.3f b=%.3f\n", w.Item(), b.Item())
	// Output:
	// w=2.000 b=-1.000
}
