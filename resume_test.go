package oar_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
)

// resumeModel builds one of the runs the resume test compares: "sgd" is the tutorial CNN with
// SGD 0.01, fused (nn.Fuse); "adam" adds Dropout and uses Adam under a StepDecay schedule stepped every batch.
func resumeModel(variant string) *oar.Model {
	oar.Seed(11)
	layers := []nn.Layer{
		nn.NewConv2D(1, 20, 5, nn.Conv2DOptions{Padding: []int{2}}), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(20, 20, 5, nn.Conv2DOptions{Padding: []int{2}}), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewFlatten(),
	}
	if variant == "adam" {
		layers = append(layers, nn.NewDropout(0.3))
	}
	net := nn.NewSequential(append(layers, nn.NewLinear(980, 10))...)
	nn.Fuse(net)
	m := oar.NewModel(net)
	var opt optim.Optimizer = optim.NewSGD(m.Params(), 0.01)
	if variant == "adam" {
		adam := optim.NewAdam(m.Params(), 0.002)
		adam.Scheduler = optim.NewStepDecay(0.002, 3, 0.5)
		opt = adam
	}
	m.Prepare(opt, losses.NewCrossEntropy(), metrics.NewAccuracy())
	return m
}

func resumeData() data.Dataset {
	x, y := bars(rand.New(rand.NewPCG(7, 8)), 120)
	return data.NewTensorDataset(x, y)
}

var resumeFit = oar.FitOptions{Epochs: 1, BatchSize: 30, Seed: 5, Workers: 2}

// TestResumeIsExact trains 2 epochs straight, and separately 1 epoch, saves, loads the checkpoint
// into a model in a fresh process, trains 1 more epoch there: the final parameters must be
// bitwise equal. Optimizer moments and steps, the LR schedule, the Dropout generator and the
// data order all have to resume.
func TestResumeIsExact(t *testing.T) {
	for _, variant := range []string{"sgd", "adam"} {
		t.Run(variant, func(t *testing.T) {
			straight := resumeModel(variant)
			fit := resumeFit
			fit.Epochs = 2
			_, err := straight.Fit(context.Background(), resumeData(), fit)
			require.NoError(t, err)

			dir := t.TempDir()
			first := resumeModel(variant)
			_, err = first.Fit(context.Background(), resumeData(), resumeFit)
			require.NoError(t, err)
			require.NoError(t, first.Save(filepath.Join(dir, "epoch1")))

			cmd := exec.Command(os.Args[0], "-test.run=^TestResumeChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "OAR_RESUME_DIR="+dir, "OAR_RESUME_VARIANT="+variant)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child: %s", out)

			resumed := resumeModel(variant)
			require.NoError(t, resumed.Load(filepath.Join(dir, "epoch2")))
			require.Equal(t, 2, resumed.Epochs())
			for i, p := range nn.StateDict(straight.Network) {
				require.Equal(t, p.Data(), nn.StateDict(resumed.Network)[i].Data(), "%s differs", p.Name)
			}
			if variant == "adam" {
				require.Equal(t, straight.Optimizer().LR(), resumed.Optimizer().LR())
			}
		})
	}
}

// TestResumeChild is the fresh process of TestResumeIsExact; it does nothing on its own.
func TestResumeChild(t *testing.T) {
	dir := os.Getenv("OAR_RESUME_DIR")
	if dir == "" {
		t.Skip("run by TestResumeIsExact")
	}
	m := resumeModel(os.Getenv("OAR_RESUME_VARIANT"))
	require.NoError(t, m.Load(filepath.Join(dir, "epoch1")))
	require.Equal(t, 1, m.Epochs())
	_, err := m.Fit(context.Background(), resumeData(), resumeFit)
	require.NoError(t, err)
	require.NoError(t, m.Save(filepath.Join(dir, "epoch2")))
}
