// Package onnxpb holds the Go types of ONNX's protocol buffers (ModelProto, GraphProto, NodeProto,
// TensorProto...), generated from onnx.proto3 of ONNX's repository (github.com/onnx/onnx,
// Apache-2.0) at tag v1.12.0, commit f7ee1ac60d06abe8e26c9b6bbe1e3db5286b614b: the release whose
// operator sets (up to opset 17) oar's onnx package reads and writes.
//
// onnx.proto3.pb.go is generated and committed, so building and testing need no protoc. To regenerate it
// (.ci/run does, and fails if the result differs from what is committed):
//
//	apt-get install -y protobuf-compiler   # protoc 3.21.12 on Debian 12
//	go install google.golang.org/protobuf/cmd/protoc-gen-go
//	go generate ./onnx/internal/onnxpb
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto3=github.com/oarlab/oar/onnx/internal/onnxpb onnx.proto3
