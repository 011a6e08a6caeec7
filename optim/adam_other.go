//go:build purego || !amd64

package optim

// adamVector does nothing without assembly: adamUpdate's Go loop does all the elements.
func adamVector(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) int {
	return 0
}
