package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// How a value depends on the batch size, when the batch is symbolic.
type exBatch int8

const (
	exStatic  exBatch = iota // does not depend on the batch size (parameters, constants)
	exBatched                // dim 0 is the batch
	exMixed                  // depends on the batch size, but not as dim 0 (e.g. after Flatten(0, 1))
)

// exporter builds the ONNX graph of a traced run, from the output back to the input.
type exporter struct {
	tr        *exTrace
	o         ExportOptions
	producers map[*tensor.Tensor][]*exCall // the calls that returned t (not as their input), innermost first
	names     map[*tensor.Tensor]string    // the ONNX value of each resolved tensor
	state     map[string]exBatch           // of each ONNX value
	nodes     []*onnxpb.NodeProto
	inits     []*onnxpb.TensorProto
	used      map[string]bool // value names taken
	n         int             // for generated names
}

func newExporter(tr *exTrace, o ExportOptions) *exporter {
	e := &exporter{tr: tr, o: o, producers: map[*tensor.Tensor][]*exCall{},
		names: map[*tensor.Tensor]string{}, state: map[string]exBatch{}, used: map[string]bool{}}
	for _, c := range tr.calls {
		if c.out != c.in && c.out != nil { // Dropout in eval returns its input: not a producer
			e.producers[c.out] = append(e.producers[c.out], c)
		}
	}
	for _, name := range tr.params { // generated names never take a state-dict key
		e.used[name] = true
	}
	e.names[tr.x] = o.InputName
	e.used[o.InputName], e.used[o.OutputName] = true, true
	e.state[o.InputName] = exBatched
	if o.StaticBatch {
		e.state[o.InputName] = exStatic
	}
	return e
}

// graph resolves the output and returns the graph.
func (e *exporter) graph() (*onnxpb.GraphProto, error) {
	for _, name := range e.tr.params {
		if name == e.o.InputName || name == e.o.OutputName {
			return nil, fmt.Errorf("onnx: Export: %q is the name of a parameter and of the graph's input or output; choose another InputName or OutputName", name)
		}
	}
	out, err := e.value(e.tr.y, nil)
	if err != nil {
		return nil, err
	}
	if !e.reaches(e.tr.y) {
		return nil, fmt.Errorf("onnx: Export: the output of %s does not depend on its input through recorded ops (was it computed from Data() or a detached tensor?)", exDescribe(e.tr.root, ""))
	}
	st := e.state[out]
	if e.producedByNode(out) {
		e.rename(out, e.o.OutputName)
	} else { // the input itself or an initializer
		e.nodes = append(e.nodes, &onnxpb.NodeProto{OpType: "Identity", Name: "output/Identity",
			Input: []string{out}, Output: []string{e.o.OutputName}})
	}
	inState := e.state[e.o.InputName]
	return &onnxpb.GraphProto{
		Name:        "oar",
		Node:        e.nodes,
		Initializer: e.inits,
		Input:       []*onnxpb.ValueInfoProto{exValueInfo(e.o.InputName, e.tr.x.Shape(), inState)},
		Output:      []*onnxpb.ValueInfoProto{exValueInfo(e.o.OutputName, e.tr.y.Shape(), st)},
	}, nil
}

// reaches reports whether t was computed from the traced input.
func (e *exporter) reaches(t *tensor.Tensor) bool {
	seen := map[*tensor.Tensor]bool{}
	stack := []*tensor.Tensor{t}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v == e.tr.x {
			return true
		}
		if v == nil || seen[v] {
			continue
		}
		seen[v] = true
		stack = append(stack, v.Inputs()...)
		stack = append(stack, exDetachedInputs(e.producers[v])...) // export_blocks.go
	}
	return false
}

func (e *exporter) producedByNode(name string) bool {
	for _, n := range e.nodes {
		if slices.Contains(n.Output, name) {
			return true
		}
	}
	return false
}

// rename gives the value old the name new everywhere.
func (e *exporter) rename(old, new string) {
	for _, n := range e.nodes {
		for i := range n.Input {
			if n.Input[i] == old {
				n.Input[i] = new
			}
		}
		for i := range n.Output {
			if n.Output[i] == old {
				n.Output[i] = new
			}
		}
	}
}

// exValueInfo is a float tensor of shape, with dim 0 the symbolic "batch" if st is batched and no
// sizes at all if it is mixed.
func exValueInfo(name string, shape []int, st exBatch) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		switch {
		case st == exMixed:
			dims[i] = &onnxpb.TensorShapeProto_Dimension{}
		case st == exBatched && i == 0:
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}
		default:
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}}
		}
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
}

// value returns the ONNX value holding t, adding the nodes and initializers that compute it.
// stack is the layer calls that t is inside, outermost first: the innermost names the layer at
// fault in an error.
func (e *exporter) value(t *tensor.Tensor, stack []*exCall) (string, error) {
	if name, ok := e.names[t]; ok {
		return name, nil
	}
	for len(stack) > 0 && stack[len(stack)-1].in == t { // t was made before those calls
		stack = stack[:len(stack)-1]
	}
	stack = stack[:len(stack):len(stack)] // appends below copy: siblings keep their own stacks
	// exWholeLayers: export_blocks.go
	if calls := exWholeLayers(e.producers[t]); len(calls) > 0 {
		for i := len(calls) - 1; i > 0; i-- {
			stack = append(stack, calls[i])
		}
		inner := calls[0]
		name, ok, err := e.layer(inner, stack)
		if err != nil {
			return "", err
		}
		if ok {
			e.names[t] = name
			return name, nil
		}
		stack = append(stack, inner) // a layer traced through: t is its last op's output
	}
	if t.IsLeaf() {
		return e.leaf(t), nil
	}
	name, err := e.op(t, stack)
	if err != nil {
		return "", err
	}
	e.names[t] = name
	return name, nil
}

// leaf returns the initializer of the leaf t: a parameter or buffer under its state-dict name, or
// a constant under a generated one.
func (e *exporter) leaf(t *tensor.Tensor) string {
	name, ok := e.tr.params[t]
	if !ok {
		name = e.fresh("const")
	}
	e.used[name] = true
	e.names[t] = name
	e.state[name] = exStatic
	e.inits = append(e.inits, exFloatTensor(name, t.Shape(), t.Data()))
	return name
}

// fresh returns an unused value name made from prefix.
func (e *exporter) fresh(prefix string) string {
	for {
		e.n++
		name := fmt.Sprintf("%s_%d", prefix, e.n)
		if !e.used[name] {
			e.used[name] = true
			return name
		}
	}
}

// node adds a node computing op from inputs, named after the layer at path, and returns its
// output, whose batch state is st.
func (e *exporter) node(path, op string, st exBatch, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	prefix := "/" + op
	if path != "" {
		prefix = path + "/" + op
	}
	out := e.fresh(prefix)
	e.nodes = append(e.nodes, &onnxpb.NodeProto{OpType: op, Name: out, Input: inputs, Output: []string{out}, Attribute: attrs})
	e.state[out] = st
	return out
}

// int64s adds a constant int64 initializer and returns its name.
func (e *exporter) int64s(vals ...int64) string {
	name := e.fresh("const")
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	e.inits = append(e.inits, &onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_INT64),
		Dims: []int64{int64(len(vals))}, RawData: raw})
	e.state[name] = exStatic
	return name
}

// scalar adds a constant float initializer of shape [] and returns its name.
func (e *exporter) scalar(v float32) string {
	name := e.fresh("const")
	e.inits = append(e.inits, exFloatTensor(name, nil, []float32{v}))
	e.state[name] = exStatic
	return name
}

func exFloatTensor(name string, shape []int, data []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	return &onnxpb.TensorProto{Name: name, DataType: int32(onnxpb.TensorProto_FLOAT), Dims: dims, RawData: raw}
}

func exAttrInt(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: int64(v)}
}

func exAttrInts(name string, vs ...int) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: make([]int64, len(vs))}
	for i, v := range vs {
		a.Ints[i] = int64(v)
	}
	return a
}

func exAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

// exDescribe names a layer for errors: its path and Go type.
func exDescribe(l nn.Layer, path string) string {
	if path == "" {
		return fmt.Sprintf("the network (%T)", l)
	}
	return fmt.Sprintf("%s (%T)", path, l)
}

// errAt is an Export error about the innermost call of stack (the network itself if none).
func (e *exporter) errAt(stack []*exCall, format string, args ...any) error {
	where := exDescribe(e.tr.root, "")
	if len(stack) > 0 {
		c := stack[len(stack)-1]
		where = exDescribe(c.layer, c.path)
	}
	return fmt.Errorf("onnx: Export: %s: %s", where, fmt.Sprintf(format, args...))
}

// exPathOf is the path of the innermost call of stack, for node names.
func exPathOf(stack []*exCall) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1].path
}

// elementwise is the batch state of an element-wise op's output of rank r from inputs ins.
func (e *exporter) elementwise(r int, ins []string, shapes [][]int) exBatch {
	st := exStatic
	for i, in := range ins {
		switch e.state[in] {
		case exBatched:
			if len(shapes[i]) == r && st == exStatic {
				st = exBatched
			} else if len(shapes[i]) != r {
				st = exMixed
			}
		case exMixed:
			st = exMixed
		}
	}
	return st
}

// batchConstant returns an error if a constant operand has the traced batch size as its dim 0
// while another operand is batched: the model would fail at any other batch size.
func (e *exporter) batchConstant(stack []*exCall, op string, ins []string, ts []*tensor.Tensor, outRank int) error {
	n := e.tr.x.Dim(0)
	if e.o.StaticBatch || n < 2 || !slices.ContainsFunc(ins, func(s string) bool { return e.state[s] != exStatic }) {
		return nil
	}
	for i, t := range ts {
		if e.state[ins[i]] == exStatic && t.Rank() == outRank && t.Dim(0) == n {
			return e.errAt(stack, "%s with a constant of shape %v whose dim 0 is the exTrace batch size %d: it would not broadcast at another batch size; compute it from the input, or export with StaticBatch", op, t.Shape(), n)
		}
	}
	return nil
}

// op returns the ONNX value of t, the output of a tensor op called between layers.
func (e *exporter) op(t *tensor.Tensor, stack []*exCall) (string, error) {
	ins := t.Inputs()
	names := make([]string, len(ins))
	shapes := make([][]int, len(ins))
	for i, in := range ins {
		if in == nil {
			continue
		}
		name, err := e.value(in, stack)
		if err != nil {
			return "", err
		}
		names[i], shapes[i] = name, in.Shape()
	}
	path, r := exPathOf(stack), t.Rank()
	switch op := t.Op(); op {
	case "Reshape":
		return e.reshape(stack, names[0], ins[0].Shape(), t.Shape())
	case "Clone", "CheckFinite":
		return e.node(path, "Identity", e.state[names[0]], names), nil
	case "Add", "Sub", "Mul", "Div", "Maximum", "Minimum":
		if err := e.batchConstant(stack, op, names, ins, r); err != nil {
			return "", err
		}
		onnxOp := map[string]string{"Maximum": "Max", "Minimum": "Min"}[op]
		if onnxOp == "" {
			onnxOp = op
		}
		return e.node(path, onnxOp, e.elementwise(r, names, shapes), names), nil
	case "Square":
		return e.node(path, "Mul", e.state[names[0]], []string{names[0], names[0]}), nil
	case "ReLU", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs":
		onnxOp := op
		if op == "ReLU" {
			onnxOp = "Relu"
		}
		return e.node(path, onnxOp, e.state[names[0]], names), nil
	case "Softmax", "LogSoftmax":
		axis, err := exSoftmaxAxis(ins[0], t, op == "LogSoftmax")
		if err != nil {
			return "", e.errAt(stack, "tensor op %s: %v; use nn.Softmax or a layer that Export maps", op, err)
		}
		return e.node(path, op, e.state[names[0]], names, exAttrInt("axis", axis)), nil
	case "Concat":
		return e.concat(stack, t, ins, names)
	case "Permute":
		return e.permute(stack, t, ins[0], names[0])
	case "MatMul":
		return e.matmul(stack, t, ins, names)
	case "Linear":
		return e.linear(path, names[0], ins[0].Rank(), names[1], names[2]), nil
	case "Slice":
		return e.slice(stack, t, ins[0], names[0])
	case "Sum", "SumKeepDim", "Mean", "MeanKeepDim", "Max", "MaxKeepDim", "Min", "MinKeepDim":
		return e.reduce(stack, t, ins[0], names[0])
	}
	if len(ins) > 0 {
		if y, ok, err := e.blockOp(stack, t, ins[0], names[0]); ok { // export_blocks.go
			return y, err
		}
	}
	return "", e.errAt(stack, "tensor op %s %s", t.Op(), exInstead(t.Op()))
}

// exInstead says why an op has no mapping and what to use instead.
func exInstead(op string) string {
	switch op {
	case "Scale":
		return "has a scalar factor that the trace does not record; multiply by a tensor instead: x.Mul(tensor.Scalar(s))"
	case "AddScalar":
		return "has a scalar that the trace does not record; add a tensor instead: x.Add(tensor.Scalar(s))"
	case "Pow":
		return "has an exponent that the trace does not record; use Square, Sqrt or Mul instead"
	case "Clip":
		return "has bounds that the trace does not record; use x.Maximum(tensor.Scalar(lo)).Minimum(tensor.Scalar(hi)) instead"
	case "LeakyReLU":
		return "has a slope that the trace does not record; use the nn.LeakyReLU layer instead"
	case "Conv2D", "Conv2DReLUMaxPool", "MaxPool2D", "AvgPool2D":
		return "has options that the trace does not record; use the layer (nn.Conv2D, nn.MaxPool2D, nn.AvgPool2D, or nn.Fuse's nn.ConvReLUPool) instead of the tensor op"
	case "Gather", "TakeAlongAxis", "Where":
		return "has indices or arguments that the trace does not record, and Export does not map it; compute it with the ops listed in Export's documentation"
	}
	return "is not one that Export maps; compute it with the layers and tensor ops listed in Export's documentation"
}

// reshape returns x (shape from) reshaped to shape to, with a target that holds at any batch size
// when the batch is symbolic.
func (e *exporter) reshape(stack []*exCall, x string, from, to []int) (string, error) {
	target := make([]int64, len(to))
	for i, d := range to {
		target[i] = int64(d)
	}
	st := e.state[x]
	switch st {
	case exBatched:
		switch {
		case len(to) > 0 && len(from) > 0 && to[0] == from[0]:
			target[0] = 0 // copy the batch dimension
		case len(to) > 0 && to[0]%from[0] == 0:
			target[0], st = -1, exMixed // the batch merged into dim 0: [N*k, ...]
		default:
			return "", e.errAt(stack, "Reshape %v -> %v moves the batch dimension, so that no target holds at every batch size; export with StaticBatch", from, to)
		}
	case exMixed:
		return "", e.errAt(stack, "Reshape %v -> %v of a tensor whose batch dimension is no longer dim 0; export with StaticBatch", from, to)
	}
	if len(to) == 2 && len(from) >= 2 && to[0] == from[0] { // Flatten from axis 1: the common case, readable
		return e.node(exPathOf(stack), "Flatten", st, []string{x}, exAttrInt("axis", 1)), nil
	}
	return e.node(exPathOf(stack), "Reshape", st, []string{x, e.int64s(target...)}), nil
}

// concat recovers Concat's axis from the shapes, and from the values if the shapes allow several.
func (e *exporter) concat(stack []*exCall, t *tensor.Tensor, ins []*tensor.Tensor, names []string) (string, error) {
	var axes []int
	for a := range t.Rank() {
		sum, ok := 0, true
		for _, in := range ins {
			sum += in.Dim(a)
			for d := range t.Rank() {
				ok = ok && (d == a || in.Dim(d) == t.Dim(d))
			}
		}
		if ok && sum == t.Dim(a) && slices.Equal(tensor.Concat(ins, a).Data(), t.Data()) {
			axes = append(axes, a)
		}
	}
	if len(axes) != 1 {
		return "", e.errAt(stack, "tensor op Concat of %d tensors into %v: the axis cannot be recovered (candidates %v)", len(ins), t.Shape(), axes)
	}
	shapes := make([][]int, len(ins))
	for i, in := range ins {
		shapes[i] = in.Shape()
	}
	st := e.elementwise(t.Rank(), names, shapes)
	if axes[0] == 0 && st == exBatched {
		st = exMixed
	}
	return e.node(exPathOf(stack), "Concat", st, names, exAttrInt("axis", axes[0])), nil
}

// permute recovers Permute's axes from the shapes and values.
func (e *exporter) permute(stack []*exCall, t, in *tensor.Tensor, x string) (string, error) {
	r := t.Rank()
	if r > 6 {
		return "", e.errAt(stack, "tensor op Permute of rank %d: Export recovers the axes up to rank 6", r)
	}
	var found [][]int
	perm := make([]int, r)
	var try func(i int, used uint)
	try = func(i int, used uint) {
		if i == r {
			if slices.Equal(in.Permute(perm...).Detach().Data(), t.Data()) {
				found = append(found, slices.Clone(perm))
			}
			return
		}
		for a := range r {
			if used&(1<<a) == 0 && in.Dim(a) == t.Dim(i) {
				perm[i] = a
				try(i+1, used|1<<a)
			}
		}
	}
	try(0, 0)
	if len(found) != 1 {
		return "", e.errAt(stack, "tensor op Permute %v -> %v: the axes cannot be recovered (%d candidates fit the values)", in.Shape(), t.Shape(), len(found))
	}
	st := e.state[x]
	if st == exBatched && found[0][0] != 0 {
		st = exMixed
	}
	return e.node(exPathOf(stack), "Transpose", st, []string{x}, exAttrInts("perm", found[0]...)), nil
}

// matmul recovers MatMul's transpose options from the shapes and values.
func (e *exporter) matmul(stack []*exCall, t *tensor.Tensor, ins []*tensor.Tensor, names []string) (string, error) {
	a, b := ins[0], ins[1]
	var fits [][2]bool
	for _, tx := range []bool{false, true} {
		for _, ty := range []bool{false, true} {
			if (tx && a.Rank() < 2) || (ty && b.Rank() < 2) || !exMatmulFits(a, b, tx, ty, t) {
				continue
			}
			if slices.Equal(a.Detach().MatMul(b.Detach(), tensor.MatMulOptions{TransposeX: tx, TransposeY: ty}).Data(), t.Data()) {
				fits = append(fits, [2]bool{tx, ty})
			}
		}
	}
	if len(fits) != 1 {
		return "", e.errAt(stack, "tensor op MatMul %v x %v: its transposes cannot be recovered (%d fit the values)", a.Shape(), b.Shape(), len(fits))
	}
	path := exPathOf(stack)
	x, y := names[0], names[1]
	if fits[0][0] {
		x = e.node(path, "Transpose", e.state[x], []string{x}, exAttrInts("perm", exSwapLast(a.Rank())...))
	}
	if fits[0][1] {
		y = e.node(path, "Transpose", e.state[y], []string{y}, exAttrInts("perm", exSwapLast(b.Rank())...))
	}
	st := exStatic
	switch {
	case e.state[x] == exMixed || e.state[y] == exMixed:
		st = exMixed
	case e.state[x] == exBatched && a.Rank() >= 2 && t.Rank() == a.Rank() && !fits[0][0]:
		st = exBatched // rows (or leading batch axes) of x stay dim 0
	case e.state[x] == exBatched || e.state[y] == exBatched:
		st = exMixed
	}
	return e.node(path, "MatMul", st, []string{x, y}), nil
}

func exMatmulFits(a, b *tensor.Tensor, tx, ty bool, out *tensor.Tensor) bool {
	k := a.Dim(-1)
	if tx {
		k = a.Dim(-2)
	}
	kb := b.Dim(0)
	if b.Rank() >= 2 {
		kb = b.Dim(-2)
		if ty {
			kb = b.Dim(-1)
		}
	}
	return k == kb && out != nil
}

// exSwapLast is the permutation that swaps the last two of r axes.
func exSwapLast(r int) []int {
	p := make([]int, r)
	for i := range p {
		p[i] = i
	}
	p[r-1], p[r-2] = p[r-2], p[r-1]
	return p
}

// exSoftmaxAxis recovers the axis of a softmax (or log-softmax) of in that gave out, from the values:
// the one axis of size above 1 along which the softmax of in is out, or the last axis if it has
// size 1 and out is all ones (zeros).
func exSoftmaxAxis(in, out *tensor.Tensor, log bool) (int, error) {
	var axes []int
	for a := range in.Rank() {
		if in.Dim(a) < 2 {
			continue
		}
		var want *tensor.Tensor
		if log {
			want = in.Detach().LogSoftmax(a)
		} else {
			want = in.Detach().Softmax(a)
		}
		if slices.Equal(want.Data(), out.Data()) {
			axes = append(axes, a)
		}
	}
	if len(axes) == 0 && in.Rank() > 1 && in.Dim(-1) == 1 { // a softmax over one element: all 1 (log: 0)
		one := float32(1)
		if log {
			one = 0
		}
		if !slices.ContainsFunc(out.Data(), func(v float32) bool { return v != one }) {
			axes = append(axes, in.Rank()-1)
		}
	}
	if len(axes) != 1 {
		return 0, fmt.Errorf("the axis of the softmax of a %v tensor cannot be recovered from the values (candidates %v)", in.Shape(), axes)
	}
	return axes[0], nil
}

// reduce recovers the axes of a reduction (Sum, Mean, Max, Min, with or without KeepDim) from the
// shapes and values and writes ReduceSum, ReduceMean, ReduceMax or ReduceMin. Reducing an axis of
// size 1 changes no value, so such axes are left out where the shapes allow; the batch axis, traced
// at size 1, is not reduced where the shapes allow either.
func (e *exporter) reduce(stack []*exCall, t, in *tensor.Tensor, x string) (string, error) {
	op := t.Op()
	keep := strings.HasSuffix(op, "KeepDim")
	base := strings.TrimSuffix(op, "KeepDim")
	r := in.Rank()
	if r > 8 {
		return "", e.errAt(stack, "tensor op %s of rank %d: Export recovers the axes up to rank 8", op, r)
	}
	significant := func(mask uint) uint { // the axes of size above 1 in mask
		for a := range r {
			if in.Dim(a) == 1 {
				mask &^= 1 << a
			}
		}
		return mask
	}
	var fits []uint
	for mask := uint(1); mask < 1<<r; mask++ {
		var axes []int
		for a := range r {
			if mask&(1<<a) != 0 {
				axes = append(axes, a)
			}
		}
		if y := exReduce(in.Detach(), base, keep, axes); slices.Equal(y.Shape(), t.Shape()) && slices.Equal(y.Data(), t.Data()) {
			fits = append(fits, mask)
		}
	}
	if len(fits) == 0 {
		return "", e.errAt(stack, "tensor op %s %v -> %v: no axes reproduce it", op, in.Shape(), t.Shape())
	}
	for _, m := range fits {
		if significant(m) != significant(fits[0]) {
			return "", e.errAt(stack, "tensor op %s %v -> %v: the axes cannot be recovered (the shapes allow several)", op, in.Shape(), t.Shape())
		}
	}
	// A batch traced at size 1 fits with and without the batch axis reduced: the reduction is
	// taken to keep the batch (a model that reduces over its batch is rare outside training).
	mask := fits[0]
	if e.state[x] == exBatched {
		for _, m := range fits {
			if m&1 == 0 {
				mask = m
				break
			}
		}
	}
	if keep { // size-1 axes change nothing with keepdims; the batch axis is kept as found
		mask = significant(mask) | mask&1
	}
	if mask == 0 { // only size-1 axes, kept: the values are the input's
		return e.node(exPathOf(stack), "Identity", e.state[x], []string{x}), nil
	}
	axes := make([]int, 0, bits.OnesCount(mask))
	for a := range r {
		if mask&(1<<a) != 0 {
			axes = append(axes, a)
		}
	}
	st := e.state[x]
	if mask&1 != 0 && st == exBatched {
		st = exStatic // the batch is reduced away: the shape no longer depends on it
	}
	keepdims := 0
	if keep {
		keepdims = 1
	}
	path := exPathOf(stack)
	if base == "Sum" { // ReduceSum takes its axes as an input from opset 13
		ax := make([]int64, len(axes))
		for i, a := range axes {
			ax[i] = int64(a)
		}
		return e.node(path, "ReduceSum", st, []string{x, e.int64s(ax...)}, exAttrInt("keepdims", keepdims)), nil
	}
	return e.node(path, "Reduce"+base, st, []string{x}, exAttrInts("axes", axes...), exAttrInt("keepdims", keepdims)), nil
}

// exReduce applies the reduction base (Sum, Mean, Max, Min) over axes.
func exReduce(x *tensor.Tensor, base string, keep bool, axes []int) *tensor.Tensor {
	switch base + map[bool]string{true: "KeepDim"}[keep] {
	case "Sum":
		return x.Sum(axes...)
	case "SumKeepDim":
		return x.SumKeepDim(axes...)
	case "Mean":
		return x.Mean(axes...)
	case "MeanKeepDim":
		return x.MeanKeepDim(axes...)
	case "Max":
		return x.Max(axes...)
	case "MaxKeepDim":
		return x.MaxKeepDim(axes...)
	case "Min":
		return x.Min(axes...)
	}
	return x.MinKeepDim(axes...)
}

// slice recovers a Slice's axis from the shapes and its start from the values: the one position
// of the input where the output is found.
func (e *exporter) slice(stack []*exCall, t, in *tensor.Tensor, x string) (string, error) {
	axis := -1
	for a := range in.Rank() {
		if in.Dim(a) != t.Dim(a) {
			axis = a
		}
	}
	if axis < 0 { // the whole axis
		return e.node(exPathOf(stack), "Identity", e.state[x], []string{x}), nil
	}
	if axis == 0 && e.state[x] != exStatic {
		return "", e.errAt(stack, "tensor op Slice %v -> %v of the batch axis: export with StaticBatch", in.Shape(), t.Shape())
	}
	n := t.Dim(axis)
	var starts []int
	for s := 0; s+n <= in.Dim(axis); s++ {
		if slices.Equal(in.Detach().Slice(axis, s, s+n).Data(), t.Data()) {
			starts = append(starts, s)
		}
	}
	if len(starts) != 1 {
		return "", e.errAt(stack, "tensor op Slice %v -> %v: the start cannot be recovered (%d positions fit the values)", in.Shape(), t.Shape(), len(starts))
	}
	s := int64(starts[0])
	return e.node(exPathOf(stack), "Slice", e.state[x], []string{x, e.int64s(s), e.int64s(s + int64(n)), e.int64s(int64(axis))}), nil
}
