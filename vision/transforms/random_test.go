package transforms_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// ramp returns a [c,h,w] tensor whose element (k, y, x) is 100k + 10y + x.
func ramp(c, h, w int) *tensor.Tensor {
	d := make([]float32, 0, c*h*w)
	for k := range c {
		for y := range h {
			for x := range w {
				d = append(d, float32(100*k+10*y+x))
			}
		}
	}
	return tensor.New(d, c, h, w)
}

func TestPadModes(t *testing.T) {
	row := tensor.New([]float32{1, 2, 3, 4}, 1, 4)
	for mode, want := range map[transforms.PaddingMode][]float32{
		"":                      {0, 0, 1, 2, 3, 4, 0, 0},
		transforms.PadConstant:  {0, 0, 1, 2, 3, 4, 0, 0},
		transforms.PadEdge:      {1, 1, 1, 2, 3, 4, 4, 4},
		transforms.PadReflect:   {3, 2, 1, 2, 3, 4, 3, 2},
		transforms.PadSymmetric: {2, 1, 1, 2, 3, 4, 4, 3},
	} {
		got := transforms.Pad([]int{2, 0}, transforms.PadOptions{PaddingMode: mode}).Apply(row)
		require.Equal(t, []int{1, 8}, got.Shape(), mode)
		require.Equal(t, want, got.Data(), mode)
	}
	// Borders wider than the image mirror periodically, as numpy.pad.
	wide := tensor.New([]float32{1, 2, 3}, 1, 3)
	require.Equal(t, []float32{2, 3, 2, 1, 2, 3, 2, 1, 2},
		transforms.Pad([]int{3, 0}, transforms.PadOptions{PaddingMode: transforms.PadReflect}).Apply(wide).Data())
	require.Equal(t, []float32{3, 3, 2, 1, 1, 2, 3, 3, 2, 1},
		transforms.Pad([]int{4, 0, 3, 0}, transforms.PadOptions{PaddingMode: transforms.PadSymmetric}).Apply(wide).Data())

	// 4 values are left, top, right, bottom; fill per channel.
	x := ramp(2, 2, 2) // channel 0: [0 1; 10 11], channel 1: [100 101; 110 111]
	got := transforms.Pad([]int{1, 0, 0, 1}, transforms.PadOptions{Fill: []float32{-1, -2}}).Apply(x)
	require.Equal(t, []int{2, 3, 3}, got.Shape())
	require.Equal(t, []float32{
		-1, 0, 1,
		-1, 10, 11,
		-1, -1, -1,
		-2, 100, 101,
		-2, 110, 111,
		-2, -2, -2,
	}, got.Data())
	// 1 value pads every side; [N,C,H,W] pads each plane.
	b := transforms.Pad([]int{1}, transforms.PadOptions{PaddingMode: transforms.PadEdge}).Apply(tensor.Stack([]*tensor.Tensor{x, x}, 0))
	require.Equal(t, []int{2, 2, 4, 4}, b.Shape())
	require.Equal(t, []float32{0, 0, 1, 1, 0, 0, 1, 1, 10, 10, 11, 11, 10, 10, 11, 11}, b.Data()[:16])
	require.Equal(t, b.Data()[:32], b.Data()[32:])

	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { transforms.Pad([]int{1, 2, 3}) }, "transforms: Pad: padding [1 2 3]: want 1, 2 or 4 values"},
		{func() { transforms.Pad([]int{-1}) }, "transforms: Pad: negative padding [-1]"},
		{func() { transforms.Pad([]int{1}, transforms.PadOptions{PaddingMode: "wrap"}) }, `transforms: Pad: unknown padding mode "wrap" (want constant, edge, reflect or symmetric)`},
		{func() { transforms.Pad([]int{1}, transforms.PadOptions{Fill: []float32{1, 2, 3}}).Apply(x) }, "transforms: Pad: 3 fill values for 2 channels"},
		{func() { transforms.Pad([]int{1}).Apply(tensor.Zeros(4)) }, "transforms: Pad: want an image [H,W], [C,H,W] or [N,C,H,W], got shape [4]"},
		{func() { transforms.Pad([]int{1}, transforms.PadOptions{}, transforms.PadOptions{}) }, "transforms: Pad: 2 options structs given, want at most one"},
	} {
		require.PanicsWithError(t, tc.want, tc.f)
	}
}

func TestRandomCrop(t *testing.T) {
	x := ramp(2, 4, 4)
	crop := transforms.RandomCrop([]int{2})
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[[2]int]int{}
	for range 900 {
		got := crop.ApplyRandom(x, rng)
		require.Equal(t, []int{2, 2, 2}, got.Shape())
		d := got.Data()
		top, left := int(d[0])/10, int(d[0])%10
		// Every output is the window at (top, left) of both channels.
		require.Equal(t, []float32{
			float32(10*top + left), float32(10*top + left + 1),
			float32(10*(top+1) + left), float32(10*(top+1) + left + 1),
			float32(100 + 10*top + left), float32(100 + 10*top + left + 1),
			float32(100 + 10*(top+1) + left), float32(100 + 10*(top+1) + left + 1),
		}, d)
		seen[[2]int{top, left}]++
	}
	require.Len(t, seen, 9, "all 3x3 positions occur")
	for pos, n := range seen {
		require.InDelta(t, 100, n, 40, "position %v", pos)
	}
	// The same generator state gives the same crop.
	a := crop.ApplyRandom(x, rand.New(rand.NewPCG(5, 6)))
	require.Equal(t, a.Data(), crop.ApplyRandom(x, rand.New(rand.NewPCG(5, 6))).Data())
	require.Equal(t, float32(0), x.Data()[0], "input unchanged")

	// Padding then a crop of the padded size: no draw, the padded image exactly.
	y := tensor.New([]float32{1, 2, 3, 4}, 1, 2, 2)
	pc := transforms.RandomCrop([]int{4}, transforms.RandomCropOptions{Padding: []int{1}, Fill: []float32{9}})
	r := rand.New(rand.NewPCG(3, 3))
	require.Equal(t, []float32{9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9}, pc.ApplyRandom(y, r).Data())
	require.Equal(t, rand.New(rand.NewPCG(3, 3)).Uint64(), r.Uint64(), "nothing drawn")

	// PadIfNeeded pads a short side by the difference on both ends, as Paddle: a 2x2 image and
	// a 3x4 crop become 2+2(3-2) = 4 rows and 2+2(4-2) = 6 columns before cropping.
	pin := transforms.RandomCrop([]int{3, 4}, transforms.RandomCropOptions{PadIfNeeded: true, PaddingMode: transforms.PadEdge})
	for range 20 {
		got := pin.ApplyRandom(y, rng)
		require.Equal(t, []int{1, 3, 4}, got.Shape())
		for _, v := range got.Data() {
			require.Contains(t, []float32{1, 2, 3, 4}, v)
		}
	}
	// Symmetric padding of 4 on 28x28 then crop 28: the classic CIFAR/MNIST augmentation.
	aug := transforms.RandomCrop([]int{28}, transforms.RandomCropOptions{Padding: []int{4}, PaddingMode: transforms.PadSymmetric})
	require.Equal(t, []int{1, 28, 28}, aug.ApplyRandom(tensor.Zeros(1, 28, 28), rng).Shape())

	require.PanicsWithError(t, "transforms: RandomCrop: crop 5x5 larger than the (padded) image 4x4 (shape [2 4 4]); set PadIfNeeded",
		func() { transforms.RandomCrop([]int{5}).ApplyRandom(x, rng) })
	require.PanicsWithError(t, "transforms: RandomCrop: size [1 2 3]: want 1 value or 2 (height, width)", func() { transforms.RandomCrop([]int{1, 2, 3}) })
	require.PanicsWithError(t, "transforms: RandomCrop: size [0] is not positive", func() { transforms.RandomCrop([]int{0}) })
	// Apply draws from the process-wide source: still a valid crop.
	require.Equal(t, []int{2, 2, 2}, crop.Apply(x).Shape())
}

func TestRandomFlips(t *testing.T) {
	x := tensor.New([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	require.Equal(t, []float32{3, 2, 1, 6, 5, 4}, transforms.RandomHorizontalFlip(1).ApplyRandom(x, rng).Data())
	require.Equal(t, []float32{4, 5, 6, 1, 2, 3}, transforms.RandomVerticalFlip(1).ApplyRandom(x, rng).Data())
	require.Equal(t, x.Data(), transforms.RandomHorizontalFlip(0).ApplyRandom(x, rng).Data())
	require.Equal(t, x.Data(), transforms.RandomVerticalFlip(0).ApplyRandom(x, rng).Data())
	// Paddle's example: [[0,0,1],[0,0,1],[1,1,1]] flipped left to right.
	p := tensor.New([]float32{0, 0, 1, 0, 0, 1, 1, 1, 1}, 1, 3, 3)
	require.Equal(t, []float32{1, 0, 0, 1, 0, 0, 1, 1, 1}, transforms.RandomHorizontalFlip(1).Apply(p).Data())
	require.Equal(t, []float32{1, 1, 1, 0, 0, 1, 0, 0, 1}, transforms.RandomVerticalFlip(1).Apply(p).Data())
	// prob 0.5 flips about half the time.
	flips := 0
	h := transforms.RandomHorizontalFlip(0.5)
	for range 2000 {
		if h.ApplyRandom(x, rng).Data()[0] == 3 {
			flips++
		}
	}
	require.InDelta(t, 1000, flips, 120)
	require.PanicsWithError(t, "transforms: RandomHorizontalFlip: probability 1.5 outside [0, 1]", func() { transforms.RandomHorizontalFlip(1.5) })
}

func TestComposeRandom(t *testing.T) {
	x := ramp(1, 6, 6)
	c := transforms.Compose(transforms.RandomCrop([]int{4}), transforms.RandomHorizontalFlip(0.5), transforms.Normalize([]float32{1}, []float32{2}))
	r, ok := c.(transforms.Random)
	require.True(t, ok, "a Compose with a Random member is Random")
	_, ok = c.(transforms.Pointwise)
	require.False(t, ok)
	// ApplyRandom is the members' ApplyRandom in order on one generator.
	for seed := range uint64(20) {
		got := r.ApplyRandom(x, rand.New(rand.NewPCG(seed, 0)))
		rng := rand.New(rand.NewPCG(seed, 0))
		want := transforms.RandomCrop([]int{4}).ApplyRandom(x, rng)
		want = transforms.RandomHorizontalFlip(0.5).ApplyRandom(want, rng)
		want = transforms.Normalize([]float32{1}, []float32{2}).Apply(want)
		require.Equal(t, want.Data(), got.Data())
		require.Equal(t, got.Data(), transforms.ApplyRandom(c, x, rand.New(rand.NewPCG(seed, 0))).Data())
	}
	// ApplyRandom of a plain transform is Apply.
	n := transforms.Normalize([]float32{1}, []float32{2})
	require.Equal(t, n.Apply(x).Data(), transforms.ApplyRandom(n, x, nil).Data())

	// Safe for concurrent use, each goroutine with its own generator.
	want := r.ApplyRandom(x, rand.New(rand.NewPCG(9, 9))).Data()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := r.ApplyRandom(x, rand.New(rand.NewPCG(9, 9))).Data(); got[0] != want[0] || got[15] != want[15] {
					t.Error("differs")
				}
				c.Apply(x)
			}
		})
	}
	wg.Wait()
}
