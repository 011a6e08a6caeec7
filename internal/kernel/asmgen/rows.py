# Generates ../rows_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/rows.py.
#
# Strided row kernels for im2col/col2im: each processes rows of n floats,
# ldd and lds elements apart in dst and src, 8 lanes, then 4, then 1 at a time.
from emit import Asm
f = Asm("rows")
e = f.e

def rows_kernel(name, doc, op):
    # op(kind, width, dst_addr, src_addr, reg): emit the load/compute of one
    # vector of `width` floats into reg (kind "load"), or its store.
    f.func(f"{name}(dst *float32, ldd int, src *float32, lds int, rows, n int)", [
        doc,
        "",
        "A row of n >= 8 is done in 8-lane vectors plus, for a remainder, one",
        "more vector ending at the row's end and overlapping the previous one;",
        "the overlap's result is computed from the original values before any",
        "store, so it is the same either way. 4 <= n < 8 does the same with",
        "4 lanes; n < 4 goes one element at a time.",
    ])
    e("\tMOVQ dst+0(FP), DI")
    e("\tMOVQ ldd+8(FP), R8")
    e("\tSHLQ $2, R8")
    e("\tMOVQ src+16(FP), SI")
    e("\tMOVQ lds+24(FP), R9")
    e("\tSHLQ $2, R9")
    e("\tMOVQ rows+32(FP), DX")
    e("\tMOVQ n+40(FP), CX")
    e("\tTESTQ DX, DX")
    e(f"\tJZ {name}_done")
    e("\tLEAQ -8(CX), R10")      # start of the last 8-vector
    e("\tLEAQ -4(CX), R11")      # start of the last 4-vector
    e("\tCMPQ CX, $8")
    e(f"\tJB {name}_small")
    e(f"{name}_row8:")
    op("load", 8, "(DI)(R10*4)", "(SI)(R10*4)", "Y1")   # tail vector first
    e("\tXORQ AX, AX")
    e(f"{name}_l8:")
    op("load", 8, "(DI)(AX*4)", "(SI)(AX*4)", "Y0")
    op("store", 8, "(DI)(AX*4)", None, "Y0")
    e("\tADDQ $8, AX")
    e("\tCMPQ AX, R10")
    e(f"\tJBE {name}_l8")
    op("store", 8, "(DI)(R10*4)", None, "Y1")
    e("\tADDQ R8, DI")
    e("\tADDQ R9, SI")
    e("\tDECQ DX")
    e(f"\tJNZ {name}_row8")
    e(f"\tJMP {name}_done")
    e(f"{name}_small:")
    e("\tCMPQ CX, $4")
    e(f"\tJB {name}_tiny")
    e(f"{name}_row4:")
    op("load", 4, "(DI)", "(SI)", "X0")
    op("load", 4, "(DI)(R11*4)", "(SI)(R11*4)", "X1")
    op("store", 4, "(DI)", None, "X0")
    op("store", 4, "(DI)(R11*4)", None, "X1")
    e("\tADDQ R8, DI")
    e("\tADDQ R9, SI")
    e("\tDECQ DX")
    e(f"\tJNZ {name}_row4")
    e(f"\tJMP {name}_done")
    e(f"{name}_tiny:")
    e("\tTESTQ CX, CX")
    e(f"\tJZ {name}_done")
    e(f"{name}_row1:")
    e("\tXORQ AX, AX")
    e(f"{name}_l1:")
    op("load", 1, "(DI)(AX*4)", "(SI)(AX*4)", "X0")
    op("store", 1, "(DI)(AX*4)", None, "X0")
    e("\tINCQ AX")
    e("\tCMPQ AX, CX")
    e(f"\tJB {name}_l1")
    e("\tADDQ R8, DI")
    e("\tADDQ R9, SI")
    e("\tDECQ DX")
    e(f"\tJNZ {name}_row1")
    e(f"{name}_done:")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")

def copy_op(kind, width, d, s, reg):
    mov = {8: "VMOVUPS", 4: "VMOVUPS", 1: "VMOVSS"}[width]
    if kind == "load":
        e(f"\t{mov} {s}, {reg}")
    else:
        e(f"\t{mov} {reg}, {d}")

def add_op(kind, width, d, s, reg):
    if kind == "load":
        if width == 1:
            e(f"\tVMOVSS {d}, {reg}")
            e(f"\tVADDSS {s}, {reg}, {reg}")
        else:
            e(f"\tVMOVUPS {d}, {reg}")
            e(f"\tVADDPS {s}, {reg}, {reg}")
    else:
        e(f"\t{'VMOVSS' if width == 1 else 'VMOVUPS'} {reg}, {d}")

rows_kernel("copyRowsAVX2", "dst[r*ldd+i] = src[r*lds+i] for r < rows, i < n.", copy_op)
rows_kernel("addRowsAVX2", "dst[r*ldd+i] += src[r*lds+i] for r < rows, i < n.", add_op)

# addScalar: dst = src + s
f.func("addScalarAVX2(dst, src *float32, s float32, n int)", [
    "dst[i] = src[i] + s for i < n.",
])
e("\tMOVQ dst+0(FP), DI")
e("\tMOVQ src+8(FP), SI")
e("\tVBROADCASTSS s+16(FP), Y15")
e("\tMOVQ n+24(FP), CX")
e("\tXORQ AX, AX")
e("\tMOVQ CX, BX")
e("\tANDQ $-32, BX")
e("\tJZ as_t8")
e("as_l32:")
for r in range(4):
    e(f"\tVADDPS {32*r}(SI)(AX*4), Y15, Y{r}")
for r in range(4):
    e(f"\tVMOVUPS Y{r}, {32*r}(DI)(AX*4)")
e("\tADDQ $32, AX")
e("\tCMPQ AX, BX")
e("\tJB as_l32")
e("as_t8:")
e("\tMOVQ CX, BX")
e("\tANDQ $-8, BX")
e("\tCMPQ AX, BX")
e("\tJAE as_t1")
e("as_l8:")
e("\tVADDPS (SI)(AX*4), Y15, Y0")
e("\tVMOVUPS Y0, (DI)(AX*4)")
e("\tADDQ $8, AX")
e("\tCMPQ AX, BX")
e("\tJB as_l8")
e("as_t1:")
e("\tCMPQ AX, CX")
e("\tJAE as_done")
e("as_l1:")
e("\tVADDSS (SI)(AX*4), X15, X0")
e("\tVMOVSS X0, (DI)(AX*4)")
e("\tINCQ AX")
e("\tCMPQ AX, CX")
e("\tJB as_l1")
e("as_done:")
e("\tVZEROUPPER")
e("\tRET")
e("")
def simple(name, sig, doc, setup, body8, body1):
    f.func(f"{name}({sig})", [
        doc,
    ])
    setup()
    e("\tXORQ AX, AX")
    e("\tMOVQ CX, BX")
    e("\tANDQ $-8, BX")
    e("\tJZ %s_t1" % name)
    e("%s_l8:" % name)
    body8()
    e("\tADDQ $8, AX")
    e("\tCMPQ AX, BX")
    e("\tJB %s_l8" % name)
    e("%s_t1:" % name)
    e("\tCMPQ AX, CX")
    e("\tJAE %s_done" % name)
    e("%s_l1:" % name)
    body1()
    e("\tINCQ AX")
    e("\tCMPQ AX, CX")
    e("\tJB %s_l1" % name)
    e("%s_done:" % name)
    e("\tVZEROUPPER")
    e("\tRET")
    e("")

def relu_setup():
    e("\tMOVQ dst+0(FP), DI")
    e("\tMOVQ x+8(FP), SI")
    e("\tMOVQ n+16(FP), CX")
    e("\tVXORPS Y15, Y15, Y15")
# VMAXPS returns its second source when either is NaN or both are zero:
# max(0, x) keeps NaN and -0, like the Go reference.
simple("reluAVX2", "dst, x *float32, n int", "dst[i] = 0 if 0 > x[i], else x[i] (NaN and -0 pass).",
    relu_setup,
    lambda: (e("\tVMAXPS (SI)(AX*4), Y15, Y0"), e("\tVMOVUPS Y0, (DI)(AX*4)")),
    lambda: (e("\tVMAXSS (SI)(AX*4), X15, X0"), e("\tVMOVSS X0, (DI)(AX*4)")))

def reluback_setup():
    e("\tMOVQ dst+0(FP), DI")
    e("\tMOVQ dy+8(FP), DX")
    e("\tMOVQ x+16(FP), SI")
    e("\tMOVQ n+24(FP), CX")
    e("\tVXORPS Y15, Y15, Y15")
def rm8():
    e("\tVMOVUPS (SI)(AX*4), Y1")
    e("\tVCMPPS $0x1e, Y15, Y1, Y1")
    e("\tVANDPS (DX)(AX*4), Y1, Y1")
    e("\tVMOVUPS Y1, (DI)(AX*4)")
def rm1():
    e("\tVMOVSS (SI)(AX*4), X1")
    e("\tVCMPSS $0x1e, X15, X1, X1")
    e("\tVMOVSS (DX)(AX*4), X2")
    e("\tVANDPS X2, X1, X1")
    e("\tVMOVSS X1, (DI)(AX*4)")
simple("reluMaskAVX2", "dst, dy, x *float32, n int", "dst[i] = x[i] > 0 ? dy[i] : +0.", reluback_setup, rm8, rm1)

f.write()
