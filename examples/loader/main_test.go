package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/examples/internal/tutorial"
	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
)

func smallConfig(t *testing.T) config {
	return config{samples: 10, batch: 10, epochs: 3, logEvery: 2, workers: 3, n: 40, lr: 0.001,
		delay: 20 * time.Microsecond, step: 0, jsonPath: tutorialtest.JSONFile(t, 45), out: t.TempDir(), seed: 1}
}

// TestRun runs the example at small settings and checks section 2's lines and the saved file.
func TestRun(t *testing.T) {
	c := smallConfig(t)
	var out strings.Builder
	require.NoError(t, run(context.Background(), &out, c))
	item := `\(image \[784\] \[0\.\d+ 0\.\d+ 0\.\d+ \.\.\. 0\.\d+ 0\.\d+ 0\.\d+\], label \[1\] \[[0-8]\]\)`
	want := []string{`RandomDataset\(10\):`}
	for i := range 10 {
		want = append(want, fmt.Sprint(i)+" "+item)
	}
	want = append(want,
		`mnist dataset load done`,
		`MnistDataset\(mode='train'\): 45 samples; DataLoader\(batch_size=10, shuffle=True\):`,
		`0 \[10 784\] \[10\]`,
		`1 \[10 784\] \[10\]`,
		`2 \[10 784\] \[10\]`,
		`training from the DataLoader, asynchronous reading \(Workers 3\):`,
		`epoch: 0, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 2, loss is: \[[0-9.e+-]+\]`,
		`epoch: 0, batch: 4, loss is: \[[0-9.e+-]+\]`,
		`epoch: 1, batch: 0, loss is: \[[0-9.e+-]+\]`,
		`epoch: 2, batch: 4, loss is: \[[0-9.e+-]+\]`,
		`saved .*mnist_loader.safetensors`,
		`the result equals the synchronous one \(the same training with Workers 0\): true, every printed loss and every parameter bit for bit`,
		`timing one epoch of 40 items in batches of 10; the transform waits 20µs per item; a training step takes 0s`,
		`synchronous  \(Workers 0\): 4 batches in .*`,
		`prefetching  \(Workers 3, Prefetch 6\): 4 batches in .*`,
		`speed-up: [0-9.]+x on \d+ CPUs; same batches in the same order: true`,
	)
	tutorialtest.RequireLines(t, out.String(), want...)
	require.FileExists(t, filepath.Join(c.out, "mnist_loader.safetensors"))
}

// TestSyncEqualsAsync is the tutorial's remark: training from the asynchronous DataLoader gives
// the synchronous result, every logged loss and every parameter.
func TestSyncEqualsAsync(t *testing.T) {
	c := smallConfig(t)
	c.logEvery = 1
	splits, err := tutorial.ReadData(&strings.Builder{}, c.jsonPath)
	require.NoError(t, err)
	train := &MnistDataset{Split: splits[0]}
	var out strings.Builder
	syncNet, syncLosses, err := trainRegression(context.Background(), &out,
		&data.Loader{Dataset: train, BatchSize: 10, Shuffle: true, Seed: 3}, c)
	require.NoError(t, err)
	asyncNet, asyncLosses, err := trainRegression(context.Background(), &out,
		&data.Loader{Dataset: train, BatchSize: 10, Shuffle: true, Seed: 3, Workers: 3, Prefetch: 1}, c)
	require.NoError(t, err)
	require.Len(t, syncLosses, 3*5)
	require.Equal(t, syncLosses, asyncLosses)
	for i, p := range syncNet.Params() {
		require.Equal(t, p.Data(), asyncNet.Params()[i].Data(), p.Name)
	}
	require.True(t, sameParams(syncNet, asyncNet))
	asyncNet.Params()[0].Data()[0]++
	require.False(t, sameParams(syncNet, asyncNet))
}

// TestDatasets checks the tutorial's two data sets: the RandomDataset's items are reproducible
// and in range, and MnistDataset's labels are numbers, batched as [B].
func TestDatasets(t *testing.T) {
	r := &RandomDataset{NumSamples: 50, Seed: 1}
	seen := map[float32]bool{}
	for i := range r.Len() {
		s := r.Get(i)
		require.Equal(t, s[0].Data(), r.Get(i)[0].Data())
		for _, v := range s[0].Data() {
			require.True(t, v >= 0 && v < 1)
		}
		seen[s[1].Item()] = true
	}
	require.NotContains(t, seen, float32(9), "np.random.randint(0, 9) excludes 9")
	splits, err := tutorial.ReadData(&strings.Builder{}, tutorialtest.JSONFile(t, 12))
	require.NoError(t, err)
	m := &MnistDataset{Split: splits[0]}
	s := m.Get(7)
	require.Equal(t, []int{784}, s[0].Shape())
	require.Empty(t, s[1].Shape())
	require.Equal(t, float32(7), s[1].Item())
	b := m.GetBatch([]int{3, 7})
	require.Equal(t, data.DefaultCollate([]data.Sample{m.Get(3), m.Get(7)}), b, "GetBatch is what DefaultCollate gives")
	require.Equal(t, []int{2}, b[1].Shape())
}
