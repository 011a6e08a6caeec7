package tensor_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

// normactNormRef is a normalisation built from elementary ops: x [N, G, D'] normalised over axis 2,
// the reference that LayerNorm's and GroupNorm's fused ops are compared with.
func normactNormRef(x *tensor.Tensor, eps float32) *tensor.Tensor {
	mean := x.MeanKeepDim(2)
	xc := x.Sub(mean)
	v := xc.Mul(xc).MeanKeepDim(2)
	return xc.Div(v.AddScalar(eps).Sqrt())
}

// normactLayerNormRef is LayerNorm from elementary ops.
func normactLayerNormRef(x *tensor.Tensor, k int, w, b *tensor.Tensor, eps float32) *tensor.Tensor {
	shape := x.Shape()
	d := 1
	for _, v := range shape[len(shape)-k:] {
		d *= v
	}
	y := normactNormRef(x.Reshape(1, -1, d), eps).Reshape(shape...)
	if w != nil {
		y = y.Mul(w.Reshape(shape[len(shape)-k:]...))
	}
	if b != nil {
		y = y.Add(b.Reshape(shape[len(shape)-k:]...))
	}
	return y
}

// normactGroupNormRef is GroupNorm from elementary ops.
func normactGroupNormRef(x *tensor.Tensor, groups int, w, b *tensor.Tensor, eps float32) *tensor.Tensor {
	shape := x.Shape()
	c := shape[1]
	y := normactNormRef(x.Reshape(shape[0], groups, -1), eps).Reshape(shape...)
	bshape := make([]int, len(shape))
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[1] = c
	if w != nil {
		y = y.Mul(w.Reshape(bshape...))
	}
	if b != nil {
		y = y.Add(b.Reshape(bshape...))
	}
	return y
}

// compareNormactGrads runs f and ref on the same inputs with the same random output weights and
// compares outputs and every input's gradient.
func compareNormactGrads(t *testing.T, f, ref fn, inputs []*tensor.Tensor, atol float64) {
	t.Helper()
	seed := tensor.Randn(newRNG(), f(inputs...).Shape()...)
	var outs [2]*tensor.Tensor
	var grads [2][]*tensor.Tensor
	for k, g := range []fn{f, ref} {
		for _, x := range inputs {
			x.SetRequiresGrad(true)
			x.ClearGrad()
		}
		outs[k] = g(inputs...)
		outs[k].BackwardWith(seed)
		for _, x := range inputs {
			grads[k] = append(grads[k], x.Grad().Clone())
		}
	}
	tensortest.AllClose(t, outs[0], outs[1], atol, 1e-4)
	for i := range inputs {
		if err := tensortest.Close(grads[0][i], grads[1][i], atol, 1e-3); err != nil {
			t.Fatalf("gradient of input %d: %v", i, err)
		}
	}
}

func TestLayerNorm(t *testing.T) {
	rng := newRNG()
	for _, c := range []struct {
		shape, norm  []int
		weight, bias bool
	}{
		{[]int{3, 5}, []int{5}, true, true},
		{[]int{3, 5}, []int{5}, false, false},
		{[]int{2, 3, 4}, []int{4}, true, false},
		{[]int{2, 3, 4}, []int{3, 4}, true, true},
		{[]int{2, 3, 4}, []int{3, 4}, false, true},
		{[]int{2, 3, 4}, []int{3, 4}, false, false},
		{[]int{6}, []int{6}, true, true},
		{[]int{2, 2, 3}, []int{2, 2, 3}, true, true},
	} {
		t.Run(fmt.Sprintf("%v/%v/w%v/b%v", c.shape, c.norm, c.weight, c.bias), func(t *testing.T) {
			d := 1
			for _, v := range c.norm {
				d *= v
			}
			inputs := []*tensor.Tensor{tensor.Randn(rng, c.shape...).Scale(2).AddScalar(0.5)}
			wi, bi := -1, -1
			if c.weight {
				wi = len(inputs)
				inputs = append(inputs, tensor.Randn(rng, d).AddScalar(1))
			}
			if c.bias {
				bi = len(inputs)
				inputs = append(inputs, tensor.Randn(rng, d))
			}
			pick := func(xs []*tensor.Tensor, i int) *tensor.Tensor {
				if i < 0 {
					return nil
				}
				return xs[i]
			}
			f := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return xs[0].LayerNorm(c.norm, pick(xs, wi), pick(xs, bi), 1e-5)
			}
			ref := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return normactLayerNormRef(xs[0], len(c.norm), pick(xs, wi), pick(xs, bi), 1e-5)
			}
			compareNormactGrads(t, f, ref, inputs, 1e-5)
			tensortest.GradCheck(t, f, inputs, tensortest.GradCheckOptions{Eps: 1e-2})
		})
	}
}

// TestLayerNormLarge runs enough rows for several parallel chunks, with weights shaped as the
// normalized shape (PyTorch's layout).
func TestLayerNormLarge(t *testing.T) {
	rng := newRNG()
	x := tensor.Randn(rng, 300, 4, 32)
	w, b := tensor.Randn(rng, 4, 32), tensor.Randn(rng, 4, 32)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].LayerNorm([]int{4, 32}, xs[1], xs[2], 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactLayerNormRef(xs[0], 2, xs[1], xs[2], 1e-5)
	}, []*tensor.Tensor{x, w, b}, 1e-4)
}

// TestNormLargeNoAffine: several parallel chunks without weight and bias (no partial sums).
func TestNormLargeNoAffine(t *testing.T) {
	rng := newRNG()
	x := tensor.Randn(rng, 600, 64)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].LayerNorm([]int{64}, nil, nil, 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactLayerNormRef(xs[0], 1, nil, nil, 1e-5)
	}, []*tensor.Tensor{x}, 1e-4)
	g := tensor.Randn(rng, 50, 4, 30, 30)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].GroupNorm(2, nil, nil, 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactGroupNormRef(xs[0], 2, nil, nil, 1e-5)
	}, []*tensor.Tensor{g}, 1e-3)
	// weight only, bias only: one of the two partial sums
	w := tensor.Randn(rng, 64)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].LayerNorm([]int{64}, xs[1], nil, 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactLayerNormRef(xs[0], 1, xs[1], nil, 1e-5)
	}, []*tensor.Tensor{x, w}, 1e-4)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].LayerNorm([]int{64}, nil, xs[1], 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactLayerNormRef(xs[0], 1, nil, xs[1], 1e-5)
	}, []*tensor.Tensor{x, w}, 1e-4)
	// an input that needs no gradient, with a weight and bias that do
	xc := tensor.Randn(rng, 600, 64)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return xc.LayerNorm([]int{64}, xs[0], xs[1], 1e-5) },
		func(xs ...*tensor.Tensor) *tensor.Tensor { return normactLayerNormRef(xc, 1, xs[0], xs[1], 1e-5) },
		[]*tensor.Tensor{tensor.Randn(rng, 64), tensor.Randn(rng, 64)}, 1e-4)
}

// TestLayerNormConstantRow: a constant row has variance 0 and normalises to 0 (times the weight,
// plus the bias), finite thanks to epsilon.
func TestLayerNormConstantRow(t *testing.T) {
	x := tensor.New([]float32{3, 3, 3, 1, 2, 3}, 2, 3)
	y := x.LayerNorm([]int{3}, nil, tensor.New([]float32{1, 2, 3}, 3), 1e-5)
	// second row: mean 2, var 2/3
	s := float32(1 / math.Sqrt(2.0/3+1e-5))
	tensortest.AllClose(t, y, tensor.New([]float32{1, 2, 3, -s + 1, 2, s + 3}, 2, 3), 1e-6, 1e-6)
}

func TestLayerNormPanics(t *testing.T) {
	x := tensor.Zeros(2, 3, 4)
	for name, f := range map[string]func(){
		"empty":      func() { x.LayerNorm(nil, nil, nil, 1e-5) },
		"not-tail":   func() { x.LayerNorm([]int{3}, nil, nil, 1e-5) },
		"too-long":   func() { x.LayerNorm([]int{1, 2, 3, 4}, nil, nil, 1e-5) },
		"weight":     func() { x.LayerNorm([]int{4}, tensor.Ones(3), nil, 1e-5) },
		"bias-shape": func() { x.LayerNorm([]int{3, 4}, nil, tensor.Ones(4, 3), 1e-5) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				var e *tensor.Error
				if err, _ := recover().(error); !errors.As(err, &e) || e.Op != "LayerNorm" {
					t.Fatalf("recovered %v, want a *tensor.Error from LayerNorm", err)
				}
			}()
			f()
		})
	}
}

func TestGroupNorm(t *testing.T) {
	rng := newRNG()
	for _, c := range []struct {
		shape        []int
		groups       int
		weight, bias bool
	}{
		{[]int{2, 4, 3, 3}, 1, true, true},
		{[]int{2, 4, 3, 3}, 2, true, true},
		{[]int{2, 4, 3, 3}, 4, true, true},
		{[]int{2, 4, 3, 3}, 2, false, false},
		{[]int{3, 6, 5}, 3, true, false},
		{[]int{3, 6}, 2, false, true},
		{[]int{1, 4, 2, 2, 2}, 2, true, true},
	} {
		t.Run(fmt.Sprintf("%v/g%d/w%v/b%v", c.shape, c.groups, c.weight, c.bias), func(t *testing.T) {
			ch := c.shape[1]
			inputs := []*tensor.Tensor{tensor.Randn(rng, c.shape...).Scale(2).AddScalar(-0.5)}
			wi, bi := -1, -1
			if c.weight {
				wi = len(inputs)
				inputs = append(inputs, tensor.Randn(rng, ch).AddScalar(1))
			}
			if c.bias {
				bi = len(inputs)
				inputs = append(inputs, tensor.Randn(rng, ch))
			}
			pick := func(xs []*tensor.Tensor, i int) *tensor.Tensor {
				if i < 0 {
					return nil
				}
				return xs[i]
			}
			f := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return xs[0].GroupNorm(c.groups, pick(xs, wi), pick(xs, bi), 1e-5)
			}
			ref := func(xs ...*tensor.Tensor) *tensor.Tensor {
				return normactGroupNormRef(xs[0], c.groups, pick(xs, wi), pick(xs, bi), 1e-5)
			}
			compareNormactGrads(t, f, ref, inputs, 1e-5)
			tensortest.GradCheck(t, f, inputs, tensortest.GradCheckOptions{})
		})
	}
}

func TestGroupNormLarge(t *testing.T) {
	rng := newRNG()
	x := tensor.Randn(rng, 40, 8, 16, 16)
	w, b := tensor.Randn(rng, 8), tensor.Randn(rng, 8)
	compareNormactGrads(t, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return xs[0].GroupNorm(4, xs[1], xs[2], 1e-5)
	}, func(xs ...*tensor.Tensor) *tensor.Tensor {
		return normactGroupNormRef(xs[0], 4, xs[1], xs[2], 1e-5)
	}, []*tensor.Tensor{x, w, b}, 1e-3)
}

func TestGroupNormPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"rank1":      func() { tensor.Zeros(4).GroupNorm(1, nil, nil, 1e-5) },
		"not-divide": func() { tensor.Zeros(2, 6, 3).GroupNorm(4, nil, nil, 1e-5) },
		"zero":       func() { tensor.Zeros(2, 6, 3).GroupNorm(0, nil, nil, 1e-5) },
		"weight":     func() { tensor.Zeros(2, 6, 3).GroupNorm(2, tensor.Ones(3), nil, 1e-5) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				var e *tensor.Error
				if err, _ := recover().(error); !errors.As(err, &e) || e.Op != "GroupNorm" {
					t.Fatalf("recovered %v, want a *tensor.Error from GroupNorm", err)
				}
			}()
			f()
		})
	}
}

// TestNormThreads: values and gradients are bitwise the same whatever GOMAXPROCS is (the weight
// and bias gradients are summed per fixed chunk and the chunks added in order).
func TestNormThreads(t *testing.T) {
	rng := newRNG()
	x, w, b := tensor.Randn(rng, 900, 48), tensor.Randn(rng, 48), tensor.Randn(rng, 48)
	g := tensor.Randn(rng, 900, 48)
	run := func(procs int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var out [][]float32
		for _, p := range []*tensor.Tensor{x, w, b} {
			p.SetRequiresGrad(true)
			p.ClearGrad()
		}
		y := x.LayerNorm([]int{48}, w, b, 1e-5)
		y.BackwardWith(g)
		out = append(out, y.Data(), x.Grad().Clone().Data(), w.Grad().Clone().Data(), b.Grad().Clone().Data())
		z := x.Reshape(900, 4, 12).GroupNorm(2, w.Slice(0, 0, 4), nil, 1e-5)
		return append(out, z.Data())
	}
	one, two := run(1), run(4)
	for i := range one {
		for j := range one[i] {
			if math.Float32bits(one[i][j]) != math.Float32bits(two[i][j]) {
				t.Fatalf("result %d element %d: %v with 1 thread, %v with 4", i, j, one[i][j], two[i][j])
			}
		}
	}
}
