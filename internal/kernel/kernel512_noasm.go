//go:build purego || !amd64

package kernel

// Stubs of the hand-written AVX-512 wrappers of convdw512_amd64.go, which
// portable code names; without assembly they are never called.

func convDWTileAVX512(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg, rows int, sums *[24]float32) {
	panic("kernel: no assembly")
}
