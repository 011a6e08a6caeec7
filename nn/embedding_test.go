package nn_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/tensor/tensortest"
)

func TestEmbedding(t *testing.T) {
	rng := newRNG()
	e := nn.NewEmbedding(5, 3, nn.EmbeddingOptions{Rand: rng})
	require.Equal(t, []int{5, 3}, e.Weight.Shape())
	require.Equal(t, nn.NoPadding, e.PaddingIdx)
	require.Equal(t, []string{"weight"}, normactParamNames(e))
	ids := tensor.New([]float32{4, 0, 4, 2, 1, 3}, 2, 3)
	y := e.Forward(ids)
	require.Equal(t, []int{2, 3, 3}, y.Shape())
	w := e.Weight.Data()
	for i, id := range ids.Data() {
		require.Equal(t, w[int(id)*3:int(id)*3+3], y.Data()[i*3:i*3+3])
	}
	// any shape of ids, including 1-D
	require.Equal(t, []int{4, 3}, e.Forward(tensor.New([]float32{0, 1, 2, 3}, 4)).Shape())
	require.Equal(t, []int{1, 2, 2, 3}, e.Forward(tensor.New([]float32{0, 1, 2, 3}, 1, 2, 2)).Shape())

	// the weight's gradient: ids as constants (GradCheck perturbs only the weight)
	tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return e.Forward(ids) },
		[]*tensor.Tensor{e.Weight}, tensortest.GradCheckOptions{})

	requireLayerPanic(t, "nn: Embedding: tensor: Embedding: id 5 at index 2 is not an integer in [0, 5)",
		func() { e.Forward(tensor.New([]float32{0, 1, 5}, 3)) })
	requireLayerPanic(t, "nn: Embedding: tensor: Embedding: id 1.5 at index 0 is not an integer in [0, 5)",
		func() { e.Forward(tensor.New([]float32{1.5}, 1)) })
	requireLayerPanic(t, "nn: Embedding: ids []: want at least one axis", func() { e.Forward(tensor.Scalar(1)) })
	requireLayerPanic(t, "nn: Embedding: num_embeddings 0 and embedding_dim 3 must be at least 1", func() { nn.NewEmbedding(0, 3) })
	requireLayerPanic(t, "nn: Embedding: padding_idx 5 outside [-5, 5)", func() {
		nn.NewEmbedding(5, 3, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: 5})
	})
	requireLayerPanic(t, "nn: Embedding: padding_idx -6 outside [-5, 5)", func() {
		nn.NewEmbedding(5, 3, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: -6})
	})
	// a bad id is a *tensor.Error inside the *nn.Error
	func() {
		defer func() {
			var te *tensor.Error
			require.True(t, errors.As(recover().(error), &te))
		}()
		e.Forward(tensor.New([]float32{-1}, 1))
	}()
}

func TestEmbeddingPadding(t *testing.T) {
	rng := newRNG()
	for _, c := range []struct{ pad, want int }{{0, 0}, {2, 2}, {-1, 4}, {-5, 0}} {
		e := nn.NewEmbedding(5, 3, nn.EmbeddingOptions{HasPadding: true, PaddingIdx: c.pad, Rand: rng})
		require.Equal(t, c.want, e.PaddingIdx, "padding_idx %d", c.pad)
		p := c.want
		require.Equal(t, []float32{0, 0, 0}, e.Weight.Data()[p*3:p*3+3], "the padding row starts at zero")
		// Paddle's forward: zeros at the padding id even when the row is not zero
		copy(e.Weight.Data()[p*3:p*3+3], []float32{7, 8, 9})
		ids := tensor.New([]float32{float32(p), float32((p + 1) % 5), float32(p), float32((p + 3) % 5)}, 4)
		y := e.Forward(ids)
		require.Equal(t, []float32{0, 0, 0}, y.Data()[0:3])
		require.Equal(t, []float32{0, 0, 0}, y.Data()[6:9])
		require.Equal(t, e.Weight.Data()[((p+1)%5)*3:((p+1)%5)*3+3], y.Data()[3:6])
		// and no gradient to the padding row
		e.Weight.ClearGrad()
		y.BackwardWith(tensor.Ones(4, 3))
		g := e.Weight.Grad().Data()
		require.Equal(t, []float32{0, 0, 0}, g[p*3:p*3+3])
		require.Equal(t, []float32{1, 1, 1}, g[((p+1)%5)*3:((p+1)%5)*3+3])
		tensortest.GradCheck(t, func(xs ...*tensor.Tensor) *tensor.Tensor { return e.Forward(ids) },
			[]*tensor.Tensor{e.Weight}, tensortest.GradCheckOptions{})
	}
	// Sparse is accepted and changes nothing
	a := nn.NewEmbedding(4, 2, nn.EmbeddingOptions{Sparse: true, Rand: newRNG()})
	b := nn.NewEmbedding(4, 2, nn.EmbeddingOptions{Rand: newRNG()})
	ids := tensor.New([]float32{3, 1}, 2)
	require.True(t, a.Sparse)
	tensortest.AllClose(t, a.Forward(ids), b.Forward(ids), 0, 0)
}

func TestEmbeddingTorch(t *testing.T) {
	for _, c := range readNormactFixtures(t, "embedding") {
		opt := nn.EmbeddingOptions{}
		if p, ok := c.Args["padding_idx"].(float64); ok {
			opt.HasPadding, opt.PaddingIdx = true, int(p)
		}
		e := nn.NewEmbedding(c.ints("num_embeddings")[0], c.ints("embedding_dim")[0], opt)
		checkNormactFixture(t, c, e, setNormactParams(t, c, e.Weight, nil))
	}
}
