//go:build !purego

#include "textflag.h"

// func adamAVX(p, grad, m, v *float32, n int, k *adamConsts)
//
// Eight elements at a time, the update of adamUpdate with exactly its
// operations and their order (no fused multiply-add), so the results are
// bitwise those of the Go loop. n is a multiple of 8.
TEXT ·adamAVX(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y4   // b1
	VBROADCASTSS 4(AX), Y5   // b2
	VBROADCASTSS 8(AX), Y6   // c1
	VBROADCASTSS 12(AX), Y7  // c2
	VBROADCASTSS 16(AX), Y8  // eps
	VBROADCASTSS 20(AX), Y9  // wd
	VBROADCASTSS 24(AX), Y10 // decay
	VBROADCASTSS 28(AX), Y11 // stepSize
	VBROADCASTSS 32(AX), Y12 // invSqrtBC2
	VBROADCASTSS 36(AX), Y13 // s
	VBROADCASTSS 40(AX), Y14 // lo
	VBROADCASTSS 44(AX), Y15 // hi
	MOVL 48(AX), R9          // clip
	XORQ BX, BX
	TESTQ CX, CX
	JZ done
loop:
	VMOVUPS (DI)(BX*4), Y0
	VMULPS Y0, Y10, Y1       // decay*p
	VSUBPS Y1, Y0, Y0        // pi = p - decay*p
	VMULPS (SI)(BX*4), Y13, Y1 // gi = g*s
	TESTL R9, R9
	JZ noclip
	VMAXPS Y1, Y14, Y1       // lo > gi ? lo : gi
	VMINPS Y1, Y15, Y1       // hi < gi ? hi : gi
noclip:
	VMULPS Y0, Y9, Y2        // wd*pi
	VADDPS Y2, Y1, Y1        // gi += wd*pi
	VMULPS (DX)(BX*4), Y4, Y2 // b1*m
	VMULPS Y1, Y6, Y3        // c1*gi
	VADDPS Y3, Y2, Y2        // mi
	VMOVUPS Y2, (DX)(BX*4)
	VMULPS Y1, Y7, Y3        // c2*gi
	VMULPS Y1, Y3, Y3        // c2*gi*gi
	VMULPS (R8)(BX*4), Y5, Y1 // b2*v
	VADDPS Y3, Y1, Y3        // vi
	VMOVUPS Y3, (R8)(BX*4)
	VSQRTPS Y3, Y3
	VMULPS Y12, Y3, Y3       // sqrt(vi)*invSqrtBC2
	VADDPS Y8, Y3, Y3        // + eps
	VMULPS Y2, Y11, Y2       // stepSize*mi
	VDIVPS Y3, Y2, Y2
	VSUBPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	CMPQ BX, CX
	JB loop
done:
	VZEROUPPER
	RET
