package metrics_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/metrics"
	"github.com/oarlab/oar/tensor"
)

func TestAccuracyTopK(t *testing.T) {
	pred := tensor.FromRows([][]float32{
		{0.1, 0.7, 0.2}, // ranks 1, 2, 0
		{0.5, 0.1, 0.4}, // ranks 0, 2, 1
		{0.3, 0.3, 0.4}, // ranks 2, 0, 1 (tie: lower id first)
		{0.9, 0.05, 0.05},
	})
	label := tensor.New([]float32{1, 2, 1, 2}, 4, 1)
	m := metrics.NewAccuracy(1, 2)
	require.Equal(t, []string{"acc_top1", "acc_top2"}, m.Name())
	mask := m.Compute(pred, label)
	require.Equal(t, []float32{1, 0, 0, 1, 0, 0, 0, 0}, mask.Data())
	require.Equal(t, []float64{0.25, 0.5}, m.Update(mask))
	// a second batch: accumulate averages over all samples
	require.Equal(t, []float64{1, 1}, m.Update(m.Compute(tensor.FromRows([][]float32{{0, 1, 0}}), tensor.New([]float32{1}, 1))))
	require.Equal(t, []float64{0.4, 0.6}, m.Accumulate())
	m.Reset()
	require.Equal(t, []float64{0, 0}, m.Accumulate())
	require.Equal(t, []string{"acc"}, metrics.NewAccuracy().Name())

	require.Equal(t, float32(0.25), metrics.TopKAccuracy(pred, label, 1).Item())
	require.Equal(t, float32(0.5), metrics.TopKAccuracy(pred, tensor.New([]float32{1, 2, 1, 2}, 4), 2).Item())

	require.PanicsWithError(t, "tensor: Accuracy: id 3 at index 1 is not an integer in [0, 3)", func() {
		m.Compute(pred, tensor.New([]float32{1, 3, 0, 0}, 4))
	})
	require.PanicsWithError(t, "tensor: TopKAccuracy: id -1 at index 2 is not an integer in [0, 3)", func() {
		metrics.TopKAccuracy(pred, tensor.New([]float32{1, 2, -1, 0}, 4, 1), 1)
	})
	require.PanicsWithError(t, "metrics: TopKAccuracy: k 0 < 1", func() { metrics.TopKAccuracy(pred, label, 0) })
	require.PanicsWithError(t, "metrics: Accuracy: label shape [3], want [4] or [4 1]", func() {
		m.Compute(pred, tensor.New([]float32{1, 2, 0}, 3))
	})
	require.PanicsWithError(t, "metrics: Accuracy: prediction shape [4 3], want [N, C] with C >= 5", func() {
		metrics.NewAccuracy(5).Compute(pred, label)
	})
}

func TestPrecisionRecall(t *testing.T) {
	pred := tensor.New([]float32{0.9, 0.5, 0.2, 0.7, 0.4, 0.5}, 6)
	label := tensor.New([]float32{1, 0, 1, 1, 0, 1}, 6)
	p := metrics.NewPrecision()
	// floor(p+0.5): predicted positive are 0.9, 0.5, 0.7, 0.5 → tp 3 (0.9, 0.7, last 0.5), fp 1
	require.Equal(t, []float64{0.75}, p.Update(p.Compute(pred, label)))
	r := metrics.NewRecall()
	// rint: 0.5 rounds to 0, so positives 0.9, 0.2, 0.7, 0.5 → tp 2, fn 2
	require.Equal(t, []float64{0.5}, r.Update(r.Compute(pred, label)))
	require.Equal(t, []float64{0.5}, r.Accumulate())
	p.Reset()
	require.Equal(t, []float64{0}, p.Accumulate())
	require.PanicsWithError(t, "metrics: Precision: label 2 at index 0 is not 0 or 1", func() {
		p.Compute(tensor.New([]float32{1}, 1), tensor.New([]float32{2}, 1))
	})
}
