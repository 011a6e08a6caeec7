# Generates ../pool_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/pool.py.
#
# 2×2, stride-2 max pooling of one plane, forward (value and argmax) and
# backward, 8 outputs per step; a row's last, partial step uses masked loads
# and stores, so nothing outside the rows is read or written.
from emit import Asm
f = Asm("pool")
e = f.e
# mask table: 8 × -1 then 8 × 0; 8 ints from byte offset 4*(8-l) have l leading -1s.
for i in range(16):
    v = "$0xffffffff" if i < 8 else "$0"
    e(f"DATA poolmask<>+{4*i}(SB)/4, {v}")
e("GLOBL poolmask<>(SB), RODATA|NOPTR, $64")
# 8 × 0 then 8 × -1: 8 ints from byte offset 4*l have l trailing -1s.
for i in range(16):
    v = "$0" if i < 8 else "$0xffffffff"
    e(f"DATA poolmaskhi<>+{4*i}(SB)/4, {v}")
e("GLOBL poolmaskhi<>(SB), RODATA|NOPTR, $64")
for i in range(8):
    e(f"DATA poollane2<>+{4*i}(SB)/4, ${2*i}")
e("GLOBL poollane2<>(SB), RODATA|NOPTR, $32")
e("")

def consts():
    # Y14 = 1, Y13 = W, Y12 = W+1 (int32), Y11 = 0,2,..,14, R12 = &poolmask
    e("\tMOVL $1, R11")
    e("\tVMOVD R11, X14")
    e("\tVPBROADCASTD X14, Y14")
    e("\tMOVL R8, R11")
    e("\tVMOVD R11, X13")
    e("\tVPBROADCASTD X13, Y13")
    e("\tINCL R11")
    e("\tVMOVD R11, X12")
    e("\tVPBROADCASTD X12, Y12")
    e("\tVMOVDQU poollane2<>(SB), Y11")
    e("\tLEAQ poolmask<>(SB), R12")

def masks(prefix):
    # R13 = count (1..7). Y15 = mask of count lanes, Y9 = mask of min(2count, 8)
    # lanes, Y10 = mask of max(2count-8, 0) lanes.
    e("\tMOVQ $8, R11")
    e("\tSUBQ R13, R11")
    e("\tVMOVDQU (R12)(R11*4), Y15")
    e("\tMOVQ R13, R11")
    e("\tSHLQ $1, R11")          # 2count
    e("\tCMPQ R11, $8")
    e(f"\tJA {prefix}_m2")
    e("\tNEGQ R11")
    e("\tADDQ $8, R11")          # 8 - 2count
    e("\tVMOVDQU (R12)(R11*4), Y9")
    e("\tVMOVDQU 32(R12), Y10")  # no lanes
    e(f"\tJMP {prefix}_m3")
    e(f"{prefix}_m2:")
    e("\tVMOVDQU (R12), Y9")     # all lanes
    e("\tNEGQ R11")
    e("\tADDQ $16, R11")         # 8 - (2count-8)
    e("\tVMOVDQU (R12)(R11*4), Y10")
    e(f"{prefix}_m3:")

def select():
    # in: Y4 e0, Y5 o0, Y6 e1, Y7 o1 (window order). out: Y4 best, Y8 offset.
    e("\tVPXOR Y8, Y8, Y8")
    for cand, off in (("Y5","Y14"),("Y6","Y13"),("Y7","Y12")):
        e(f"\tVCMPPS $0x1e, Y4, {cand}, Y9")   # cand > best (ordered)
        e(f"\tVCMPPS $3, {cand}, {cand}, Y10")  # cand is NaN
        e("\tVCMPPS $7, Y4, Y4, Y1")            # best is not NaN
        e("\tVANDPS Y1, Y10, Y10")
        e("\tVORPS Y10, Y9, Y9")
        e(f"\tVBLENDVPS Y9, {cand}, Y4, Y4")
        e(f"\tVBLENDVPS Y9, {off}, Y8, Y8")

def shuffles():
    e("\tVSHUFPS $0x88, Y1, Y0, Y4")
    e("\tVSHUFPS $0xDD, Y1, Y0, Y5")
    e("\tVSHUFPS $0x88, Y3, Y2, Y6")
    e("\tVSHUFPS $0xDD, Y3, Y2, Y7")

def finish():
    # natural output order, absolute index = offset + rowbase + 2*ow
    e("\tVPERMPD $0xD8, Y4, Y4")
    e("\tVPERMQ $0xD8, Y8, Y8")
    e("\tLEAQ (R10)(AX*2), R11")
    e("\tVMOVD R11, X10")
    e("\tVPBROADCASTD X10, Y10")
    e("\tVPADDD Y11, Y10, Y10")
    e("\tVPADDD Y10, Y8, Y8")

f.func("maxPool2AVX2(y *float32, arg *int32, x *float32, w, outW, rows, lastMasked int)", [
    "",
    "For oh < rows, ow < outW: y[oh*outW+ow] is the maximum of the window",
    "x[(2oh+dh)*w + 2ow+dw], dh, dw in {0, 1}, taken in row-major window order",
    "(ties keep the first; a NaN wins, the first NaN), and arg the winner's",
    "index (2oh+dh)*w + 2ow+dw (not written when arg is nil). 2*outW <= w.",
    "",
    "A row of fewer than 8 outputs is done as a whole vector that spills",
    "into the following rows (which are redone afterwards), reading past the",
    "row pair, except with masked loads and stores when outW < 4, and in the",
    "last row when lastMasked != 0. The caller passes lastMasked = 0 only",
    "when the memory after the plane is its own and big enough.",
])
e("\tMOVQ y+0(FP), DI")
e("\tMOVQ arg+8(FP), DX")
e("\tMOVQ x+16(FP), SI")
e("\tMOVQ w+24(FP), R8")
e("\tMOVQ outW+32(FP), CX")
e("\tMOVQ rows+40(FP), R9")
consts()
e("\tXORQ R10, R10")
e("\tTESTQ R9, R9")
e("\tJZ mpf_done")
e("mpf_row:")
e("\tLEAQ (SI)(R8*4), BX")
e("\tXORQ AX, AX")
e("mpf_blk:")
e("\tMOVQ CX, R13")
e("\tSUBQ AX, R13")
e("\tJLE mpf_next")
e("\tCMPQ R13, $8")
e("\tJAE mpf_full")
e("\tCMPQ CX, $8")
e("\tJB mpf_tail")
# a partial last block in a row of at least 8 outputs: redo the last 8
# (the overlap computes the same values again)
e("\tLEAQ -8(CX), AX")
e("mpf_full:")
e("\tVMOVUPS (SI)(AX*8), Y0")
e("\tVMOVUPS 32(SI)(AX*8), Y1")
e("\tVMOVUPS (BX)(AX*8), Y2")
e("\tVMOVUPS 32(BX)(AX*8), Y3")
shuffles(); select(); finish()
e("\tVMOVUPS Y4, (DI)(AX*4)")
e("\tTESTQ DX, DX")
e("\tJZ mpf_na1")
e("\tVMOVDQU Y8, (DX)(AX*4)")
e("mpf_na1:")
e("\tADDQ $8, AX")
e("\tJMP mpf_blk")
e("mpf_tail:")
# outW < 8: spill unless outW < 4 or (last row and lastMasked)
e("\tCMPQ CX, $4")
e("\tJB mpf_masked")
e("\tCMPQ R9, $1")
e("\tJNE mpf_spill")
e("\tCMPQ lastMasked+48(FP), $0")
e("\tJNE mpf_masked")
e("mpf_spill:")
e("\tVMOVUPS (SI)(AX*8), Y0")
e("\tVMOVUPS 32(SI)(AX*8), Y1")
e("\tVMOVUPS (BX)(AX*8), Y2")
e("\tVMOVUPS 32(BX)(AX*8), Y3")
shuffles(); select(); finish()
e("\tVMOVUPS Y4, (DI)(AX*4)")
e("\tTESTQ DX, DX")
e("\tJZ mpf_na2")
e("\tVMOVDQU Y8, (DX)(AX*4)")
e("mpf_na2:")
e("\tJMP mpf_next")
e("mpf_masked:")
masks("mpf")
e("\tLEAQ (SI)(AX*8), R11")
e("\tVMASKMOVPS (R11), Y9, Y0")
e("\tVMASKMOVPS 32(R11), Y10, Y1")
e("\tLEAQ (BX)(AX*8), R11")
e("\tVMASKMOVPS (R11), Y9, Y2")
e("\tVMASKMOVPS 32(R11), Y10, Y3")
shuffles(); select(); finish()
e("\tLEAQ (DI)(AX*4), R11")
e("\tVMASKMOVPS Y4, Y15, (R11)")
e("\tTESTQ DX, DX")
e("\tJZ mpf_next")
e("\tLEAQ (DX)(AX*4), R11")
e("\tVPMASKMOVD Y8, Y15, (R11)")
e("mpf_next:")
e("\tLEAQ (DI)(CX*4), DI")
e("\tTESTQ DX, DX")
e("\tJZ mpf_noarg")
e("\tLEAQ (DX)(CX*4), DX")
e("mpf_noarg:")
e("\tLEAQ (SI)(R8*8), SI")
e("\tLEAQ (R10)(R8*2), R10")
e("\tDECQ R9")
e("\tJNZ mpf_row")
e("mpf_done:")
e("\tVZEROUPPER")
e("\tRET")
e("")

def contrib():
    # in: Y0 dy, Y1 arg, Y2 absolute index of each output's first cell.
    # out: Y3,Y4 row-0 increments (16 cells), Y5,Y6 row-1 increments.
    # Uses Y0..Y8 only.
    e("\tVPSUBD Y2, Y1, Y1")           # offset within the window
    e("\tVPXOR Y3, Y3, Y3")
    e("\tVPCMPEQD Y3, Y1, Y3")
    e("\tVPCMPEQD Y14, Y1, Y4")
    e("\tVPCMPEQD Y13, Y1, Y5")
    e("\tVPCMPEQD Y12, Y1, Y6")
    for r in (3,4,5,6):
        e(f"\tVANDPS Y0, Y{r}, Y{r}")
    e("\tVUNPCKLPS Y4, Y3, Y7")
    e("\tVUNPCKHPS Y4, Y3, Y8")
    e("\tVPERM2F128 $0x20, Y8, Y7, Y3")
    e("\tVPERM2F128 $0x31, Y8, Y7, Y4")
    e("\tVUNPCKLPS Y6, Y5, Y7")
    e("\tVUNPCKHPS Y6, Y5, Y8")
    e("\tVPERM2F128 $0x20, Y8, Y7, Y5")
    e("\tVPERM2F128 $0x31, Y8, Y7, Y6")

def base():
    e("\tLEAQ (R10)(AX*2), R11")
    e("\tVMOVD R11, X2")
    e("\tVPBROADCASTD X2, Y2")
    e("\tVPADDD Y11, Y2, Y2")

f.func("maxPool2BackAVX2(dx, dy *float32, arg *int32, w, outW, rows, lastMasked, assign int)", [
    "",
    "The adjoint of maxPool2AVX2 given its arg: for oh < rows, ow < outW it",
    "adds dy[oh*outW+ow] into dx[arg[oh*outW+ow]] when arg is one of the",
    "window's cells, and +0 into the window's other cells. Short rows spill",
    "as in maxPool2AVX2 (adding +0 past the row pair). With assign != 0 the",
    "window cells are set rather than added to (dx need not be initialised),",
    "which requires 2*outW == w and 2*rows to be the plane's height.",
])
e("\tMOVQ dx+0(FP), SI")
e("\tMOVQ dy+8(FP), DI")
e("\tMOVQ arg+16(FP), DX")
e("\tMOVQ w+24(FP), R8")
e("\tMOVQ outW+32(FP), CX")
e("\tMOVQ rows+40(FP), R9")
consts()
e("\tXORQ R10, R10")
e("\tTESTQ R9, R9")
e("\tJZ mpb_done")
e("mpb_row:")
e("\tLEAQ (SI)(R8*4), BX")
e("\tXORQ AX, AX")
e("mpb_blk:")
e("\tMOVQ CX, R13")
e("\tSUBQ AX, R13")
e("\tJLE mpb_next")
e("\tCMPQ R13, $8")
e("\tJAE mpb_full")
e("\tCMPQ CX, $8")
e("\tJB mpb_tail")
# a partial last block in a row of at least 8 outputs: redo the last 8 with
# the outputs already done masked to 0, so they add nothing more
e("\tLEAQ -8(CX), AX")
e("\tCMPQ assign+56(FP), $0")
e("\tJNE mpb_full")   # assigning: redoing the overlap sets the same values
e("\tLEAQ poolmaskhi<>(SB), R11")
e("\tVMOVDQU (R11)(R13*4), Y15")
e("\tVANDPS (DI)(AX*4), Y15, Y0")
e("\tJMP mpb_have")
e("mpb_full:")
e("\tVMOVUPS (DI)(AX*4), Y0")
e("mpb_have:")
e("\tVMOVDQU (DX)(AX*4), Y1")
base(); contrib()
e("\tCMPQ assign+56(FP), $0")
e("\tJNE mpb_set")
e("\tVADDPS (SI)(AX*8), Y3, Y3")
e("\tVADDPS 32(SI)(AX*8), Y4, Y4")
e("\tVADDPS (BX)(AX*8), Y5, Y5")
e("\tVADDPS 32(BX)(AX*8), Y6, Y6")
e("mpb_set:")
e("\tVMOVUPS Y3, (SI)(AX*8)")
e("\tVMOVUPS Y4, 32(SI)(AX*8)")
e("\tVMOVUPS Y5, (BX)(AX*8)")
e("\tVMOVUPS Y6, 32(BX)(AX*8)")
e("\tADDQ $8, AX")
e("\tJMP mpb_blk")
e("mpb_tail:")
e("\tCMPQ CX, $4")
e("\tJB mpb_masked")
e("\tCMPQ R9, $1")
e("\tJNE mpb_spill")
e("\tCMPQ lastMasked+48(FP), $0")
e("\tJNE mpb_masked")
e("mpb_spill:")
# dy of the outputs past the row masked to 0: they add nothing
e("\tLEAQ poolmask<>(SB), R11")
e("\tMOVQ $8, R13")
e("\tSUBQ CX, R13")
e("\tVMOVDQU (R11)(R13*4), Y15")
e("\tVANDPS (DI)(AX*4), Y15, Y0")
e("\tVMOVDQU (DX)(AX*4), Y1")
base(); contrib()
e("\tCMPQ assign+56(FP), $0")
e("\tJNE mpb_sset")
e("\tVADDPS (SI)(AX*8), Y3, Y3")
e("\tVADDPS 32(SI)(AX*8), Y4, Y4")
e("\tVADDPS (BX)(AX*8), Y5, Y5")
e("\tVADDPS 32(BX)(AX*8), Y6, Y6")
e("mpb_sset:")
e("\tVMOVUPS Y3, (SI)(AX*8)")
e("\tVMOVUPS Y4, 32(SI)(AX*8)")
e("\tVMOVUPS Y5, (BX)(AX*8)")
e("\tVMOVUPS Y6, 32(BX)(AX*8)")
e("\tJMP mpb_next")
e("mpb_masked:")
masks("mpb")
e("\tLEAQ (DI)(AX*4), R11")
e("\tVMASKMOVPS (R11), Y15, Y0")
e("\tLEAQ (DX)(AX*4), R11")
e("\tVPMASKMOVD (R11), Y15, Y1")
base(); contrib()
e("\tMOVQ assign+56(FP), R13")
for reg, ptr, off, m in (("Y3","SI","","Y9"),("Y4","SI","32","Y10"),("Y5","BX","","Y9"),("Y6","BX","32","Y10")):
    e(f"\tLEAQ {off}({ptr})(AX*8), R11")
    e("\tTESTQ R13, R13")
    e(f"\tJNE mpb_m{reg}")
    e(f"\tVMASKMOVPS (R11), {m}, Y7")
    e(f"\tVADDPS Y7, {reg}, {reg}")
    e(f"mpb_m{reg}:")
    e(f"\tVMASKMOVPS {reg}, {m}, (R11)")
e("mpb_next:")
e("\tLEAQ (DI)(CX*4), DI")
e("\tLEAQ (DX)(CX*4), DX")
e("\tLEAQ (SI)(R8*8), SI")
e("\tLEAQ (R10)(R8*2), R10")
e("\tDECQ R9")
e("\tJNZ mpb_row")
e("mpb_done:")
e("\tVZEROUPPER")
e("\tRET")
e("")
f.write()
