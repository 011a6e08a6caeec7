//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly (declared in the generated *_asm_amd64.go
// files) over the pure-Go loops; the FMA check covers Dot and the matrix
// kernels.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && maxISA >= isaAVX2

// useAVX512 selects the AVX-512 kernels over the AVX2 ones where both
// exist (x/sys/cpu checks that the OS saves the zmm registers).
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F && maxISA >= isaAVX512

// useAVX selects the assembly of AdamVector, which needs AVX only.
var useAVX = cpu.X86.HasAVX && maxISA >= isaAVX2
