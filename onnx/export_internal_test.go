package onnx

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// fakeImported stands for an imported *Graph: a layer with a model of its own.
type fakeImported struct {
	nn.Hooks
	m *onnxpb.ModelProto
}

func (f *fakeImported) Forward(x *tensor.Tensor) *tensor.Tensor { return x }
func (f *fakeImported) Params() []nn.Param                      { return nil }
func (f *fakeImported) modelProto() *onnxpb.ModelProto          { return proto.Clone(f.m).(*onnxpb.ModelProto) }

func TestExportImportedModelAsRead(t *testing.T) {
	m := &onnxpb.ModelProto{IrVersion: 8, ProducerName: "pytorch",
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: "", Version: 16}},
		Graph: &onnxpb.GraphProto{Name: "g", Node: []*onnxpb.NodeProto{{OpType: "Relu", Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnxpb.ValueInfoProto{exValueInfo("x", []int{1, 4}, exBatched)},
			Output: []*onnxpb.ValueInfoProto{exValueInfo("y", []int{1, 4}, exBatched)}}}
	f := &fakeImported{m: m}
	var buf bytes.Buffer
	require.NoError(t, Export(&buf, f, []int{1, 4}))
	var got onnxpb.ModelProto
	require.NoError(t, proto.Unmarshal(buf.Bytes(), &got))
	require.True(t, proto.Equal(m, &got), "written as read")

	buf.Reset()
	require.NoError(t, Export(&buf, f, []int{1, 4}, ExportOptions{Opset: 16, ProducerName: "me", ProducerVersion: "2"}))
	require.NoError(t, proto.Unmarshal(buf.Bytes(), &got))
	require.Equal(t, "me", got.ProducerName)
	require.Equal(t, "2", got.ProducerVersion)

	for _, o := range []ExportOptions{{Opset: 13}, {StaticBatch: true}, {InputName: "in"}} {
		require.ErrorContains(t, Export(&buf, f, []int{1, 4}, o), "an imported model (*onnx.fakeImported, opset 16) is written as it was read")
	}
	require.ErrorContains(t, Export(&buf, f, nil), "empty input shape")
}
