package oar

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProgressBarText checks lines for fixed values and times against the text Paddle's
// ProgressBar.update prints for them (worked through its format strings by hand).
func TestProgressBarText(t *testing.T) {
	start := time.Unix(0, 0)
	logs := Logs{Names: []string{"loss", "acc"}, Values: []float64{0.0519, 0.9344}}
	cases := []struct {
		name    string
		verbose int
		dynamic bool
		current int
		elapsed time.Duration
		logs    Logs
		want    string
	}{
		{"done", 1, false, 938, 938 * 14 * time.Millisecond, logs,
			"step 938/938 [==============================] - loss: 0.0519 - acc: 0.9344 - 14ms/step\n"},
		{"in progress", 1, false, 100, 100 * 14 * time.Millisecond, logs,
			"step 100/938 [==>...........................] - loss: 0.0519 - acc: 0.9344 - ETA: 11s - 14ms/step\n"},
		{"small loss, eval", 1, false, 157, 157 * 6 * time.Millisecond,
			Logs{Names: []string{"loss", "acc"}, Values: []float64{1.7577e-04, 0.9844}},
			"step 157/157 [==============================] - loss: 1.7577e-04 - acc: 0.9844 - 6ms/step\n"},
		{"terminal redraw", 1, true, 100, 100 * 14 * time.Millisecond, logs,
			"\rstep 100/938 [==>...........................] - loss: 0.0519 - acc: 0.9344 - ETA: 11s - 14ms/step"},
		{"long ETA", 1, false, 10, 10 * 2 * time.Second, logs,
			"step  10/938 [..............................] - loss: 0.0519 - acc: 0.9344 - ETA: 30:56 - 2s/step\n"},
		{"hours ETA", 1, false, 1, 5 * time.Second, logs,
			"step   1/938 [..............................] - loss: 0.0519 - acc: 0.9344 - ETA: 1:18:05 - 5s/step\n"},
		{"verbose 2", 2, false, 10, 10 * 5 * time.Millisecond, logs,
			"step  10/938 - loss: 0.0519 - acc: 0.9344 - 5ms/step\n"},
		{"microseconds", 2, false, 10, 10 * 50 * time.Microsecond, logs,
			"step  10/938 - loss: 0.0519 - acc: 0.9344 - 50us/step\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			num := 938
			if c.current == 157 {
				num = 157
			}
			b := &progressBar{w: &buf, num: num, width: 30, verbose: c.verbose, dynamic: c.dynamic, start: start,
				now: func() time.Time { return start.Add(c.elapsed) }}
			b.update(c.current, c.logs)
			require.Equal(t, c.want, buf.String())
		})
	}
}
