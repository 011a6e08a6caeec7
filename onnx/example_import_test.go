package onnx_test

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// ExampleImport builds a tiny ONNX model in memory, y = Relu(x·W + b), imports it and runs it.
// A model written by torch.onnx.export is read the same way (onnx.Load("model.onnx")).
func ExampleImport() {
	tensorType := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: int32(onnxpb.TensorProto_FLOAT)}}}
	model := &onnxpb.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}},
		Graph: &onnxpb.GraphProto{
			Node: []*onnxpb.NodeProto{
				{OpType: "MatMul", Name: "fc", Input: []string{"x", "W"}, Output: []string{"h"}},
				{OpType: "Add", Name: "bias", Input: []string{"h", "b"}, Output: []string{"z"}},
				{OpType: "Relu", Name: "relu", Input: []string{"z"}, Output: []string{"y"}},
			},
			Initializer: []*onnxpb.TensorProto{
				{Name: "W", DataType: int32(onnxpb.TensorProto_FLOAT), Dims: []int64{2, 2}, FloatData: []float32{1, -1, 2, 1}},
				{Name: "b", DataType: int32(onnxpb.TensorProto_FLOAT), Dims: []int64{2}, FloatData: []float32{0.5, -4}},
			},
			Input:  []*onnxpb.ValueInfoProto{{Name: "x", Type: tensorType}},
			Output: []*onnxpb.ValueInfoProto{{Name: "y", Type: tensorType}},
		},
	}
	data, err := proto.Marshal(model)
	if err != nil {
		panic(err)
	}
	g, err := onnx.Import(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	for _, p := range g.Params() {
		fmt.Println(p.Name, p.Shape(), p.RequiresGrad())
	}
	y := g.Forward(tensor.New([]float32{1, 2, 3, 4}, 2, 2))
	fmt.Println(y.Shape(), y.Data())
	// Output:
	// W [2 2] true
	// b [2] true
	// [2 2] [5.5 0 11.5 0]
}
