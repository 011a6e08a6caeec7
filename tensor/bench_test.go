package tensor_test

import (
	"fmt"
	"testing"

	"github.com/oarlab/oar/tensor"
)

// The shapes below are those of bench/torch_layers.py, so that the two can be run in one
// session and quoted as ratios.

func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{64, 256, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := newRNG()
			x, y := tensor.Randn(rng, n, n), tensor.Randn(rng, n, n)
			b.ReportAllocs()
			for b.Loop() {
				x.MatMul(y)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

var convCases = []struct {
	name    string
	x       []int
	out, k  int
	padding int
}{
	{"lenet.conv1_b64", []int{64, 1, 28, 28}, 6, 3, 1},
	{"lenet.conv2_b64", []int{64, 6, 14, 14}, 16, 5, 0},
	{"cnn.conv1_b100", []int{100, 1, 28, 28}, 20, 5, 2},
	{"cnn.conv2_b100", []int{100, 20, 14, 14}, 20, 5, 2},
}

func BenchmarkConv2D(b *testing.B) {
	for _, c := range convCases {
		rng := newRNG()
		x := tensor.Randn(rng, c.x...)
		w := tensor.Randn(rng, c.out, c.x[1], c.k, c.k)
		bias := tensor.Randn(rng, c.out)
		opt := tensor.ConvOptions{Padding: []int{c.padding}}
		b.Run(c.name+"/forward", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.Conv2D(w, bias, opt)
			}
		})
		b.Run(c.name+"/forward+backward", func(b *testing.B) {
			xg, wg, bg := x.Detach().SetRequiresGrad(true), w.Detach().SetRequiresGrad(true), bias.Detach().SetRequiresGrad(true)
			b.ReportAllocs()
			for b.Loop() {
				xg.Conv2D(wg, bg, opt).Sum().Backward()
				xg.ClearGrad()
				wg.ClearGrad()
				bg.ClearGrad()
			}
		})
	}
}

func BenchmarkMaxPool2D(b *testing.B) {
	x := tensor.Randn(newRNG(), 64, 6, 28, 28)
	opt := tensor.PoolOptions{Kernel: []int{2}}
	b.ReportAllocs()
	for b.Loop() {
		x.MaxPool2D(opt)
	}
}
