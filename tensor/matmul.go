package tensor

import (
	"slices"

	"github.com/oarlab/oar/internal/kernel"
)

// MatMulOptions are MatMul's optional arguments, with Paddle's meaning. The zero value multiplies
// the operands as they are.
type MatMulOptions struct {
	TransposeX bool // use t with its last two axes swapped (Paddle's transpose_x); ignored for 1-D t
	TransposeY bool // use u with its last two axes swapped (Paddle's transpose_y); ignored for 1-D u
}

// MatMul returns the matrix product t·u, as paddle.matmul: the last two axes are matrices
// ([..., M, K] · [..., K, N] → [..., M, N]) and the leading (batch) axes broadcast. A 1-D t is a
// row vector and a 1-D u a column vector; their added axis is removed from the result. The
// options multiply by an operand's transpose without copying it: the GEMM reads it transposed,
// forward and backward, so t.MatMul(u, MatMulOptions{TransposeY: true}) is t·uᵀ for the cost of
// t·u.
//
// It panics if either is a scalar, the inner dimensions differ, the batch axes do not broadcast,
// or more than one options value is given; the message gives both shapes:
// "tensor: MatMul: shape mismatch [32 784] x [100 10]".
func (t *Tensor) MatMul(u *Tensor, opts ...MatMulOptions) *Tensor {
	if len(opts) > 1 {
		panicf("MatMul", "got %d options values, want at most one", len(opts))
	}
	var opt MatMulOptions
	if len(opts) == 1 {
		opt = opts[0]
	}
	if len(t.shape) == 0 || len(u.shape) == 0 {
		panicf("MatMul", "shape mismatch %v x %v: scalars are not matrices", t.shape, u.shape)
	}
	a, b := t, u
	if len(a.shape) == 1 {
		a, opt.TransposeX = a.Reshape(1, a.shape[0]), false
	}
	if len(b.shape) == 1 {
		b, opt.TransposeY = b.Reshape(b.shape[0], 1), false
	}
	out := matmul(a, b, opt, t.shape, u.shape)
	if len(t.shape) == 1 {
		out = out.Squeeze(-2)
	}
	if len(u.shape) == 1 {
		out = out.Squeeze(-1)
	}
	return out
}

// matmul multiplies op(a) [..., M, K] by op(b) [..., K, N], op being a transpose of the last two
// axes where opt says so; ta and tb are the caller's shapes for messages.
func matmul(a, b *Tensor, opt MatMulOptions, ta, tb []int) *Tensor {
	tx, ty := opt.TransposeX, opt.TransposeY
	ra, rb := len(a.shape), len(b.shape)
	m, k := a.shape[ra-2], a.shape[ra-1]
	if tx {
		m, k = k, m
	}
	kb, n := b.shape[rb-2], b.shape[rb-1]
	if ty {
		kb, n = n, kb
	}
	if k != kb {
		panicf("MatMul", "shape mismatch %v x %v", ta, tb)
	}
	batch, ok := broadcast(a.shape[:ra-2], b.shape[:rb-2])
	if !ok {
		panicf("MatMul", "shape mismatch %v x %v: batch axes do not broadcast", ta, tb)
	}
	nb := numel("MatMul", batch)
	aShape := append(slices.Clone(batch), a.shape[ra-2:]...)
	bShape := append(slices.Clone(batch), b.shape[rb-2:]...)
	ad, bd := expand(a.data, a.shape, aShape), expand(b.data, b.shape, bShape)
	lda, ldb := a.shape[ra-1], b.shape[rb-1] // row lengths as stored
	out := newTensor(make([]float32, nb*m*n), append(batch, m, n))
	batchedGemm(nb, tx, ty, m, n, k, ad, lda, bd, ldb, out.data, n)
	return out.record("MatMul", func(g []float32, gin [][]float32) {
		if gin[0] != nil {
			da := gin[0] // a broadcast a's gradient is summed from a full-size one
			if len(ad) != len(da) {
				da = make([]float32, len(ad))
			}
			if !tx { // dA = g·op(B)ᵀ
				batchedGemm(nb, false, !ty, m, k, n, g, n, bd, ldb, da, lda)
			} else { // dA = (g·op(B)ᵀ)ᵀ = op(B)·gᵀ
				batchedGemm(nb, ty, true, k, m, n, bd, ldb, g, n, da, lda)
			}
			if len(ad) != len(gin[0]) {
				reduceTo(gin[0], da, a.shape, aShape)
			}
		}
		if gin[1] != nil {
			db := gin[1]
			if len(bd) != len(db) {
				db = make([]float32, len(bd))
			}
			if !ty { // dB = op(A)ᵀ·g
				batchedGemm(nb, !tx, false, k, n, m, ad, lda, g, n, db, ldb)
			} else { // dB = (op(A)ᵀ·g)ᵀ = gᵀ·op(A)
				batchedGemm(nb, true, tx, n, k, m, g, n, ad, lda, db, ldb)
			}
			if len(bd) != len(gin[1]) {
				reduceTo(gin[1], db, b.shape, bShape)
			}
		}
	}, a, b)
}

// batchedGemm writes c[i] = op(a[i])·op(b[i]) for nb contiguous row-major matrices, op(a) m×k and
// op(b) k×n, stored with row lengths lda and ldb (c's is ldc). One product uses the parallel Gemm;
// many run one per goroutine.
func batchedGemm(nb int, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if nb == 1 {
		kernel.Gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
		return
	}
	kernel.ParallelFor(nb, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			kernel.GemmSerial(transA, transB, m, n, k, 1, a[i*m*k:(i+1)*m*k], lda, b[i*k*n:(i+1)*k*n], ldb,
				0, c[i*m*n:(i+1)*m*n], ldc)
		}
	})
}
