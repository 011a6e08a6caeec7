//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// peakRSSMiB returns the process's maximum resident set size (getrusage's ru_maxrss, in KiB on
// Linux and bytes on Darwin), as torch_mnist.py reports it.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / 1024
}
