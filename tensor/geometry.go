package tensor

// PadMode selects how Conv2D and the pools pad their input.
type PadMode int

const (
	// PadExplicit pads by the Padding field (the zero value: no padding when Padding is nil).
	PadExplicit PadMode = iota
	// PadSame pads so that the output has ceil(H/stride) rows and ceil(W/stride) columns, the extra
	// row or column going to the bottom or right (Paddle's and TensorFlow's "SAME"). As Paddle's
	// UpdatePaddingAndDilation, convolutions with PadSame ignore Dilation (take it as 1), where
	// TensorFlow would dilate the kernel.
	PadSame
	// PadValid is no padding (Paddle's "VALID").
	PadValid
)

// pair reads a 1- or 2-value option as (h, w); nil gives def for both.
func pair(op, name string, v []int, def int) (h, w int) {
	switch len(v) {
	case 0:
		return def, def
	case 1:
		return v[0], v[0]
	case 2:
		return v[0], v[1]
	}
	panicf(op, "%s %v: want 1 or 2 values", name, v)
	return
}

// window1D is one spatial axis of a convolution or pooling: its padding and output size.
type window1D struct {
	padLo, padHi, out int
}

// spatial resolves the padding of one axis of size n for a window of extent k (the dilated
// kernel) moved by stride, and the output size. ceil selects Paddle's ceil_mode.
func spatial(n, k, stride, padLo, padHi int, mode PadMode, ceil bool) window1D {
	switch mode {
	case PadValid:
		padLo, padHi = 0, 0
	case PadSame:
		out := (n + stride - 1) / stride
		total := max((out-1)*stride+k-n, 0)
		return window1D{padLo: total / 2, padHi: total - total/2, out: out}
	}
	span := n + padLo + padHi - k
	if span < 0 {
		return window1D{padLo, padHi, 0}
	}
	if ceil {
		// Paddle keeps a last window that starts inside the right padding (PyTorch drops it).
		return window1D{padLo, padHi, (span+stride-1)/stride + 1}
	}
	return window1D{padLo, padHi, span/stride + 1}
}

// padding reads the Padding option: 1 value (all sides), 2 (h, w) or 4 (top, bottom, left, right).
func padding(op string, p []int, mode PadMode) (top, bottom, left, right int) {
	if mode != PadExplicit {
		if len(p) != 0 {
			panicf(op, "Padding %v given with PadMode %d; use one or the other", p, mode)
		}
		return
	}
	switch len(p) {
	case 0:
	case 1:
		top, bottom, left, right = p[0], p[0], p[0], p[0]
	case 2:
		top, bottom, left, right = p[0], p[0], p[1], p[1]
	case 4:
		top, bottom, left, right = p[0], p[1], p[2], p[3]
	default:
		panicf(op, "Padding %v: want 1, 2 or 4 values", p)
	}
	if top < 0 || bottom < 0 || left < 0 || right < 0 {
		panicf(op, "negative Padding %v", p)
	}
	return
}
