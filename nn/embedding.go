package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/oarlab/oar/tensor"
)

// NoPadding is Embedding.PaddingIdx when the embedding has no padding index (Paddle's
// padding_idx=None, what the zero EmbeddingOptions gives).
const NoPadding = -1 << 62

// EmbeddingOptions are NewEmbedding's optional settings, Paddle's arguments after
// embedding_dim. The zero value is Paddle's default: no padding index, a weight drawn from
// Xavier-uniform (Paddle's default initializer for a 2-D parameter; PyTorch draws from N(0, 1)).
// For padding index 0: EmbeddingOptions{HasPadding: true, PaddingIdx: 0}.
type EmbeddingOptions struct {
	// PaddingIdx, when HasPadding is set, is the id whose output is all zeros and whose weight
	// row gets no gradient; negative values count from the end (-1 is numEmbeddings-1).
	PaddingIdx int
	HasPadding bool // Paddle's padding_idx is not None
	// Sparse is Paddle's sparse flag, accepted and ignored: the weight's gradient is always
	// dense (rows not looked up get zeros), which every optimizer handles.
	Sparse     bool
	WeightInit Init       // nil: XavierUniform()
	Rand       *rand.Rand // draw the initial values from Rand; nil: the shared source that Seed sets
}

// Embedding is paddle.nn.Embedding, a lookup table: ids of any shape [...] select rows of Weight
// [numEmbeddings, embeddingDim], giving [..., embeddingDim]. Ids are float32 tensors holding
// integers in [0, numEmbeddings), as class labels are (checked by tensor.ClassIDs); they get no
// gradient. The weight's gradient adds up the output gradients of each id's positions.
//
// With a padding index, as in Paddle: the constructor sets that row of Weight to zeros, every
// position holding that id outputs zeros whatever the row holds, and the row gets no gradient
// from them, so it stays as it is. PyTorch differs in one respect: its output at the padding id
// is the row itself, so a row changed after construction (loaded, or written by hand) shows in
// PyTorch's output and not in Paddle's (or oar's). Both zero the row at construction and neither
// updates it.
type Embedding struct {
	Hooks
	Weight     *tensor.Tensor // [numEmbeddings, embeddingDim]
	PaddingIdx int            // in [0, numEmbeddings), or NoPadding
	Sparse     bool           // Paddle's flag, kept for reference; it changes nothing
}

// NewEmbedding returns an Embedding of numEmbeddings rows of embeddingDim values. It panics if
// either is below 1, or if the padding index is outside [-numEmbeddings, numEmbeddings).
func NewEmbedding(numEmbeddings, embeddingDim int, opts ...EmbeddingOptions) *Embedding {
	if numEmbeddings < 1 || embeddingDim < 1 {
		panic(&Error{Layer: "Embedding", Msg: fmt.Sprintf("num_embeddings %d and embedding_dim %d must be at least 1", numEmbeddings, embeddingDim)})
	}
	o := oneOptions("Embedding", opts)
	l := &Embedding{PaddingIdx: NoPadding, Sparse: o.Sparse}
	if o.HasPadding {
		p := o.PaddingIdx
		if p < -numEmbeddings || p >= numEmbeddings {
			panic(&Error{Layer: "Embedding", Msg: fmt.Sprintf("padding_idx %d outside [-%d, %d)", p, numEmbeddings, numEmbeddings)})
		}
		if p < 0 {
			p += numEmbeddings
		}
		l.PaddingIdx = p
	}
	if o.WeightInit == nil {
		o.WeightInit = XavierUniform()
	}
	l.Weight = newParam(o.Rand, o.WeightInit, numEmbeddings, embeddingDim, numEmbeddings, embeddingDim)
	if l.PaddingIdx != NoPadding {
		clear(l.Weight.Data()[l.PaddingIdx*embeddingDim : (l.PaddingIdx+1)*embeddingDim])
	}
	return l
}

// Forward looks up ids [...] and returns [..., embeddingDim]. It panics if an id is not an
// integer in [0, numEmbeddings) (the message names the id and its index), or if ids is 0-d.
func (l *Embedding) Forward(ids *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, ids, &y)
	n, dim := l.Weight.Dim(0), l.Weight.Dim(1)
	if ids.Rank() == 0 {
		panicf(l, "ids %v: want at least one axis", ids.Shape())
	}
	tensor.ClassIDs("Embedding", ids, n, tensor.NoIgnoreIndex)
	flat := ids.Reshape(-1)
	if flat.RequiresGrad() {
		flat = flat.Detach()
	}
	rows := l.Weight.Gather(flat, 0) // [len(ids), dim]; its rule scatters the gradient back
	if l.PaddingIdx != NoPadding {
		// zero the padding positions: their output, and so their gradient to the padding row
		mask := make([]float32, flat.Len())
		pad := false
		for i, v := range flat.Data() {
			if int(v) == l.PaddingIdx {
				pad = true
			} else {
				mask[i] = 1
			}
		}
		if pad {
			rows = rows.Mul(tensor.New(mask, flat.Len(), 1))
		}
	}
	return rows.Reshape(append(ids.Shape(), dim)...)
}

// Params returns "weight".
func (l *Embedding) Params() []Param { return []Param{{"weight", l.Weight}} }
