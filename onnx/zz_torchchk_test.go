package onnx

import (
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
)

func readPB(t *testing.T, path string) *value {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		t.Fatal(err)
	}
	v, err := decodeTensor(tp)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestZZTorchCheck(t *testing.T) {
	x, y, z := readPB(t, "/tmp/torchchk/x.pb"), readPB(t, "/tmp/torchchk/y.pb"), readPB(t, "/tmp/torchchk/z.pb")
	for _, f := range []string{"net11", "net13", "net17", "net13nofold"} {
		g, err := Load("/tmp/torchchk/" + f + ".onnx")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range g.Params() {
			names = append(names, p.Name)
		}
		t.Log(f, names, len(g.Buffers()))
		outs, err := g.Run(x.f)
		if err != nil {
			t.Fatal(err)
		}
		if err := compareValues(floatValue(outs[0]), y); err != nil {
			t.Errorf("%s y: %v", f, err)
		}
		if err := compareValues(floatValue(outs[1]), z); err != nil {
			t.Errorf("%s z: %v", f, err)
		}
	}
}

func TestZZTorchTrain(t *testing.T) {
	g, err := Load("/tmp/torchchk/net14train.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		t.Log("param", p.Name, p.Shape())
	}
	for _, p := range g.Buffers() {
		t.Log("buffer", p.Name, p.Shape())
	}
	x := readPB(t, "/tmp/torchchk/x.pb")
	outs, err := g.Run(x.f)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(outs[0].Shape())
	for _, n := range g.nodes {
		if n.op == "BatchNormalization" || n.op == "Dropout" {
			t.Log(n.label, n.in, n.out, len(n.attrs))
		}
	}
}
