// Package oar is a deep-learning library for Go with PaddlePaddle's dygraph API shape: eager
// float32 tensors with reverse-mode automatic differentiation, written in pure Go (no cgo) and
// fast on CPU.
//
// The packages, from the bottom up:
//
//   - tensor: the Tensor type, autograd (Backward, ClearGrad, Detach, NoGrad) and every
//     differentiable op (element-wise and broadcasting arithmetic, reductions, shape ops, MatMul,
//     Softmax/LogSoftmax, Conv2D, MaxPool2D, AvgPool2D);
//   - tensor/tensortest: AllClose and GradCheck for tests of code built on tensor.
//
// A first program:
//
//	w := tensor.New([]float32{0.5, -1}, 2, 1).SetRequiresGrad(true)
//	x := tensor.FromRows([][]float32{{1, 2}, {3, 4}})
//	loss := x.MatMul(w).Pow(2).Mean()
//	loss.Backward()
//	fmt.Println(loss.Item(), w.Grad()) // the gradient of the loss with respect to w
//
// Errors follow one rule everywhere: a programmer error (shapes that do not fit, an axis out of
// range) panics with a typed value that names the op and the shapes; anything read from outside
// the program returns an error.
package oar
