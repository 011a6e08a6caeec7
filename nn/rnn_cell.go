package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// RNNCellOptions are the optional settings of NewSimpleRNNCell, NewLSTMCell and NewGRUCell. The
// zero value is Paddle's default.
type RNNCellOptions struct {
	Activation string     // SimpleRNNCell only: "tanh" (default, also "") or "relu"
	Init       Init       // every weight and bias; nil: Uniform(-1/√hidden, 1/√hidden), Paddle's default
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// rnnCellWeights are one cell's parameters in Paddle's layouts: weight_ih [G·H, in], weight_hh
// [G·H, H], bias_ih and bias_hh [G·H], G being the number of gates.
type rnnCellWeights struct {
	WeightIH, WeightHH, BiasIH, BiasHH *tensor.Tensor
}

func newRNNCellWeights(mode tensor.RNNMode, in, hidden int, init Init, rng *rand.Rand) rnnCellWeights {
	if init == nil {
		std := float32(1 / math.Sqrt(float64(hidden)))
		init = Uniform(-std, std)
	}
	gh := rnnGateCount(mode) * hidden
	return rnnCellWeights{
		WeightIH: newParam(rng, init, in, gh, gh, in),
		WeightHH: newParam(rng, init, hidden, gh, gh, hidden),
		BiasIH:   newParam(rng, init, in, gh, gh),
		BiasHH:   newParam(rng, init, hidden, gh, gh),
	}
}

func rnnGateCount(mode tensor.RNNMode) int {
	switch mode {
	case tensor.RNNLSTM:
		return 4
	case tensor.RNNGRU:
		return 3
	}
	return 1
}

func (w rnnCellWeights) params(suffix string) []Param {
	return []Param{{"weight_ih" + suffix, w.WeightIH}, {"weight_hh" + suffix, w.WeightHH},
		{"bias_ih" + suffix, w.BiasIH}, {"bias_hh" + suffix, w.BiasHH}}
}

// project returns x·W_ihᵀ + b_ih for x [..., in] as [..., G·H]: one GEMM over every row of x
// that adds the bias as it writes (Linear on W_ih's transpose, a copy of G·H·in values).
func (w rnnCellWeights) project(x *tensor.Tensor) *tensor.Tensor {
	return x.Linear(w.WeightIH.T(), w.BiasIH)
}

// step runs the cell once: x [B, in], h [B, H] (and c [B, H] for LSTM); nil states are zeros.
func (w rnnCellWeights) step(l Layer, mode tensor.RNNMode, x, h, c *tensor.Tensor) (hn, cn *tensor.Tensor) {
	in, hidden := w.WeightIH.Dim(1), w.WeightHH.Dim(1)
	if x.Rank() != 2 || x.Dim(1) != in {
		panicf(l, "input %v, want [batch, %d]", x.Shape(), in)
	}
	b := x.Dim(0)
	for _, s := range []*tensor.Tensor{h, c} {
		if s != nil && (s.Rank() != 2 || s.Dim(0) != b || s.Dim(1) != hidden) {
			panicf(l, "state %v for input %v, want [%d %d]", s.Shape(), x.Shape(), b, hidden)
		}
	}
	if h == nil {
		h = tensor.Zeros(b, hidden)
	}
	if mode == tensor.RNNLSTM && c == nil {
		c = tensor.Zeros(b, hidden)
	}
	y := tensor.Recurrence(mode, w.project(x).Unsqueeze(1), h, c, w.WeightHH, w.BiasHH, tensor.RecurrenceOptions{})
	hn = y.Index(1, 1)
	if mode == tensor.RNNLSTM {
		cn = y.Index(1, 2)
	}
	return hn, cn
}

func rnnSimpleMode(layer, activation string) tensor.RNNMode {
	switch activation {
	case "", "tanh":
		return tensor.RNNTanh
	case "relu":
		return tensor.RNNReLU
	}
	panic(&Error{Layer: layer, Msg: fmt.Sprintf("activation %q, want \"tanh\" or \"relu\"", activation)})
}

func rnnCheckSizes(layer string, in, hidden int) {
	if in < 1 || hidden < 1 {
		panic(&Error{Layer: layer, Msg: fmt.Sprintf("input and hidden sizes must be at least 1, got %d and %d", in, hidden)})
	}
}

// SimpleRNNCell is an Elman cell, as paddle.nn.SimpleRNNCell: h = act(x·W_ihᵀ + b_ih + h_prev·W_hhᵀ
// + b_hh) with act tanh (default) or relu. WeightIH is [hidden, input] and WeightHH [hidden,
// hidden] (Paddle's and torch's layout); all four parameters start Uniform(-1/√hidden, 1/√hidden).
type SimpleRNNCell struct {
	Hooks
	rnnCellWeights
	mode tensor.RNNMode
}

// NewSimpleRNNCell returns a SimpleRNNCell from inputSize to hiddenSize features. It panics if a
// size is below 1, the activation is unknown, or more than one opts is given.
func NewSimpleRNNCell(inputSize, hiddenSize int, opts ...RNNCellOptions) *SimpleRNNCell {
	rnnCheckSizes("SimpleRNNCell", inputSize, hiddenSize)
	o := oneOptions("SimpleRNNCell", opts)
	mode := rnnSimpleMode("SimpleRNNCell", o.Activation)
	return &SimpleRNNCell{rnnCellWeights: newRNNCellWeights(mode, inputSize, hiddenSize, o.Init, o.Rand), mode: mode}
}

// Forward maps x [batch, input] to the new state [batch, hidden] from a zero state.
func (c *SimpleRNNCell) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer c.Done(c, x, &y)
	y, _ = c.step(c, c.mode, x, nil, nil)
	return y
}

// Step maps x [batch, input] and the previous state h [batch, hidden] (nil: zeros) to the new
// state, which is also the cell's output (Paddle's `y, h = cell(x, h)` returns it twice). It panics
// on shapes that do not fit.
func (c *SimpleRNNCell) Step(x, h *tensor.Tensor) (hn *tensor.Tensor) {
	defer c.Done(c, x, &hn)
	hn, _ = c.step(c, c.mode, x, h, nil)
	return hn
}

// Params returns "weight_ih", "weight_hh", "bias_ih", "bias_hh" (Paddle's names).
func (c *SimpleRNNCell) Params() []Param { return c.params("") }

// LSTMCell is a long short-term memory cell, as paddle.nn.LSTMCell (without proj_size):
//
//	i = σ(W_ii·x + b_ii + W_hi·h + b_hi), f = σ(…f…), c̃ = tanh(…g…), o = σ(…o…)
//	c' = f·c + i·c̃,  h' = o·tanh(c')
//
// WeightIH [4·hidden, input] and WeightHH [4·hidden, hidden] stack the gates in Paddle's order i,
// f, g (c̃), o, which is also torch.nn.LSTMCell's, so the two exchange weights unchanged. All four
// parameters start Uniform(-1/√hidden, 1/√hidden).
type LSTMCell struct {
	Hooks
	rnnCellWeights
}

// NewLSTMCell returns an LSTMCell from inputSize to hiddenSize features. It panics if a size is
// below 1 or more than one opts is given.
func NewLSTMCell(inputSize, hiddenSize int, opts ...RNNCellOptions) *LSTMCell {
	rnnCheckSizes("LSTMCell", inputSize, hiddenSize)
	o := oneOptions("LSTMCell", opts)
	return &LSTMCell{rnnCellWeights: newRNNCellWeights(tensor.RNNLSTM, inputSize, hiddenSize, o.Init, o.Rand)}
}

// Forward maps x [batch, input] to the new hidden state [batch, hidden] from zero states.
func (c *LSTMCell) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer c.Done(c, x, &y)
	y, _ = c.step(c, tensor.RNNLSTM, x, nil, nil)
	return y
}

// Step maps x [batch, input] and the previous states h, cell [batch, hidden] (nil: zeros) to the
// new states (Paddle's `y, (h, c) = cell(x, (h, c))`, where y is h). It panics on shapes that do
// not fit.
func (c *LSTMCell) Step(x, h, cell *tensor.Tensor) (hn, cn *tensor.Tensor) {
	defer c.Done(c, x, &hn)
	return c.step(c, tensor.RNNLSTM, x, h, cell)
}

// Params returns "weight_ih", "weight_hh", "bias_ih", "bias_hh" (Paddle's names).
func (c *LSTMCell) Params() []Param { return c.params("") }

// GRUCell is a gated recurrent unit, as paddle.nn.GRUCell:
//
//	r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz)
//	c̃ = tanh(W_ic·x + b_ic + r·(W_hc·h + b_hc)),  h' = z·h + (1-z)·c̃
//
// WeightIH [3·hidden, input] and WeightHH [3·hidden, hidden] stack the gates in the order r, z, c.
// Paddle applies the reset gate after the matrix product (r·(W_hc·h + b_hc)), and so does
// torch.nn.GRUCell (its n gate), with the same gate order and h' = (1-z)·n + z·h: the two compute
// the same function of the same weights. (The original GRU paper and Keras' reset_after=False
// apply r before the product, W_hc·(r·h); neither Paddle nor torch does.) All four parameters
// start Uniform(-1/√hidden, 1/√hidden).
type GRUCell struct {
	Hooks
	rnnCellWeights
}

// NewGRUCell returns a GRUCell from inputSize to hiddenSize features. It panics if a size is
// below 1 or more than one opts is given.
func NewGRUCell(inputSize, hiddenSize int, opts ...RNNCellOptions) *GRUCell {
	rnnCheckSizes("GRUCell", inputSize, hiddenSize)
	o := oneOptions("GRUCell", opts)
	return &GRUCell{rnnCellWeights: newRNNCellWeights(tensor.RNNGRU, inputSize, hiddenSize, o.Init, o.Rand)}
}

// Forward maps x [batch, input] to the new state [batch, hidden] from a zero state.
func (c *GRUCell) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer c.Done(c, x, &y)
	y, _ = c.step(c, tensor.RNNGRU, x, nil, nil)
	return y
}

// Step maps x [batch, input] and the previous state h [batch, hidden] (nil: zeros) to the new
// state, which is also the output. It panics on shapes that do not fit.
func (c *GRUCell) Step(x, h *tensor.Tensor) (hn *tensor.Tensor) {
	defer c.Done(c, x, &hn)
	hn, _ = c.step(c, tensor.RNNGRU, x, h, nil)
	return hn
}

// Params returns "weight_ih", "weight_hh", "bias_ih", "bias_hh" (Paddle's names).
func (c *GRUCell) Params() []Param { return c.params("") }
