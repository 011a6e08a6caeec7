package optim

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// problem is a small regression: params w [3, 2], b [2]; loss = mean((xw + b - y)²).
type problem struct {
	x, y   *tensor.Tensor
	params []nn.Param
}

func newProblem() *problem {
	rng := rand.New(rand.NewPCG(1, 2))
	return &problem{
		x: tensor.Randn(rng, 8, 3),
		y: tensor.Randn(rng, 8, 2),
		params: []nn.Param{
			{Name: "fc.weight", Tensor: tensor.Randn(rng, 3, 2).SetRequiresGrad(true)},
			{Name: "fc.bias", Tensor: tensor.Randn(rng, 2).SetRequiresGrad(true)},
		},
	}
}

// clone returns the problem with copies of the parameters' current values.
func (p *problem) clone() *problem {
	q := *p
	q.params = nil
	for _, prm := range p.params {
		q.params = append(q.params, nn.Param{Name: prm.Name, Tensor: tensor.New(slices.Clone(prm.Data()), prm.Shape()...).SetRequiresGrad(true)})
	}
	return &q
}

// train runs n steps: backward, optimizer step, clear, scheduler step (with the loss as the
// metric for a MetricScheduler).
func (p *problem) train(o Optimizer, s Scheduler, n int) {
	for range n {
		loss := p.x.MatMul(p.params[0].Tensor).Add(p.params[1].Tensor).Sub(p.y).Pow(2).Mean()
		loss.Backward()
		o.Step()
		o.ClearGrad()
		switch s := s.(type) {
		case MetricScheduler:
			s.StepMetric(loss.Item())
		case Scheduler:
			s.Step()
		}
	}
}

type setup struct {
	name string
	make func(ps []nn.Param) (Optimizer, Scheduler)
}

var setups = []setup{
	{"SGD StepDecay", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewSGD(ps, 0.1)
		o.Scheduler = NewStepDecay(0.1, 2, 0.5)
		return o, o.Scheduler
	}},
	{"SGD constant", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewSGD(ps, 0.1)
		o.WeightDecay = 0.01
		return o, nil
	}},
	{"Momentum Nesterov", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewMomentum(ps, 0.05)
		o.Nesterov, o.WeightDecay, o.GradClip = true, 0.01, ClipGradByNorm{ClipNorm: 0.5}
		o.Scheduler = NewExponentialDecay(0.05, 0.9)
		return o, o.Scheduler
	}},
	{"Adam warmup cosine", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewAdam(ps, 0.1)
		o.WeightDecay, o.GradClip = 0.001, ClipGradByGlobalNorm{ClipNorm: 1}
		o.Scheduler = NewLinearWarmup(NewCosineAnnealingDecay(0.1, 5, 0.001), 3, 0.01, 0.1)
		return o, o.Scheduler
	}},
	{"AdamW plateau", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewAdamW(ps, 0.1)
		s := NewReduceOnPlateau(0.1)
		s.Patience, s.Threshold = 0, 0.5
		o.Scheduler, o.GradClip = s, ClipGradByValue{Min: -0.5, Max: 0.5}
		return o, s
	}},
	{"RMSProp centered momentum", func(ps []nn.Param) (Optimizer, Scheduler) {
		o := NewRMSProp(ps, 0.01)
		o.Centered, o.Momentum, o.WeightDecay = true, 0.9, 0.01
		o.GradClip = ClipGradByGlobalNorm{ClipNorm: 1}
		o.Scheduler = NewMultiStepDecay(0.01, []int{2, 5}, 0.5)
		return o, o.Scheduler
	}},
}

// TestResumeBitwise saves after k steps, loads into a fresh optimizer over restored parameters,
// and checks that the next steps equal the uninterrupted run's bit for bit.
func TestResumeBitwise(t *testing.T) {
	dir := t.TempDir()
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) {
			const k, n = 4, 5
			base := newProblem()

			whole := base.clone()
			o, s := su.make(whole.params)
			whole.train(o, s, k+n)

			first := base.clone()
			o1, s1 := su.make(first.params)
			first.train(o1, s1, k)
			path := filepath.Join(dir, strings.ReplaceAll(su.name, " ", "_")+".safetensors")
			require.NoError(t, Save(path, o1))

			resumed := first.clone() // as if the parameters came back from their own checkpoint
			o2, s2 := su.make(resumed.params)
			require.NoError(t, Load(path, o2))
			require.Equal(t, o1.LR(), o2.LR())
			resumed.train(o2, s2, n)

			for i, p := range whole.params {
				require.Equal(t, p.Data(), resumed.params[i].Data(), p.Name)
			}
			require.Equal(t, o.State().Meta, o2.State().Meta)
		})
	}
}

func TestStateContents(t *testing.T) {
	pr := newProblem()
	o := NewAdam(pr.params, 0.01)
	o.Scheduler = NewStepDecay(0.01, 2, 0.5)
	pr.train(o, o.Scheduler, 3)
	st := o.State()
	var names []string
	for _, p := range st.Tensors {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"fc.weight.moment1", "fc.weight.moment2", "fc.bias.moment1", "fc.bias.moment2"}, names)
	require.Equal(t, []int{3, 2}, st.Tensors[0].Shape())
	require.Equal(t, map[string]string{
		"optimizer": "Adam", "lr": "0.01", "fc.weight.step": "3", "fc.bias.step": "3",
		"scheduler.type": "StepDecay", "scheduler.last_epoch": "3", "scheduler.last_lr": "0.005",
	}, st.Meta)

	var buf bytes.Buffer
	require.NoError(t, Write(&buf, NewSGD(pr.params, 0.5)))
	ts, meta, err := nn.ReadSafetensors(&buf)
	require.NoError(t, err)
	require.Empty(t, ts)
	require.Equal(t, map[string]string{"optimizer": "SGD", "lr": "0.5"}, meta)

	m := NewMomentum(pr.params, 0.5)
	m.SetLR(0.25)
	require.Equal(t, "fc.weight.velocity", m.State().Tensors[0].Name)
	m2 := NewMomentum(pr.params, 0.5)
	require.NoError(t, m2.SetState(m.State()))
	require.Equal(t, float32(0.25), m2.LR(), "a constant learning rate set by SetLR is restored")
}

// adamFile writes a trained Adam's state (with a StepDecay) and returns its bytes.
func adamFile(t testing.TB) []byte {
	pr := newProblem()
	o := NewAdam(pr.params, 0.01)
	o.Scheduler = NewStepDecay(0.01, 2, 0.5)
	pr.train(o, o.Scheduler, 2)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, o))
	return buf.Bytes()
}

// rewrite reads a state file, lets edit change it, and writes it again.
func rewrite(t *testing.T, b []byte, edit func(ts []nn.Param, meta map[string]string) []nn.Param) []byte {
	ts, meta, err := nn.ReadSafetensors(bytes.NewReader(b))
	require.NoError(t, err)
	ts = edit(ts, meta)
	var buf bytes.Buffer
	require.NoError(t, nn.WriteSafetensors(&buf, ts, meta))
	return buf.Bytes()
}

func freshAdam() (*Adam, *problem) {
	pr := newProblem()
	o := NewAdam(pr.params, 0.01)
	o.Scheduler = NewStepDecay(0.01, 2, 0.5)
	return o, pr
}

func TestLoadErrors(t *testing.T) {
	good := adamFile(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		bytes []byte
		into  func() Optimizer
		want  []string // substrings of the error, after "optim: load <path>: "
	}{
		{"empty file", nil, nil, []string{"safetensors: read header length: unexpected EOF"}},
		{"truncated header", good[:20], nil, []string{"safetensors: read"}},
		{"truncated data", good[:len(good)-5], nil, []string{"safetensors: read", "unexpected EOF"}},
		{"garbage", []byte("definitely not a safetensors file at all"), nil, []string{"safetensors: header length"}},
		{"wrong optimizer", good, func() Optimizer {
			o := NewMomentum(newProblem().params, 0.1)
			o.Scheduler = NewStepDecay(0.01, 2, 0.5)
			return o
		}, []string{`Momentum state: optimizer "Adam", want "Momentum"`, `missing tensor "fc.weight.velocity"`,
			`unexpected tensor "fc.bias.moment1"`}},
		{"wrong shape", rewrite(t, good, func(ts []nn.Param, _ map[string]string) []nn.Param {
			ts[0].Tensor = tensor.Zeros(2, 3)
			return ts
		}), nil, []string{`Adam state: tensor "fc.weight.moment1" has shape [2 3], want [3 2]`}},
		{"missing and unexpected", rewrite(t, good, func(ts []nn.Param, _ map[string]string) []nn.Param {
			ts[3].Name = "fc.bias.moment3"
			return ts
		}), nil, []string{`missing tensor "fc.bias.moment2"`, `unexpected tensor "fc.bias.moment3"`}},
		{"bad numbers", rewrite(t, good, func(ts []nn.Param, meta map[string]string) []nn.Param {
			meta["lr"] = "fast"
			meta["fc.bias.step"] = "-1"
			delete(meta, "fc.weight.step")
			meta["scheduler.last_lr"] = "Inf"
			return ts
		}), nil, []string{`lr is "fast", want a number`, `step count "fc.bias.step" is "-1", want an integer >= 0`,
			`missing step count "fc.weight.step"`, `scheduler: StepDecay state: last_lr is "Inf", want a finite number`}},
		{"no optimizer type", rewrite(t, good, func(ts []nn.Param, meta map[string]string) []nn.Param {
			delete(meta, "optimizer")
			return ts
		}), nil, []string{`no "optimizer" entry in the metadata`}},
		{"other scheduler", good, func() Optimizer {
			o, _ := freshAdam()
			o.Scheduler = NewExponentialDecay(0.01, 0.5)
			return o
		}, []string{`scheduler: ExponentialDecay state: type "StepDecay", want "ExponentialDecay"`}},
		{"no scheduler in optimizer", good, func() Optimizer { return NewAdam(newProblem().params, 0.01) },
			[]string{"the state has a StepDecay scheduler, the optimizer none"}},
		{"no scheduler in state", rewrite(t, good, func(ts []nn.Param, meta map[string]string) []nn.Param {
			for k := range meta {
				if strings.HasPrefix(k, "scheduler.") {
					delete(meta, k)
				}
			}
			return ts
		}), nil, []string{"the state has no scheduler, the optimizer a *optim.StepDecay"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			require.NoError(t, os.WriteFile(path, tc.bytes, 0o644))
			var o Optimizer
			if tc.into != nil {
				o = tc.into()
			} else {
				o, _ = freshAdam()
			}
			before := o.State()
			err := Load(path, o)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "optim: load "+path+": "), err.Error())
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			require.Equal(t, before.Meta, o.State().Meta, "unchanged on error")
			for i, p := range before.Tensors {
				require.Equal(t, p.Data(), o.State().Tensors[i].Data())
			}
		})
	}
	err := Load(filepath.Join(dir, "absent"), NewSGD(newProblem().params, 1))
	require.ErrorContains(t, err, "optim: load: open ")
	require.ErrorContains(t, err, "absent: no such file or directory")
}

// TestLoadNeverPanics feeds every truncation and many random corruptions of a good file to Load.
func TestLoadNeverPanics(t *testing.T) {
	good := adamFile(t)
	o, _ := freshAdam()
	for n := range len(good) {
		require.Error(t, Read(bytes.NewReader(good[:n]), o), "truncated to %d bytes", n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := slices.Clone(good)
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		require.NotPanics(t, func() { Read(bytes.NewReader(b), o) }) //nolint:errcheck // some flips still load
	}
	require.NoError(t, Read(bytes.NewReader(good), o))
}

func TestSaveAtomicError(t *testing.T) {
	err := Save(filepath.Join(t.TempDir(), "missing-dir", "opt.safetensors"), NewSGD(newProblem().params, 1))
	require.ErrorContains(t, err, "optim: save ")
	require.ErrorContains(t, err, "missing-dir")
}
