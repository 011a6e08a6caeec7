package oar_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
	"github.com/oarlab/oar/vision/models"
)

// TestSaveInference is Paddle's model.save(path, training=False): an ONNX file that onnx.Load
// runs to the same outputs, its input shape from Model.InputShape or from the first batch.
func TestSaveInference(t *testing.T) {
	oar.Seed(3)
	net := models.LeNet(10)
	m := oar.NewModel(net)
	m.Prepare(optim.NewAdam(m.Params(), 1e-3), losses.NewCrossEntropy())
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))

	err := m.Save(filepath.Join(dir, "none"), oar.SaveOptions{Inference: true})
	require.ErrorContains(t, err, "input shape is unknown")

	x := tensor.Uniform(rng, -1, 1, 3, 1, 28, 28)
	m.TrainBatch(x, tensor.New([]float32{1, 2, 3}, 3))
	path := filepath.Join(dir, "sub", "lenet")
	require.NoError(t, m.Save(path, oar.SaveOptions{Inference: true}))
	_, err = os.Stat(path + ".safetensors")
	require.True(t, os.IsNotExist(err), "an inference save writes no checkpoint")

	g, err := onnx.Load(path + ".onnx")
	require.NoError(t, err)
	nn.Eval(net)
	x5 := tensor.Uniform(rng, -1, 1, 5, 1, 28, 28).NoGrad() // the batch is dynamic
	tensortest.AllClose(t, g.Forward(x5), net.Forward(x5), 1e-5, 1e-5)

	m.InputShape = []int{2, 1, 28, 28}
	require.NoError(t, m.Save(path, oar.SaveOptions{Inference: true, Opset: 17}))
	_, err = onnx.Load(path + ".onnx")
	require.NoError(t, err)
	require.Error(t, m.Save(path, oar.SaveOptions{Inference: true, Opset: 12}))
}
