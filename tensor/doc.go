// Package tensor is oar's core: float32 n-dimensional arrays with reverse-mode automatic
// differentiation, and the closed set of differentiable ops every layer is built from.
//
// # Overview
//
// A Tensor holds float32 data in row-major order and a shape. Ops are methods that return new
// tensors and chain: x.MatMul(w).Add(b).ReLU(). Binary ops broadcast with NumPy's rules; axis
// arguments may be negative (counting from the end). Class ids and ArgMax results are float32
// tensors holding integers, exact below 2^24.
//
// # Autograd
//
// As in Paddle, a new tensor does not require a gradient (stop_gradient=True); call
// SetRequiresGrad(true) on the leaves you train. An op whose inputs require a gradient records a
// node {op, inputs, rule}; Backward on a scalar result walks the graph (iteratively, so long
// chains do not grow the goroutine stack) and adds each leaf's gradient into its Grad, where it
// accumulates across calls until ClearGrad. BackwardWith seeds a non-scalar output with a given
// gradient. Backward releases the graph as it goes; a second Backward through it panics unless the
// first was given RetainGraph.
//
// Evaluation builds no graph when its input is marked with NoGrad: the mark propagates to every
// result computed from it, even through parameters that require gradients. Because the mark
// travels with the tensors rather than living in a global or per-goroutine flag, a program may
// evaluate in one goroutine while another trains.
//
// # Invariants
//
//   - Ops never modify their inputs. Reshape, Flatten, Squeeze, Unsqueeze, Detach and NoGrad share
//     their input's data; every other op allocates its result.
//   - Data returns the backing slice. Writing to it is how optimizers update parameters; do not
//     write to a tensor whose graph has not yet been backpropagated.
//   - A Tensor may be read from many goroutines at once. Backward writes the Grad of the leaves it
//     reaches, so graphs that share leaves must not be backpropagated concurrently.
//   - Results do not depend on GOMAXPROCS: parallel kernels split work in chunks fixed by the
//     problem size and reduce them in a fixed order.
//
// # How to add an op
//
// An op computes its output, then records one backward rule with out.record(op, rule, inputs...)
// and returns what record returns. This is Square, in unary.go:
//
//	func (t *Tensor) Square() *Tensor {
//		out := newTensor(make([]float32, len(t.data)), t.shape)
//		for i, x := range t.data {
//			out.data[i] = x * x
//		}
//		return out.record("Square", func(g []float32, gin [][]float32) {
//			for i, x := range t.data {
//				gin[0][i] = 2 * x * g[i]
//			}
//		}, t)
//	}
//
// The rule gets g, the gradient of the output, and writes the gradient of each input i into
// gin[i]. It assigns (=) every element and never adds: gin[i] has input i's size and undefined
// contents. gin[i] is nil when input i needs no gradient, so a rule of several inputs checks
// before writing one (see Linear). The rule may read what it captured (inputs and output are
// never modified) but must keep neither g nor gin. Backward does the rest: when a tensor is used
// more than once (a fan-out, x.Mul(x), a leaf whose Grad holds an earlier sum) it gives the rule
// a scratch buffer and adds it in, always in the same order, so a rule never needs to know. Large
// element-wise loops belong in internal/kernel, as ReLU's; pooled memory that only the rule reads
// is handed to holdScratch (MaxPool2D's winners). Each op has a tensortest.GradCheck
// test; Square's is the "Square" case of TestGradElementwise in grad_test.go.
//
// # Errors
//
// Programmer errors (shapes that do not fit, an axis out of range, an id that is not a class)
// panic with a *Error that names the op and the shapes, e.g.
//
//	tensor: MatMul: shape mismatch [32 784] x [100 10]
//
// Class ids are checked by one function, ClassIDs, which SoftmaxCrossEntropy, Gather and
// TakeAlongAxis call, as do the losses and metrics that read labels; its panic names the op, the
// value and its index ("tensor: Gather: id 3 at index 1 is not an integer in [0, 3)").
//
// Every function's documentation lists when it panics. Nothing in this package reads outside
// data, so nothing returns an error.
//
// # Performance
//
// MatMul, Linear and Conv2D run on a packed, cache-blocked GEMM (AVX2/FMA assembly on amd64 CPUs
// that have it, pure Go elsewhere or with the purego build tag). Conv2D unfolds a few images at a
// time side by side (im2col) so that each GEMM is wide, packs the weights once per call, computes
// weight gradients as long dot products, and splits the batch over goroutines. Stride-1 layers
// with enough input channels (InC·KH·KW ≥ 128, as the tutorial CNN's second layer) skip the
// im2col matrix: the GEMM reads each kernel tap's rows straight from a zero-padded copy of the
// image, which stays in L1 cache, and so do the input and weight gradients. ReLU, MaxPool2D
// with 2×2 windows, Softmax, LogSoftmax, SoftmaxCrossEntropy and AvgPool2D are fused kernels.
// Conv2DReLUMaxPool is the convolution, ReLU and max pooling as one op, bit for bit: each chunk
// of images is rectified and pooled while it is in cache, so neither full-size intermediate is
// stored (a LeNet-style network's inference runs 1.5x faster with it, and its activations take a
// quarter of the memory).
//
// Backward takes gradient buffers from a free list and gives them back as soon as they are
// consumed; a rule writes straight into the gradient buffer of an input used once, so nothing is
// cleared and nothing is added. A recorded op is one allocation besides its data and its rule's
// closure. A training step's only large allocations are the ops' outputs.
package tensor
