// Package nn has the layers networks are built from, as paddle.nn: Layer and Param, containers,
// initializers, state dicts and checkpoints, and these layers, each with Paddle's arguments and
// defaults (where PyTorch differs, the type's doc says how):
//
//   - dense and convolution: Linear, Conv1D, Conv2D, Conv2DTranspose, Embedding;
//   - pooling: MaxPool1D, AvgPool1D, MaxPool2D, AvgPool2D, AdaptiveAvgPool2D, AdaptiveMaxPool2D;
//   - normalization: BatchNorm1D, BatchNorm2D, LayerNorm, GroupNorm, InstanceNorm2D;
//   - activations: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, ELU, SELU, Softplus, Softsign,
//     Hardswish, Hardsigmoid, Hardtanh, ReLU6, LogSigmoid, Mish, Tanhshrink, PReLU, Softmax,
//     LogSoftmax; Identity, and Func for a function as a layer;
//   - recurrent: SimpleRNN, LSTM, GRU and their cells SimpleRNNCell, LSTMCell, GRUCell;
//   - attention: MultiHeadAttention, TransformerEncoderLayer, TransformerEncoder;
//   - Dropout, Flatten, Sequential, LayerList.
//
// State dicts are saved as safetensors (Save, Load); LoadPyTorch and SavePyTorch read and write
// PyTorch's layout of the same file format, LoadPaddle and SavePaddle read and write Paddle's
// .pdparams (paddle.save's pickle, read by a reader that runs no code), and package onnx exports
// and imports whole networks.
//
// # Layers
//
// A Layer maps one tensor to one and lists its parameters with dotted names, which are its
// state-dict keys ("features.0.weight"). A layer that holds others implements Parent, so that
// Train, Eval, Walk, StateDict and Summary see the whole tree. Every layer embeds Hooks and defers
// Hooks.Done first thing in its Forward; a custom layer does the same:
//
//	type MNIST struct {
//		nn.Hooks
//		conv1 *nn.Conv2D
//		pool1 *nn.MaxPool2D
//		fc    *nn.Linear
//	}
//
//	func (m *MNIST) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
//		defer m.Done(m, x, &y)
//		x = m.pool1.Forward(m.conv1.Forward(x).ReLU())
//		return m.fc.Forward(x.Flatten(1, -1))
//	}
//
// Done is where two things happen, for every layer alike:
//
//   - Forward post-hooks (Paddle's register_forward_post_hook) run after the layer's Forward,
//     however it was called: by a Sequential or by a struct layer's Forward directly. Summary
//     records its rows with them, so a struct layer like MNIST above shows a row for each child.
//   - Errors. A layer reports bad input by panicking with an *Error naming itself and the shapes
//     (a custom layer: panic(&nn.Error{Layer: nn.TypeName(m), Msg: ...}));
//     a tensor op's panic inside a layer becomes an *Error for that layer; and as the panic leaves
//     each enclosing layer, Done sets the dotted path of the layer at fault from there, so the
//     outermost layer run reports "nn: fc.1 (Linear): input [64 785], weight [784 10]".
//
// # Options
//
// A constructor with optional settings takes one options struct as its last, variadic argument,
// whose zero value is Paddle's default: NewLinear(784, 10, LinearOptions{NoBias: true}),
// NewConv2D(1, 20, 5, Conv2DOptions{Padding: []int{2}}). The initializers (Constant, Normal,
// XavierUniform, KaimingNormal, ...) go in their WeightInit and BiasInit fields.
//
// # Fusion
//
// Nothing in nn rewrites a network on its own: a Sequential runs its layers as written. Fuse is
// the one optimization, called explicitly: it replaces each Conv2D, ReLU, MaxPool2D run inside a
// Sequential by one ConvReLUPool layer (tensor.Conv2DReLUMaxPool), which computes the same values
// and gradients bit for bit without storing the convolution's and the ReLU's full-size outputs,
// and which keeps the convolution's name, so state-dict keys and checkpoints do not change.
// Summary of a fused network shows the ConvReLUPool rows. To turn it off, do not call Fuse.
package nn
