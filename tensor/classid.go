package tensor

import "math"

// NoIgnoreIndex, given as ClassIDs' or SoftmaxCrossEntropy's ignoreIndex, ignores no label.
const NoIgnoreIndex = math.MinInt

// ClassIDs checks that every value of label is a class id for classes classes and returns the ids
// in label's row-major order, one per element, with -1 where a value equals ignoreIndex (Paddle's
// ignore_index, e.g. -100 or 255; NoIgnoreIndex ignores nothing). Class ids are float32 values
// holding integers in [0, classes) (exact below 2^24). It is the one class-id check of the module:
// SoftmaxCrossEntropy, Gather and TakeAlongAxis run it on their ids, and the losses and metrics
// that read class ids themselves call it once per call.
//
// label may have any shape; the caller checks that it fits its input (for logits [N, C], labels
// [N] or [N, 1]). It panics with an *Error naming op, the first bad value and its index in label's
// data, e.g. "tensor: CrossEntropy: id 2.5 at index 1 is not an integer in [0, 10)".
func ClassIDs(op string, label *Tensor, classes, ignoreIndex int) []int32 {
	ids := make([]int32, len(label.data))
	for i, v := range label.data {
		if ignoreIndex != NoIgnoreIndex && float64(v) == float64(ignoreIndex) {
			ids[i] = -1
			continue
		}
		ids[i] = int32(checkClassID(op, v, i, classes))
	}
	return ids
}

// checkClassID returns v, found at index pos of op's ids, as an int, and panics (as ClassIDs
// documents) unless it is an integer in [0, classes).
func checkClassID(op string, v float32, pos, classes int) int {
	f := float64(v)
	if !(f >= 0 && f < float64(classes) && f == math.Trunc(f)) { // also NaN and ±Inf
		panicf(op, "id %v at index %d is not an integer in [0, %d)", v, pos, classes)
	}
	return int(f)
}
