package oar

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// EvalResult is what Evaluate returns: the logged values by name, "loss" (the last batch's, when
// the model has a loss) and each metric's name ("acc", ...), as Paddle's evaluate returns a dict.
//
// Paddle's dict holds the loss as a list, one value per output of the loss function; oar's losses
// return one tensor, and the map holds the loss as a number. String prints Paddle's format, the
// loss as a one-element list, so that the tutorial's print(result) is fmt.Println(result).
type EvalResult map[string]float64

// String formats r as Python prints Paddle's result, e.g. {'loss': [0.00012345], 'acc': 0.9859}:
// "loss" first, as a one-element list, then the other names in sorted order (the order of
// Paddle's metrics when there is one, or several of one metric as acc_top1, acc_top2), each
// value in Python's shortest form (the loss as a float32, as Paddle computes it).
func (r EvalResult) String() string {
	var b strings.Builder
	b.WriteString("{")
	if v, ok := r["loss"]; ok {
		b.WriteString("'loss': [" + pyFloat(v, 32) + "]")
	}
	names := make([]string, 0, len(r))
	for n := range r {
		if n != "loss" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		b.WriteString("'" + n + "': " + pyFloat(r[n], 64))
	}
	b.WriteString("}")
	return b.String()
}

// pyFloat formats v as Python's repr of a float (bits 64) or NumPy's of a float32 (bits 32):
// the shortest digits that read back as v, with ".0" on whole numbers and Python's names for
// the special values.
func pyFloat(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(v, 'g', -1, bits)
	if mant, exp, ok := strings.Cut(s, "e"); ok {
		// Go writes 1e+16 and 1e-05; Python writes 1e+16 and 1e-05 too, but only from 1e16 up.
		if e, _ := strconv.Atoi(exp); e >= -4 && e < 16 {
			s = strconv.FormatFloat(v, 'f', -1, bits)
		} else {
			return mant + "e" + exp
		}
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
