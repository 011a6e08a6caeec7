package transforms_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
	"github.com/oarlab/oar/vision/transforms"
)

func TestNormalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.Uniform(rng, 0, 255, 3, 4, 5)
	for _, tc := range []struct {
		name      string
		mean, std []float32
	}{
		{"one value", []float32{127.5}, []float32{127.5}},
		{"per channel", []float32{1, 2, 3}, []float32{4, 5, 6}},
		{"one mean, per-channel std", []float32{10}, []float32{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := transforms.Normalize(tc.mean, tc.std)
			got := n.Apply(x)
			require.Equal(t, []int{3, 4, 5}, got.Shape())
			// The same as tensor ops with broadcasting over [C,1,1].
			bc := func(s []float32) *tensor.Tensor {
				if len(s) == 1 {
					return tensor.Full(s[0], 1, 1, 1)
				}
				return tensor.New(append([]float32(nil), s...), len(s), 1, 1)
			}
			want := x.Sub(bc(tc.mean)).Div(bc(tc.std))
			require.Equal(t, want.Data(), got.Data())
			// Point agrees with Apply exactly.
			p := n.(transforms.Pointwise)
			for c := range 3 {
				for k := range 20 {
					require.Equal(t, got.Data()[c*20+k], p.Point(c, x.Data()[c*20+k]))
				}
			}
			// A batch [N,C,H,W] normalizes each image.
			xb := tensor.Stack([]*tensor.Tensor{x, x}, 0)
			gb := n.Apply(xb)
			require.Equal(t, []int{2, 3, 4, 5}, gb.Shape())
			require.Equal(t, append(got.Data(), got.Data()...), gb.Data())
		})
	}
	// MNIST's quick start: 0..255 → [-1, 1].
	q := transforms.Normalize([]float32{127.5}, []float32{127.5}).Apply(tensor.New([]float32{0, 127.5, 255}, 1, 1, 3))
	require.Equal(t, []float32{-1, 0, 1}, q.Data())
	// Rank 1 and 2 are one channel.
	require.Equal(t, []float32{1, 2}, transforms.Normalize([]float32{1}, []float32{2}).Apply(tensor.New([]float32{3, 5}, 2)).Data())

	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { transforms.Normalize(nil, []float32{1}) }, "transforms: Normalize: empty mean or std"},
		{func() { transforms.Normalize([]float32{1, 2}, []float32{1, 2, 3}) }, "transforms: Normalize: 2 means and 3 stds"},
		{func() { transforms.Normalize([]float32{1}, []float32{1, 0}) }, "transforms: Normalize: std [1 0] has a zero"},
		{func() { transforms.Normalize([]float32{1, 2}, []float32{1}).Apply(x) }, "transforms: Normalize: 2 values of mean or std for 3 channels (shape [3 4 5])"},
	} {
		require.PanicsWithError(t, tc.want, tc.f)
	}
}

func TestToTensor(t *testing.T) {
	x := tensor.New([]float32{0, 51, 255, 127.5}, 2, 2)
	got := transforms.ToTensor().Apply(x)
	require.Equal(t, []int{1, 2, 2}, got.Shape(), "HW gets its channel axis")
	tensortest.AllClose(t, got, tensor.New([]float32{0, 0.2, 1, 0.5}, 1, 2, 2), 0, 1e-7)
	require.Equal(t, []int{1, 2, 2}, transforms.ToTensor().Apply(got.Scale(255)).Shape(), "CHW is kept")
	require.Equal(t, got.Data()[1], transforms.ToTensor().(transforms.Pointwise).Point(0, 51))
	require.Equal(t, float32(51), x.Data()[1], "input unchanged")
}

func TestCompose(t *testing.T) {
	x := tensor.New([]float32{0, 51, 255, 127.5}, 1, 2, 2)
	norm := transforms.Normalize([]float32{0.5}, []float32{0.5})
	c := transforms.Compose(transforms.ToTensor(), norm)
	got := c.Apply(x)
	require.Equal(t, norm.Apply(transforms.ToTensor().Apply(x)).Data(), got.Data())
	p, ok := c.(transforms.Pointwise)
	require.True(t, ok, "a Compose of Pointwise transforms is Pointwise")
	for k, v := range x.Data() {
		require.Equal(t, got.Data()[k], p.Point(0, v))
	}
	double := transforms.Func(func(x *tensor.Tensor) *tensor.Tensor { return x.Scale(2) })
	c2 := transforms.Compose(norm, double)
	_, ok = c2.(transforms.Pointwise)
	require.False(t, ok, "a Func is not known to be Pointwise")
	require.Equal(t, norm.Apply(x).Scale(2).Data(), c2.Apply(x).Data())
	require.Equal(t, x.Data(), transforms.Compose().Apply(x).Data(), "identity")
	require.Equal(t, "Compose[ToTensor() Normalize(mean=[0.5], std=[0.5])]", fmt.Sprint(c))
}

func TestTransformsConcurrent(t *testing.T) {
	x := tensor.New([]float32{0, 51, 255, 127.5}, 1, 2, 2)
	c := transforms.Compose(transforms.ToTensor(), transforms.Normalize([]float32{0.5}, []float32{0.5}))
	want := c.Apply(x).Data()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if got := c.Apply(x).Data(); got[1] != want[1] {
					t.Error("differs")
				}
			}
		})
	}
	wg.Wait()
}
