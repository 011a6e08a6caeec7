//go:build !purego

package kernel

import "unsafe"

// The wrapper around the AVX-512 assembly of convdw512_amd64.s, declared in
// convdw512_asm_amd64.go. (GemmNT calls dot512_amd64.s's tiles directly, and
// pool.go the 2×2 pooling of pool512_amd64.s.)

// convDWTileAVX512 has the contract of convDWTile for rows 1..6: the sums
// of convDWTile{rows}x4x16, whose 16-lane partial sums round differently
// from the AVX2 kernel's 8 (and are the same for every rows). weightGrad checks the bounds
// of xp once for all tiles; the masked loads read nothing past a row's
// OutW positions.
func convDWTileAVX512(ic *indirectConv, dy []float32, slot int, xp []float32, off []int32, nimg, rows int, sums *[24]float32) {
	g := ic.g
	ch := g.OutH * ic.vecs * 8
	_ = dy[(nimg-1)*slot+rows*ch-1]
	_ = off[3]
	steps := (ic.vecs + 1) / 2
	mask := 1<<(g.OutW-16*(steps-1)) - 1
	dyRowNext := 4 * (8*ic.vecs - 16*steps) // -32 when vecs is odd
	xRowNext := 4 * (ic.wp - 16*steps)
	pd, px, po, ps := unsafe.SliceData(dy), unsafe.SliceData(xp), unsafe.SliceData(off), &sums[0]
	xNext := 4 * (ic.padLen() - g.OutH*ic.wp)
	// Direct calls (no function value), so that sums stays on the caller's stack.
	switch rows {
	case 6:
		convDWTile6x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	case 5:
		convDWTile5x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	case 4:
		convDWTile4x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	case 3:
		convDWTile3x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	case 2:
		convDWTile2x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	case 1:
		convDWTile1x4x16(pd, 4*ch, dyRowNext, 4*(slot-ch), px, xRowNext, xNext, po, g.OutH, steps, mask, nimg, ps)
	default:
		panic("kernel: convDWTileAVX512: rows outside 1..6")
	}
}
