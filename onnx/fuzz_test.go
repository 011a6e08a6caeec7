package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/oarlab/oar/onnx/internal/onnxpb"
	"github.com/oarlab/oar/tensor"
)

// importAllocBound is the most Import may allocate for an input of n bytes. Protocol buffers
// set its scale: a sub-message costs as little as 2 bytes of input (a tag and a zero length)
// and decodes into a Go struct of up to 192 bytes (NodeProto), to which Import adds its own
// record of the node and the line naming it in an error; 512 bytes per input byte covers
// that, with room for slice growth. Tensor data costs at most 8 bytes per input byte (a
// one-byte varint in int64_data) before its copy. Nothing is allocated from a size a file
// claims without the bytes being present.
func importAllocBound(n int) uint64 { return 512*uint64(n) + 1<<20 }

// FuzzImport checks that Import never panics and allocates within importAllocBound, and that a
// graph it accepts runs or fails with an error on a small input.
func FuzzImport(f *testing.F) {
	f.Add(encode(f, netModel(newRNG())))
	f.Add(encode(f, oneNode(11, "Pad", 1, 1, nil, nil, attrIs("pads", 1, 2, 1, 2), attrS("mode", "reflect"))))
	f.Add(encode(f, oneNode(13, "MaxPool", 1, 2, nil, nil, attrIs("kernel_shape", 2, 2), attrI("ceil_mode", 1))))
	f.Add(encode(f, oneNode(13, "Reshape", 1, 1, []*onnxpb.TensorProto{intInit("s", []int64{-1}, 1)}, []string{"s"})))
	f.Add(encode(f, oneNode(13, "Add", 1, 1, []*onnxpb.TensorProto{floatProto("w", tensor.Ones(3))}, []string{"w"})))
	for _, test := range []string{"test_maxpool_with_argmax_2d_precomputed_pads", "test_reshape_allowzero_reordered", "test_batchnorm_example_training_mode"} {
		if b, err := os.ReadFile(filepath.Join(nodeTestDir, test, "model.onnx")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00}) // a graph with one empty node
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		g, err := Import(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > importAllocBound(len(data)) {
			t.Fatalf("Import of %d bytes allocated %d bytes, more than %d", len(data), alloc, importAllocBound(len(data)))
		}
		if err != nil {
			return
		}
		// Run on ones of the declared shapes (free dimensions 1); an error is fine, a panic is not.
		var xs []*tensor.Tensor
		for _, s := range g.InputShapes() {
			shape := []int{}
			n := 1
			for _, d := range s {
				d = max(d, 1)
				shape, n = append(shape, d), n*d
			}
			if n > 1<<16 {
				return
			}
			xs = append(xs, tensor.Ones(shape...))
		}
		g.Run(xs...)
	})
}

// TestImportAllocationOfEmptyMessages measures the worst case that sets importAllocBound: a
// graph of many empty nodes.
func TestImportAllocationOfEmptyMessages(t *testing.T) {
	for _, unit := range [][]byte{
		{0x0a, 0x00},             // empty NodeProto
		{0x0a, 0x02, 0x2a, 0x00}, // NodeProto with one empty attribute
		{0x0a, 0x02, 0x0a, 0x00}, // NodeProto with one empty input name
		{0x2a, 0x00},             // empty initializer
		{0x62, 0x00},             // empty output ValueInfoProto
	} {
		body := bytes.Repeat(unit, 50000)
		body = append(body, 0x5a, 0x03, 0x0a, 0x01, 'x', 0x62, 0x03, 0x0a, 0x01, 'x') // input x, output x
		graph := append(append([]byte{0x3a}, uvarint(len(body))...), body...)
		data := append([]byte{0x42, 0x02, 0x10, 0x0d}, graph...) // opset_import {version: 13}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Import(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("unit %x: %d bytes, allocated %d (%.0f per byte): %.80v", unit, len(data), alloc, float64(alloc)/float64(len(data)), err)
		if err == nil {
			t.Errorf("unit %x: imported", unit)
		}
		if alloc > importAllocBound(len(data)) {
			t.Errorf("unit %x: %d bytes allocated %d, more than %d", unit, len(data), alloc, importAllocBound(len(data)))
		}
	}
}

func uvarint(n int) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}
