package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// setGrad makes p's gradient exactly g: Backward of Σ g·p on a cleared gradient.
func setGrad(p *tensor.Tensor, g ...float32) {
	p.ClearGrad()
	p.Mul(tensor.New(g, p.Shape()...)).Sum().Backward()
}

func param(name string, data ...float32) nn.Param {
	return nn.Param{Name: name, Tensor: tensor.New(data, len(data)).SetRequiresGrad(true)}
}

// handGrads are the gradients of the three steps in TestHandValues, independent of p so that
// the expected values follow from the formulas by hand. p starts at [1, -2].
var handGrads = [][]float32{{0.5, 0.1}, {0.2, -0.3}, {-0.4, 0.5}}

func TestHandValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func([]nn.Param) Optimizer
		want [3][2]float64
	}{
		// Paddle's SGD: p -= lr·g. lr 0.1: 1 - 0.05 = 0.95; 0.95 - 0.02 = 0.93; 0.93 + 0.04 = 0.97
		{"SGD", func(p []nn.Param) Optimizer { return NewSGD(p, 0.1) },
			[3][2]float64{{0.95, -2.01}, {0.93, -1.98}, {0.97, -2.03}}},
		// L2 decay, g += 0.1·p: step 1 g = 0.5 + 0.1 = 0.6, p = 0.94; step 2 g = 0.2 + 0.094,
		// p = 0.9106; step 3 g = -0.4 + 0.09106, p = 0.941494
		{"SGD weight decay", func(p []nn.Param) Optimizer { o := NewSGD(p, 0.1); o.WeightDecay = 0.1; return o },
			[3][2]float64{{0.94, -1.99}, {0.9106, -1.9401}, {0.941494, -1.970699}}},
		// Paddle's Momentum: v = μv + g, p -= lr·v. μ 0.9: v = 0.5, p = 0.95; v = 0.45 + 0.2 =
		// 0.65, p = 0.885; v = 0.585 - 0.4 = 0.185, p = 0.8665
		{"Momentum", func(p []nn.Param) Optimizer { return NewMomentum(p, 0.1) },
			[3][2]float64{{0.95, -2.01}, {0.885, -1.989}, {0.8665, -2.0201}}},
		// Nesterov: p -= lr·(g + μv): 1 - 0.1·(0.5 + 0.45) = 0.905; 0.905 - 0.1·(0.2 + 0.585) =
		// 0.8265; 0.8265 - 0.1·(-0.4 + 0.1665) = 0.84985
		{"Nesterov", func(p []nn.Param) Optimizer { o := NewMomentum(p, 0.1); o.Nesterov = true; return o },
			[3][2]float64{{0.905, -2.019}, {0.8265, -1.9701}, {0.84985, -2.04809}}},
		// Nesterov with L2 decay 0.1: g = 0.6, v = 0.6, p = 1 - 0.1·(0.6 + 0.54) = 0.886;
		// g = 0.2886, v = 0.8286, p = 0.886 - 0.1·(0.2886 + 0.74574) = 0.782566; g = -0.3217434,
		// v = 0.4239966, p = 0.782566 - 0.1·(-0.3217434 + 0.38159694) = 0.776580646
		{"Nesterov weight decay", func(p []nn.Param) Optimizer {
			o := NewMomentum(p, 0.1)
			o.Nesterov, o.WeightDecay = true, 0.1
			return o
		}, [3][2]float64{{0.886, -1.981}, {0.782566, -1.878261}, {0.776580646, -1.889937941}}},
		// Adam (Paddle's kernel = PyTorch's form), lr 0.1, β 0.9/0.999, ε 1e-8, element 0:
		// t=1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25: p = 1 - 0.1·0.5/(0.5+1e-8) = 0.900000002
		// t=2: m = 0.065, v = 0.00028975, m̂ = 0.065/0.19 = 0.3421053, v̂ = 0.00028975/0.001999 =
		//      0.1449475: p = 0.9 - 0.1·0.3421053/0.3807197 = 0.8101425
		// t=3: m = 0.0185, v = 0.00044946, m̂ = 0.0185/0.271 = 0.0682657, v̂ = 0.00044946/0.002997
		//      = 0.1499700: p = 0.8101425 - 0.1·0.0682657/0.3872596 = 0.7925146
		{"Adam", func(p []nn.Param) Optimizer { return NewAdam(p, 0.1) },
			[3][2]float64{{0.900000002, -2.09999999}, {0.8101424839, -2.0505810089}, {0.7925145982, -2.0841678189}}},
		// Adam with coupled L2 decay 0.1: the moments see g + 0.1·p: t=1 g = 0.6, m̂ = 0.6,
		// v̂ = 0.36, step 0.1; t=2 g = 0.2 + 0.09 = 0.29, m = 0.083, v = 0.00044374, ...
		{"Adam weight decay", func(p []nn.Param) Optimizer { o := NewAdam(p, 0.1); o.WeightDecay = 0.1; return o },
			[3][2]float64{{0.9000000017, -1.90000001}, {0.8072814605, -1.8136956743}, {0.7702771948, -1.7917786951}}},
		// AdamW, λ 0.1: first p -= lr·λ·p (1 → 0.99), then Adam's step on the bare gradient, whose
		// moments equal plain Adam's: 0.99 - 0.1 = 0.890000002; 0.890000002·0.99 - 0.0898575 =
		// 0.7912425; 0.7912425·0.99 - 0.0176278 = 0.7657022
		{"AdamW", func(p []nn.Param) Optimizer { return withDecay(NewAdamW(p, 0.1), 0.1) },
			[3][2]float64{{0.890000002, -2.07999999}, {0.7912424839, -2.0097810090}, {0.7657021733, -2.0232700089}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := param("p", 1, -2)
			opt := tc.make([]nn.Param{p})
			for step, g := range handGrads {
				setGrad(p.Tensor, g...)
				opt.Step()
				for i, want := range tc.want[step] {
					require.InDelta(t, want, p.Data()[i], 1e-6*math.Max(1, math.Abs(want)), "step %d element %d", step+1, i)
				}
			}
		})
	}
}

func TestSkipsParamsWithoutGrad(t *testing.T) {
	a, b := param("a", 1), param("b", 1)
	opt := NewAdam([]nn.Param{a, b}, 0.1)
	setGrad(a.Tensor, 1)
	opt.Step()
	require.Equal(t, float32(1), b.Data()[0], "b has no gradient: untouched")
	require.Nil(t, b.Grad())
	// b's first update still gets the bias correction of t = 1: a step of lr·sign(g)
	setGrad(b.Tensor, -3)
	opt.Step()
	require.InDelta(t, 1.1, b.Data()[0], 1e-6)
	require.Equal(t, "1", opt.State().Meta["b.step"])
	require.Equal(t, "2", opt.State().Meta["a.step"])
}

func TestClearGrad(t *testing.T) {
	a := param("a", 1, 2)
	setGrad(a.Tensor, 3, 4)
	for _, o := range []Optimizer{NewSGD([]nn.Param{a}, 1), withMomentum(NewMomentum([]nn.Param{a}, 1), 0), NewAdam([]nn.Param{a}, 1), withDecay(NewAdamW([]nn.Param{a}, 1), 0)} {
		setGrad(a.Tensor, 3, 4)
		o.ClearGrad()
		require.Equal(t, []float32{0, 0}, a.Grad().Data())
	}
}

func TestLR(t *testing.T) {
	p := []nn.Param{param("p", 1)}
	for _, o := range []Optimizer{NewSGD(p, 0.5), NewMomentum(p, 0.5), NewAdam(p, 0.5), NewAdamW(p, 0.5)} {
		require.Equal(t, float32(0.5), o.LR())
		o.SetLR(0.25)
		require.Equal(t, float32(0.25), o.LR())
	}
	o := NewSGD(p, 0.5)
	o.Scheduler = NewExponentialDecay(1, 0.5)
	require.Equal(t, float32(1), o.LR())
	o.Scheduler.Step()
	require.Equal(t, float32(0.5), o.LR())
	// the optimizer uses the scheduler's rate: p -= 0.5·g
	setGrad(p[0].Tensor, 1)
	o.Step()
	require.Equal(t, float32(0.5), p[0].Data()[0])
}

func TestClip(t *testing.T) {
	// gradients a = [3, 4] (norm 5) and b = [12] (norm 12), global norm 13; SGD with lr 1 moves
	// each parameter by minus its clipped gradient.
	for _, tc := range []struct {
		name string
		clip GradClip
		a    []float32
		b    []float32
	}{
		{"none", nil, []float32{-3, -4}, []float32{-12}},
		{"by value", ClipGradByValue{Min: -1, Max: 1}, []float32{-1, -1}, []float32{-1}},
		{"by value asymmetric", ClipGradByValue{Min: -1, Max: 3.5}, []float32{-3, -3.5}, []float32{-3.5}},
		// each gradient above norm 1 scaled to norm 1
		{"by norm", ClipGradByNorm{ClipNorm: 1}, []float32{-0.6, -0.8}, []float32{-1}},
		// only b exceeds 10
		{"by norm partly", ClipGradByNorm{ClipNorm: 10}, []float32{-3, -4}, []float32{-10}},
		// all scaled by 6.5/13 = 0.5
		{"by global norm", ClipGradByGlobalNorm{ClipNorm: 6.5}, []float32{-1.5, -2}, []float32{-6}},
		{"by global norm below", ClipGradByGlobalNorm{ClipNorm: 20}, []float32{-3, -4}, []float32{-12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, c := param("a", 0, 0), param("b", 0), param("c", 7)
			opt := NewSGD([]nn.Param{a, b, c}, 1) // c has no gradient and takes no part
			opt.GradClip = tc.clip
			setGrad(a.Tensor, 3, 4)
			setGrad(b.Tensor, 12)
			opt.Step()
			require.InDeltaSlice(t, tc.a, a.Data(), 1e-6)
			require.InDeltaSlice(t, tc.b, b.Data(), 1e-6)
			require.Equal(t, []float32{7}, c.Data())
			// as Paddle, clipping changes what the update sees, not the Grad tensors
			require.Equal(t, []float32{3, 4}, a.Grad().Data())
		})
	}
}

func TestClipBeforeWeightDecay(t *testing.T) {
	// Paddle clips the raw gradient, then adds the L2 term: clamp(10) + 0.5·2 = 2, p = 2 - 0.1·2.
	// (Decay before clipping would give clamp(11) = 1 and p = 1.9.)
	p := param("p", 2)
	opt := NewSGD([]nn.Param{p}, 0.1)
	opt.WeightDecay, opt.GradClip = 0.5, ClipGradByValue{Min: -1, Max: 1}
	setGrad(p.Tensor, 10)
	opt.Step()
	require.InDelta(t, 1.8, p.Data()[0], 1e-6)

	// Adam, coupled: the clipped gradient plus decay feeds the moments; with one element the
	// first step is lr·sign(g) whatever the magnitude: 2 - 0.1 = 1.9.
	q := param("q", 2)
	adam := NewAdam([]nn.Param{q}, 0.1)
	adam.WeightDecay, adam.GradClip = 0.5, ClipGradByGlobalNorm{ClipNorm: 1}
	setGrad(q.Tensor, 10)
	adam.Step()
	require.InDelta(t, 1.9, q.Data()[0], 1e-6)
}

func TestAdamWApplyDecay(t *testing.T) {
	w, b := param("fc.weight", 1), param("fc.bias", 1)
	opt := withDecay(NewAdamW([]nn.Param{w, b}, 0.1), 0.5)
	opt.ApplyDecay = func(name string) bool { return name == "fc.weight" }
	setGrad(w.Tensor, 1)
	setGrad(b.Tensor, 1)
	opt.Step()
	// weight: 1 - 0.1·0.5·1 = 0.95, then - 0.1; bias: only - 0.1
	require.InDelta(t, 0.85, w.Data()[0], 1e-6)
	require.InDelta(t, 0.9, b.Data()[0], 1e-6)
}

func TestPanics(t *testing.T) {
	p := []nn.Param{param("w", 1), param("b", 1)}
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"lr zero", func() { NewSGD(p, 0) }, "optim: SGD: learning rate 0 must be positive and finite"},
		{"lr negative", func() { NewAdam(p, -0.1) }, "optim: Adam: learning rate -0.1 must be positive and finite"},
		{"lr NaN", func() { NewMomentum(p, nan) }, "optim: Momentum: learning rate NaN must be positive and finite"},
		{"momentum", func() { o := NewMomentum(p, 0.1); o.Momentum = 1; o.Step() }, "optim: Momentum: Momentum 1 outside [0, 1)"},
		{"weight decay", func() { o := NewAdamW(p, 0.1); o.WeightDecay = -1; o.Step() }, "optim: AdamW: WeightDecay -1 must be finite and >= 0"},
		{"nil tensor", func() { NewSGD([]nn.Param{{Name: "x"}}, 0.1) }, `optim: SGD: parameter 0 ("x") has no tensor`},
		{"same tensor", func() { NewSGD([]nn.Param{p[0], {Name: "y", Tensor: p[0].Tensor}}, 0.1) },
			`optim: SGD: parameters 0 ("w") and 1 ("y") are the same tensor`},
		{"same name", func() { NewSGD([]nn.Param{p[0], param("w", 2)}, 0.1) },
			`optim: SGD: parameters 0 and 1 share the name "w" (names key the saved state)`},
		{"beta1 at step", func() { o := NewAdam(p, 0.1); o.Beta1 = 1.5; o.Step() }, "optim: Adam: Beta1 1.5 outside [0, 1)"},
		{"beta2 at step", func() { o := withDecay(NewAdamW(p, 0.1), 0); o.Beta2 = -0.1; o.Step() }, "optim: AdamW: Beta2 -0.1 outside [0, 1)"},
		{"epsilon", func() { o := NewAdam(p, 0.1); o.Epsilon = nan; o.Step() }, "optim: Adam: Epsilon NaN must be finite and >= 0"},
		{"sgd decay", func() { o := NewSGD(p, 0.1); o.WeightDecay = -1; o.Step() }, "optim: SGD: WeightDecay -1 must be finite and >= 0"},
		{"SetLR", func() { NewSGD(p, 0.1).SetLR(0) }, "optim: SGD: learning rate 0 must be positive and finite"},
		{"SetLR with scheduler", func() { o := NewAdam(p, 0.1); o.Scheduler = NewExponentialDecay(0.1, 0.5); o.SetLR(0.2) },
			"optim: Adam: SetLR(0.2) with a *optim.ExponentialDecay attached: the scheduler sets the learning rate"},
		{"clip norm", func() { o := NewSGD(p, 0.1); o.GradClip = ClipGradByNorm{}; o.Step() },
			"optim: SGD: ClipGradByNorm: ClipNorm 0 must be positive and finite"},
		{"clip global", func() { o := NewSGD(p, 0.1); o.GradClip = ClipGradByGlobalNorm{ClipNorm: -1}; o.Step() },
			"optim: SGD: ClipGradByGlobalNorm: ClipNorm -1 must be positive and finite"},
		{"clip value", func() { o := NewSGD(p, 0.1); o.GradClip = ClipGradByValue{Min: 1, Max: -1}; o.Step() },
			"optim: SGD: ClipGradByValue: Min 1 must not exceed Max -1"},
		{"step decay size", func() { NewStepDecay(0.1, 0, 0.5) }, "optim: StepDecay: step size 0 must be positive"},
		{"step decay gamma", func() { NewStepDecay(0.1, 2, 1) }, "optim: StepDecay: gamma 1 outside (0, 1)"},
		{"milestones", func() { NewMultiStepDecay(0.1, []int{3, 3}, 0.5) }, "optim: MultiStepDecay: milestones [3 3] must increase"},
		{"piecewise", func() { NewPiecewiseDecay([]int{3}, []float32{1}) },
			"optim: PiecewiseDecay: 1 boundaries and 1 values: want at least one boundary and one more value"},
		{"cosine", func() { NewCosineAnnealingDecay(0.1, 0, 0) }, "optim: CosineAnnealingDecay: T_max 0 must be positive"},
		{"exp lr", func() { NewExponentialDecay(-1, 0.5) }, "optim: ExponentialDecay: learning rate -1 must be finite and >= 0"},
		{"warmup order", func() { NewLinearWarmup(ConstantLR(0.1), 5, 0.1, 0.1) },
			"optim: LinearWarmup: end_lr 0.1 must be finite and greater than start_lr 0.1"},
		{"warmup plateau", func() { NewLinearWarmup(NewReduceOnPlateau(0.1), 5, 0, 0.1) },
			"optim: LinearWarmup: cannot wrap *optim.ReduceOnPlateau, which is stepped with a metric"},
		{"plateau Step", func() { NewReduceOnPlateau(0.1).Step() }, "optim: ReduceOnPlateau: Step without a metric: call StepMetric"},
		{"plateau factor", func() { s := NewReduceOnPlateau(0.1); s.Factor = 1; s.StepMetric(1) }, "optim: ReduceOnPlateau: Factor 1 outside (0, 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithError(t, tc.msg, tc.f) })
	}
}

func TestStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	params := []nn.Param{
		{Name: "w", Tensor: tensor.Randn(rng, 30, 20).SetRequiresGrad(true)},
		{Name: "b", Tensor: tensor.Randn(rng, 20).SetRequiresGrad(true)},
	}
	for _, p := range params {
		g := make([]float32, p.Len())
		for i := range g {
			g[i] = rng.Float32() - 0.5
		}
		setGrad(p.Tensor, g...)
	}
	clip := ClipGradByGlobalNorm{ClipNorm: 1}
	sgd := NewSGD(params, 0.01)
	sgd.GradClip = clip
	mom := NewMomentum(params, 0.01)
	mom.GradClip, mom.Scheduler = ClipGradByNorm{ClipNorm: 1}, NewStepDecay(0.01, 3, 0.5)
	adam := NewAdam(params, 0.001)
	adam.GradClip, adam.WeightDecay = clip, 1e-4
	adamw := NewAdamW(params, 0.001)
	adamw.GradClip, adamw.Scheduler = ClipGradByValue{Min: -1, Max: 1}, NewLinearWarmup(NewCosineAnnealingDecay(0.001, 10, 0), 3, 0, 0.001)
	rms := NewRMSProp(params, 0.001)
	rms.Centered, rms.GradClip = true, clip
	for _, o := range []Optimizer{sgd, mom, adam, adamw, rms} {
		o.Step() // first-call setup, if any
		require.Zero(t, testing.AllocsPerRun(20, o.Step), "%T", o)
	}
}

// benchParams are LeNet's parameter shapes (61,610 values).
func benchParams() []nn.Param {
	rng := rand.New(rand.NewPCG(1, 2))
	var ps []nn.Param
	for i, s := range [][]int{{6, 1, 3, 3}, {6}, {16, 6, 5, 5}, {16}, {400, 120}, {120}, {120, 84}, {84}, {84, 10}, {10}} {
		p := tensor.Randn(rng, s...).SetRequiresGrad(true)
		p.Mul(tensor.Randn(rng, s...)).Sum().Backward()
		ps = append(ps, nn.Param{Name: string(rune('a' + i)), Tensor: p})
	}
	return ps
}

func BenchmarkStepSGD(b *testing.B)      { benchStep(b, NewSGD(benchParams(), 1e-6)) }
func BenchmarkStepAdam(b *testing.B)     { benchStep(b, NewAdam(benchParams(), 1e-6)) }
func BenchmarkStepAdamW(b *testing.B)    { benchStep(b, NewAdamW(benchParams(), 1e-6)) }
func BenchmarkStepMomentum(b *testing.B) { benchStep(b, NewMomentum(benchParams(), 1e-6)) }
func BenchmarkStepRMSProp(b *testing.B)  { benchStep(b, NewRMSProp(benchParams(), 1e-6)) }
func BenchmarkStepSGDClip(b *testing.B) {
	o := NewSGD(benchParams(), 1e-6)
	o.GradClip = ClipGradByValue{Min: -1, Max: 1}
	benchStep(b, o)
}

func benchStep(b *testing.B, o Optimizer) {
	b.ReportAllocs()
	for b.Loop() {
		o.Step()
	}
}

// withMomentum sets o's μ: the tests' values other than Paddle's default 0.9.
func withMomentum(o *Momentum, mu float32) *Momentum { o.Momentum = mu; return o }

// withDecay sets o's decoupled weight decay: the tests' values other than Paddle's default 0.01.
func withDecay(o *AdamW, wd float32) *AdamW { o.WeightDecay = wd; return o }

// TestAdamSplitMatchesSerial checks that adamUpdate's split of a long parameter over goroutines
// gives bitwise the one-goroutine result, clipping and decay included.
func TestAdamSplitMatchesSerial(t *testing.T) {
	const n = 5*adamGrain + 13 // ragged last chunk, and a tail past the vector loop
	rng := rand.New(rand.NewPCG(7, 8))
	vec := func() []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	p, g, m, v := vec(), vec(), vec(), vec()
	for i := range v {
		v[i] *= v[i]
	}
	clone := func(x []float32) []float32 { return append([]float32(nil), x...) }
	p2, m2, v2 := clone(p), clone(m), clone(v)
	b := bounds{lo: -0.5, hi: 0.5, on: true}
	adamUpdate(p, g, m, v, 0.9, 0.999, 0.1, 0.001, 1e-8, 0.01, 0.001, 0.01, 1.2, 0.5, b)
	adamUpdateRange(p2, g, m2, v2, 0.9, 0.999, 0.1, 0.001, 1e-8, 0.01, 0.001, 0.01, 1.2, 0.5, b)
	require.Equal(t, p2, p)
	require.Equal(t, m2, m)
	require.Equal(t, v2, v)
}
