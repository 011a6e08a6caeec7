//go:build !race

package oar

// raceEnabled reports whether the tests run under the race detector, which slows the kill test's
// child processes several times over.
const raceEnabled = false
