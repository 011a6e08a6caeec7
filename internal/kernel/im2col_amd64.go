//go:build !purego

package kernel

// Assembly in im2col_amd64.s; see ConvGeom.walkTaps.

//go:noescape
func im2colTapsAVX2(col *float32, ld int, img *float32, plane, channels int, taps *convTap, ntaps, owBytes, wBytes int)

//go:noescape
func col2imTapsAVX2(col *float32, ld int, img *float32, plane, channels int, taps *convTap, ntaps, owBytes, wBytes int)
