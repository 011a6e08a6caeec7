package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tests of the AVX-512 kernels against the pure-Go ones; each skips where
// the CPU (or OAR_MAX_CPU_ISA) rules AVX-512 out.

func skipNoAVX512(t testing.TB) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine and build (or capped by OAR_MAX_CPU_ISA)")
	}
}

// TestConvDWTileAVX512 checks the weight-gradient tiles on ragged rows
// (OutW below, at and past 16, odd and even vecs), several images and
// channels, against a float64 sum and the 8-lane Go tile, with NaN in every
// padded cell that only the masked lanes may read. Every tile (1 to 6 rows)
// must give a channel bitwise the same sums.
func TestConvDWTileAVX512(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(16, 512))
	for _, c := range []struct{ inC, outH, outW, kh, kw, nimg int }{
		{1, 1, 1, 1, 1, 1}, {2, 3, 7, 3, 3, 2}, {3, 2, 8, 2, 2, 1}, {2, 4, 14, 5, 5, 4}, {1, 3, 16, 3, 3, 3},
		{2, 2, 17, 3, 2, 2}, {1, 2, 20, 3, 3, 5}, {2, 3, 28, 3, 3, 2}, {1, 2, 33, 1, 4, 1}, {1, 1, 47, 2, 2, 3},
	} {
		g := ConvGeom{InC: c.inC, InH: c.outH, InW: c.outW, KH: c.kh, KW: c.kw, StrideH: 1, StrideW: 1,
			PadT: c.kh - 1, PadL: c.kw - 1, DilH: 1, DilW: 1, OutH: c.outH, OutW: c.outW}
		g.InH, g.InW = c.outH-c.kh+1+2*g.PadT, c.outW-c.kw+1+2*g.PadL
		ic := getIndirectConv(g)
		const oc = 6
		ch, slot, pl := g.OutH*ic.vecs*8, ic.dyLen(oc), ic.padLen()
		dy := make([]float32, c.nimg*slot)
		xp := randSlice(rng, c.nimg*pl)
		for n := range c.nimg {
			ic.padDY(dy[n*slot:], randSlice(rng, oc*g.OutH*g.OutW), g.OutH*g.OutW, oc)
			for i := range ic.hp * g.InC {
				for j := g.OutW + g.KW - 1; j < ic.wp; j++ {
					xp[n*pl+i*ic.wp+j] = float32(math.NaN())
				}
			}
		}
		name := fmt.Sprintf("%+v", c)
		for k0 := 0; k0 < len(ic.offAll); k0 += 4 {
			off := ic.offAll[k0 : k0+4]
			var s6, s3, s1 [24]float32
			var goSums [12]float32
			convDWTileAVX512(ic, dy, slot, xp, off, c.nimg, 6, &s6)
			for rows := 1; rows <= 5; rows++ {
				var sr [24]float32
				convDWTileAVX512(ic, dy, slot, xp, off, c.nimg, rows, &sr)
				requireBits(t, s6[:4*rows], sr[:4*rows], fmt.Sprintf("%s %d-row tile", name, rows))
			}
			for o := range 6 {
				convDWTileAVX512(ic, dy[o*ch:], slot, xp, off, c.nimg, 1, &s1)
				requireBits(t, s6[4*o:4*o+4], s1[:4], fmt.Sprintf("%s channel %d alone", name, o))
			}
			for o0 := 0; o0 < 6; o0 += 3 {
				convDWTileAVX512(ic, dy[o0*ch:], slot, xp, off, c.nimg, 3, &s3)
				requireBits(t, s3[:12], s6[4*o0:4*o0+12], name+" 6-row tile")
				convDWTileGo(ic, dy[o0*ch:], slot, xp, off, c.nimg, &goSums)
				for o := range 3 {
					for q := range 4 {
						var want, abs float64
						for n := range c.nimg {
							for oh := range g.OutH {
								for ow := range g.OutW {
									p := float64(dy[n*slot+(o0+o)*ch+oh*ic.vecs*8+ow]) *
										float64(xp[n*pl+int(off[q]/4)+oh*ic.wp+ow])
									want += p
									abs += math.Abs(p)
								}
							}
						}
						tol := 1e-6 * (abs + 1)
						got := float64(s3[4*o+q])
						require.InDelta(t, want, got, tol, "%s k0 %d o %d c %d", name, k0, o0+o, q)
						require.InDelta(t, float64(goSums[4*o+q]), got, 2*tol, "%s against Go", name)
					}
				}
			}
		}
		putIndirectConv(ic)
	}
}

// TestGemmNTAVX512 checks GemmNT's AVX-512 tiles, every shape of them, on
// k below, at and past multiples of 16, against a float64 sum, with NaN in
// the stride padding of A and B (which the masked tail must not read) and,
// for beta = 0, in C (which must not be read); the padding of C stays as it
// was, each element has the bits it has when computed alone (by a 1×1
// tile), and a second call gives the same bits.
func TestGemmNTAVX512(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(17, 512))
	nan := float32(math.NaN())
	for _, k := range []int{1, 5, 15, 16, 17, 32, 47, 100, 784} {
		for _, mn := range [][2]int{{1, 1}, {2, 3}, {3, 5}, {4, 6}, {5, 7}, {8, 12}, {9, 13}, {6, 9}, {20, 25}} {
			m, n := mn[0], mn[1]
			for _, beta := range []float32{0, 0.5} {
				lda, ldb, ldc := k+3, k+1, n+2
				a, b := randSlice(rng, m*lda), randSlice(rng, n*ldb)
				for i := range m {
					a[i*lda+k], a[i*lda+k+2] = nan, nan
				}
				for j := range n {
					b[j*ldb+k] = nan
				}
				c0 := randSlice(rng, m*ldc)
				for i := range c0 {
					if beta == 0 || i%ldc >= n {
						c0[i] = nan
					}
				}
				got := clone(c0)
				GemmNT(m, n, k, a, lda, b, ldb, beta, got, ldc)
				name := fmt.Sprintf("m %d n %d k %d beta %v", m, n, k, beta)
				for i := range m {
					for j := range n {
						var want, abs float64
						for p := range k {
							v := float64(a[i*lda+p]) * float64(b[j*ldb+p])
							want += v
							abs += math.Abs(v)
						}
						if beta != 0 {
							want += float64(beta) * float64(c0[i*ldc+j])
						}
						require.InDelta(t, want, float64(got[i*ldc+j]), 1e-6*(abs+1), "%s (%d, %d)", name, i, j)
						// The same bits from a 1×1 tile: the sum does not depend on the tile.
						one := []float32{c0[i*ldc+j]}
						GemmNT(1, 1, k, a[i*lda:], lda, b[j*ldb:], ldb, beta, one, 1)
						requireBits(t, got[i*ldc+j:i*ldc+j+1], one, fmt.Sprintf("%s (%d, %d) alone", name, i, j))
					}
					for j := n; j < ldc; j++ {
						require.True(t, math.IsNaN(float64(got[i*ldc+j])), "%s: padding (%d, %d) written", name, i, j)
					}
				}
				again := clone(c0)
				GemmNT(m, n, k, a, lda, b, ldb, beta, again, ldc)
				requireBits(t, got, again, name+" repeated")
			}
		}
	}
}

// TestMaxPool2AVX512 checks the AVX-512 2×2 pooling kernels against the
// AVX2 ones, bitwise: forward (ties, NaN, with and without arg) and
// backward adding into dx (which holds -0 and garbage) and assigning, with
// winners inside and outside their windows, on rows of 1 to 40 outputs and
// odd widths (whose last column, in no window, the AVX-512 kernel must leave
// alone). The AVX2 kernels run on copies with room after the plane, as their
// spilling needs.
func TestMaxPool2AVX512(t *testing.T) {
	skipNoAVX512(t)
	rng := rand.New(rand.NewPCG(18, 512))
	for _, rows := range []int{1, 2, 5} {
		for outW := 1; outW <= 40; outW++ {
			for _, w := range []int{2 * outW, 2*outW + 1} {
				h := 2 * rows
				x := make([]float32, h*w)
				for i := range x {
					switch rng.IntN(10) {
					case 0:
						x[i] = float32(math.NaN())
					case 1, 2:
						x[i] = 1
					case 3:
						x[i] = float32(math.Copysign(0, -1))
					default:
						x[i] = rng.Float32()*2 - 1
					}
				}
				n := rows * outW
				name := fmt.Sprintf("rows %d outW %d w %d", rows, outW, w)
				wantY, gotY := make([]float32, n+64), make([]float32, n)
				wantA, gotA := make([]int32, n+64), make([]int32, n)
				xs := append(clone(x), make([]float32, 4*w+64)...)
				maxPool2AVX2(&wantY[0], &wantA[0], &xs[0], w, outW, rows, 0)
				maxPool2AVX512(&gotY[0], &gotA[0], &x[0], w, outW, rows)
				requireBits(t, wantY[:n], gotY, name+" y")
				require.Equal(t, wantA[:n], gotA, name+" arg")
				clear(gotY)
				maxPool2AVX512(&gotY[0], nil, &x[0], w, outW, rows)
				requireBits(t, wantY[:n], gotY, name+" y without arg")
				// Backward: some winners moved out of their windows.
				arg := clone32(gotA)
				for i := range arg {
					if rng.IntN(8) == 0 {
						arg[i] = int32(rng.IntN(h * w))
					}
				}
				dy := randSlice(rng, n)
				for _, assign := range []int{0, 1} {
					if assign == 1 && w != 2*outW {
						continue
					}
					dx0 := randSlice(rng, h*w)
					for i := range dx0 {
						if i%5 == 0 {
							dx0[i] = float32(math.Copysign(0, -1))
						}
					}
					want := append(clone(dx0), make([]float32, 4*w+64)...)
					dys := append(clone(dy), make([]float32, 64)...)
					args := append(clone32(arg), make([]int32, 64)...)
					maxPool2BackAVX2(&want[0], &dys[0], &args[0], w, outW, rows, 0, assign)
					got := clone(dx0)
					maxPool2BackAVX512(&got[0], &dy[0], &arg[0], w, outW, rows, assign)
					// Cells in no window: the AVX2 kernel may add +0 to them (its
					// spilling), the AVX-512 one leaves them alone.
					for i := range got {
						if i%w >= 2*outW {
							want[i] = dx0[i]
						}
					}
					requireBits(t, want[:h*w], got, fmt.Sprintf("%s dx assign %d", name, assign))
				}
			}
		}
	}
}

func clone32(s []int32) []int32 { return append([]int32(nil), s...) }
