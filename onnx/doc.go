// Package onnx exchanges models with the rest of the deep-learning world through ONNX, in pure Go.
//
// Export writes any oar network as an ONNX model (opset 13 by default, 13 through 17) that ONNX
// Runtime, Triton and other ONNX tools run. Import and Load read an ONNX model, such as one written
// by torch.onnx.export or paddle2onnx, as a *Graph: an nn.Layer that runs the graph on oar's tensors
// and kernels, whose float initializers are oar parameters named by their ONNX names, so that an
// imported model can be evaluated, fine-tuned with autograd and the optimizers, saved, and
// exported again.
//
// Example_fineTune shows the whole round trip; examples/onnx does it on MNIST, and bench/onnx
// times oar against ONNX Runtime on the same files. The tests check the package against outside
// references: ONNX's own backend node tests (every node test of the supported operators passes at
// ONNX's tolerances), ONNX Runtime on exported models, onnx.checker on every exported file, and
// models exported by PyTorch (onnx/testdata/torch, with the script that wrote them).
//
// The Go types of ONNX's protocol buffers are generated from ONNX's own onnx.proto3 (package
// internal/onnxpb); the only dependency besides oar is google.golang.org/protobuf.
package onnx
