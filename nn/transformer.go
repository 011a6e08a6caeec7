package nn

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/oarlab/oar/tensor"
)

// TransformerEncoderLayerOptions are NewTransformerEncoderLayer's optional settings: Paddle's
// arguments after dim_feedforward. The zero value is Paddle's default.
type TransformerEncoderLayerOptions struct {
	Dropout         float32 // after attention and feed-forward, and the defaults below; 0 means Paddle's 0.1
	NoDropout       bool    // no dropout anywhere (dropout=0, attn_dropout=0, act_dropout=0)
	AttnDropout     float32 // on the attention weights; 0 means the value of Dropout (Paddle's None)
	ActDropout      float32 // after the activation; 0 means the value of Dropout (Paddle's None)
	Activation      string  // "relu" (default, also "") or "gelu" (Paddle's exact, erf form)
	NormalizeBefore bool    // pre-norm: LayerNorm before attention and feed-forward (torch's norm_first)
	LayerNormEps    float32 // 0 means 1e-5

	Rand *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// TransformerEncoderLayer is paddle.nn.TransformerEncoderLayer: self-attention and a feed-forward
// network, each with a residual connection and a LayerNorm. Post-norm (default):
//
//	x = norm1(x + dropout1(self_attn(x, mask)))
//	x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))
//
// and with NormalizeBefore: x = x + dropout1(self_attn(norm1(x), mask)), x = x +
// dropout2(linear2(dropout(act(linear1(norm2(x)))))). Tensors are [batch, seq, dModel].
// Sublayer and parameter names are Paddle's (self_attn.q_proj.weight, linear1.weight,
// norm1.weight, ...). To change one dropout alone after construction, set its P (for instance
// l.SelfAttn.Dropout.P = 0).
//
// torch.nn.TransformerEncoderLayer computes the same with norm_first for NormalizeBefore and
// batch_first=True, but its linear weights are [out, in] and its attention packs q, k, v (see
// MultiHeadAttention), and it has one dropout value where Paddle has three.
type TransformerEncoderLayer struct {
	Hooks
	SelfAttn                    *MultiHeadAttention
	Linear1, Linear2            *Linear
	Dropout, Dropout1, Dropout2 *Dropout
	Norm1, Norm2                *LayerNorm
	Activation                  string
	NormalizeBefore             bool

	dModel, nhead, dimFF int
	opts                 TransformerEncoderLayerOptions
}

// NewTransformerEncoderLayer returns a TransformerEncoderLayer of dModel features, nhead heads and
// a feed-forward network of dimFeedforward hidden units. It panics if a size is below 1, dModel is
// not a multiple of nhead, a dropout is outside [0, 1), the activation is unknown, or more than one
// opts is given.
func NewTransformerEncoderLayer(dModel, nhead, dimFeedforward int, opts ...TransformerEncoderLayerOptions) *TransformerEncoderLayer {
	const name = "TransformerEncoderLayer"
	o := oneOptions(name, opts)
	if dimFeedforward < 1 {
		panic(&Error{Layer: name, Msg: fmt.Sprintf("dim_feedforward %d below 1", dimFeedforward)})
	}
	switch o.Activation {
	case "", "relu", "gelu":
	default:
		panic(&Error{Layer: name, Msg: fmt.Sprintf("activation %q, want \"relu\" or \"gelu\"", o.Activation)})
	}
	drop, attn, act := o.Dropout, o.AttnDropout, o.ActDropout
	if drop == 0 {
		drop = 0.1
	}
	if attn == 0 {
		attn = drop
	}
	if act == 0 {
		act = drop
	}
	if o.NoDropout {
		drop, attn, act = 0, 0, 0
	}
	for _, p := range []float32{drop, attn, act} {
		if !(p >= 0 && p < 1) {
			panic(&Error{Layer: name, Msg: fmt.Sprintf("dropout %v outside [0, 1)", p)})
		}
	}
	norm := NormOptions{Epsilon: o.LayerNormEps}
	lo := LinearOptions{Rand: o.Rand}
	l := &TransformerEncoderLayer{
		SelfAttn:        NewMultiHeadAttention(dModel, nhead, MultiHeadAttentionOptions{Dropout: attn, Rand: o.Rand}),
		Linear1:         NewLinear(dModel, dimFeedforward, lo),
		Dropout:         NewDropout(act),
		Linear2:         NewLinear(dimFeedforward, dModel, lo),
		Norm1:           NewLayerNorm([]int{dModel}, norm),
		Norm2:           NewLayerNorm([]int{dModel}, norm),
		Dropout1:        NewDropout(drop),
		Dropout2:        NewDropout(drop),
		Activation:      o.Activation,
		NormalizeBefore: o.NormalizeBefore,
		dModel:          dModel, nhead: nhead, dimFF: dimFeedforward, opts: o,
	}
	if l.Activation == "" {
		l.Activation = "relu"
	}
	return l
}

// Forward encodes src [batch, seq, dModel] without a mask.
func (l *TransformerEncoderLayer) Forward(src *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, src, &y)
	return l.encode(src, nil)
}

// ForwardMask is Paddle's forward(src, src_mask): mask is nil or an additive mask broadcastable
// to [batch, nhead, seq, seq] (see AttentionMask for keep/remove masks). It panics on shapes that
// do not fit.
func (l *TransformerEncoderLayer) ForwardMask(src, mask *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, src, &y)
	return l.encode(src, mask)
}

func (l *TransformerEncoderLayer) encode(src, mask *tensor.Tensor) *tensor.Tensor {
	if src.Rank() != 3 || src.Dim(2) != l.SelfAttn.EmbedDim {
		panicf(l, "src %v, want [batch, seq, %d]", src.Shape(), l.SelfAttn.EmbedDim)
	}
	residual, x := src, src
	if l.NormalizeBefore {
		x = l.Norm1.Forward(x)
	}
	a, _ := l.SelfAttn.Attend(x, x, x, mask)
	x = residual.Add(l.Dropout1.Forward(a))
	if !l.NormalizeBefore {
		x = l.Norm1.Forward(x)
	}
	residual = x
	if l.NormalizeBefore {
		x = l.Norm2.Forward(x)
	}
	h := l.Linear1.Forward(x)
	if l.Activation == "gelu" {
		h = h.GELU(false)
	} else {
		h = h.ReLU()
	}
	x = residual.Add(l.Dropout2.Forward(l.Linear2.Forward(l.Dropout.Forward(h))))
	if !l.NormalizeBefore {
		x = l.Norm2.Forward(x)
	}
	return x
}

// Params returns the parameters of the sublayers, prefixed with their names.
func (l *TransformerEncoderLayer) Params() []Param { return CollectParams(l.Sublayers()) }

// Sublayers returns self_attn, linear1, dropout, linear2, norm1, norm2, dropout1 and dropout2
// (Paddle's names and order).
func (l *TransformerEncoderLayer) Sublayers() []Named {
	return []Named{{"self_attn", l.SelfAttn}, {"linear1", l.Linear1}, {"dropout", l.Dropout}, {"linear2", l.Linear2},
		{"norm1", l.Norm1}, {"norm2", l.Norm2}, {"dropout1", l.Dropout1}, {"dropout2", l.Dropout2}}
}

// TransformerEncoder is paddle.nn.TransformerEncoder: numLayers encoder layers applied in turn,
// then an optional final norm. As in Paddle, the first layer is the one given and the others are
// new layers built with its constructor arguments, so they start from their own random weights
// (torch.nn.TransformerEncoder deep-copies the given layer instead, so all its layers start
// equal). Parameters are named "layers.0.self_attn.q_proj.weight", ..., "norm.weight".
type TransformerEncoder struct {
	Hooks
	Layers []*TransformerEncoderLayer
	Norm   Layer // nil for none
}

// NewTransformerEncoder returns an encoder of numLayers layers, the first being layer, and the
// final norm (nil for none; Paddle passes a LayerNorm when normalize_before is set). It panics if
// numLayers is below 1.
func NewTransformerEncoder(layer *TransformerEncoderLayer, numLayers int, norm Layer) *TransformerEncoder {
	if numLayers < 1 {
		panic(&Error{Layer: "TransformerEncoder", Msg: fmt.Sprintf("num_layers %d below 1", numLayers)})
	}
	e := &TransformerEncoder{Layers: []*TransformerEncoderLayer{layer}, Norm: norm}
	for range numLayers - 1 {
		e.Layers = append(e.Layers, NewTransformerEncoderLayer(layer.dModel, layer.nhead, layer.dimFF, layer.opts))
	}
	return e
}

// Forward encodes src [batch, seq, dModel] without a mask.
func (e *TransformerEncoder) Forward(src *tensor.Tensor) (y *tensor.Tensor) {
	defer e.Done(e, src, &y)
	return e.encode(src, nil)
}

// ForwardMask is Paddle's forward(src, src_mask): every layer gets mask (see
// TransformerEncoderLayer.ForwardMask).
func (e *TransformerEncoder) ForwardMask(src, mask *tensor.Tensor) (y *tensor.Tensor) {
	defer e.Done(e, src, &y)
	return e.encode(src, mask)
}

func (e *TransformerEncoder) encode(x, mask *tensor.Tensor) *tensor.Tensor {
	for _, l := range e.Layers {
		x = l.ForwardMask(x, mask)
	}
	if e.Norm != nil {
		x = e.Norm.Forward(x)
	}
	return x
}

// Params returns the parameters of the layers and the norm, prefixed with their paths.
func (e *TransformerEncoder) Params() []Param { return CollectParams(e.Sublayers()) }

// Sublayers returns "layers.0", "layers.1", ... and "norm" if there is one.
func (e *TransformerEncoder) Sublayers() []Named {
	var s []Named
	for i, l := range e.Layers {
		s = append(s, Named{"layers." + strconv.Itoa(i), l})
	}
	if e.Norm != nil {
		s = append(s, Named{"norm", e.Norm})
	}
	return s
}
