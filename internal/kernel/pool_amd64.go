//go:build !purego

package kernel

// Assembly in pool_amd64.s; see maxPool2Planes and maxPool2BackPlanes.

//go:noescape
func maxPool2AVX2(y *float32, arg *int32, x *float32, w, outW, rows, lastMasked int)

//go:noescape
func maxPool2BackAVX2(dx, dy *float32, arg *int32, w, outW, rows, lastMasked, assign int)
