package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
)

// TestEpochsAgree runs the example's two readings on a little random data.
func TestEpochsAgree(t *testing.T) {
	ds, name := load(true, 64)
	require.Equal(t, "random images", name)
	slow := data.Map(ds, func(s data.Sample) data.Sample {
		wait(50*time.Microsecond, true)
		return s
	})
	_, sumSync, nb := epoch(&data.Loader{Dataset: slow, BatchSize: 10, Shuffle: true, Seed: 3}, 0)
	_, sumAsync, nb2 := epoch(&data.Loader{Dataset: slow, BatchSize: 10, Shuffle: true, Seed: 3, Workers: 3}, 0)
	require.Equal(t, 7, nb)
	require.Equal(t, nb, nb2)
	require.Equal(t, sumSync, sumAsync)
}
