package main

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/examples/internal/tutorial/tutorialtest"
)

func TestSentiment(t *testing.T) {
	for _, c := range []struct {
		ids  []int
		want int
	}{
		{[]int{1, 10, 5, 5}, -1},       // good the bad bad
		{[]int{notID, 1, 6}, -2},       // not good dull
		{[]int{notID, 10, 1}, 1},       // not the good: "not" flips only the next word
		{[]int{notID, notID, 7, 2}, 2}, // not not awful great: the second "not" flips awful
		{[]int{11, 12, 13}, 0},
	} {
		require.Equal(t, c.want, sentiment(c.ids), words(c.ids))
	}
}

// TestRun trains the LSTM briefly (1,000 sentences, 3 epochs) and checks the printed steps and
// that it learns: the full run reaches 0.98; this short one must pass 0.8, well above the 0.5 of
// guessing and the about 0.8 of counting words.
func TestRun(t *testing.T) {
	var out strings.Builder
	acc, err := run(context.Background(), &out, config{model: "lstm", train: 1000, test: 300, epochs: 3, batch: 32, lr: 0.01, seed: 1})
	require.NoError(t, err)
	tutorialtest.RequireLines(t, out.String(),
		`train sentences: 1000 \(\d+ positive\), test sentences: 300`,
		`  ".*": (positive|negative)`,
		`  embed\.weight +\[16 32\]`,
		`  lstm\.weight_ih_l0 +\[256 32\]`,
		`  fc\.bias +\[2\]`,
		`lstm: 25730 parameters`,
		`  ".*": predicted (positive|negative), true (positive|negative)`,
		`time: .*s`,
		`test accuracy: 0\.\d{4}`,
	)
	require.Greater(t, acc, 0.8, out.String())
}

// TestTransformerRuns runs the Transformer variant for one short epoch: it must train without
// error and print its parameters.
func TestTransformerRuns(t *testing.T) {
	var out strings.Builder
	_, err := run(context.Background(), &out, config{model: "transformer", train: 200, test: 50, epochs: 1, batch: 32, lr: 0.005, seed: 1})
	require.NoError(t, err)
	require.Contains(t, out.String(), "encoder.layers.1.self_attn.q_proj.weight")
}

// TestCountingIsNotEnough measures the rule that ignores order (the sign of #positive -
// #negative words, "not" ignored) on the generated data: the doc comment's "about 80%", the bar
// that a sequence model must clear.
func TestCountingIsNotEnough(t *testing.T) {
	_, labels, raw := sentences(4000, rand.New(rand.NewPCG(1, 0x73657173)))
	right := 0
	for i, s := range raw {
		n := 0
		for _, id := range s {
			if id >= 1 && id <= 4 {
				n++
			} else if id >= 5 && id <= 8 {
				n--
			}
		}
		if (n > 0) == (labels.Data()[i] == 1) {
			right++
		}
	}
	acc := float64(right) / float64(len(raw))
	t.Logf("counting words: %.4f", acc)
	require.InDelta(t, 0.8, acc, 0.05)
}
