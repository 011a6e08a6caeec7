package losses

import (
	"fmt"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// Loss maps a model's output and the labels to a loss: a 0-D tensor for the ReduceMean and
// ReduceSum reductions, on which Backward is called.
type Loss interface {
	Forward(input, label *tensor.Tensor) *tensor.Tensor
}

// Func adapts a function to the Loss interface, e.g. Func(SquareErrorCost).
type Func func(input, label *tensor.Tensor) *tensor.Tensor

// Forward returns f(input, label).
func (f Func) Forward(input, label *tensor.Tensor) *tensor.Tensor { return f(input, label) }

// Reduction says how per-element losses combine, Paddle's reduction argument. The zero value is
// Paddle's default, ReduceMean.
type Reduction int

const (
	ReduceMean      Reduction = iota // "mean": the mean (for CrossEntropy and NLL, a weighted mean; see each)
	ReduceSum                        // "sum": the sum
	ReduceNone                       // "none": no reduction, one loss per element or sample
	ReduceBatchMean                  // "batchmean": the sum divided by the batch size; KLDiv only
)

// String returns Paddle's name for r: "mean", "sum", "none" or "batchmean".
func (r Reduction) String() string {
	switch r {
	case ReduceMean:
		return "mean"
	case ReduceSum:
		return "sum"
	case ReduceNone:
		return "none"
	case ReduceBatchMean:
		return "batchmean"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// DefaultIgnoreIndex is Paddle's default ignore_index, used when IgnoreIndex is nil.
const DefaultIgnoreIndex = -100

var (
	_ Loss = CrossEntropy{}
	_ Loss = (*CrossEntropy)(nil)
	_ Loss = NLL{}
	_ Loss = MSE{}
	_ Loss = BCEWithLogits{}
	_ Loss = Func(SquareErrorCost)
)

// Error is the value of every panic raised by this package: a programmer error such as shapes
// that do not fit or a setting out of range. It names the loss and the offending value, e.g.
// "losses: BCEWithLogits: label 2 at index 2 outside [0, 1]". A class id that is not one is
// checked by tensor.ClassIDs and panics with a *tensor.Error instead.
type Error struct {
	Op  string // the loss, e.g. "CrossEntropy"
	Msg string // what was wrong
}

func (e *Error) Error() string { return "losses: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

func checkReduction(op string, r Reduction) {
	if r == ReduceBatchMean {
		panicf(op, "reduction %v is KLDiv's only", r)
	}
	if r != ReduceMean && r != ReduceSum && r != ReduceNone {
		panicf(op, "unknown %v", r)
	}
}

// reduce applies r to an element-wise loss.
func reduce(loss *tensor.Tensor, r Reduction) *tensor.Tensor {
	switch r {
	case ReduceSum:
		return loss.Sum()
	case ReduceNone:
		return loss
	}
	return loss.Mean()
}

func sameShape(op string, input, label *tensor.Tensor) {
	if !slices.Equal(input.Shape(), label.Shape()) {
		panicf(op, "input %v and label %v differ in shape", input.Shape(), label.Shape())
	}
}

func ignoreIndex(p *int) int {
	if p == nil {
		return DefaultIgnoreIndex
	}
	return *p
}

// classWeights returns the data of a per-class weight tensor of shape [C], or nil.
func classWeights(op string, w *tensor.Tensor, c int) []float32 {
	if w == nil {
		return nil
	}
	if s := w.Shape(); len(s) != 1 || s[0] != c {
		panicf(op, "weight shape %v, want [%d] (one per class)", s, c)
	}
	return w.Data()
}

// labelShape checks that hard labels fit an input whose leading axes (without the class axis)
// are lead: shaped lead or lead+[1].
func labelShape(op string, label *tensor.Tensor, input, lead []int) {
	ls := label.Shape()
	fits := slices.Equal(ls, lead) ||
		len(ls) == len(lead)+1 && ls[len(lead)] == 1 && slices.Equal(ls[:len(lead)], lead)
	if !fits {
		panicf(op, "label shape %v does not fit input %v: want %v or %v", ls, input, lead, append(slices.Clone(lead), 1))
	}
}

// hardLabels checks integer class labels of shape lead or lead+[1] against c classes and returns
// each row's class, or -1 where the label equals ignore. A bad label panics in tensor.ClassIDs.
func hardLabels(op string, label *tensor.Tensor, input, lead []int, c, ignore int) []int32 {
	labelShape(op, label, input, lead)
	return tensor.ClassIDs(op, label, c, ignore)
}

// countIgnored returns how many labels equal ignore, for labels already checked.
func countIgnored(label *tensor.Tensor, ignore int) int {
	n := 0
	for _, v := range label.Data() {
		if float64(v) == float64(ignore) {
			n++
		}
	}
	return n
}
