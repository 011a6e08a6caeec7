//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly in vec_amd64.s; the FMA check covers Dot.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Assembly kernels; each has the contract of its pure-Go namesake in vec.go,
// on n elements from the given pointers.

//go:noescape
func addAVX2(dst, a, b *float32, n int)

//go:noescape
func subAVX2(dst, a, b *float32, n int)

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

//go:noescape
func divAVX2(dst, a, b *float32, n int)

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func scaleAVX2(alpha float32, x *float32, n int)

//go:noescape
func sumAVX2(x *float32, n int) float64

//go:noescape
func dotAVX2(x, y *float32, n int) float64
