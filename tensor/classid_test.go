package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
)

func TestClassIDs(t *testing.T) {
	// any shape, row-major; the ignore index gives -1, also inside [0, classes)
	require.Equal(t, []int32{2, 0, -1, 9}, tensor.ClassIDs("Op", tensor.New([]float32{2, 0, -100, 9}, 4, 1), 10, -100))
	require.Equal(t, []int32{2, -1, 1}, tensor.ClassIDs("Op", tensor.New([]float32{2, 0, 1}, 3), 3, 0))
	require.Equal(t, []int32{0, -1}, tensor.ClassIDs("Op", tensor.New([]float32{0, 255}, 2), 10, 255))
	require.Equal(t, []int32{}, tensor.ClassIDs("Op", tensor.Zeros(0), 3, tensor.NoIgnoreIndex))
	for _, tc := range []struct {
		v      float32
		ignore int
	}{
		{3, -100}, {-1, -100}, {-100, tensor.NoIgnoreIndex}, {2.5, -100}, {float32(math.NaN()), -100},
		{float32(math.Inf(1)), -100}, {float32(math.Inf(-1)), -100}, {1e10, -100},
		{-0x1p63, tensor.NoIgnoreIndex}, // float32(math.MinInt): NoIgnoreIndex is no label
	} {
		want := fmt.Sprintf("tensor: Op: id %v at index 1 is not an integer in [0, 3)", tc.v)
		requirePanic(t, want, func() {
			tensor.ClassIDs("Op", tensor.New([]float32{0, tc.v, 1}, 3), 3, tc.ignore)
		})
	}
	// each op that reads class ids names itself
	x := tensor.Zeros(2, 3)
	requirePanic(t, "tensor: SoftmaxCrossEntropy: id 3 at index 1 is not an integer in [0, 3)", func() {
		x.SoftmaxCrossEntropy(tensor.New([]float32{0, 3}, 2), -100)
	})
	requirePanic(t, "tensor: SoftmaxCrossEntropy: id -100 at index 0 is not an integer in [0, 3)", func() {
		x.SoftmaxCrossEntropy(tensor.New([]float32{-100, 0}, 2, 1), tensor.NoIgnoreIndex)
	})
	got := x.SoftmaxCrossEntropy(tensor.New([]float32{-100, 1}, 2), -100).Data()
	require.Equal(t, float32(0), got[0])
	require.InDelta(t, math.Log(3), got[1], 1e-6)
}
