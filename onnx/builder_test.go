package onnx

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// Helpers that build ONNX models in memory, for the tests.

func mkModel(opset int64, nodes []*onnxpb.NodeProto, inits []*onnxpb.TensorProto, inputs, outputs []*onnxpb.ValueInfoProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: "", Version: opset}},
		Graph:       &onnxpb.GraphProto{Name: "g", Node: nodes, Initializer: inits, Input: inputs, Output: outputs},
	}
}

func mkNode(op, name string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: op, Name: name, Input: in, Output: out, Attribute: attrs}
}

func attrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INT, I: v}
}

func attrIs(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_INTS, Ints: v}
}

func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_FLOAT, F: v}
}

func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: name, Type: onnxpb.AttributeProto_STRING, S: []byte(v)}
}

// vinfo declares a tensor value; a dimension of -1 is symbolic ("N"); no dims means no shape.
func vinfo(name string, t dtype, dims ...int64) *onnxpb.ValueInfoProto {
	tt := &onnxpb.TypeProto_Tensor{ElemType: t}
	if dims != nil {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			dim := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
			if d < 0 {
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}}
}

func intInit(name string, vals []int64, dims ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: name, DataType: tInt64, Dims: dims, Int64Data: vals}
}

func encode(t testing.TB, m *onnxpb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustImport(t testing.TB, m *onnxpb.ModelProto) *Graph {
	t.Helper()
	g, err := Import(bytes.NewReader(encode(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// oneNode returns a model of one node with float graph inputs named x0, x1, ... (no declared
// shapes), the given initializers, and outputs y0, y1, ...
func oneNode(opset int64, op string, nIn, nOut int, inits []*onnxpb.TensorProto, extraIn []string, attrs ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
	var ins []string
	var inputs, outputs []*onnxpb.ValueInfoProto
	for k := range nIn {
		name := "x" + string(rune('0'+k))
		ins = append(ins, name)
		inputs = append(inputs, vinfo(name, tFloat))
	}
	ins = append(ins, extraIn...)
	var outs []string
	for k := range nOut {
		name := "y" + string(rune('0'+k))
		outs = append(outs, name)
		outputs = append(outputs, vinfo(name, tUndefined))
	}
	return mkModel(opset, []*onnxpb.NodeProto{mkNode(op, "n", ins, outs, attrs...)}, inits, inputs, outputs)
}

// run1 runs a graph and returns its first output, failing the test on an error.
func run1(t testing.TB, g *Graph, xs ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	outs, err := g.Run(xs...)
	if err != nil {
		t.Fatal(err)
	}
	return outs[0]
}
