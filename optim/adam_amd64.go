//go:build !purego

package optim

import "golang.org/x/sys/cpu"

// adamConsts are adamAVX's scalar operands, in the order the assembly reads them.
type adamConsts struct {
	b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, lo, hi float32
	clip                                                            int32
}

// adamAVX is adamUpdate's loop over n (a multiple of 8) elements, in adam_amd64.s.
//
//go:noescape
func adamAVX(p, grad, m, v *float32, n int, k *adamConsts)

var useAVX = cpu.X86.HasAVX

// adamVector runs the first len(p)/8*8 elements of adamUpdate with AVX and returns how many it did.
func adamVector(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s float32, b bounds) int {
	n := len(p) / 8 * 8
	if !useAVX || n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	k := adamConsts{b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, wd: wd, decay: decay, stepSize: stepSize,
		invSqrtBC2: invSqrtBC2, s: s, lo: b.lo, hi: b.hi}
	if b.on {
		k.clip = 1
	}
	adamAVX(&p[0], &g[0], &m[0], &v[0], n, &k)
	return n
}
