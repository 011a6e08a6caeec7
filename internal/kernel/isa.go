package kernel

import (
	"fmt"
	"os"
)

// An isa is an instruction-set level the kernels may use; each level
// includes the ones below it.
type isa int

const (
	isaGeneric isa = iota // pure Go
	isaAVX2               // AVX2 and FMA (ymm, 8 lanes)
	isaAVX512             // AVX-512F (zmm, 16 lanes)
)

var isaNames = [...]string{isaGeneric: "generic", isaAVX2: "avx2", isaAVX512: "avx512"}

// maxISA caps the instruction set the kernels use, from the environment
// variable OAR_MAX_CPU_ISA (generic, avx2 or avx512; unset: no cap), read
// once at start-up, as oneDNN reads ONEDNN_MAX_CPU_ISA. It lets a user rule
// out the AVX-512 kernels (whose dot-product kernels round differently from
// the AVX2 ones) or all assembly, and lets benchmarks compare the paths in
// one binary. An unknown value panics at start-up, naming the variable.
var maxISA = parseMaxISA(os.Getenv("OAR_MAX_CPU_ISA"))

func parseMaxISA(s string) isa {
	if s == "" {
		return isaAVX512
	}
	for l, name := range isaNames {
		if s == name {
			return isa(l)
		}
	}
	panic(fmt.Sprintf("kernel: OAR_MAX_CPU_ISA=%q: want generic, avx2 or avx512", s))
}

// ISA names the instruction set the kernels use on this machine and build:
// "avx512", "avx2" or "generic" (pure Go: other CPUs and architectures, the
// purego build tag, or OAR_MAX_CPU_ISA=generic).
func ISA() string {
	switch {
	case useAVX512:
		return isaNames[isaAVX512]
	case useAVX2:
		return isaNames[isaAVX2]
	}
	return isaNames[isaGeneric]
}
