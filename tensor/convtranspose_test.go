package tensor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// convTransposeRef is the plain scatter loop of a transposed convolution: every input pixel adds
// its value times the kernel into the output, at stride steps, shifted by the top/left padding.
func convTransposeRef(x, w, b *tensor.Tensor, sh, sw, pt, pl, dh, dw, groups, outH, outW int) *tensor.Tensor {
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	og, kh, kw := w.Dim(1), w.Dim(2), w.Dim(3)
	o, cg := og*groups, c/groups
	y := make([]float32, n*o*outH*outW)
	xd, wdt := x.Data(), w.Data()
	for ni := range n {
		for ci := range c {
			g := ci / cg
			for ih := range h {
				for iw := range wd {
					v := xd[((ni*c+ci)*h+ih)*wd+iw]
					for oi := range og {
						oc := g*og + oi
						for i := range kh {
							for j := range kw {
								yh, yw := ih*sh-pt+i*dh, iw*sw-pl+j*dw
								if yh < 0 || yh >= outH || yw < 0 || yw >= outW {
									continue
								}
								y[((ni*o+oc)*outH+yh)*outW+yw] += v * wdt[((ci*og+oi)*kh+i)*kw+j]
							}
						}
					}
				}
			}
		}
	}
	if b != nil {
		for i := range y {
			y[i] += b.Data()[(i/(outH*outW))%o]
		}
	}
	return tensor.New(y, n, o, outH, outW)
}

func TestConv2DTransposeHandComputed(t *testing.T) {
	// x = [[1, 2], [3, 4]], kernel [[1, 10], [100, 1000]], stride 2: each pixel stamps the kernel
	// times itself on its own 2x2 block.
	x := tensor.New([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	w := tensor.New([]float32{1, 10, 100, 1000}, 1, 1, 2, 2)
	got := x.Conv2DTranspose(w, tensor.New([]float32{0.5}, 1), tensor.ConvTransposeOptions{Stride: []int{2}})
	want := tensor.New([]float32{
		1.5, 10.5, 2.5, 20.5,
		100.5, 1000.5, 200.5, 2000.5,
		3.5, 30.5, 4.5, 40.5,
		300.5, 3000.5, 400.5, 4000.5,
	}, 1, 1, 4, 4)
	tensortest.AllClose(t, got, want, 0, 0)

	// stride 1: overlapping stamps add; padding 1 crops one row and column each side of the 3x3.
	got = x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{})
	want = tensor.New([]float32{
		1, 10 + 2, 20,
		100 + 3, 1000 + 200 + 30 + 4, 2000 + 40,
		300, 3000 + 400, 4000,
	}, 1, 1, 3, 3)
	tensortest.AllClose(t, got, want, 0, 0)
	// Padding (top 0, bottom 1, left 0, right 1) crops the last row and column.
	got = x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Padding: []int{0, 1, 0, 1}})
	tensortest.AllClose(t, got, tensor.New([]float32{1, 12, 103, 1234}, 1, 1, 2, 2), 0, 0)

	// Padding 1 with stride 2 crops the stamps' outer ring; output_padding 1 adds a row and a
	// column at the bottom and right that no stamp reaches: they hold only the bias.
	got = x.Conv2DTranspose(w, tensor.New([]float32{7}, 1), tensor.ConvTransposeOptions{Stride: []int{2}, Padding: []int{1},
		OutputPadding: []int{1}})
	tensortest.AllClose(t, got, tensor.New([]float32{
		1007, 207, 2007,
		37, 11, 47,
		3007, 407, 4007,
	}, 1, 1, 3, 3), 0, 0)
	got = x.Conv2DTranspose(w, tensor.New([]float32{7}, 1), tensor.ConvTransposeOptions{Stride: []int{2}, OutputPadding: []int{1}})
	tensortest.AllClose(t, got, tensor.New([]float32{
		8, 17, 9, 27, 7,
		107, 1007, 207, 2007, 7,
		10, 37, 11, 47, 7,
		307, 3007, 407, 4007, 7,
		7, 7, 7, 7, 7,
	}, 1, 1, 5, 5), 0, 0)
}

func TestConv2DTransposeOutputShapes(t *testing.T) {
	x := tensor.Zeros(2, 4, 5, 6)
	w := tensor.Zeros(4, 3, 3, 3)
	cases := []struct {
		opt  tensor.ConvTransposeOptions
		want []int
	}{
		{tensor.ConvTransposeOptions{}, []int{2, 3, 7, 8}},
		{tensor.ConvTransposeOptions{Padding: []int{1}}, []int{2, 3, 5, 6}},
		{tensor.ConvTransposeOptions{Padding: []int{1, 0}}, []int{2, 3, 5, 8}},
		{tensor.ConvTransposeOptions{Padding: []int{0, 1, 2, 0}}, []int{2, 3, 6, 6}},
		{tensor.ConvTransposeOptions{Stride: []int{2}}, []int{2, 3, 11, 13}},
		{tensor.ConvTransposeOptions{Stride: []int{2}, OutputPadding: []int{1}}, []int{2, 3, 12, 14}},
		{tensor.ConvTransposeOptions{Stride: []int{3, 2}, OutputPadding: []int{2, 0}}, []int{2, 3, 17, 13}},
		{tensor.ConvTransposeOptions{Stride: []int{2}, OutputSize: []int{12, 13}}, []int{2, 3, 12, 13}},
		{tensor.ConvTransposeOptions{Dilation: []int{2}}, []int{2, 3, 9, 10}},
		{tensor.ConvTransposeOptions{Dilation: []int{2}, OutputPadding: []int{1}}, []int{2, 3, 10, 11}},
		{tensor.ConvTransposeOptions{Groups: 2}, []int{2, 6, 7, 8}},
		{tensor.ConvTransposeOptions{PadMode: tensor.PadValid}, []int{2, 3, 7, 8}},
		// Paddle's SAME: H=5, stride 2, k=3: ceil(5/2)=3, pad = max(2*2+3-5, 0) = 2, H' = 8-2+3 = 9;
		// W=6: ceil(6/2)=3, pad = 1, W' = 10-1+3 = 12 = W*stride.
		{tensor.ConvTransposeOptions{PadMode: tensor.PadSame, Stride: []int{2}}, []int{2, 3, 9, 12}},
		// SAME ignores the dilation (Paddle sets it to 1): the same shape as without it.
		{tensor.ConvTransposeOptions{PadMode: tensor.PadSame, Stride: []int{2}, Dilation: []int{2}}, []int{2, 3, 9, 12}},
		{tensor.ConvTransposeOptions{PadMode: tensor.PadSame}, []int{2, 3, 5, 6}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, x.Conv2DTranspose(w, nil, c.opt).Shape(), "%+v", c.opt)
	}
}

// convTransposeCase is one configuration of the reference and gradient tests.
type convTransposeCase struct {
	name    string
	x, w, b []int // shapes; b nil for no bias
	opt     tensor.ConvTransposeOptions
	// the resolved geometry for the reference: stride, top/left padding, dilation, output size
	sh, sw, pt, pl, dh, dw, outH, outW int
}

var convTransposeCases = []convTransposeCase{
	{"basic", []int{2, 3, 4, 4}, []int{3, 2, 3, 3}, []int{2}, tensor.ConvTransposeOptions{}, 1, 1, 0, 0, 1, 1, 6, 6},
	{"stride 2 pad 1", []int{2, 2, 3, 4}, []int{2, 3, 3, 3}, []int{3}, tensor.ConvTransposeOptions{Stride: []int{2}, Padding: []int{1}}, 2, 2, 1, 1, 1, 1, 5, 7},
	{"stride 2 output_padding 1", []int{1, 2, 3, 3}, []int{2, 2, 3, 3}, []int{2},
		tensor.ConvTransposeOptions{Stride: []int{2}, Padding: []int{1}, OutputPadding: []int{1}}, 2, 2, 1, 1, 1, 1, 6, 6},
	{"stride (2,3) output_size", []int{1, 2, 3, 3}, []int{2, 1, 2, 2}, []int{1},
		tensor.ConvTransposeOptions{Stride: []int{2, 3}, OutputSize: []int{7, 9}}, 2, 3, 0, 0, 1, 1, 7, 9},
	{"dilation 2 pad (1,2)", []int{1, 2, 4, 4}, []int{2, 2, 3, 3}, []int{2},
		tensor.ConvTransposeOptions{Dilation: []int{2}, Padding: []int{1, 2}}, 1, 1, 1, 2, 2, 2, 6, 4},
	{"dilation 2 output_padding 1 (stride 1)", []int{1, 1, 3, 3}, []int{1, 2, 2, 2}, nil,
		tensor.ConvTransposeOptions{Dilation: []int{2}, OutputPadding: []int{1}}, 1, 1, 0, 0, 2, 2, 6, 6},
	{"groups 2 stride 2", []int{2, 4, 3, 3}, []int{4, 3, 3, 3}, []int{6}, tensor.ConvTransposeOptions{Groups: 2, Stride: []int{2}}, 2, 2, 0, 0, 1, 1, 7, 7},
	{"4-sided pad, 2x3 kernel", []int{1, 2, 4, 5}, []int{2, 2, 2, 3}, []int{2},
		tensor.ConvTransposeOptions{Padding: []int{1, 0, 2, 1}, Stride: []int{2}}, 2, 2, 1, 2, 1, 1, 7, 8},
	{"padding beyond the kernel", []int{1, 2, 6, 6}, []int{2, 2, 2, 2}, nil,
		tensor.ConvTransposeOptions{Padding: []int{3, 2}}, 1, 1, 3, 2, 1, 1, 1, 3},
	{"SAME stride 2", []int{1, 2, 5, 6}, []int{2, 2, 3, 3}, []int{2},
		tensor.ConvTransposeOptions{PadMode: tensor.PadSame, Stride: []int{2}, Dilation: []int{3}}, 2, 2, 1, 0, 1, 1, 9, 12},
	{"depthwise", []int{1, 3, 4, 4}, []int{3, 1, 3, 3}, nil, tensor.ConvTransposeOptions{Groups: 3, Padding: []int{1}}, 1, 1, 1, 1, 1, 1, 4, 4},
	{"batch 20 (several chunks)", []int{20, 1, 3, 3}, []int{1, 2, 3, 3}, []int{2}, tensor.ConvTransposeOptions{Stride: []int{2}}, 2, 2, 0, 0, 1, 1, 7, 7},
	// Out/groups·kh·kw = 144 and in·kh·kw = 135, stride 1, 14 and 16 columns: the forward pass
	// (a convolution's input gradient) and the input gradient take the kernels' indirect path.
	{"indirect, 16 channels", []int{3, 15, 5, 14}, []int{15, 16, 3, 3}, []int{16}, tensor.ConvTransposeOptions{Padding: []int{1}}, 1, 1, 1, 1, 1, 1, 5, 14},
	{"indirect, wide", []int{2, 15, 3, 14}, []int{15, 16, 3, 3}, nil, tensor.ConvTransposeOptions{}, 1, 1, 0, 0, 1, 1, 5, 16},
}

func TestConv2DTransposeReference(t *testing.T) {
	rng := newRNG()
	for _, c := range convTransposeCases {
		t.Run(c.name, func(t *testing.T) {
			x, w := tensor.Randn(rng, c.x...), tensor.Randn(rng, c.w...)
			var b *tensor.Tensor
			if c.b != nil {
				b = tensor.Randn(rng, c.b...)
			}
			groups := max(c.opt.Groups, 1)
			want := convTransposeRef(x, w, b, c.sh, c.sw, c.pt, c.pl, c.dh, c.dw, groups, c.outH, c.outW)
			tensortest.AllClose(t, x.Conv2DTranspose(w, b, c.opt), want, 1e-4, 1e-4)
		})
	}
}

func TestConv2DTransposeGrad(t *testing.T) {
	rng := newRNG()
	for _, c := range convTransposeCases {
		if c.x[1]*c.x[2]*c.x[3] > 400 {
			continue // the finite differences of the large cases take too long; the reference checks their forward pass
		}
		t.Run(c.name, func(t *testing.T) {
			inputs := []*tensor.Tensor{tensor.Randn(rng, c.x...), tensor.Randn(rng, c.w...)}
			if c.b != nil {
				inputs = append(inputs, tensor.Randn(rng, c.b...))
			}
			f := func(in ...*tensor.Tensor) *tensor.Tensor {
				var b *tensor.Tensor
				if len(in) > 2 {
					b = in[2]
				}
				return in[0].Conv2DTranspose(in[1], b, c.opt)
			}
			tensortest.GradCheck(t, f, inputs, tensortest.GradCheckOptions{Atol: 2e-2})
		})
	}
}

// TestConv2DTransposeAdjoint checks the defining identity on the indirect-path geometries, where
// GradCheck would be slow: <Conv2DTranspose(x), y> = <x, Conv2D(y)> for the same weight, and the
// input gradient of Conv2DTranspose is Conv2D of the output gradient.
func TestConv2DTransposeAdjoint(t *testing.T) {
	rng := newRNG()
	for _, c := range convTransposeCases {
		if c.opt.PadMode != tensor.PadExplicit || c.opt.OutputSize != nil || c.opt.OutputPadding != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			x, w := tensor.Randn(rng, c.x...), tensor.Randn(rng, c.w...)
			x.SetRequiresGrad(true)
			w.SetRequiresGrad(true)
			y := x.Conv2DTranspose(w, nil, c.opt)
			gy := tensor.Randn(rng, y.Shape()...)
			y.BackwardWith(gy)
			conv := tensor.ConvOptions{Stride: c.opt.Stride, Padding: c.opt.Padding, Dilation: c.opt.Dilation, Groups: c.opt.Groups}
			tensortest.AllClose(t, x.Grad(), gy.Conv2D(w.Detach(), nil, conv), 1e-3, 1e-3)
			lhs := y.Detach().Mul(gy).Sum().Item()
			rhs := x.Detach().Mul(x.Grad()).Sum().Item()
			require.InDelta(t, lhs, rhs, float64(1e-3*(1+abs32(lhs))))
			// The weight gradient is Conv2D's weight gradient with the roles of input and output
			// gradient swapped.
			gyc, wc := gy.Detach().SetRequiresGrad(true), w.Detach().SetRequiresGrad(true)
			gyc.Conv2D(wc, nil, conv).BackwardWith(x.Detach())
			tensortest.AllClose(t, w.Grad(), wc.Grad(), 1e-3, 1e-3)
		})
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestConv2DTransposePanics(t *testing.T) {
	x := tensor.Zeros(1, 2, 4, 4)
	w := tensor.Zeros(2, 3, 3, 3)
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"rank", func() { tensor.Zeros(2, 4, 4).Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{}) },
			"tensor: Conv2DTranspose: input [2 4 4] and weight [2 3 3 3] must be 4-D (NCHW and [in, out/groups, kh, kw])"},
		{"channels", func() { x.Conv2DTranspose(tensor.Zeros(3, 3, 3, 3), nil, tensor.ConvTransposeOptions{}) },
			"tensor: Conv2DTranspose: input [1 2 4 4], weight [3 3 3 3], groups 1: want in channels = weight.shape[0], divisible by groups"},
		{"groups", func() { x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Groups: 4}) },
			"tensor: Conv2DTranspose: input [1 2 4 4], weight [2 3 3 3], groups 4: want in channels = weight.shape[0], divisible by groups"},
		{"bias", func() { x.Conv2DTranspose(w, tensor.Zeros(2), tensor.ConvTransposeOptions{}) },
			"tensor: Conv2DTranspose: bias [2], want [3] for weight [2 3 3 3] and groups 1"},
		{"output padding", func() {
			x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Stride: []int{2}, OutputPadding: []int{2}})
		},
			"tensor: Conv2DTranspose: OutputPadding [2]: want each value in [0, max(stride, dilation)) (stride 2,2, dilation 1,1)"},
		{"output size", func() {
			x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Stride: []int{2}, OutputSize: []int{11}})
		},
			"tensor: Conv2DTranspose: OutputSize [11]: want each size in [computed, computed+stride) = [9, 11) x [9, 11)"},
		{"output size and padding", func() {
			x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Stride: []int{2}, OutputSize: []int{10}, OutputPadding: []int{1}})
		}, "tensor: Conv2DTranspose: OutputPadding [1] and OutputSize [10] are mutually exclusive"},
		{"empty output", func() { x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Padding: []int{3}}) },
			"tensor: Conv2DTranspose: output size 0x0 below 1 (input [1 2 4 4], weight [2 3 3 3], padding 3,3,3,3)"},
		{"zero stride", func() { x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Stride: []int{0}}) },
			"tensor: Conv2DTranspose: stride [0], dilation [], kernel [3 3] and output channels 3 must be at least 1"},
		{"padding values", func() { x.Conv2DTranspose(w, nil, tensor.ConvTransposeOptions{Padding: []int{1, 2, 3}}) },
			"tensor: Conv2DTranspose: Padding [1 2 3]: want 1, 2 or 4 values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { requirePanic(t, c.msg, c.f) })
	}
}

// TestConvSameIgnoresDilation checks Paddle's "SAME" rule (UpdatePaddingAndDilation): the padding
// is computed for the undilated kernel and the dilation becomes 1, for Conv2D as for
// Conv2DTranspose.
func TestConvSameIgnoresDilation(t *testing.T) {
	rng := newRNG()
	x, w := tensor.Randn(rng, 1, 2, 7, 6), tensor.Randn(rng, 3, 2, 3, 3)
	// H = 7, stride 2: 4 rows, padding max(3*2+3-7, 0) = 2, one each side; W = 6: 3 columns,
	// padding max(2*2+3-6, 0) = 1, at the right.
	want := x.Conv2D(w, nil, tensor.ConvOptions{Stride: []int{2}, Padding: []int{1, 1, 0, 1}})
	require.Equal(t, []int{1, 3, 4, 3}, want.Shape())
	for _, d := range [][]int{nil, {2}, {3, 2}} {
		got := x.Conv2D(w, nil, tensor.ConvOptions{Stride: []int{2}, PadMode: tensor.PadSame, Dilation: d})
		tensortest.AllClose(t, got, want, 0, 0)
	}
	wt := tensor.Randn(rng, 2, 3, 3, 3)
	want = x.Conv2DTranspose(wt, nil, tensor.ConvTransposeOptions{Stride: []int{2}, Padding: []int{1, 1, 0, 1}})
	got := x.Conv2DTranspose(wt, nil, tensor.ConvTransposeOptions{Stride: []int{2}, PadMode: tensor.PadSame, Dilation: []int{2}})
	tensortest.AllClose(t, got, want, 0, 0)
}
