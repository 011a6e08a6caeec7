package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// RNNOptions are the optional settings of NewSimpleRNN, NewLSTM and NewGRU: Paddle's arguments
// after hidden_size. The zero value is Paddle's default (one layer, forward, batch-major, no
// dropout, tanh, Uniform(-1/√hidden, 1/√hidden) for every weight and bias).
type RNNOptions struct {
	NumLayers  int     // stacked layers; 0 means 1
	Direction  string  // "forward" (default, also ""), "bidirect" or "bidirectional"
	TimeMajor  bool    // inputs and outputs are [time, batch, features] (Paddle's time_major)
	Dropout    float32 // dropout on the input of each layer but the first, in training; in [0, 1)
	Activation string  // SimpleRNN only: "tanh" (default, also "") or "relu"

	Init Init       // every weight and bias; nil: Uniform(-1/√hidden, 1/√hidden), Paddle's default
	Rand *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// rnnBase is the body of SimpleRNN, LSTM and GRU (Paddle's RNNBase).
type rnnBase struct {
	mode       tensor.RNNMode
	inputSize  int
	hiddenSize int
	numLayers  int
	dirs       int // 1, or 2 for bidirect
	timeMajor  bool
	cells      []rnnCellWeights // layer l, direction d at l*dirs+d
	drop       *Dropout         // between layers, or nil
}

func newRNNBase(layer string, mode tensor.RNNMode, in, hidden int, o RNNOptions) rnnBase {
	rnnCheckSizes(layer, in, hidden)
	r := rnnBase{mode: mode, inputSize: in, hiddenSize: hidden, numLayers: max(o.NumLayers, 1), dirs: 1, timeMajor: o.TimeMajor}
	if o.NumLayers < 0 {
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("num_layers %d below 1", o.NumLayers)})
	}
	switch o.Direction {
	case "", "forward":
	case "bidirect", "bidirectional":
		r.dirs = 2
	default:
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("direction %q, want \"forward\" or \"bidirect\"", o.Direction)})
	}
	if !(o.Dropout >= 0 && o.Dropout < 1) {
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("dropout %v outside [0, 1)", o.Dropout)})
	}
	for l := range r.numLayers {
		lin := in
		if l > 0 {
			lin = hidden * r.dirs
		}
		for range r.dirs {
			r.cells = append(r.cells, newRNNCellWeights(mode, lin, hidden, o.Init, o.Rand))
		}
	}
	if o.Dropout > 0 && r.numLayers > 1 {
		r.drop = NewDropout(o.Dropout)
	}
	return r
}

// Options returns the settings the network was built with (NumLayers, Direction "forward" or
// "bidirect", TimeMajor, Dropout, and SimpleRNN's Activation "tanh" or "relu"); Init and Rand are
// not kept and are nil. Exporters read it (package onnx writes the network as ONNX operators).
func (r *rnnBase) Options() RNNOptions {
	o := RNNOptions{NumLayers: r.numLayers, Direction: "forward", TimeMajor: r.timeMajor}
	if r.dirs == 2 {
		o.Direction = "bidirect"
	}
	if r.drop != nil {
		o.Dropout = r.drop.P
	}
	switch r.mode {
	case tensor.RNNTanh:
		o.Activation = "tanh"
	case tensor.RNNReLU:
		o.Activation = "relu"
	}
	return o
}

// params returns Paddle's flattened names: weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
// bias_hh_l{k}, with "_reverse" for the backward direction, layer by layer.
func (r *rnnBase) params() []Param {
	var ps []Param
	for i, c := range r.cells {
		suffix := fmt.Sprintf("_l%d", i/r.dirs)
		if i%r.dirs == 1 {
			suffix += "_reverse"
		}
		ps = append(ps, c.params(suffix)...)
	}
	return ps
}

func (r *rnnBase) sublayers() []Named {
	if r.drop == nil {
		return nil
	}
	return []Named{{"dropout", r.drop}}
}

// run is Paddle's RNNBase.forward.
func (r *rnnBase) run(l Layer, x *tensor.Tensor, initial []*tensor.Tensor, seqLen []int) (*tensor.Tensor, []*tensor.Tensor) {
	if x.Rank() != 3 || x.Dim(2) != r.inputSize {
		panicf(l, "input %v, want [batch, time, %d] (or [time, batch, %d] with TimeMajor)", x.Shape(), r.inputSize, r.inputSize)
	}
	tAx, bAx := 1, 0
	if r.timeMajor {
		tAx, bAx = 0, 1
	}
	T, B, H := x.Dim(tAx), x.Dim(bAx), r.hiddenSize
	if T < 1 {
		panicf(l, "input %v has no time steps", x.Shape())
	}
	lstm := r.mode == tensor.RNNLSTM
	nStates := 1
	if lstm {
		nStates = 2
	}
	if initial != nil && len(initial) != nStates {
		panicf(l, "%d initial states, want %d", len(initial), nStates)
	}
	for _, s := range initial {
		if s == nil || s.Rank() != 3 || s.Dim(0) != r.numLayers*r.dirs || s.Dim(1) != B || s.Dim(2) != H {
			panicf(l, "initial state %v for input %v, want [%d %d %d]", rnnShapeOrNil(s), x.Shape(), r.numLayers*r.dirs, B, H)
		}
	}
	if seqLen != nil {
		if len(seqLen) != B {
			panicf(l, "%d sequence lengths for a batch of %d", len(seqLen), B)
		}
		for i, n := range seqLen {
			if n < 0 || n > T {
				panicf(l, "sequence length %d at index %d outside [0, %d]", n, i, T)
			}
		}
	}
	finals := make([][]*tensor.Tensor, nStates)
	in := x
	for layer := range r.numLayers {
		if layer > 0 && r.drop != nil {
			in = r.drop.Forward(in)
		}
		outs := make([]*tensor.Tensor, r.dirs)
		for d := range r.dirs {
			i := layer*r.dirs + d
			var h0, c0 *tensor.Tensor
			if initial != nil {
				h0 = initial[0].Index(0, i)
				if lstm {
					c0 = initial[1].Index(0, i)
				}
			} else {
				h0 = tensor.Zeros(B, H)
				if lstm {
					c0 = tensor.Zeros(B, H)
				}
			}
			c := r.cells[i]
			y := tensor.Recurrence(r.mode, c.project(in), h0, c0, c.WeightHH, c.BiasHH,
				tensor.RecurrenceOptions{TimeMajor: r.timeMajor, Reverse: d == 1, SeqLen: seqLen})
			outs[d] = y.Slice(tAx, 0, T)
			finals[0] = append(finals[0], y.Index(tAx, T))
			if lstm {
				finals[1] = append(finals[1], y.Index(tAx, T+1))
			}
		}
		in = outs[0]
		if r.dirs == 2 {
			in = tensor.Concat(outs, 2)
		}
	}
	states := make([]*tensor.Tensor, nStates)
	for k, f := range finals {
		states[k] = tensor.Stack(f, 0)
	}
	return in, states
}

func rnnShapeOrNil(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}

// SimpleRNN is a multi-layer Elman network, as paddle.nn.SimpleRNN: each layer maps its input
// sequence with h_t = act(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh), act tanh or relu.
//
// Inputs are [batch, time, input] ([time, batch, input] with TimeMajor); outputs [batch, time,
// D·hidden], D being 2 for "bidirect" (the forward and backward outputs concatenated, forward
// first) and 1 otherwise. States are [num_layers·D, batch, hidden], the backward direction of
// layer k at index 2k+1. Parameters are named as Paddle's (and torch's) flattened state dict:
// weight_ih_l{k} [hidden, in], weight_hh_l{k} [hidden, hidden], bias_ih_l{k}, bias_hh_l{k}
// [hidden], "_reverse" appended for the backward direction. (Paddle's state dict also lists each
// parameter a second time under its cell's path, "0.cell.weight_ih"; oar lists it once.)
//
// Sequence lengths (Run) work as in Paddle's rnn kernel: past its length a sequence's outputs are
// zero and its states stop changing; the backward direction starts at each sequence's last valid
// step. (Paddle's Python fallback, paddle.nn.RNN over cells, which Paddle's SimpleRNN/LSTM/GRU use
// only when a bias is turned off, holds the states the same way but leaves the outputs past the
// length non-zero. PyTorch has no sequence_length: pack_padded_sequence and pad_packed_sequence
// give the kernel's zeros and final states.) Dropout (RNNOptions.Dropout) is applied, in training, to the input of every layer but the
// first, with Paddle's upscale_in_train.
//
// Each layer and direction projects all time steps with one GEMM and then runs one
// tensor.Recurrence op: one GEMM and one fused gate pass per step.
type SimpleRNN struct {
	Hooks
	rnnBase
}

// NewSimpleRNN returns a SimpleRNN from inputSize to hiddenSize features. It panics if a size is
// below 1, an option is out of range (direction, activation, dropout), or more than one opts is
// given.
func NewSimpleRNN(inputSize, hiddenSize int, opts ...RNNOptions) *SimpleRNN {
	o := oneOptions("SimpleRNN", opts)
	return &SimpleRNN{rnnBase: newRNNBase("SimpleRNN", rnnSimpleMode("SimpleRNN", o.Activation), inputSize, hiddenSize, o)}
}

// Forward returns the output sequence for x from zero initial states (Run's outputs).
func (r *SimpleRNN) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer r.Done(r, x, &y)
	y, _ = r.run(r, x, nil, nil)
	return y
}

// Run is Paddle's `outputs, final_states = rnn(x, initial_states, sequence_length)`: initial is
// nil (zeros) or {h0} with h0 [num_layers·D, batch, hidden]; seqLen is nil (every sequence full)
// or the length of each sequence of the batch, in [0, time]. final holds {h_n}, shaped as h0. It
// panics on shapes or lengths that do not fit.
func (r *SimpleRNN) Run(x *tensor.Tensor, initial []*tensor.Tensor, seqLen []int) (out *tensor.Tensor, final []*tensor.Tensor) {
	defer r.Done(r, x, &out)
	return r.run(r, x, initial, seqLen)
}

// Params returns weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then the backward direction's
// (…_l0_reverse), then layer 1's, and so on.
func (r *SimpleRNN) Params() []Param { return r.params() }

// Sublayers returns the dropout between layers, if any.
func (r *SimpleRNN) Sublayers() []Named { return r.sublayers() }

// LSTM is a multi-layer long short-term memory network, as paddle.nn.LSTM (without proj_size):
// each layer runs Paddle's LSTMCell (gates i, f, g, o; see LSTMCell) over its input sequence.
// Shapes, parameter names, directions, sequence lengths and dropout are as SimpleRNN's, with
// weight_ih_l{k} [4·hidden, in] and weight_hh_l{k} [4·hidden, hidden], and two states, h and c.
// torch.nn.LSTM has the same formulas, gate order, names and layouts (with batch_first=True for
// oar's default layout); Paddle's "bidirect" is torch's bidirectional=True.
type LSTM struct {
	Hooks
	rnnBase
}

// NewLSTM returns an LSTM from inputSize to hiddenSize features. It panics if a size is below 1,
// an option is out of range, or more than one opts is given.
func NewLSTM(inputSize, hiddenSize int, opts ...RNNOptions) *LSTM {
	o := oneOptions("LSTM", opts)
	if o.Activation != "" {
		panic(&Error{Layer: "LSTM", Msg: fmt.Sprintf("activation %q: only SimpleRNN takes one", o.Activation)})
	}
	return &LSTM{rnnBase: newRNNBase("LSTM", tensor.RNNLSTM, inputSize, hiddenSize, o)}
}

// Forward returns the output sequence for x from zero initial states (Run's outputs).
func (r *LSTM) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer r.Done(r, x, &y)
	y, _ = r.run(r, x, nil, nil)
	return y
}

// Run is Paddle's `outputs, (h, c) = lstm(x, (h0, c0), sequence_length)`: initial is nil (zeros)
// or {h0, c0}, each [num_layers·D, batch, hidden]; seqLen is nil or the length of each sequence.
// final is {h_n, c_n}, shaped as h0. It panics on shapes or lengths that do not fit.
func (r *LSTM) Run(x *tensor.Tensor, initial []*tensor.Tensor, seqLen []int) (out *tensor.Tensor, final []*tensor.Tensor) {
	defer r.Done(r, x, &out)
	return r.run(r, x, initial, seqLen)
}

// Params returns the parameters in SimpleRNN's order and naming.
func (r *LSTM) Params() []Param { return r.params() }

// Sublayers returns the dropout between layers, if any.
func (r *LSTM) Sublayers() []Named { return r.sublayers() }

// GRU is a multi-layer gated recurrent unit network, as paddle.nn.GRU: each layer runs Paddle's
// GRUCell (gates r, z, c, the reset gate applied after the hidden product; see GRUCell) over its
// input sequence. Shapes, names, directions, sequence lengths and dropout are as SimpleRNN's,
// with weight_ih_l{k} [3·hidden, in] and weight_hh_l{k} [3·hidden, hidden]. torch.nn.GRU computes
// the same function of the same weights.
type GRU struct {
	Hooks
	rnnBase
}

// NewGRU returns a GRU from inputSize to hiddenSize features. It panics if a size is below 1, an
// option is out of range, or more than one opts is given.
func NewGRU(inputSize, hiddenSize int, opts ...RNNOptions) *GRU {
	o := oneOptions("GRU", opts)
	if o.Activation != "" {
		panic(&Error{Layer: "GRU", Msg: fmt.Sprintf("activation %q: only SimpleRNN takes one", o.Activation)})
	}
	return &GRU{rnnBase: newRNNBase("GRU", tensor.RNNGRU, inputSize, hiddenSize, o)}
}

// Forward returns the output sequence for x from zero initial states (Run's outputs).
func (r *GRU) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer r.Done(r, x, &y)
	y, _ = r.run(r, x, nil, nil)
	return y
}

// Run is Paddle's `outputs, h = gru(x, h0, sequence_length)`, as SimpleRNN's Run.
func (r *GRU) Run(x *tensor.Tensor, initial []*tensor.Tensor, seqLen []int) (out *tensor.Tensor, final []*tensor.Tensor) {
	defer r.Done(r, x, &out)
	return r.run(r, x, initial, seqLen)
}

// Params returns the parameters in SimpleRNN's order and naming.
func (r *GRU) Params() []Param { return r.params() }

// Sublayers returns the dropout between layers, if any.
func (r *GRU) Sublayers() []Named { return r.sublayers() }
