//go:build !unix

package main

import "time"

// cpuTime is unknown here; it returns 0.
func cpuTime() time.Duration { return 0 }
