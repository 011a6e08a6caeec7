package onnx

import (
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// Opsets of the default domain that Import reads: 7 through 17, and older models (opset 1 to 6)
// whose every operator is defined at their opset as it is at opset 7 (GlobalAveragePool-1...).
const (
	minOpset = 7
	maxOpset = 17
)

// maxModelBytes bounds what Import reads: protobuf's own limit for one message.
const maxModelBytes = 2 << 30

// Load reads the ONNX model file at path; see Import. Errors name the file.
func Load(path string) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g, err := Import(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Import reads an ONNX model (a serialized ModelProto, as torch.onnx.export and paddle2onnx
// write) and returns it as a *Graph, in evaluation mode (see Graph).
//
// The model must use the default ("ai.onnx") operator set at a version from 7 through 17 (or an
// older one when each of its operators is defined there as at opset 7, such as
// GlobalAveragePool-1), and its tensors must be float32 or integers (float64 and float16 are not
// supported). The operators are:
//
//   - layers: Conv and ConvTranspose (1-D, 2-D, groups, dilations, auto_pad), MaxPool and AveragePool (any rank,
//     dilations, ceil_mode, auto_pad, MaxPool's Indices), GlobalAveragePool, GlobalMaxPool, Gemm,
//     MatMul, BatchNormalization (training_mode and its running-statistics outputs),
//     InstanceNormalization, LayerNormalization, Dropout, Pad (constant, reflect, edge);
//   - element-wise: Add, Sub, Mul, Div, Mod, Pow, Sum, Mean, Max, Min, Neg, Abs, Reciprocal, Sqrt,
//     Exp, Log, Erf, Floor, Ceil, Round, Sign, Clip, Relu, LeakyRelu, PRelu, Elu, Selu, Celu,
//     ThresholdedRelu, Shrink, Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus, Softsign, Softmax,
//     LogSoftmax;
//   - reductions: ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceL1, ReduceL2,
//     ReduceSumSquare, ReduceLogSum, ReduceLogSumExp, ArgMax, ArgMin;
//   - comparisons and logic: Equal, Less, Greater, LessOrEqual, GreaterOrEqual, Where, And, Or,
//     Xor, Not;
//   - shapes and data movement: Flatten, Reshape, Transpose, Concat, Split, Slice, Gather, Tile,
//     Expand, Squeeze, Unsqueeze, Shape, Size, Cast, Constant, ConstantOfShape, Range, Identity,
//     Resize and Upsample (nearest and linear), GatherElements, Trilu, CastLike, DepthToSpace,
//     SpaceToDepth, OneHot, TopK, EyeLike, Hardmax, IsInf, IsNaN;
//   - losses: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss;
//
// each with the attributes and inputs of every opset from 7 through 17 (Softmax's 2-D coercion
// before 13, axes as attributes before 13 and inputs after, Clip's and Pad's bounds as
// attributes before 11...).
func Import(r io.Reader) (*Graph, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: reading model: %w", err)
	}
	if len(data) > maxModelBytes {
		return nil, fmt.Errorf("onnx: model larger than %d bytes", maxModelBytes)
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model: %w", err)
	}
	return newGraph(m)
}

// node is a NodeProto checked at import, with its attributes by name.
type node struct {
	label   string // `node "name" (Op)`, for messages
	op      string
	domain  string
	in, out []string
	attrs   map[string]*onnxpb.AttributeProto
	spec    *opSpec
	konst   *value // a Constant's value, decoded at import
	inRanks []int  // the rank of each input when the file gives it, else -1
	// doubleOK: a float64 Constant that only casts to float32 read, decoded as float32
	doubleOK bool
}

// port is a graph input or output: its name, element type and shape (-1 for an unknown or
// symbolic dimension).
type port struct {
	name  string
	dtype dtype
	shape []int
}

func newGraph(m *onnxpb.ModelProto) (*Graph, error) {
	gp := m.GetGraph()
	if gp == nil {
		return nil, fmt.Errorf("onnx: model has no graph")
	}
	opset := -1
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = int(min(max(o.GetVersion(), -1), 1<<20))
		}
	}
	if opset == -1 {
		return nil, fmt.Errorf("onnx: model imports no opset of the default domain")
	}
	if opset < 1 || opset > maxOpset {
		return nil, fmt.Errorf("onnx: opset %d is not supported (%d through %d are)", opset, minOpset, maxOpset)
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, fmt.Errorf("onnx: sparse initializers are not supported")
	}
	g := &Graph{model: m, opset: opset, inits: map[string]*value{}, pcg: rand.NewPCG(0x6f6e6e78, 1)}
	g.rng = rand.New(g.pcg)
	types := map[string]dtype{} // element type of every defined name
	castOnly := castToFloatOnly(gp)
	for _, tp := range gp.GetInitializer() {
		name := tp.GetName()
		if name == "" {
			return nil, fmt.Errorf("onnx: initializer without a name")
		}
		if _, dup := types[name]; dup {
			return nil, fmt.Errorf("onnx: initializer %q defined twice", name)
		}
		if tp.GetDataType() == tUndefined { // a node would take it for an absent optional input
			return nil, fmt.Errorf("onnx: initializer %q has no data type", name)
		}
		if t := tp.GetDataType(); !supportedType(t) && !(t == tDouble && castOnly[name]) {
			types[name] = t // the nodes that read it are unsupported, and say why
			continue
		}
		decode := decodeTensor
		if tp.GetDataType() == tDouble {
			decode = decodeDouble
		}
		v, err := decode(tp)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer %q: %w", name, err)
		}
		g.inits[name], types[name] = v, v.dtype
	}
	for _, vi := range gp.GetInput() {
		if _, isInit := types[vi.GetName()]; isInit {
			continue // IR < 4 lists initializers among the inputs: they are not fed
		}
		p, err := readPort(vi)
		if err != nil {
			return nil, fmt.Errorf("onnx: graph input: %w", err)
		}
		if _, dup := types[p.name]; dup {
			return nil, fmt.Errorf("onnx: graph input %q defined twice", p.name)
		}
		g.inputs, types[p.name] = append(g.inputs, p), p.dtype
	}
	for _, vi := range gp.GetOutput() {
		p, err := readPort(vi)
		if err != nil {
			return nil, fmt.Errorf("onnx: graph output: %w", err)
		}
		g.outputs = append(g.outputs, p)
	}
	if len(g.outputs) == 0 {
		return nil, fmt.Errorf("onnx: graph has no outputs")
	}

	nodes, err := sortNodes(gp.GetNode(), types)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		n.doubleOK = n.op == "Constant" && len(n.out) == 1 && castOnly[n.out[0]]
	}
	// The ranks the file gives (initializers, declared graph inputs), so that a check can refuse
	// what it cannot run (a 3-D convolution) before anything runs.
	ranks := map[string]int{}
	for _, tp := range gp.GetInitializer() {
		ranks[tp.GetName()] = len(tp.GetDims())
	}
	for _, p := range g.inputs {
		if p.shape != nil {
			ranks[p.name] = len(p.shape)
		}
	}
	var unsupported []string
	for _, n := range nodes {
		ins := make([]dtype, len(n.in))
		n.inRanks = make([]int, len(n.in))
		for k, name := range n.in {
			ins[k] = types[name] // tUndefined for an absent optional input or an untyped one
			r, ok := ranks[name]
			if !ok {
				r = -1
			}
			n.inRanks[k] = r
		}
		outs, err := checkNode(n, opset, ins)
		if err != nil {
			unsupported = append(unsupported, n.label+": "+err.Error())
			outs = make([]dtype, len(n.out)) // unknown: keep checking the nodes after it
		}
		for k, name := range n.out {
			if name != "" && k < len(outs) {
				types[name] = outs[k]
			}
		}
	}
	if len(unsupported) > 0 {
		s := "s"
		if len(unsupported) == 1 {
			s = ""
		}
		return nil, fmt.Errorf("onnx: %d unsupported node%s: %s", len(unsupported), s, strings.Join(unsupported, "; "))
	}
	// Values of an unsupported type that no node reads (so no node reported them).
	for _, ps := range [][]port{g.inputs, g.outputs} {
		for _, p := range ps {
			t, ok := types[p.name]
			switch {
			case !ok:
				return nil, fmt.Errorf("onnx: graph output %q is computed by no node", p.name)
			case t != tUndefined && !supportedType(t):
				return nil, fmt.Errorf("onnx: graph input or output %q has data type %s (float32 and integer types are supported)", p.name, typeName(t))
			case p.dtype != tUndefined && !supportedType(p.dtype):
				return nil, fmt.Errorf("onnx: graph input or output %q has data type %s (float32 and integer types are supported)", p.name, typeName(p.dtype))
			}
		}
	}
	g.nodes = nodes
	g.collectParams(gp)
	// The parameters' and buffers' data now live in their tensors, and modelProto writes them
	// from there: drop the file's copy, which would double the model's memory.
	for _, tp := range gp.GetInitializer() {
		if v := g.inits[tp.GetName()]; v != nil && v.isFloat() && (v.f.RequiresGrad() || g.isBuffer(v.f)) {
			tp.RawData, tp.FloatData = nil, nil
		}
	}
	return g, nil
}

func readPort(vi *onnxpb.ValueInfoProto) (port, error) {
	p := port{name: vi.GetName()}
	if p.name == "" {
		return p, fmt.Errorf("value without a name")
	}
	tt := vi.GetType().GetTensorType()
	if vi.GetType() != nil && tt == nil {
		return p, fmt.Errorf("%q is not a tensor (sequences, maps and optionals are not supported)", p.name)
	}
	p.dtype = tt.GetElemType()
	if sh := tt.GetShape(); sh != nil {
		for _, d := range sh.GetDim() {
			v := d.GetDimValue()
			if _, sym := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !sym || v < 0 || v > 1<<40 {
				v = -1
			}
			p.shape = append(p.shape, int(v))
		}
	}
	return p, nil
}

// sortNodes returns the nodes in an order where each runs after the nodes that define its
// inputs (the file's order, when it is already one, as ONNX requires), or an error naming an
// input nothing defines, a name defined twice, or a cycle.
func sortNodes(protos []*onnxpb.NodeProto, defined map[string]dtype) ([]*node, error) {
	producer := map[string]int{}
	nodes := make([]*node, len(protos))
	for k, np := range protos {
		n := &node{op: np.GetOpType(), in: np.GetInput(), out: np.GetOutput()}
		name := np.GetName()
		if name == "" && len(n.out) > 0 {
			name = n.out[0]
		}
		n.label = fmt.Sprintf("node %q (%s)", name, n.op)
		if d := np.GetDomain(); d != "" && d != "ai.onnx" {
			n.domain = d
			n.label = fmt.Sprintf("node %q (%s.%s)", name, d, n.op)
		}
		if len(np.GetAttribute()) > 0 {
			n.attrs = make(map[string]*onnxpb.AttributeProto, len(np.GetAttribute()))
			for _, a := range np.GetAttribute() {
				n.attrs[a.GetName()] = a
			}
		}
		for _, o := range n.out {
			if o == "" {
				continue
			}
			if _, dup := defined[o]; dup {
				return nil, fmt.Errorf("onnx: %s: output %q is already defined", n.label, o)
			}
			if _, dup := producer[o]; dup {
				return nil, fmt.Errorf("onnx: %s: output %q is already defined", n.label, o)
			}
			producer[o] = k
		}
		nodes[k] = n
	}
	for _, n := range nodes {
		for _, in := range n.in {
			if _, ok := defined[in]; !ok && in != "" {
				if _, ok := producer[in]; !ok {
					return nil, fmt.Errorf("onnx: %s: input %q is defined by no node, initializer or graph input", n.label, in)
				}
			}
		}
	}
	// Kahn's algorithm, taking ready nodes in file order.
	waiting := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for k, n := range nodes {
		for _, in := range n.in {
			if p, ok := producer[in]; ok {
				if _, isInput := defined[in]; !isInput {
					waiting[k]++
					users[p] = append(users[p], k)
				}
			}
		}
	}
	ready := &intHeap{}
	for k := range nodes {
		if waiting[k] == 0 {
			*ready = append(*ready, k)
		}
	}
	order := make([]*node, 0, len(nodes))
	for ready.Len() > 0 {
		k := heap.Pop(ready).(int)
		order = append(order, nodes[k])
		for _, u := range users[k] {
			if waiting[u]--; waiting[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(order) < len(nodes) {
		for k, n := range nodes {
			if waiting[k] > 0 {
				return nil, fmt.Errorf("onnx: %s is on a cycle of nodes", n.label)
			}
		}
	}
	return order, nil
}

// castToFloatOnly returns the names that only Cast-to-float32 nodes read (not graph outputs).
// torch.onnx.export writes a clamp's bounds as float64 Constants cast to float32: such a float64
// constant is decoded straight to float32, which is what the cast gives (rounded once).
func castToFloatOnly(gp *onnxpb.GraphProto) map[string]bool {
	cast, other := map[string]bool{}, map[string]bool{}
	for _, np := range gp.GetNode() {
		toFloat := np.GetOpType() == "Cast" && np.GetDomain() == "" && len(np.GetAttribute()) == 1 &&
			np.GetAttribute()[0].GetName() == "to" && np.GetAttribute()[0].GetI() == int64(tFloat)
		for _, in := range np.GetInput() {
			if toFloat {
				cast[in] = true
			} else {
				other[in] = true
			}
		}
	}
	for _, o := range gp.GetOutput() {
		other[o.GetName()] = true
	}
	for name := range other {
		delete(cast, name)
	}
	return cast
}

// checkNode checks that n can run at opset and returns its outputs' types, or why not.
func checkNode(n *node, opset int, in []dtype) ([]dtype, error) {
	if n.domain != "" {
		return nil, fmt.Errorf("domain %q is not supported (only the default domain is)", n.domain)
	}
	spec, ok := ops[n.op]
	if !ok {
		return nil, fmt.Errorf("unknown operator")
	}
	if opset < spec.since {
		if opset < minOpset {
			return nil, fmt.Errorf("opset %d is not supported (%d through %d are)", opset, minOpset, maxOpset)
		}
		return nil, fmt.Errorf("%s needs opset %d or later, the model has %d", n.op, spec.since, opset)
	}
	n.spec = spec
	for name, a := range n.attrs {
		want, known := spec.attrs[name]
		if !known {
			return nil, fmt.Errorf("attribute %q is not supported", name)
		}
		if a.GetRefAttrName() != "" {
			return nil, fmt.Errorf("attribute %q refers to a function attribute", name)
		}
		if a.GetType() != want {
			return nil, fmt.Errorf("attribute %q has type %v, want %v", name, a.GetType(), want)
		}
	}
	for k, t := range in {
		if t != tUndefined && !supportedType(t) {
			return nil, fmt.Errorf("input %d has data type %s (float32 and integer types are supported)", k, typeName(t))
		}
	}
	if len(n.in) > spec.maxIn {
		return nil, fmt.Errorf("%d inputs, at most %d are supported", len(n.in), spec.maxIn)
	}
	if len(n.out) > spec.maxOut {
		return nil, fmt.Errorf("%d outputs, at most %d are supported", len(n.out), spec.maxOut)
	}
	for k := 0; k < spec.minIn; k++ {
		if k >= len(n.in) || n.in[k] == "" {
			return nil, fmt.Errorf("input %d is required", k)
		}
	}
	return spec.check(n, opset, in)
}

// collectParams sorts the float initializers into parameters (data: weights, biases, scales),
// buffers (BatchNormalization's running statistics) and constants (only read as
// hyper-parameters: Clip's bounds, Pow's exponent, Pad's value), in the file's order.
func (g *Graph) collectParams(gp *onnxpb.GraphProto) {
	data, stats := map[string]bool{}, map[string]bool{}
	for _, n := range g.nodes {
		for k, in := range n.in {
			switch {
			case slices.Contains(n.spec.stats, k):
				stats[in] = true
			case !slices.Contains(n.spec.hyper, k):
				data[in] = true
			}
		}
	}
	for _, tp := range gp.GetInitializer() {
		name := tp.GetName()
		v := g.inits[name]
		if v == nil || !v.isFloat() || tp.GetDataType() != tFloat {
			continue // integers, and float64 constants read only by casts
		}
		switch {
		case stats[name]:
			g.buffers = append(g.buffers, nn.Param{Name: name, Tensor: v.f})
		case data[name]:
			v.f.SetRequiresGrad(true)
			g.params = append(g.params, nn.Param{Name: name, Tensor: v.f})
		}
	}
}

func (g *Graph) isBuffer(t *tensor.Tensor) bool {
	return slices.ContainsFunc(g.buffers, func(p nn.Param) bool { return p.Tensor == t })
}

// modelProto returns the model with its initializers holding the current values of the
// parameters and buffers (as raw_data), for exporting an imported model again. The graph's own
// model is not modified.
func (g *Graph) modelProto() *onnxpb.ModelProto {
	m := proto.Clone(g.model).(*onnxpb.ModelProto)
	current := map[string]*tensor.Tensor{}
	for _, p := range slices.Concat(g.params, g.buffers) {
		current[p.Name] = p.Tensor
	}
	for k, tp := range m.GetGraph().GetInitializer() {
		if t, ok := current[tp.GetName()]; ok {
			fresh := floatProto(tp.GetName(), t)
			fresh.DocString = tp.GetDocString()
			m.Graph.Initializer[k] = fresh
		}
	}
	return m
}

// intHeap is a min-heap of node positions: the ready node first in the file runs first.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
