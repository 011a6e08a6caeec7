package onnx

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// ExportOptions are Export's and Save's optional settings. The zero value writes opset 13 with a
// symbolic batch dimension, an input named "input" and an output named "output".
type ExportOptions struct {
	// Opset is the ONNX operator set version the model imports, 13 through 17; 0 means 13. The
	// model's IR version is the one ONNX released with that opset (7 for 13 and 14, 8 for 15 to
	// 17, as onnx.helper's VERSION_TABLE).
	Opset int
	// StaticBatch fixes dim 0 of the input and output to inputShape[0]. Without it dim 0 is the
	// symbolic dimension "batch", so that the model runs at any batch size; every Reshape target
	// is then written so that it holds for any batch (a Reshape that moves the batch axis, or a
	// Slice of it, is an error that suggests StaticBatch). The output's dim 0 is "batch" too, or
	// unknown if the network merged the batch into it (Flatten(0, 1)).
	StaticBatch bool
	// InputName and OutputName name the graph's input and output; "" means "input" and "output".
	InputName, OutputName string
	// ProducerName and ProducerVersion are recorded in the model; "" means "oar" and no version.
	ProducerName, ProducerVersion string
	// TraceInput, if not nil, is the input that Export runs l on, of shape inputShape, instead of
	// a random normal one: for a network whose input must hold particular values, such as the
	// integer ids of an Embedding. Export recovers some attributes (softmax axes, slice starts)
	// from the traced values, so they should be as varied as real inputs.
	TraceInput *tensor.Tensor
}

// exIRVersions is the IR version ONNX released with each opset (onnx/helper.py VERSION_TABLE,
// v1.12.0: 1.8.0 = IR 7 opset 13, 1.9.0 = 7/14, 1.10.0 = 8/15, 1.11.0 = 8/16, 1.12.0 = 8/17).
var exIRVersions = map[int]int64{13: 7, 14: 7, 15: 8, 16: 8, 17: 8}

// Export writes l as an ONNX model to w: one float input of shape inputShape ([N, C, H, W] for a
// CNN, [N, features] for an MLP; dim 0 is the batch) and one float output, the parameters and
// buffers (BatchNorm2D's running statistics) as initializers named by their state-dict keys
// ("features.0.weight"; a tensor shared by two layers is one initializer, under its first key), in
// evaluation mode (Dropout removed, BatchNorm2D on its running statistics).
//
// Export runs l.Forward once, in evaluation mode, on a random input of inputShape (or
// ExportOptions.TraceInput) with the
// autograd graph recorded, and each layer's mode is restored afterwards (it registers forward
// post-hooks for that run: l must not run on another goroutine meanwhile). The built-in layers
// (Linear, Conv2D, ConvReLUPool, MaxPool2D, AvgPool2D, BatchNorm2D, Dropout, Flatten, ReLU,
// LeakyReLU, Sigmoid, Tanh, Softmax) become their ONNX operators, and so do LayerNorm
// (LayerNormalization from opset 17, its decomposition before), GroupNorm, InstanceNorm2D,
// BatchNorm1D, Embedding (its float ids cast to int64 for Gather), the activation layers (GELU,
// SiLU, ELU, SELU, Softplus, Softsign, Hardswish, Hardsigmoid, Hardtanh, ReLU6, LogSigmoid, Mish,
// Tanhshrink, PReLU, LogSoftmax), Conv1D (any padding mode), Conv2DTranspose, AdaptiveAvgPool2D and
// AdaptiveMaxPool2D (to a 1x1 output or one that divides the input's; else an error), AvgPool1D,
// MaxPool1D, SimpleRNN, LSTM and GRU (ONNX's RNN, LSTM and GRU, one node per layer), and
// MultiHeadAttention (self-attention without a mask, as MatMul and Softmax); Identity adds no
// node and Func is traced through. Containers (Sequential, LayerList) and struct layers of any
// type (TransformerEncoderLayer among them) are traced through: the tensor ops their Forward
// calls between sublayers become ONNX operators (Reshape and Flatten, Add, Sub, Mul, Div,
// Maximum, Minimum with broadcasting, ReLU, Sigmoid, Tanh, Exp, Log, Sqrt, Abs, Square, Erf, the
// activations without arguments GELU, SiLU, Softsign, Hardswish, ReLU6, LogSigmoid, Mish and
// Tanhshrink, Softmax, LogSoftmax, Concat, Permute, Slice and Index, MatMul, Linear, Clone, and
// the reductions Sum, Mean, Max and Min with or without KeepDim), their attributes recovered
// from the traced shapes and values. A reduction that the shapes allow with or without the batch
// axis (traced at size 1) is taken to keep the batch. The random input is normal, not integer:
// for a network whose input is an Embedding's ids, give ExportOptions.TraceInput.
//
// Tensors that are neither parameters nor computed from the input through recorded ops become
// initializers with generated names: constants such as tensor.Scalar(1), but also anything
// computed from the input without the autograd graph (comparisons, ArgMax, Data()), which the
// model then holds as traced. A constant whose dim 0 is the traced batch size (above 1), combined
// with the batched input, is an error.
//
// An imported model (a *Graph from Import or Load) is written as it was read, with the current
// values of its parameters and buffers (after fine-tuning, say); inputShape is checked but not
// used, and Opset (unless equal to the model's), StaticBatch, InputName and OutputName are errors.
//
// It returns an error, and writes nothing, if more than one options value is given, the opset is
// outside 13..17, inputShape is empty or has a dimension below 1 (or is not TraceInput's shape),
// l.Forward panics on that input,
// the output does not depend on the input, or an op cannot be written as ONNX (an op whose
// attributes cannot be recovered, such as Scale's factor; a pooling window that ONNX Runtime
// computes differently from oar; a Reshape that moves a symbolic batch); the error names the layer
// at fault by its path ("features.3") and Go type, and says what to use instead. Errors writing to
// w are returned as they are.
func Export(w io.Writer, l nn.Layer, inputShape []int, opts ...ExportOptions) error {
	m, err := exportModel(l, inputShape, opts)
	if err != nil {
		return err
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: Export: encoding the model: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// Save is Export to the file at path, written atomically: on error the file is left as it was.
// The error names the file.
func Save(path string, l nn.Layer, inputShape []int, opts ...ExportOptions) error {
	m, err := exportModel(l, inputShape, opts)
	if err != nil {
		return fmt.Errorf("%w (saving %s)", err, path)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: Save %s: encoding the model: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return fmt.Errorf("onnx: Save %s: %w", path, err)
	}
	return nil
}

// exportModel checks the arguments, traces l and builds the model.
func exportModel(l nn.Layer, inputShape []int, opts []ExportOptions) (*onnxpb.ModelProto, error) {
	if len(opts) > 1 {
		return nil, fmt.Errorf("onnx: Export: got %d ExportOptions values, want at most one", len(opts))
	}
	var o ExportOptions
	if len(opts) == 1 {
		o = opts[0]
	}
	if o.Opset == 0 {
		o.Opset = 13
	}
	ir, ok := exIRVersions[o.Opset]
	if !ok {
		return nil, fmt.Errorf("onnx: Export: opset %d is not supported; use 13 through 17 (0 means 13)", o.Opset)
	}
	if o.InputName == "" {
		o.InputName = "input"
	}
	if o.OutputName == "" {
		o.OutputName = "output"
	}
	if o.ProducerName == "" {
		o.ProducerName = "oar"
	}
	if o.InputName == o.OutputName {
		return nil, fmt.Errorf("onnx: Export: input and output are both named %q", o.InputName)
	}
	if l == nil {
		return nil, errors.New("onnx: Export: nil layer")
	}
	if len(inputShape) == 0 {
		return nil, errors.New("onnx: Export: empty input shape; give the shape of one input batch, such as [1, 1, 28, 28]")
	}
	for _, d := range inputShape {
		if d < 1 {
			return nil, fmt.Errorf("onnx: Export: input shape %v has a dimension below 1", inputShape)
		}
	}
	if im, ok := l.(exImported); ok {
		return exportImported(im, o, opts)
	}
	if o.TraceInput != nil && !slices.Equal(o.TraceInput.Shape(), inputShape) {
		return nil, fmt.Errorf("onnx: Export: TraceInput of shape %v for input shape %v", o.TraceInput.Shape(), inputShape)
	}
	tr, err := exTraceRun(l, inputShape, o.TraceInput)
	if err != nil {
		return nil, err
	}
	e := newExporter(tr, o)
	g, err := e.graph()
	if err != nil {
		return nil, err
	}
	return &onnxpb.ModelProto{
		IrVersion:       ir,
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: "", Version: int64(o.Opset)}},
		ProducerName:    o.ProducerName,
		ProducerVersion: o.ProducerVersion,
		Graph:           g,
	}, nil
}

// exImported is a model read by Import or Load (*Graph), which Export writes as it is.
type exImported interface {
	nn.Layer
	modelProto() *onnxpb.ModelProto
}

// exportImported returns an imported model with its parameters' current values. Options that
// would change the model are errors: the graph is written as it was read.
func exportImported(im exImported, o ExportOptions, opts []ExportOptions) (*onnxpb.ModelProto, error) {
	var given ExportOptions
	if len(opts) == 1 {
		given = opts[0]
	}
	m := im.modelProto()
	opset := int64(0)
	for _, id := range m.GetOpsetImport() {
		if id.GetDomain() == "" || id.GetDomain() == "ai.onnx" {
			opset = id.GetVersion()
		}
	}
	if (given.Opset != 0 && int64(given.Opset) != opset) || given.StaticBatch || given.InputName != "" || given.OutputName != "" {
		return nil, fmt.Errorf("onnx: Export: an imported model (%T, opset %d) is written as it was read, with its parameters' current values; Opset, StaticBatch, InputName and OutputName cannot change it", im, opset)
	}
	if given.ProducerName != "" || given.ProducerVersion != "" {
		m.ProducerName, m.ProducerVersion = o.ProducerName, o.ProducerVersion
	}
	return m, nil
}

// An exCall is one Forward of a layer, seen by a forward post-hook.
type exCall struct {
	layer   nn.Layer
	path    string
	in, out *tensor.Tensor
}

// exTrace is a traced run: the input, the output, every layer call and the state dict.
type exTrace struct {
	root   nn.Layer
	x, y   *tensor.Tensor
	calls  []*exCall                 // in the order they returned: a layer's sublayers before the layer
	params map[*tensor.Tensor]string // parameters and buffers: their state-dict names
}

// exHookable is a layer that embeds nn.Hooks.
type exHookable interface {
	RegisterForwardPostHook(hook nn.ForwardPostHook) (remove func())
}

// exTraceRun runs l once in evaluation mode on a copy of input, or if it is nil a random input of
// shape, recording every layer call and the autograd graph, and restores each layer's mode.
func exTraceRun(l nn.Layer, shape []int, input *tensor.Tensor) (tr *exTrace, err error) {
	defer func() { // deferred first, so that it runs after the hooks are removed and modes restored
		if r := recover(); r != nil {
			tr, err = nil, fmt.Errorf("onnx: Export: %s on an input of shape %v: %v", nn.TypeName(l), shape, r)
		}
	}()
	tr = &exTrace{root: l, params: map[*tensor.Tensor]string{}}
	for _, p := range nn.StateDict(l) {
		if _, ok := tr.params[p.Tensor]; !ok && p.Tensor != nil { // shared: the first name
			tr.params[p.Tensor] = p.Name
		}
	}
	paths := map[nn.Layer]string{}
	var removes []func()
	defer func() {
		for _, r := range removes {
			r()
		}
	}()
	nn.Walk(l, func(path string, c nn.Layer) {
		if t, ok := c.(nn.Trainer); ok {
			training := t.Training()
			removes = append(removes, func() { t.SetTraining(training) })
			t.SetTraining(false)
		}
		if c == nil || !reflect.TypeOf(c).Comparable() {
			return // a layer that cannot be a map key is traced through
		}
		if _, seen := paths[c]; seen { // one layer at two places: one hook, the first path
			return
		}
		paths[c] = path
		if h, ok := c.(exHookable); ok {
			removes = append(removes, h.RegisterForwardPostHook(func(c nn.Layer, in, out *tensor.Tensor) *tensor.Tensor {
				tr.calls = append(tr.calls, &exCall{layer: c, path: paths[c], in: in, out: out})
				return nil
			}))
		}
	})
	if input != nil {
		tr.x = tensor.New(slices.Clone(input.Data()), shape...).SetRequiresGrad(true)
	} else {
		tr.x = tensor.Randn(rand.New(rand.NewPCG(13, 17)), shape...).SetRequiresGrad(true)
	}
	tr.y = l.Forward(tr.x)
	if tr.y == nil {
		return nil, fmt.Errorf("onnx: Export: %s returned no output for an input of shape %v", nn.TypeName(l), shape)
	}
	return tr, nil
}
