package optim_test

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// Sign is the custom optimizer of Base's documentation, built outside the package: p -= lr·sign(g).
type Sign struct{ optim.Base }

func NewSign(params []nn.Param, lr float32) *Sign {
	o := &Sign{}
	o.Base = optim.NewBase("Sign", params, lr, o)
	return o
}
func (o *Sign) Slots() optim.Slots { return optim.Slots{} }
func (o *Sign) Prepare()           {}
func (o *Sign) Update(u *optim.Update) {
	for i, p := range u.P {
		if g := u.Grad(i); g != 0 {
			u.P[i] = p - u.LR*g/float32(math.Abs(float64(g)))
		}
	}
}

// decayed is a custom rule with a buffer and step counts: p -= lr·g/t, and it remembers the
// last gradient it used.
type decayed struct {
	optim.Base
	Bad bool // a hyper-parameter out of range
}

func (o *decayed) Slots() optim.Slots {
	return optim.Slots{Buffers: []string{"last"}, Steps: true}
}

func (o *decayed) Prepare() {
	if o.Bad {
		panic(&optim.Error{Op: "decayed", Msg: "bad"})
	}
}

func (o *decayed) Update(u *optim.Update) {
	for i, p := range u.P {
		g := u.Grad(i)
		u.Slots[0][i] = g
		u.P[i] = p - u.LR*g/float32(u.Step)
	}
}

func newDecayed(params []nn.Param, lr float32) *decayed {
	o := &decayed{}
	o.Base = optim.NewBase("decayed", params, lr, o)
	return o
}

func grad(p *tensor.Tensor, g ...float32) {
	p.ClearGrad()
	p.Mul(tensor.New(g, p.Shape()...)).Sum().Backward()
}

func TestCustomOptimizer(t *testing.T) {
	w := tensor.New([]float32{1, 2}, 2).SetRequiresGrad(true)
	b := tensor.New([]float32{0}, 1).SetRequiresGrad(true)
	params := []nn.Param{{Name: "w", Tensor: w}, {Name: "b", Tensor: b}}
	var o optim.Optimizer = newDecayed(params, 0.5)
	_, scheduled := o.(optim.Scheduled)
	require.True(t, scheduled, "every optimizer built on Base is Scheduled")

	// step 1 (t=1 for w; b has no gradient and keeps t=0): w -= 0.5·[1, -2]
	grad(w, 1, -2)
	o.Step()
	require.Equal(t, []float32{0.5, 3}, w.Data())
	require.Equal(t, []float32{0}, b.Data())
	// step 2 with L2 decay 0.5 and clipping to [-1, 1]: g = clamp([4, 4]) + 0.5·w = [1.25, 2.5],
	// t=2: w -= 0.5·g/2 = [0.3125, 0.625]; b: g = clamp(-3) + 0 = -1, t=1: b = 0.5
	d := o.(*decayed)
	d.WeightDecay, d.GradClip = 0.5, optim.ClipGradByValue{Min: -1, Max: 1}
	grad(w, 4, 4)
	grad(b, -3)
	o.Step()
	require.Equal(t, []float32{0.1875, 2.375}, w.Data())
	require.Equal(t, []float32{0.5}, b.Data())

	st := o.State()
	require.Equal(t, map[string]string{"optimizer": "decayed", "lr": "0.5", "w.step": "2", "b.step": "1"}, st.Meta)
	require.Equal(t, "w.last", st.Tensors[0].Name)
	require.Equal(t, []float32{1.25, 2.5}, st.Tensors[0].Data())

	var buf bytes.Buffer
	require.NoError(t, optim.Write(&buf, o))
	o2 := newDecayed(params, 0.5)
	require.NoError(t, optim.Read(&buf, o2))
	require.Equal(t, st, o2.State())
	require.ErrorContains(t, NewSign(params, 1).SetState(st), `Sign state: optimizer "decayed", want "Sign"`)

	o2.Bad = true
	require.PanicsWithError(t, "optim: decayed: bad", o2.Step)
	o2.Bad, o2.WeightDecay = false, -1
	require.PanicsWithError(t, "optim: decayed: WeightDecay -1 must be finite and >= 0", o2.Step)
}

func TestBaseScheduler(t *testing.T) {
	p := []nn.Param{{Name: "p", Tensor: tensor.New([]float32{1}, 1).SetRequiresGrad(true)}}
	s := NewSign(p, 0.1)
	require.Nil(t, s.LRScheduler())
	s.Scheduler = optim.NewStepDecay(0.1, 1, 0.5)
	require.Same(t, s.Scheduler, s.LRScheduler())
	s.Scheduler.Step()
	require.Equal(t, float32(0.05), s.LR())
	require.PanicsWithError(t, "optim: Base: Step on a Base not made by NewBase", (&optim.Base{}).Step)
	require.PanicsWithError(t, `optim: Sign: rule buffer name "m" is empty, "step" or repeated`,
		func() { optim.NewBase("Sign", p, 0.1, repeated{}) })
}

type repeated struct{}

func (repeated) Slots() optim.Slots     { return optim.Slots{Buffers: []string{"m", "m"}} }
func (repeated) Prepare()               {}
func (repeated) Update(u *optim.Update) {}

// Example_customOptimizer builds the Sign optimizer of Base's documentation.
func Example_customOptimizer() {
	w := tensor.New([]float32{1, -1, 0.5}, 3).SetRequiresGrad(true)
	opt := NewSign([]nn.Param{{Name: "w", Tensor: w}}, 0.25)
	w.Mul(tensor.New([]float32{3, -0.1, 0}, 3)).Sum().Backward() // gradient [3, -0.1, 0]
	opt.Step()
	fmt.Println(w.Data())
	// Output:
	// [0.75 -0.75 0.5]
}
