package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// MultiHeadAttentionOptions are NewMultiHeadAttention's optional settings: Paddle's arguments
// after num_heads. The zero value is Paddle's default.
type MultiHeadAttentionOptions struct {
	Dropout     float32    // dropout on the attention weights, in training (Paddle's dropout, default 0)
	KDim, VDim  int        // features of key and value; 0 means embedDim
	NeedWeights bool       // Attend also returns the attention weights
	Rand        *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// MultiHeadAttention is paddle.nn.MultiHeadAttention: scaled dot-product attention over
// numHeads heads of headDim = embedDim/numHeads features,
//
//	Q = q_proj(query), K = k_proj(key), V = v_proj(value)   (split into heads)
//	W = softmax(Q·headDim^-0.5 · Kᵀ + mask),  out = out_proj(dropout(W)·V)   (heads joined)
//
// Tensors are batch-major: query [batch, L, embedDim], key [batch, S, kdim], value [batch, S,
// vdim]. The four projections are Linear layers (weights [in, out], Xavier-uniform, biases zero,
// as Paddle's) named q_proj, k_proj, v_proj and out_proj.
//
// The mask is added to the scores [batch, heads, L, S] and broadcasts to that shape ([L, S],
// [batch, 1, L, S], ...). Paddle converts a bool or int mask m to (m - 1)·1e9 — true keeps a
// position, false removes it — and adds a float mask as it is; oar's tensors are float32, so a
// keep/remove mask goes through AttentionMask first. PyTorch differs: its bool masks mark the
// positions to remove (true = masked), it packs the three input projections into one
// in_proj_weight [3E, E] ([out, in]), defaults to time-major tensors (batch_first=False), and
// with need_weights returns the weights averaged over heads unless average_attn_weights=False;
// Paddle and oar return them per head, [batch, heads, L, S], after dropout.
//
// Without NeedWeights (Forward, and the Transformer layers) the part between the projections runs
// as one tensor.Attention op, which reads each head where the projection wrote it; with it, as
// separate ops, so that the weights are part of the graph. Both give the same values.
type MultiHeadAttention struct {
	Hooks
	QProj, KProj, VProj, OutProj *Linear
	Dropout                      *Dropout // on the attention weights
	EmbedDim, NumHeads, HeadDim  int
	NeedWeights                  bool
}

// NewMultiHeadAttention returns a MultiHeadAttention of embedDim features in numHeads heads. It
// panics if embedDim or numHeads is below 1, embedDim is not a multiple of numHeads, the dropout
// is outside [0, 1), or more than one opts is given.
func NewMultiHeadAttention(embedDim, numHeads int, opts ...MultiHeadAttentionOptions) *MultiHeadAttention {
	const name = "MultiHeadAttention"
	if embedDim < 1 || numHeads < 1 || embedDim%numHeads != 0 {
		panic(&Error{Layer: name, Msg: fmt.Sprintf("embed_dim %d must be a positive multiple of num_heads %d", embedDim, numHeads)})
	}
	o := oneOptions(name, opts)
	if !(o.Dropout >= 0 && o.Dropout < 1) {
		panic(&Error{Layer: name, Msg: fmt.Sprintf("dropout %v outside [0, 1)", o.Dropout)})
	}
	kdim, vdim := o.KDim, o.VDim
	if kdim == 0 {
		kdim = embedDim
	}
	if vdim == 0 {
		vdim = embedDim
	}
	lo := LinearOptions{Rand: o.Rand}
	return &MultiHeadAttention{
		QProj:       NewLinear(embedDim, embedDim, lo),
		KProj:       NewLinear(kdim, embedDim, lo),
		VProj:       NewLinear(vdim, embedDim, lo),
		OutProj:     NewLinear(embedDim, embedDim, lo),
		Dropout:     NewDropout(o.Dropout),
		EmbedDim:    embedDim,
		NumHeads:    numHeads,
		HeadDim:     embedDim / numHeads,
		NeedWeights: o.NeedWeights,
	}
}

// Forward is self-attention without a mask: Attend(x, x, x, nil)'s output.
func (m *MultiHeadAttention) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer m.Done(m, x, &y)
	y, _ = m.attend(x, x, x, nil, false)
	return y
}

// Attend is Paddle's forward(query, key, value, attn_mask): query [batch, L, embedDim], key
// [batch, S, kdim], value [batch, S, vdim] (key and value nil mean query, and value nil means
// key, as in Paddle), mask nil or additive and broadcastable to [batch, heads, L, S]. It returns
// the output [batch, L, embedDim] and, if NeedWeights is set, the attention weights [batch,
// heads, L, S] (else nil). It panics on shapes that do not fit.
func (m *MultiHeadAttention) Attend(query, key, value, mask *tensor.Tensor) (out, weights *tensor.Tensor) {
	defer m.Done(m, query, &out)
	if key == nil {
		key = query
	}
	if value == nil {
		value = key
	}
	return m.attend(query, key, value, mask, m.NeedWeights)
}

// attend computes the attention; without needWeights it runs the heads as one tensor.Attention op,
// with it as separate ops so that the weights are a tensor of the graph.
func (m *MultiHeadAttention) attend(query, key, value, mask *tensor.Tensor, needWeights bool) (out, weights *tensor.Tensor) {
	q, k, v := query.Shape(), key.Shape(), value.Shape()
	if len(q) != 3 || len(k) != 3 || len(v) != 3 || q[2] != m.EmbedDim || k[2] != m.KProj.Weight.Dim(0) ||
		v[2] != m.VProj.Weight.Dim(0) || k[0] != q[0] || v[0] != q[0] || k[1] != v[1] {
		panicf(m, "query %v, key %v, value %v: want [batch, L, %d], [batch, S, %d], [batch, S, %d]",
			q, k, v, m.EmbedDim, m.KProj.Weight.Dim(0), m.VProj.Weight.Dim(0))
	}
	B, L, S, H, D := q[0], q[1], k[1], m.NumHeads, m.HeadDim
	if mask != nil && !attnBroadcastsTo(mask.Shape(), []int{B, H, L, S}) {
		panicf(m, "mask %v does not broadcast to the scores [%d %d %d %d]", mask.Shape(), B, H, L, S)
	}
	scale := float32(math.Pow(float64(D), -0.5))
	qp, kp, vp := m.QProj.Forward(query), m.KProj.Forward(key), m.VProj.Forward(value)
	if !needWeights {
		// One op for the heads, scores, mask, softmax, dropout and weighted sum. The dropout mask
		// comes from the Dropout layer applied to ones, which draws what it would draw for the
		// weights themselves, so both paths give the same values.
		var drop *tensor.Tensor
		if m.Dropout.P > 0 {
			ones := tensor.Ones(B, H, L, S)
			if d := m.Dropout.Forward(ones); d != ones {
				drop = d
			}
		}
		return m.OutProj.Forward(tensor.Attention(qp, kp, vp, mask, drop, H, scale)), nil
	}
	heads := func(x *tensor.Tensor, n int) *tensor.Tensor { // [B, n, E] → [B, H, n, D]
		return x.Reshape(B, n, H, D).Permute(0, 2, 1, 3)
	}
	scores := heads(qp, L).Scale(scale).MatMul(heads(kp, S), tensor.MatMulOptions{TransposeY: true})
	if mask != nil {
		scores = scores.Add(mask)
	}
	w := m.Dropout.Forward(scores.Softmax(-1))
	o := w.MatMul(heads(vp, S)).Permute(0, 2, 1, 3).Reshape(B, L, m.EmbedDim)
	return m.OutProj.Forward(o), w
}

// attnBroadcastsTo reports whether shape broadcasts to full without changing it (NumPy's rules).
func attnBroadcastsTo(shape, full []int) bool {
	if len(shape) > len(full) {
		return false
	}
	off := len(full) - len(shape)
	for i, d := range shape {
		if d != 1 && d != full[off+i] {
			return false
		}
	}
	return true
}

// Params returns q_proj, k_proj, v_proj and out_proj's weights and biases ("q_proj.weight", ...).
func (m *MultiHeadAttention) Params() []Param { return CollectParams(m.Sublayers()) }

// Sublayers returns q_proj, k_proj, v_proj, out_proj and the dropout on the weights.
func (m *MultiHeadAttention) Sublayers() []Named {
	return []Named{{"q_proj", m.QProj}, {"k_proj", m.KProj}, {"v_proj", m.VProj}, {"out_proj", m.OutProj}, {"dropout", m.Dropout}}
}

// AttentionMask turns a keep/remove mask into the additive mask MultiHeadAttention and the
// Transformer layers take, as Paddle converts bool and int masks: (keep - 1)·1e9, so 1 (Paddle's
// True) keeps a position (adds 0) and 0 removes it (adds -1e9). Note that PyTorch's bool masks
// mean the opposite (True = removed). The result carries no gradient.
func AttentionMask(keep *tensor.Tensor) *tensor.Tensor {
	return keep.Detach().AddScalar(-1).Scale(1e9)
}
