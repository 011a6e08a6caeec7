package transforms_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
	"github.com/oarlab/oar/vision/transforms"
)

func TestResizeBilinearRamp(t *testing.T) {
	// A 2x2 ramp [[0 1] [2 3]] to 4x4. Output coordinate d samples (d+0.5)/2 - 0.5, clamped:
	// -0.25→0, 0.25, 0.75, 1.25→1, so a row [0 1] becomes [0 .25 .75 1] and a column [0 2]
	// becomes [0 .5 1.5 2]; the image is their sum.
	x := tensor.New([]float32{0, 1, 2, 3}, 1, 2, 2)
	got := transforms.Resize([]int{4, 4}).Apply(x)
	require.Equal(t, []int{1, 4, 4}, got.Shape())
	tensortest.AllClose(t, got, tensor.New([]float32{
		0, 0.25, 0.75, 1,
		0.5, 0.75, 1.25, 1.5,
		1.5, 1.75, 2.25, 2.5,
		2, 2.25, 2.75, 3,
	}, 1, 4, 4), 1e-6, 0)
	// Nearest takes floor(d·in/out): each pixel doubled.
	near := transforms.Resize([]int{4}, transforms.ResizeOptions{Interpolation: transforms.InterpolationNearest}).Apply(x)
	require.Equal(t, []float32{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, near.Data())
	// Shrinking 4 → 2 bilinear samples coordinates 0.5 and 2.5: the mean of each 2x2 block here.
	r4 := ramp(1, 4, 4)
	down := transforms.Resize([]int{2}).Apply(r4)
	tensortest.AllClose(t, down, tensor.New([]float32{5.5, 7.5, 25.5, 27.5}, 1, 2, 2), 1e-5, 0)
	// Nearest 4 → 2 takes pixels 0 and 2.
	require.Equal(t, []float32{0, 2, 20, 22}, transforms.Resize([]int{2, 2}, transforms.ResizeOptions{Interpolation: "nearest"}).Apply(r4).Data())
	// Same size: a copy.
	require.Equal(t, r4.Data(), transforms.Resize([]int{4, 4}).Apply(r4).Data())
}

func TestResizeSizes(t *testing.T) {
	// One value is the shorter side; the longer one is int(size·long/short), as Paddle:
	// 256x300 → 224x262.
	require.Equal(t, []int{3, 224, 262}, transforms.Resize([]int{224}).Apply(tensor.Zeros(3, 256, 300)).Shape())
	require.Equal(t, []int{3, 262, 224}, transforms.Resize([]int{224}).Apply(tensor.Zeros(3, 300, 256)).Shape())
	require.Equal(t, []int{200, 150}, transforms.Resize([]int{200, 150}).Apply(tensor.Zeros(256, 300)).Shape())
	require.Equal(t, []int{2, 3, 5, 10}, transforms.Resize([]int{5}).Apply(tensor.Zeros(2, 3, 10, 20)).Shape())
	// A shorter side that already matches: unchanged.
	x := ramp(1, 5, 7)
	require.Equal(t, x.Data(), transforms.Resize([]int{5}).Apply(x).Data())
	// A constant image stays constant, bilinear and nearest.
	c := tensor.Full(3, 2, 7, 5)
	for _, m := range []transforms.Interpolation{"", transforms.InterpolationBilinear, transforms.InterpolationNearest} {
		got := transforms.Resize([]int{11, 3}, transforms.ResizeOptions{Interpolation: m}).Apply(c)
		for _, v := range got.Data() {
			require.InDelta(t, 3, v, 1e-6)
		}
	}
	require.PanicsWithError(t, "transforms: Resize: size [0] is not positive", func() { transforms.Resize([]int{0}) })
	require.PanicsWithError(t, "transforms: Resize: size [1 2 3]: want 1 value or 2 (height, width)", func() { transforms.Resize([]int{1, 2, 3}) })
	require.PanicsWithError(t, `transforms: Resize: unknown interpolation "cubic" (want nearest or bilinear)`,
		func() { transforms.Resize([]int{2}, transforms.ResizeOptions{Interpolation: "cubic"}) })
}

func TestCenterCrop(t *testing.T) {
	x := ramp(2, 5, 6)
	got := transforms.CenterCrop([]int{3, 2}).Apply(x)
	// top = round(2/2) = 1, left = round(4/2) = 2.
	require.Equal(t, []float32{12, 13, 22, 23, 32, 33, 112, 113, 122, 123, 132, 133}, got.Data())
	// Halves round to even, as Python's round: 5 rows to 2 → top round(1.5) = 2; 7 columns to 2
	// → left round(2.5) = 2.
	y := ramp(1, 5, 7)
	require.Equal(t, []float32{22, 23, 32, 33}, transforms.CenterCrop([]int{2}).Apply(y).Data())
	require.PanicsWithError(t, "transforms: CenterCrop: crop 6x6 larger than the image 5x7 (shape [1 5 7])",
		func() { transforms.CenterCrop([]int{6}).Apply(y) })
}

func TestRandomResizedCrop(t *testing.T) {
	x := ramp(3, 8, 8)
	rng := rand.New(rand.NewPCG(1, 2))
	rrc := transforms.RandomResizedCrop([]int{4})
	for range 50 {
		require.Equal(t, []int{3, 4, 4}, rrc.ApplyRandom(x, rng).Shape())
	}
	// The same generator state, the same crop.
	a := rrc.ApplyRandom(x, rand.New(rand.NewPCG(7, 7)))
	require.Equal(t, a.Data(), rrc.ApplyRandom(x, rand.New(rand.NewPCG(7, 7))).Data())

	// Scale (1, 1) and ratio (1, 1) on a square: the whole image, resized.
	whole := transforms.RandomResizedCrop([]int{4}, transforms.RandomResizedCropOptions{Scale: [2]float64{1, 1}, Ratio: [2]float64{1, 1}})
	require.Equal(t, transforms.Resize([]int{4, 4}).Apply(x).Data(), whole.ApplyRandom(x, rng).Data())
	// A crop of the output's size is not resized: scale 1/4 and ratio 1 on 8x8 is a 4x4 window.
	win := transforms.RandomResizedCrop([]int{4}, transforms.RandomResizedCropOptions{Scale: [2]float64{0.25, 0.25}, Ratio: [2]float64{1, 1}})
	seen := map[float32]bool{}
	for range 300 {
		d := win.ApplyRandom(x, rng).Data()
		top, left := int(d[0])/10, int(d[0])%10
		require.Equal(t, float32(10*(top+3)+left+3), d[15], "a 4x4 window")
		seen[d[0]] = true
	}
	require.Len(t, seen, 25, "every top-left in [0,4]x[0,4]")

	// No attempt fits (area 4 times the image): the fallback. A 4x12 image (ratio 3) clamped to
	// ratio 4/3 is h = 4, w = round(4·4/3) = 5, centred: left (12-5)/2 = 3.
	wide := ramp(1, 4, 12)
	fb := transforms.RandomResizedCrop([]int{4, 5}, transforms.RandomResizedCropOptions{Scale: [2]float64{4, 4}})
	got := fb.ApplyRandom(wide, rng)
	require.Equal(t, []float32{3, 4, 5, 6, 7}, got.Data()[:5])
	require.Equal(t, []float32{33, 34, 35, 36, 37}, got.Data()[15:])
	// A tall one, 12x4 (ratio 1/3), clamped to 3/4: w = 4, h = round(4/(3/4)) = 5, top 3.
	tall := ramp(1, 12, 4)
	got = transforms.RandomResizedCrop([]int{5, 4}, transforms.RandomResizedCropOptions{Scale: [2]float64{4, 4}}).ApplyRandom(tall, rng)
	require.Equal(t, []float32{30, 31, 32, 33}, got.Data()[:4])
	// Within the ratio range, the whole image.
	sq := ramp(1, 6, 6)
	got = transforms.RandomResizedCrop([]int{6}, transforms.RandomResizedCropOptions{Scale: [2]float64{4, 4}}).ApplyRandom(sq, rng)
	require.Equal(t, sq.Data(), got.Data())

	require.PanicsWithError(t, "transforms: RandomResizedCrop: scale [1 0.5] should be (min, max) with 0 <= min",
		func() {
			transforms.RandomResizedCrop([]int{4}, transforms.RandomResizedCropOptions{Scale: [2]float64{1, 0.5}})
		})
	require.PanicsWithError(t, "transforms: RandomResizedCrop: ratio [0 1] should be (min, max) with 0 < min",
		func() {
			transforms.RandomResizedCrop([]int{4}, transforms.RandomResizedCropOptions{Ratio: [2]float64{0, 1}})
		})
}

func TestRandomRotation(t *testing.T) {
	x := tensor.New([]float32{
		0, 1, 2, 3,
		4, 5, 6, 7,
		8, 9, 10, 11,
		12, 13, 14, 15,
	}, 1, 4, 4)
	rng := rand.New(rand.NewPCG(1, 1))
	rot := func(deg float64, o transforms.RandomRotationOptions) *tensor.Tensor {
		return transforms.RandomRotation([]float64{deg, deg}, o).ApplyRandom(x, rng)
	}
	// 90° counter-clockwise: the right column becomes the top row (numpy.rot90).
	ccw := []float32{
		3, 7, 11, 15,
		2, 6, 10, 14,
		1, 5, 9, 13,
		0, 4, 8, 12,
	}
	require.Equal(t, ccw, rot(90, transforms.RandomRotationOptions{}).Data())
	require.Equal(t, ccw, rot(90, transforms.RandomRotationOptions{Interpolation: transforms.InterpolationBilinear}).Data())
	require.Equal(t, ccw, rot(-270, transforms.RandomRotationOptions{}).Data())
	require.Equal(t, []float32{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, rot(180, transforms.RandomRotationOptions{}).Data())
	require.Equal(t, x.Data(), rot(360, transforms.RandomRotationOptions{}).Data())

	// About another centre: (1, 1) is the corner shared by pixels 0, 1, 4, 5; turning by 90°
	// maps that 2x2 block onto itself ([[1 5] [0 4]]) and the rest outside, to the fill.
	got := rot(90, transforms.RandomRotationOptions{Center: []float64{1, 1}, Fill: []float32{-1}})
	require.Equal(t, []float32{
		1, 5, 9, 13,
		0, 4, 8, 12,
		-1, -1, -1, -1,
		-1, -1, -1, -1,
	}, got.Data())

	// Expand: a 2x4 image turned by 90° becomes 4x2.
	r := ramp(2, 2, 4)
	e := transforms.RandomRotation([]float64{90, 90}, transforms.RandomRotationOptions{Expand: true}).ApplyRandom(r, rng)
	require.Equal(t, []int{2, 4, 2}, e.Shape())
	require.Equal(t, []float32{3, 13, 2, 12, 1, 11, 0, 10}, e.Data()[:8])
	require.Equal(t, []float32{103, 113, 102, 112, 101, 111, 100, 110}, e.Data()[8:])
	// Without Expand the 2x4 frame is kept, and its parts outside are filled.
	ne := transforms.RandomRotation([]float64{90, 90}, transforms.RandomRotationOptions{Fill: []float32{7, 8}}).ApplyRandom(r, rng)
	require.Equal(t, []int{2, 2, 4}, ne.Shape())
	require.Equal(t, []float32{7, 2, 12, 7, 7, 1, 11, 7}, ne.Data()[:8])
	require.Equal(t, []float32{8, 102, 112, 8, 8, 101, 111, 8}, ne.Data()[8:])
	// 45° with expand: the bounding box of a 4x4 square is ceil(2√2)-floor(-2√2) = 6 wide.
	require.Equal(t, []int{1, 6, 6}, rot(45, transforms.RandomRotationOptions{Expand: true}).Shape())

	// Bilinear at 45° about the centre of a constant image: the inside stays, the corners
	// blend with the fill (outside neighbours count as the fill).
	c := tensor.Full(10, 1, 4, 4)
	b := transforms.RandomRotation([]float64{45, 45}, transforms.RandomRotationOptions{Interpolation: "bilinear"}).ApplyRandom(c, rng)
	d := b.Data()
	require.InDelta(t, 10, d[5], 1e-5)
	require.InDelta(t, 10, d[10], 1e-5)
	// Corner pixel (0,0): its centre (-1.5,-1.5) from the middle maps to (0, -1.5·√2), pixel
	// index (x 1.5, y -0.62): row -1 is outside (fill 0), row 0 weighs 2.5 - 1.5·√2 = 0.379.
	want := 10 * (2.5 - 1.5*math.Sqrt2)
	require.InDelta(t, want, d[0], 1e-4)

	// Angles are uniform in [-d, d].
	rr := transforms.RandomRotation([]float64{30})
	big := ramp(1, 16, 16)
	changed := 0
	for range 200 {
		if !equalF(rr.ApplyRandom(big, rng).Data(), big.Data()) {
			changed++
		}
	}
	// Nearest leaves a 16x16 image unchanged below about 3.5°: about 12% of [-30°, 30°].
	require.InDelta(t, 176, changed, 20)
	require.PanicsWithError(t, "transforms: RandomRotation: degrees [1 2 3]: want 1 value or 2 (min, max)", func() { transforms.RandomRotation([]float64{1, 2, 3}) })
	require.PanicsWithError(t, "transforms: RandomRotation: a single degrees value must be non-negative, got -3", func() { transforms.RandomRotation([]float64{-3}) })
	require.PanicsWithError(t, "transforms: RandomRotation: center [1]: want 2 values (x, y)",
		func() {
			transforms.RandomRotation([]float64{3}, transforms.RandomRotationOptions{Center: []float64{1}})
		})
}

func equalF(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
