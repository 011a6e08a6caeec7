package oar_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
)

var paddleFormat = oar.SaveOptions{Format: oar.CheckpointPaddle}

// paddleResumeModel is resumeModel's network without Dropout, for files without oar's metadata,
// with Momentum ("momentum") or a constant-rate Adam ("adam").
func paddleResumeModel(variant string) *oar.Model {
	oar.Seed(11)
	net := nn.NewSequential(
		nn.NewConv2D(1, 4, 5, nn.Conv2DOptions{Padding: []int{2}}), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewFlatten(), nn.NewLinear(784, 10))
	m := oar.NewModel(net)
	var opt optim.Optimizer
	switch variant {
	case "momentum":
		opt = optim.NewMomentum(m.Params(), 0.01)
	case "adam":
		opt = optim.NewAdam(m.Params(), 0.002)
	}
	m.Prepare(opt, losses.NewCrossEntropy(), metrics.NewAccuracy())
	return m
}

func requireSameParams(t *testing.T, want, got *oar.Model) {
	t.Helper()
	for i, p := range nn.StateDict(want.Network) {
		require.Equal(t, p.Data(), nn.StateDict(got.Network)[i].Data(), "%s differs", p.Name)
	}
}

// TestPaddleCheckpointResume trains 2 epochs straight, and 1 epoch, saves in Paddle's format,
// loads into a new model and trains 1 more: the parameters must be bitwise equal (moments, step
// counts, the schedule, Dropout's generator and the epoch count all resume).
func TestPaddleCheckpointResume(t *testing.T) {
	for _, variant := range []string{"sgd", "adam"} {
		t.Run(variant, func(t *testing.T) {
			straight := resumeModel(variant)
			fit := resumeFit
			fit.Epochs = 2
			_, err := straight.Fit(context.Background(), resumeData(), fit)
			require.NoError(t, err)

			path := filepath.Join(t.TempDir(), "ckpt", "epoch1")
			first := resumeModel(variant)
			_, err = first.Fit(context.Background(), resumeData(), resumeFit)
			require.NoError(t, err)
			require.NoError(t, first.Save(path, paddleFormat))
			_, err = os.Stat(path + ".pdparams")
			require.NoError(t, err)
			_, err = os.Stat(path + ".pdopt")
			require.NoError(t, err)

			resumed := resumeModel(variant)
			require.NoError(t, resumed.Load(path+".pdparams", oar.LoadOptions{Format: oar.CheckpointPaddle}))
			require.Equal(t, 1, resumed.Epochs())
			_, err = resumed.Fit(context.Background(), resumeData(), resumeFit)
			require.NoError(t, err)
			requireSameParams(t, straight, resumed)
			require.Equal(t, straight.Optimizer().LR(), resumed.Optimizer().LR())
		})
	}
}

// stripOarState rewrites a Paddle-format file without oar's "OarState@@" entry, as Paddle
// itself would have written it.
func stripOarState(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	sd, names, extra, err := nn.ReadPaddleState(f)
	f.Close()
	require.NoError(t, err)
	require.Contains(t, extra, "OarState@@")
	delete(extra, "OarState@@")
	var b bytes.Buffer
	require.NoError(t, nn.WritePaddleState(&b, sd, extra, nn.PaddleOptions{Names: names}))
	require.NoError(t, os.WriteFile(name, b.Bytes(), 0o644))
}

// TestPaddleCheckpointFromPaddle loads a pair as Paddle writes it (Paddle's parameter names,
// accumulators under them, step counts only in the beta pow accumulators, no oar metadata) and
// checks that training continues exactly.
func TestPaddleCheckpointFromPaddle(t *testing.T) {
	paddleNames := map[string]string{"0.weight": "conv2d_0.w_0", "0.bias": "conv2d_0.b_0", "4.weight": "linear_0.w_0", "4.bias": "linear_0.b_0"}
	for _, variant := range []string{"momentum", "adam"} {
		t.Run(variant, func(t *testing.T) {
			// Batches trained one by one: without oar's metadata the epoch count, on which Fit's
			// shuffling depends, is not restored.
			batch := func(m *oar.Model, i int) {
				x, y := bars(rand.New(rand.NewPCG(uint64(i), 9)), 30)
				m.TrainBatch(x, y)
			}
			straight := paddleResumeModel(variant)
			for i := range 8 {
				batch(straight, i)
			}

			path := filepath.Join(t.TempDir(), "paddle")
			first := paddleResumeModel(variant)
			for i := range 4 {
				batch(first, i)
			}
			require.NoError(t, first.Save(path, oar.SaveOptions{Format: oar.CheckpointPaddle, PaddleNames: paddleNames}))
			stripOarState(t, path+".pdparams")
			stripOarState(t, path+".pdopt")

			f, err := os.Open(path + ".pdopt")
			require.NoError(t, err)
			sd, _, extra, err := nn.ReadPaddleState(f)
			f.Close()
			require.NoError(t, err)
			var keys []string
			for _, p := range sd {
				keys = append(keys, p.Name)
			}
			want := map[string][]string{
				"momentum": {"conv2d_0.w_0_velocity_0", "conv2d_0.b_0_velocity_0", "linear_0.w_0_velocity_0", "linear_0.b_0_velocity_0"},
				"adam": {"conv2d_0.w_0_moment1_0", "conv2d_0.w_0_moment2_0", "conv2d_0.b_0_moment1_0", "conv2d_0.b_0_moment2_0",
					"linear_0.w_0_moment1_0", "linear_0.w_0_moment2_0", "linear_0.b_0_moment1_0", "linear_0.b_0_moment2_0",
					"conv2d_0.w_0_beta1_pow_acc_0", "conv2d_0.b_0_beta1_pow_acc_0", "linear_0.w_0_beta1_pow_acc_0", "linear_0.b_0_beta1_pow_acc_0",
					"conv2d_0.w_0_beta2_pow_acc_0", "conv2d_0.b_0_beta2_pow_acc_0", "linear_0.w_0_beta2_pow_acc_0", "linear_0.b_0_beta2_pow_acc_0"},
			}[variant]
			require.ElementsMatch(t, want, keys)
			require.Empty(t, extra)
			if variant == "adam" { // 4 steps of 30 of 120 samples: β^5
				for _, p := range sd {
					if strings.HasSuffix(p.Name, "_beta1_pow_acc_0") {
						require.Equal(t, []int{1}, p.Shape())
						require.Equal(t, float32(math.Pow(float64(float32(0.9)), 5)), p.Data()[0])
					}
				}
			}

			resumed := paddleResumeModel(variant)
			require.NoError(t, resumed.Load(path, oar.LoadOptions{Format: oar.CheckpointPaddle}))
			for i := 4; i < 8; i++ {
				batch(resumed, i)
			}
			requireSameParams(t, straight, resumed)
		})
	}
}

func TestPaddleCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	m := paddleResumeModel("adam")
	_, err := m.Fit(context.Background(), resumeData(), resumeFit)
	require.NoError(t, err)
	require.NoError(t, m.Save(path, paddleFormat))
	old, err := os.ReadFile(path + ".pdopt")
	require.NoError(t, err)
	require.NoError(t, m.Save(path, paddleFormat))

	// A .pdopt from another Save (a crash between the two files) is refused, the model unchanged.
	require.NoError(t, os.WriteFile(path+".pdopt", old, 0o644))
	fresh := paddleResumeModel("adam")
	before := slices.Clone(nn.StateDict(fresh.Network)[0].Data())
	err = fresh.Load(path, oar.LoadOptions{Format: oar.CheckpointPaddle})
	require.ErrorContains(t, err, "from another Save")
	require.Equal(t, before, nn.StateDict(fresh.Network)[0].Data())
	// ResetOptimizer ignores it.
	require.NoError(t, fresh.Load(path, oar.LoadOptions{Format: oar.CheckpointPaddle, ResetOptimizer: true}))

	// Another optimizer's state: every missing accumulator is named.
	mom := paddleResumeModel("momentum")
	require.NoError(t, m.Save(path, paddleFormat))
	err = mom.Load(path, oar.LoadOptions{Format: oar.CheckpointPaddle})
	require.ErrorContains(t, err, `missing accumulator "0.weight_velocity_0"`)
	require.ErrorContains(t, err, `unexpected accumulator "0.weight_moment1_0"`)

	// A network that does not match.
	other := oar.NewModel(nn.NewSequential(nn.NewLinear(3, 2)))
	err = other.Load(path, oar.LoadOptions{Format: oar.CheckpointPaddle})
	require.ErrorContains(t, err, "m.pdparams")
	require.ErrorContains(t, err, `key "0.weight": shape [4 1 5 5] in the state dict, [3 2] in the layer`)

	// A save without an optimizer removes the old .pdopt.
	noOpt := oar.NewModel(paddleResumeModel("adam").Network)
	require.NoError(t, noOpt.Save(path, paddleFormat))
	_, err = os.Stat(path + ".pdopt")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestPaddleCheckpointByPython reads a Model's Paddle pair as paddle.load does (pickle and numpy,
// nn/testdata/paddle/make_fixtures.py's paddle_load) and checks the keys, dtypes and shapes; and
// nn.LoadPaddle reads the .pdparams. It fails without /usr/bin/python3 and numpy unless
// OAR_SKIP_EXTERNAL=1.
func TestPaddleCheckpointByPython(t *testing.T) {
	if os.Getenv("OAR_SKIP_EXTERNAL") == "1" {
		t.Skip("OAR_SKIP_EXTERNAL=1: not running Python")
	}
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Fatalf("%s with numpy is needed (OAR_SKIP_EXTERNAL=1 skips this test): %v\n%s", python, err, out)
	}
	m := resumeModel("adam")
	_, err := m.Fit(context.Background(), resumeData(), resumeFit)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "adam")
	require.NoError(t, m.Save(path, paddleFormat))
	require.NoError(t, nn.LoadPaddle(path+".pdparams", resumeModel("adam").Network))

	script := `import sys, numpy as np, make_fixtures as m
p = m.paddle_load(sys.argv[1] + ".pdparams")
o = m.paddle_load(sys.argv[1] + ".pdopt")
names = p.pop("StructuredToParameterName@@")
state = p.pop("OarState@@")
assert all(isinstance(v, str) for v in state.values()) and state["oar.epochs"] == "1", state
assert set(names) == set(p) and all(names[k] == k for k in p), names
assert all(v.dtype == np.float32 for v in p.values()), {k: v.dtype for k, v in p.items()}
o.pop("StructuredToParameterName@@"); o.pop("OarState@@")
lr = o.pop("LR_Scheduler")
assert set(lr) == {"last_epoch", "last_lr"} and isinstance(lr["last_epoch"], int), lr
for k in p:
    for acc in ("moment1", "moment2"):
        a = o.pop(k + "_" + acc + "_0")
        assert a.dtype == np.float32 and a.shape == p[k].shape, (k, acc, a.shape)
    for acc in ("beta1_pow_acc", "beta2_pow_acc"):
        a = o.pop(k + "_" + acc + "_0")
        assert a.dtype == np.float32 and a.shape == (1,), (k, acc)
assert not o, list(o)
print("ok")
`
	cmd := exec.Command(python, "-c", script, path)
	cmd.Dir = filepath.Join("nn", "testdata", "paddle")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "ok", strings.TrimSpace(string(out)))
}
