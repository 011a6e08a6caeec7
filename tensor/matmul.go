package tensor

import (
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// MatMul returns the matrix product t·u, as paddle.matmul: the last two axes are matrices
// ([..., M, K] · [..., K, N] → [..., M, N]) and the leading (batch) axes broadcast. A 1-D t is a
// row vector and a 1-D u a column vector; their added axis is removed from the result.
// It panics if either is a scalar, the inner dimensions differ, or the batch axes do not
// broadcast; the message gives both shapes: "tensor: MatMul: shape mismatch [32 784] x [100 10]".
func (t *Tensor) MatMul(u *Tensor) *Tensor {
	if len(t.shape) == 0 || len(u.shape) == 0 {
		panicf("MatMul", "shape mismatch %v x %v: scalars are not matrices", t.shape, u.shape)
	}
	a, b := t, u
	if len(a.shape) == 1 {
		a = a.Reshape(1, a.shape[0])
	}
	if len(b.shape) == 1 {
		b = b.Reshape(b.shape[0], 1)
	}
	if a.shape[len(a.shape)-1] != b.shape[len(b.shape)-2] {
		panicf("MatMul", "shape mismatch %v x %v", t.shape, u.shape)
	}
	out := matmul(a, b, t.shape, u.shape)
	if len(t.shape) == 1 {
		out = out.Squeeze(-2)
	}
	if len(u.shape) == 1 {
		out = out.Squeeze(-1)
	}
	return out
}

// matmul multiplies a [..., M, K] by b [..., K, N]; ta and tb are the caller's shapes for messages.
func matmul(a, b *Tensor, ta, tb []int) *Tensor {
	ra, rb := len(a.shape), len(b.shape)
	if ra == 2 && rb == 2 {
		return matmul2(a, b)
	}
	m, k, n := a.shape[ra-2], a.shape[ra-1], b.shape[rb-1]
	batch, ok := broadcast(a.shape[:ra-2], b.shape[:rb-2])
	if !ok {
		panicf("MatMul", "shape mismatch %v x %v: batch axes do not broadcast", ta, tb)
	}
	nb := numel("MatMul", batch)
	aShape := append(slices.Clone(batch), m, k)
	bShape := append(slices.Clone(batch), k, n)
	ad, bd := expand(a.data, a.shape, aShape), expand(b.data, b.shape, bShape)
	shape := append(slices.Clone(batch), m, n)
	out := newTensor(make([]float32, nb*m*n), shape)
	batchedGemm(false, false, nb, m, n, k, ad, bd, 0, out.data)
	return out.record("MatMul", func(g []float32, gin [][]float32) {
		if gin[0] != nil { // dA = g · Bᵀ
			dst := gin[0]
			if len(ad) != len(a.data) {
				dst = make([]float32, len(ad))
			}
			batchedGemm(false, true, nb, m, k, n, g, bd, 0, dst)
			if len(ad) != len(a.data) {
				reduceTo(gin[0], dst, a.shape, aShape)
			}
		}
		if gin[1] != nil { // dB = Aᵀ · g
			dst := gin[1]
			if len(bd) != len(b.data) {
				dst = make([]float32, len(bd))
			}
			batchedGemm(true, false, nb, k, n, m, ad, g, 0, dst)
			if len(bd) != len(b.data) {
				reduceTo(gin[1], dst, b.shape, bShape)
			}
		}
	}, a, b)
}

// batchedGemm computes c[i] = op(a[i])·op(b[i]) + beta*c[i] for nb contiguous row-major matrices,
// op(a) m×k and op(b) k×n. One product uses the parallel Gemm; many run one per goroutine.
func batchedGemm(transA, transB bool, nb, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	if nb == 1 {
		kernel.Gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
		return
	}
	kernel.ParallelFor(nb, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			kernel.GemmSerial(transA, transB, m, n, k, 1, a[i*m*k:(i+1)*m*k], lda, b[i*k*n:(i+1)*k*n], ldb,
				beta, c[i*m*n:(i+1)*m*n], n)
		}
	})
}

// matmul2 is matmul for two matrices: [M, K] · [K, N].
func matmul2(a, b *Tensor) *Tensor {
	m, k, n := a.shape[0], a.shape[1], b.shape[1]
	out := newTensor(make([]float32, m*n), []int{m, n})
	kernel.Gemm(false, false, m, n, k, 1, a.data, k, b.data, n, 0, out.data, n)
	return out.record("MatMul", func(g []float32, gin [][]float32) {
		if gin[0] != nil { // dA = g · Bᵀ
			kernel.Gemm(false, true, m, k, n, 1, g, n, b.data, n, 0, gin[0], k)
		}
		if gin[1] != nil { // dB = Aᵀ · g
			kernel.Gemm(true, false, k, n, m, 1, a.data, k, g, n, 0, gin[1], n)
		}
	}, a, b)
}
