package tutorial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/vision/datasets"
)

// tinySplits decodes tinyJSON(n).
func tinySplits(t *testing.T, n int) [3]*datasets.JSONSplit {
	splits, err := datasets.ReadMNISTJSON(strings.NewReader(tutorialtest.JSON(n)))
	require.NoError(t, err)
	return splits
}

func TestReport(t *testing.T) {
	var w strings.Builder
	require.Equal(t, 0, report(&w, "linear", nil))
	require.Equal(t, "", w.String())
	require.Equal(t, 130, report(&w, "linear", fmt.Errorf("training: %w", context.Canceled)))
	require.Equal(t, "linear: interrupted\n", w.String())
	w.Reset()
	require.Equal(t, 1, report(&w, "mlp", errors.New("boom")))
	require.Equal(t, "mlp: boom\n", w.String())
}

func TestJSONFile(t *testing.T) {
	path, err := JSONFile(io.Discard, "given.json.gz", "")
	require.NoError(t, err)
	require.Equal(t, "given.json.gz", path)

	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	cached := filepath.Join(home, "mnist", "mnist.json.gz")
	require.NoError(t, os.MkdirAll(filepath.Dir(cached), 0o755))
	require.NoError(t, os.WriteFile(cached, nil, 0o644))
	path, err = JSONFile(io.Discard, "", "")
	require.NoError(t, err)
	require.Equal(t, cached, path, "the cached file is used as it is")
}

func TestReadData(t *testing.T) {
	splits, err := ReadData(io.Discard, tutorialtest.JSONFile(t, 7))
	require.NoError(t, err)
	for _, s := range splits {
		require.Equal(t, 7, s.Len())
	}
	_, err = ReadData(io.Discard, filepath.Join(t.TempDir(), "absent.json.gz"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadData(t *testing.T) {
	splits := tinySplits(t, 25)
	_, err := LoadData(io.Discard, splits, "test", 10, 1)
	require.Error(t, err)

	train, err := LoadData(io.Discard, splits, "train", 10, 1)
	require.NoError(t, err)
	var orders [][]int
	for range 2 {
		var order, sizes []int
		for images, labels := range train() {
			require.Equal(t, []int{images.Dim(0), 784}, images.Shape())
			require.Equal(t, []int{images.Dim(0)}, labels.Shape())
			sizes = append(sizes, images.Dim(0))
			for i := range images.Dim(0) {
				order = append(order, int(images.At(i, 0)*100+0.5))
				require.Equal(t, float32(order[len(order)-1]%10), labels.At(i))
			}
		}
		require.Equal(t, []int{10, 10, 5}, sizes)
		orders = append(orders, order)
	}
	require.NotEqual(t, orders[0], orders[1], "each pass is shuffled anew")
	for _, o := range orders {
		sorted := slices.Sorted(slices.Values(o))
		require.Equal(t, 25, len(slices.Compact(sorted)), "each pass visits every item once")
	}

	eval, err := LoadData(io.Discard, splits, "eval", 10, 1)
	require.NoError(t, err)
	first := -1
	for images := range eval() {
		first = int(images.At(0, 0)*100 + 0.5)
		break
	}
	require.Equal(t, 0, first, "eval is not shuffled")
}

func TestNearestDigit(t *testing.T) {
	for v, want := range map[float32]int{-3: 0, 0.49: 0, 0.5: 1, 6.6: 7, 12: 9} {
		require.Equal(t, want, nearestDigit(v), "%v", v)
	}
}

func TestRunRegression(t *testing.T) {
	newNet := func() nn.Layer { return nn.NewSequentialNamed(nn.Named{Name: "fc", Layer: nn.NewLinear(784, 1)}) }
	c := Regression{Epochs: 2, Batch: 10, LogEvery: 1, Index: 24, LR: 0.001, JSONPath: tutorialtest.JSONFile(t, 25), Out: t.TempDir(), Seed: 1}
	require.NoError(t, RunRegression(context.Background(), io.Discard, "test", newNet, c))
	require.FileExists(t, filepath.Join(c.Out, "mnist_test.safetensors"))

	c.Index = 25
	require.ErrorContains(t, RunRegression(context.Background(), io.Discard, "test", newNet, c), "-index 25 outside the eval split [0, 25)")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, RunRegression(ctx, io.Discard, "test", newNet, c), context.Canceled)
}
