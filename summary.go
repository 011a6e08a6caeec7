package oar

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// ParamsInfo is what Summary returns: Paddle's {'total_params', 'trainable_params'}.
type ParamsInfo struct {
	TotalParams     int
	TrainableParams int
}

// Summary prints paddle.summary's table for net on standard output and returns the parameter
// totals. See SummaryTo.
func Summary(net nn.Layer, inputShape []int) ParamsInfo { return SummaryTo(os.Stdout, net, inputShape) }

// SummaryTo runs net once on a random input of inputShape (one dimension may be -1, read as 1:
// the batch) and writes paddle.summary's table to w, as Paddle builds it: a forward post-hook
// (nn.Hooks) on every layer in net except Sequential and LayerList, and except net itself unless
// it has no sublayers, records a row each time a layer's Forward returns, in that order (children
// before the layer that called them), however the layer was called. A row is named ClassName-k,
// k counting the layers of that class in the order they first ran (Paddle counts them in the
// order they were created, which is the same for a network built and run in one order), with
// the layer's input and output shapes and the number of its own parameters (those none of its
// sublayers holds); a layer run twice keeps one row with its last shapes. The totals count all
// net's parameters (a shared one once); the forward/backward size is twice the rows' output sizes, 4 bytes per value.
//
// Summary runs net's own Forward, the code training runs, in evaluation mode without a graph,
// and restores every layer's mode afterwards. A layer that does not embed nn.Hooks has no row
// (net itself, if it has no sublayers, is recorded from the call).
//
// It panics if inputShape has more than one -1 or another dimension below 1, or if net panics on
// the input.
func SummaryTo(w io.Writer, net nn.Layer, inputShape []int) ParamsInfo {
	shape := make([]int, len(inputShape))
	unknown := 0
	for i, d := range inputShape {
		switch {
		case d == -1 && unknown == 0:
			unknown++
			d = 1
		case d < 1:
			panicf("Summary", "input shape %v: only one dimension may be -1 and the others must be at least 1", inputShape)
		}
		shape[i] = d
	}

	type row struct {
		name, in, out string
		params        int
		outElems      int
	}
	var rows []row
	counts := map[string]int{}
	// record returns a function that fills one layer's row, added when it first runs.
	record := func() func(l nn.Layer, in, out *tensor.Tensor) {
		i := -1
		return func(l nn.Layer, in, out *tensor.Tensor) {
			if i < 0 {
				class := nn.TypeName(l)
				counts[class]++
				i = len(rows)
				rows = append(rows, row{name: fmt.Sprintf("%s-%d", class, counts[class])})
				rows[i].params, _ = countParams(ownParams(l))
			}
			rows[i].in, rows[i].out, rows[i].outElems = pyList([][]int{in.Shape()}), pyShape(out.Shape()), out.Len()
		}
	}

	restore := evalMode(net)
	defer restore()
	type hookable interface {
		RegisterForwardPostHook(nn.ForwardPostHook) (remove func())
	}
	p, isParent := net.(nn.Parent)
	leaf := !isParent || len(p.Sublayers()) == 0
	hooked := map[nn.Layer]bool{}
	var removes []func()
	defer func() {
		for _, r := range removes {
			r()
		}
	}()
	nn.Walk(net, func(path string, l nn.Layer) {
		switch l.(type) {
		case *nn.Sequential, *nn.LayerList:
			return // containers are not rows, as in Paddle
		}
		h, ok := l.(hookable)
		if !ok || (path == "" && !leaf) {
			return
		}
		if reflect.TypeOf(l).Comparable() { // a layer at two paths gets one hook
			if hooked[l] {
				return
			}
			hooked[l] = true
		}
		rec := record()
		removes = append(removes, h.RegisterForwardPostHook(func(l nn.Layer, in, out *tensor.Tensor) *tensor.Tensor {
			rec(l, in, out)
			return nil
		}))
	})
	x := tensor.Uniform(rand.New(rand.NewPCG(0, 0)), 0, 1, shape...).NoGrad()
	out := net.Forward(x)
	if _, ok := net.(hookable); leaf && !ok {
		record()(net, x, out)
	}

	widths := [4]int{15, 20, 20, 15}
	for _, r := range rows {
		widths[0] = max(widths[0], len(r.name))
		widths[1] = max(widths[1], len(r.in))
		widths[2] = max(widths[2], len(r.out))
		widths[3] = max(widths[3], len(fmt.Sprint(r.params)))
	}
	table := max(75, widths[0]+widths[1]+widths[2]+widths[3]+5)
	var sb strings.Builder
	line := func(cells ...string) {
		for i, c := range cells {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(center(c, widths[i]))
		}
		sb.WriteByte('\n')
	}
	sb.WriteString(strings.Repeat("-", table) + "\n")
	line("Layer (type)", "Input Shape", "Output Shape", "Param #")
	sb.WriteString(strings.Repeat("=", table) + "\n")
	outElems := 0
	for _, r := range rows {
		line(r.name, r.in, r.out, thousands(r.params))
		outElems += r.outElems
	}
	// The totals count every parameter of net, including those of layers no row shows (net's
	// own, or those of a layer without hooks).
	var info ParamsInfo
	info.TotalParams, info.TrainableParams = countParams(net.Params())
	inputMB := float64(numel(shape)) * 4 / (1 << 20)
	fwdMB := 2 * float64(outElems) * 4 / (1 << 20)
	paramsMB := float64(info.TotalParams) * 4 / (1 << 20)
	sb.WriteString(strings.Repeat("=", table) + "\n")
	fmt.Fprintf(&sb, "Total params: %s\n", thousands(info.TotalParams))
	fmt.Fprintf(&sb, "Trainable params: %s\n", thousands(info.TrainableParams))
	fmt.Fprintf(&sb, "Non-trainable params: %s\n", thousands(info.TotalParams-info.TrainableParams))
	sb.WriteString(strings.Repeat("-", table) + "\n")
	fmt.Fprintf(&sb, "Input size (MB): %0.2f\n", inputMB)
	fmt.Fprintf(&sb, "Forward/backward pass size (MB): %0.2f\n", fwdMB)
	fmt.Fprintf(&sb, "Params size (MB): %0.2f\n", paramsMB)
	fmt.Fprintf(&sb, "Estimated Total Size (MB): %0.2f\n", inputMB+fwdMB+paramsMB)
	sb.WriteString(strings.Repeat("-", table) + "\n")
	io.WriteString(w, sb.String())
	return info
}

// countParams returns the number of values in params and how many of them require a gradient.
// A tensor listed twice (a layer shared by two parents) counts once.
func countParams(params []nn.Param) (total, trainable int) {
	seen := map[*tensor.Tensor]bool{}
	for _, p := range params {
		if seen[p.Tensor] {
			continue
		}
		seen[p.Tensor] = true
		total += p.Len()
		if p.RequiresGrad() {
			trainable += p.Len()
		}
	}
	return total, trainable
}

// ownParams returns the parameters of l that none of its sublayers holds (Paddle counts a layer's
// own _parameters in its row).
func ownParams(l nn.Layer) []nn.Param {
	p, ok := l.(nn.Parent)
	if !ok {
		return l.Params()
	}
	inChild := map[*tensor.Tensor]bool{}
	for _, c := range p.Sublayers() {
		for _, cp := range c.Params() {
			inChild[cp.Tensor] = true
		}
	}
	var own []nn.Param
	for _, q := range l.Params() {
		if !inChild[q.Tensor] {
			own = append(own, q)
		}
	}
	return own
}

// evalMode puts every layer of net in evaluation mode and returns a function that restores each
// layer's previous mode.
func evalMode(net nn.Layer) (restore func()) {
	var trainers []nn.Trainer
	var modes []bool
	nn.Walk(net, func(_ string, l nn.Layer) {
		if t, ok := l.(nn.Trainer); ok {
			trainers = append(trainers, t)
			modes = append(modes, t.Training())
		}
	})
	nn.Eval(net)
	return func() {
		for i, t := range trainers {
			t.SetTraining(modes[i])
		}
	}
}

// center pads s to width like Python's "{:^w}": the odd space goes to the right.
func center(s string, width int) string {
	pad := width - len(s)
	if pad <= 0 {
		return s
	}
	return strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2)
}

// pyShape formats a shape as Python prints a list: [1, 6, 28, 28].
func pyShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// pyList formats a list of shapes: [[1, 1, 28, 28]].
func pyList(shapes [][]int) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = pyShape(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// thousands formats n with comma separators, as Python's "{:,}".
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
