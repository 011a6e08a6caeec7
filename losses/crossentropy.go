package losses

import (
	"math"

	"github.com/oarlab/oar/tensor"
)

// smallestNormal is the smallest normal float32, 2^-126: its reciprocal (the gradient of log) is
// still finite.
const smallestNormal = 0x1p-126

// CrossEntropy is paddle.nn.CrossEntropyLoss (F.cross_entropy) with the class axis last: the
// input is [..., C] logits (probabilities with NoSoftmax) and the loss of a row with class y is
// -log softmax(x)[y], computed in one stable LogSoftmax step. The zero value is Paddle's default:
// mean reduction, no class weights, ignore_index -100, hard labels, softmax applied.
//
// Hard labels hold integer class ids, shaped like the input without its last axis ([N] for
// [N, C]) or with a last axis of 1 ([N, 1]). With SoftLabel the label is a distribution per row,
// shaped like the input, and the row's loss is -Σ_c label[c]·log p[c].
//
// ReduceMean follows Paddle exactly:
//   - with Weight, Σ loss / Σ weight[y] over the rows not ignored (each row's loss is already
//     scaled by weight[y]); for soft labels a row's weight is Σ_c label[c]·weight[c];
//   - without Weight and with a non-negative IgnoreIndex, Σ loss / (number of rows not ignored);
//   - without Weight and with a negative IgnoreIndex (the default -100), the plain mean over all
//     rows, ignored rows counting as 0.
//
// A zero denominator (every row ignored) counts as 1, so the loss is 0 rather than NaN, as Paddle.
//
// Class weights with soft labels or label smoothing are Paddle's, not PyTorch's: the row's loss
// -Σ_c label[c]·log p[c] is multiplied by the row weight Σ_c label[c]·weight[c] (PyTorch instead
// weights each term, -Σ_c weight[c]·label[c]·log p[c]), and the mean divides by the sum of the row
// weights (PyTorch divides by N).
type CrossEntropy struct {
	// Weight rescales each class's loss, shape [C]; nil weighs every class 1. It gets no gradient.
	Weight *tensor.Tensor
	// IgnoreIndex is a label value whose rows contribute 0 loss and no gradient (hard labels and
	// label smoothing). nil means Paddle's default, DefaultIgnoreIndex (-100); set another value
	// with new(255). Soft labels ignore nothing, so it must then stay negative.
	IgnoreIndex *int
	// Reduction combines the rows' losses; see the type's documentation for ReduceMean.
	Reduction Reduction
	// SoftLabel says the label is a distribution per row, shaped like the input.
	SoftLabel bool
	// LabelSmoothing ε in [0, 1] replaces each row's target t (one-hot for a hard label) by
	// (1-ε)·t + ε/C, Paddle's label_smooth; rows then behave as soft labels (Weight included), and
	// ReduceNone returns one loss per row with a trailing axis of 1, as Paddle. Unlike Paddle, which
	// cannot one-hot an ignored label, rows labelled IgnoreIndex stay ignored.
	LabelSmoothing float32
	// NoSoftmax says the input already holds probabilities (Paddle's use_softmax=False): the loss
	// is -log p[y] directly. Probabilities are clamped below at the smallest normal float32
	// (2^-126) first, so a zero probability gives a large finite loss (about 87.3; Paddle gives
	// 1e20) and a finite gradient.
	NoSoftmax bool
}

// NewCrossEntropy returns Paddle's default cross entropy, nn.CrossEntropyLoss(): mean reduction,
// ignore_index -100, hard labels, softmax applied. Set its fields for the other options.
func NewCrossEntropy() *CrossEntropy { return &CrossEntropy{} }

// Forward returns the cross entropy between the input [..., C] and the label: shape [] for
// ReduceMean and ReduceSum; for ReduceNone, the label's shape with hard labels ([N] or [N, 1]) and
// the input's shape with a last axis of 1 ([N, 1]) with soft labels or label smoothing.
//
// It panics if the input is 0-D or has no classes; if a hard label is not an integer in [0, C)
// and not IgnoreIndex (checked once, by tensor.ClassIDs, whose *tensor.Error names the value and
// its index); if the label's shape does not fit the input; if Weight is not [C]; if
// LabelSmoothing is outside [0, 1]; if SoftLabel is set with a non-negative IgnoreIndex; or if
// Reduction is unknown.
func (c CrossEntropy) Forward(input, label *tensor.Tensor) *tensor.Tensor {
	const op = "CrossEntropy"
	in := input.Shape()
	if len(in) == 0 || in[len(in)-1] == 0 {
		panicf(op, "input shape %v: want [..., C] with at least one class", in)
	}
	checkReduction(op, c.Reduction)
	eps := c.LabelSmoothing
	if !(eps >= 0 && eps <= 1) {
		panicf(op, "label smoothing %v outside [0, 1]", eps)
	}
	ignore := ignoreIndex(c.IgnoreIndex)
	if c.SoftLabel && ignore >= 0 {
		panicf(op, "ignore index %d with soft labels, which ignore nothing: leave IgnoreIndex nil", ignore)
	}
	nc := in[len(in)-1]
	rows := input.Len() / nc
	lead := in[:len(in)-1]
	w := classWeights(op, c.Weight, nc)

	x := input.Reshape(rows, nc)
	logProbs := func() *tensor.Tensor {
		if c.NoSoftmax {
			return x.Clip(smallestNormal, float32(math.Inf(1))).Log()
		}
		return x.LogSoftmax(1)
	}

	var rowW []float32 // each row's weight, 0 for ignored rows; not needed by the fused path
	var perRow *tensor.Tensor
	var outShape []int
	switch {
	case !c.SoftLabel && eps == 0 && w == nil && !c.NoSoftmax:
		// The common case, hard labels without class weights: one fused op, the same values. It
		// checks the labels' values itself (with tensor.ClassIDs); here only their shape.
		labelShape(op, label, in, lead)
		perRow = x.SoftmaxCrossEntropy(label.Reshape(rows), ignore)
		outShape = label.Shape()
	case !c.SoftLabel && eps == 0:
		ids := hardLabels(op, label, in, lead, nc, ignore)
		picked := make([]float32, rows) // ignored rows pick class 0 and are zeroed by rowW
		rowW = make([]float32, rows)
		for j, id := range ids {
			if id < 0 {
				continue
			}
			picked[j] = float32(id)
			rowW[j] = 1
			if w != nil {
				rowW[j] = w[id]
			}
		}
		perRow = logProbs().TakeAlongAxis(tensor.New(picked, rows, 1), 1).Reshape(rows).
			Mul(tensor.New(rowW, rows)).Neg()
		outShape = label.Shape()
	default:
		target := make([]float32, rows*nc)
		ignored := make([]bool, rows)
		rowW = make([]float32, rows)
		if c.SoftLabel {
			sameShape(op, input, label)
			copy(target, label.Data())
		} else {
			ids := hardLabels(op, label, in, lead, nc, ignore)
			for j, id := range ids {
				if id < 0 {
					ignored[j] = true
					continue
				}
				target[j*nc+int(id)] = 1
			}
		}
		for j := range rows {
			if ignored[j] {
				continue // an all-zero target: the row's loss and gradient are 0
			}
			t := target[j*nc : (j+1)*nc]
			if eps > 0 {
				for i := range t {
					t[i] = (1-eps)*t[i] + eps/float32(nc)
				}
			}
			rowW[j] = 1
			if w != nil {
				var s float32
				for i, v := range t {
					s += v * w[i]
				}
				rowW[j] = s
			}
		}
		perRow = logProbs().Mul(tensor.New(target, rows, nc)).Sum(1).Neg()
		if w != nil {
			perRow = perRow.Mul(tensor.New(rowW, rows))
		}
		outShape = append(append([]int(nil), lead...), 1)
	}

	switch c.Reduction {
	case ReduceNone:
		return perRow.Reshape(outShape...)
	case ReduceSum:
		return perRow.Sum()
	}
	var denom float64
	switch {
	case w != nil:
		for _, v := range rowW {
			denom += float64(v)
		}
	case ignore >= 0: // hard labels: soft ones panicked above
		denom = float64(rows - countIgnored(label, ignore))
	default:
		return perRow.Mean()
	}
	if denom == 0 {
		denom = 1 // Paddle: out_sum / (denom + (denom == 0))
	}
	return perRow.Sum().Div(tensor.Scalar(float32(denom)))
}
