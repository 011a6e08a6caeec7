package kernel

// AdamVector runs the Adam (and AdamW) update of adamRef on the first
// len(p)/8*8 elements of p, m and v with AVX, and returns how many it did:
// 0 without AVX, with the purego tag or on other platforms. The caller runs
// its element loop, with the same operations in the same order, on the
// rest: the results are bitwise those of that loop over all elements.
//
// For each element, with g scaled by s and, when clip is set, clamped to
// [lo, hi]:
//
//	p -= decay*p        (AdamW's decoupled decay; 0 for Adam)
//	g += wd*p           (Adam's coupled weight decay)
//	m = b1*m + c1*g
//	v = b2*v + c2*g*g
//	p -= stepSize*m / (sqrt(v)*invSqrtBC2 + eps)
//
// g, m and v must be at least as long as p.
func AdamVector(p, g, m, v []float32, b1, b2, c1, c2, eps, wd, decay, stepSize, invSqrtBC2, s, lo, hi float32, clip bool) int {
	n := len(p) / 8 * 8
	if !useAVX || n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	k := adamConsts{b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, wd: wd, decay: decay, stepSize: stepSize,
		invSqrtBC2: invSqrtBC2, s: s, lo: lo, hi: hi}
	if clip {
		k.clip = 1
	}
	adamAVX(&p[0], &g[0], &m[0], &v[0], n, &k)
	return n
}
