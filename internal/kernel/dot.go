package kernel

// GemmNT computes C = A·Bᵀ + beta·C for an m×k A and an n×k B, both
// row-major with their rows along k (lda, ldb >= k), and an m×n C (ldc >=
// n). It is meant for small m and n and a long k, such as a weight gradient
// summed over many positions: neither operand is packed, and each element
// of C is one dot product, accumulated in 8 lanes over the 8-aligned part
// of k, reduced in a fixed order, plus the rest term by term; with AVX-512,
// in 16 lanes over all of k (the last, partial vector masked), reduced in a
// fixed order, so the two round differently. beta == 0 does not read C. It
// runs on the calling goroutine. It panics on negative sizes, strides
// smaller than the rows, or slices too short.
func GemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernel: GemmNT: negative dimension")
	}
	checkMat("a", m, k, a, lda)
	checkMat("b", n, k, b, ldb)
	checkMat("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if !useAVX2 || k == 0 {
		gemmNTGo(m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// B's rows are visited once each, A's many times: A should be the
	// smaller operand, so that it stays in cache.
	if useAVX512 {
		// Tiles of up to 4×6, as even as the sizes allow (25 columns: five
		// of 5, not four of 6 and a slow one of 1); an element's sum is the
		// same whichever tile computes it.
		mt, nt := (m+3)/4, (n+5)/6
		for jt := range nt {
			j0, j1 := jt*n/nt, (jt+1)*n/nt
			for it := range mt {
				i0, i1 := it*m/mt, (it+1)*m/mt
				dot512Tiles[i1-i0-1][j1-j0-1](k, &a[i0*lda], lda, &b[j0*ldb], ldb, &c[i0*ldc+j0], ldc, beta)
			}
		}
		return
	}
	for j := 0; j < n; j += 4 {
		cols := min(4, n-j)
		for i := 0; i < m; i += 3 {
			r := min(3, m-i)
			dotTiles[r-1][cols-1](k, &a[i*lda], lda, &b[j*ldb], ldb, &c[i*ldc+j], ldc, beta)
		}
	}
}

// gemmNTGo is GemmNT without assembly, summing in the same grouping (8
// lanes, the same reduction tree, then the tail); without fused
// multiply-adds its roundings differ slightly from the assembly's.
func gemmNTGo(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k8 := k / 8 * 8
	for i := range m {
		ar := a[i*lda : i*lda+k]
		for j := range n {
			br := b[j*ldb : j*ldb+k]
			var l [8]float32
			for p := 0; p < k8; p += 8 {
				for q := range l {
					l[q] += ar[p+q] * br[p+q]
				}
			}
			s := ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
			for p := k8; p < k; p++ {
				s += ar[p] * br[p]
			}
			if beta != 0 {
				s += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = s
		}
	}
}
