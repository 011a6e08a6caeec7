package kernel

// copyRows sets dst[r*ldd+i] = src[r*lds+i] for r < rows, i < n. The
// caller checks the bounds.
func copyRows(dst []float32, ldd int, src []float32, lds int, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+n-1]
	_ = src[(rows-1)*lds+n-1]
	if useAVX2 {
		copyRowsAVX2(&dst[0], ldd, &src[0], lds, rows, n)
		return
	}
	for r := range rows {
		copy(dst[r*ldd:r*ldd+n], src[r*lds:r*lds+n])
	}
}

// addRows adds src's rows into dst's: dst[r*ldd+i] += src[r*lds+i] for
// r < rows, i < n. Bitwise the same with and without assembly.
func addRows(dst []float32, ldd int, src []float32, lds int, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ldd+n-1]
	_ = src[(rows-1)*lds+n-1]
	if useAVX2 {
		addRowsAVX2(&dst[0], ldd, &src[0], lds, rows, n)
		return
	}
	for r := range rows {
		d, s := dst[r*ldd:r*ldd+n], src[r*lds:r*lds+n]
		for i := range d {
			d[i] += s[i]
		}
	}
}

// AddScalar sets dst[i] = src[i] + s; dst may be src. It panics if
// len(dst) != len(src).
func AddScalar(dst, src []float32, s float32) {
	checkLen2("AddScalar", dst, src)
	if useAVX2 {
		addScalarAVX2(ptr(dst), ptr(src), s, len(dst))
		return
	}
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = src[i] + s
	}
}

// ReLU sets dst[i] = max(x[i], 0), keeping NaN and -0 (it is 0 exactly where
// 0 > x). dst may be x. Long slices are split over goroutines. It panics if
// len(dst) != len(x).
func ReLU(dst, x []float32) {
	checkLen2("ReLU", dst, x)
	elementwise(reluFwd, dst, nil, x)
}

// ReLUMask sets dst[i] = g[i] where x[i] > 0 and +0 elsewhere: ReLU's
// vector-Jacobian product, into an undefined dst. It panics unless all
// lengths are equal.
func ReLUMask(dst, g, x []float32) {
	checkLen3("ReLUMask", dst, g, x)
	elementwise(reluSet, dst, g, x)
}

// elemGrain is the elements per chunk of a split elementwise kernel: below
// it, handing work to another goroutine costs more than it saves.
const elemGrain = 1 << 15

type elemOp int

const (
	reluFwd elemOp = iota
	reluSet
)

// elemTask is an elementwise kernel over a range, as a recyclable task.
type elemTask struct {
	op        elemOp
	dst, g, x []float32
}

var elemTasks freeList[elemTask]

// elementwise runs op on the whole slices, split over goroutines when they
// are long. Elements are independent, so the split changes nothing.
func elementwise(op elemOp, dst, g, x []float32) {
	t := elemTask{op: op, dst: dst, g: g, x: x}
	if len(dst) < 2*elemGrain {
		t.run(0, len(dst))
		return
	}
	tp := elemTasks.get()
	*tp = t
	parallelTask(len(dst), elemGrain, tp)
	*tp = elemTask{}
	elemTasks.put(tp)
}

func (t *elemTask) run(lo, hi int) {
	dst, x := t.dst[lo:hi], t.x[lo:hi]
	var g []float32
	if t.g != nil {
		g = t.g[lo:hi]
	}
	switch t.op {
	case reluFwd:
		if useAVX2 {
			reluAVX2(ptr(dst), ptr(x), len(dst))
			return
		}
		for i, v := range x {
			if 0 > v {
				v = 0
			}
			dst[i] = v
		}
	case reluSet:
		if useAVX2 {
			reluMaskAVX2(ptr(dst), ptr(g), ptr(x), len(dst))
			return
		}
		for i, v := range x {
			var d float32
			if v > 0 {
				d = g[i]
			}
			dst[i] = d
		}
	}
}
