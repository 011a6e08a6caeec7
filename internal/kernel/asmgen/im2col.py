# Generates ../im2col_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/im2col.py.
#
# Im2col and Col2im of stride-1, dilation-1 convolutions, all channels and
# kernel taps of one image in one call, driven by a table of taps (convTap)
# worked out once in Go.
from emit import Asm
f = Asm("im2col")
e = f.e
# convTap field offsets (8 bytes each)
TOP, BOTOFF, BOT, DST, SRC, ROWS, N, ZL, ZR = [8*i for i in range(9)]
TAPSIZE = 80
lbl = [0]
def L_(p):
    lbl[0] += 1
    return f"{p}{lbl[0]}"

def zero_run(ptr, cnt):
    # zero cnt (register, clobbered) floats at ptr (register, preserved); uses AX, BX
    done = L_("zdone"); l8 = L_("z8"); small = L_("zsmall"); l1 = L_("z1")
    e(f"\tTESTQ {cnt}, {cnt}")
    e(f"\tJZ {done}")
    e(f"\tCMPQ {cnt}, $8")
    e(f"\tJB {small}")
    e(f"\tLEAQ -8({cnt}), BX")
    e("\tXORQ AX, AX")
    e(f"{l8}:")
    e(f"\tVMOVUPS Y15, ({ptr})(AX*4)")
    e("\tADDQ $8, AX")
    e("\tCMPQ AX, BX")
    e(f"\tJBE {l8}")
    e(f"\tVMOVUPS Y15, ({ptr})(BX*4)")
    e(f"\tJMP {done}")
    e(f"{small}:")
    e("\tXORQ AX, AX")
    e(f"{l1}:")
    e(f"\tMOVL $0, ({ptr})(AX*4)")
    e("\tINCQ AX")
    e(f"\tCMPQ AX, {cnt}")
    e(f"\tJB {l1}")
    e(f"{done}:")

def row_op(dst, src, add):
    # one row of CX floats: dst = src, or dst += src; uses AX, BX, Y0, Y1, X0, X1
    done = L_("rdone"); l8 = L_("r8"); small = L_("rsmall"); tiny = L_("rtiny"); l1 = L_("r1")
    def ld(width, off, reg):
        mov = "VMOVSS" if width == 1 else "VMOVUPS"
        if add:
            e(f"\t{mov} ({dst})({off}*4), {reg}")
            e(f"\t{'VADDSS' if width == 1 else 'VADDPS'} ({src})({off}*4), {reg}, {reg}")
        else:
            e(f"\t{mov} ({src})({off}*4), {reg}")
    def st(width, off, reg):
        e(f"\t{'VMOVSS' if width == 1 else 'VMOVUPS'} {reg}, ({dst})({off}*4)")
    e("\tCMPQ CX, $8")
    e(f"\tJB {small}")
    e("\tLEAQ -8(CX), BX")
    ld(8, "BX", "Y1")
    e("\tXORQ AX, AX")
    e(f"{l8}:")
    ld(8, "AX", "Y0")
    st(8, "AX", "Y0")
    e("\tADDQ $8, AX")
    e("\tCMPQ AX, BX")
    e(f"\tJBE {l8}")
    st(8, "BX", "Y1")
    e(f"\tJMP {done}")
    e(f"{small}:")
    e("\tCMPQ CX, $4")
    e(f"\tJB {tiny}")
    e("\tLEAQ -4(CX), BX")
    e("\tXORQ AX, AX")
    ld(4, "AX", "X0")
    ld(4, "BX", "X1")
    st(4, "AX", "X0")
    st(4, "BX", "X1")
    e(f"\tJMP {done}")
    e(f"{tiny}:")
    e("\tXORQ AX, AX")
    e(f"{l1}:")
    ld(1, "AX", "X0")
    st(1, "AX", "X0")
    e("\tINCQ AX")
    e("\tCMPQ AX, CX")
    e(f"\tJB {l1}")
    e(f"{done}:")

def kernel(name, add):
    f.func(f"{name}(col *float32, ld int, img *float32, plane, channels int, taps *convTap, ntaps, owBytes, wBytes int)")
    e("\tMOVQ col+0(FP), DI")
    e("\tMOVQ ld+8(FP), R8")
    e("\tSHLQ $2, R8")
    e("\tMOVQ img+16(FP), R9")
    e("\tMOVQ channels+32(FP), R10")
    e("\tVXORPS Y15, Y15, Y15")
    e("\tTESTQ R10, R10")
    e(f"\tJZ {name}_done")
    e(f"{name}_c:")
    e("\tMOVQ taps+40(FP), R11")
    e("\tMOVQ ntaps+48(FP), R12")
    e(f"{name}_t:")
    if not add:
        e(f"\tMOVQ {TOP}(R11), CX")
        zero_run("DI", "CX")
        e(f"\tMOVQ {BOTOFF}(R11), CX")
        e("\tLEAQ (DI)(CX*4), DX")
        e(f"\tMOVQ {BOT}(R11), CX")
        zero_run("DX", "CX")
    e(f"\tMOVQ {ROWS}(R11), R13")
    e("\tTESTQ R13, R13")
    e(f"\tJZ {name}_nt")
    e(f"\tMOVQ {SRC}(R11), CX")
    e("\tLEAQ (R9)(CX*4), SI")
    e(f"\tMOVQ {DST}(R11), CX")
    e("\tLEAQ (DI)(CX*4), DX")
    # Fast path: a tap whose rows have at least 8 values and no zero margins
    # (every tap without padding): 8-value vectors and one overlapping the
    # last of them for the rest, with everything in registers. The tail
    # vector is loaded (and, for col2im, summed) before the row's stores.
    fast = f"{name}_fast"
    gen = f"{name}_r"
    if not add:
        e(f"\tMOVQ {ZL}(R11), CX")
        e(f"\tORQ {ZR}(R11), CX")
        e(f"\tJNZ {gen}")
    e(f"\tMOVQ {N}(R11), CX")
    e("\tCMPQ CX, $8")
    e(f"\tJB {gen}")
    e("\tLEAQ -32(CX*4), BX")      # byte offset of the row's last 8 values
    # 8..16 values: exactly two vectors, no loop, strides in registers
    two = f"{name}_two"
    e("\tCMPQ CX, $16")
    e(f"\tJA {fast}")
    e("\tMOVQ wBytes+64(FP), AX")
    e("\tMOVQ owBytes+56(FP), CX")
    e(f"{two}:")
    if add:
        e(f"\tVMOVUPS ({'SI'}), Y0")
        e(f"\tVMOVUPS ({'SI'})(BX*1), Y1")
        e(f"\tVADDPS ({'DX'}), Y0, Y0")
        e(f"\tVADDPS ({'DX'})(BX*1), Y1, Y1")
        e(f"\tVMOVUPS Y0, ({'SI'})")
        e(f"\tVMOVUPS Y1, ({'SI'})(BX*1)")
    else:
        e("\tVMOVUPS (SI), Y0")
        e("\tVMOVUPS (SI)(BX*1), Y1")
        e("\tVMOVUPS Y0, (DX)")
        e("\tVMOVUPS Y1, (DX)(BX*1)")
    e("\tADDQ AX, SI")
    e("\tADDQ CX, DX")
    e("\tDECQ R13")
    e(f"\tJNZ {two}")
    e(f"\tJMP {name}_nt")
    e(f"{fast}:")
    dst, src = ("SI", "DX") if add else ("DX", "SI")
    def vec(off, reg):
        if add:
            e(f"\tVMOVUPS {off}({dst}), {reg}")
            e(f"\tVADDPS {off}({src}), {reg}, {reg}")
        else:
            e(f"\tVMOVUPS {off}({src}), {reg}")
    # tail first
    if add:
        e(f"\tVMOVUPS ({dst})(BX*1), Y1")
        e(f"\tVADDPS ({src})(BX*1), Y1, Y1")
    else:
        e(f"\tVMOVUPS ({src})(BX*1), Y1")
    e("\tXORQ AX, AX")
    lp = f"{name}_f8"
    e(f"{lp}:")
    if add:
        e(f"\tVMOVUPS ({dst})(AX*1), Y0")
        e(f"\tVADDPS ({src})(AX*1), Y0, Y0")
    else:
        e(f"\tVMOVUPS ({src})(AX*1), Y0")
    e(f"\tVMOVUPS Y0, ({dst})(AX*1)")
    e("\tADDQ $32, AX")
    e("\tCMPQ AX, BX")
    e(f"\tJB {lp}")
    e(f"\tVMOVUPS Y1, ({dst})(BX*1)")
    e("\tADDQ wBytes+64(FP), SI")
    e("\tADDQ owBytes+56(FP), DX")
    e("\tDECQ R13")
    e(f"\tJNZ {fast}")
    e(f"\tJMP {name}_nt")
    e(f"{name}_r:")
    if add:
        e(f"\tMOVQ {N}(R11), CX")
        row_op("SI", "DX", True)   # img row += col row
    else:
        # left margin, copy, right margin
        e(f"\tMOVQ {ZL}(R11), CX")
        e("\tTESTQ CX, CX")
        lz = L_("lz")
        lzl = L_("lzl")
        e(f"\tJZ {lz}")
        e("\tMOVQ DX, BX")
        e(f"{lzl}:")
        e("\tSUBQ $4, BX")
        e("\tMOVL $0, (BX)")
        e("\tDECQ CX")
        e(f"\tJNZ {lzl}")
        e(f"{lz}:")
        e(f"\tMOVQ {N}(R11), CX")
        row_op("DX", "SI", False)
        e(f"\tMOVQ {ZR}(R11), BX")
        rz = L_("rz"); rzl = L_("rzl")
        e("\tTESTQ BX, BX")
        e(f"\tJZ {rz}")
        e("\tLEAQ (DX)(CX*4), AX")
        e(f"{rzl}:")
        e("\tMOVL $0, (AX)")
        e("\tADDQ $4, AX")
        e("\tDECQ BX")
        e(f"\tJNZ {rzl}")
        e(f"{rz}:")
    e("\tADDQ wBytes+64(FP), SI")
    e("\tADDQ owBytes+56(FP), DX")
    e("\tDECQ R13")
    e(f"\tJNZ {name}_r")
    e(f"{name}_nt:")
    e("\tADDQ R8, DI")
    e(f"\tADDQ ${TAPSIZE}, R11")
    e("\tDECQ R12")
    e(f"\tJNZ {name}_t")
    e("\tMOVQ plane+24(FP), CX")
    e("\tLEAQ (R9)(CX*4), R9")
    e("\tDECQ R10")
    e(f"\tJNZ {name}_c")
    e(f"{name}_done:")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")

kernel("im2colTapsAVX2", False)
kernel("col2imTapsAVX2", True)
f.write()
