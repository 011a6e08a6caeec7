package tensor

import (
	"strconv"
	"strings"
)

// String formats t as Paddle prints a tensor, e.g.
//
//	Tensor(shape=[2, 2], requires_grad=false,
//	       [[1, 2],
//	        [3, 4]])
//
// Axes longer than 6 show their first and last 3 entries around "...".
func (t *Tensor) String() string {
	var sb strings.Builder
	sb.WriteString("Tensor(shape=[")
	for i, d := range t.shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	sb.WriteString("], requires_grad=")
	sb.WriteString(strconv.FormatBool(t.requiresGrad))
	sb.WriteString(",\n       ")
	t.format(&sb, 0, 0, 8)
	sb.WriteString(")")
	return sb.String()
}

// format writes the sub-array at axis whose first element is at off; indent is its column.
func (t *Tensor) format(sb *strings.Builder, axis, off, indent int) {
	if axis == len(t.shape) {
		sb.WriteString(strconv.FormatFloat(float64(t.data[off]), 'g', 6, 32))
		return
	}
	n, stride := t.shape[axis], 1
	for _, d := range t.shape[axis+1:] {
		stride *= d
	}
	sb.WriteByte('[')
	for i := 0; i < n; i++ {
		if n > 6 && i == 3 {
			sb.WriteString("...")
			i = n - 3
			t.separate(sb, axis, indent)
		}
		t.format(sb, axis+1, off+i*stride, indent+1)
		if i < n-1 {
			t.separate(sb, axis, indent)
		}
	}
	sb.WriteByte(']')
}

// separate writes what goes between two entries of axis: a comma, and a line break (with blank
// lines for deeper boundaries) unless the entries are numbers.
func (t *Tensor) separate(sb *strings.Builder, axis, indent int) {
	sb.WriteByte(',')
	if axis == len(t.shape)-1 {
		sb.WriteByte(' ')
		return
	}
	sb.WriteString(strings.Repeat("\n", len(t.shape)-1-axis))
	sb.WriteString(strings.Repeat(" ", indent))
}
