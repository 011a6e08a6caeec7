//go:build !unix

package main

// peakRSSMiB is unknown here; it returns 0.
func peakRSSMiB() float64 { return 0 }
