//go:build !purego

package kernel

// Assembly in rows_amd64.s; see copyRows and addRows.

//go:noescape
func copyRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, n int)

//go:noescape
func addRowsAVX2(dst *float32, ldd int, src *float32, lds int, rows, n int)

//go:noescape
func addScalarAVX2(dst, src *float32, s float32, n int)

//go:noescape
func reluAVX2(dst, x *float32, n int)

//go:noescape
func reluBackAVX2(dst, dy, x *float32, n int)

//go:noescape
func reluMaskAVX2(dst, dy, x *float32, n int)
