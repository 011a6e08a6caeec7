# Generates ../vec_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/vec.py.
from emit import Asm
f = Asm("vec")
e = f.e
e("// Elementwise kernels process 32, then 8, then 1 element per step. Each")
e("// element gets exactly the operations of the pure-Go loop (no FMA), so")
e("// both builds give bitwise equal results.")
def loops(name, body32, body8, body1, n_reg="CX"):
    e(f"\tXORQ AX, AX")
    e(f"\tMOVQ {n_reg}, BX")
    e(f"\tANDQ $-32, BX")
    e(f"\tJZ {name}_tail8")
    e(f"{name}_loop32:")
    body32()
    e(f"\tADDQ $32, AX")
    e(f"\tCMPQ AX, BX")
    e(f"\tJB {name}_loop32")
    e(f"{name}_tail8:")
    e(f"\tMOVQ {n_reg}, BX")
    e(f"\tANDQ $-8, BX")
    e(f"\tCMPQ AX, BX")
    e(f"\tJAE {name}_tail1")
    e(f"{name}_loop8:")
    body8()
    e(f"\tADDQ $8, AX")
    e(f"\tCMPQ AX, BX")
    e(f"\tJB {name}_loop8")
    e(f"{name}_tail1:")
    e(f"\tCMPQ AX, {n_reg}")
    e(f"\tJAE {name}_done")
    e(f"{name}_loop1:")
    body1()
    e(f"\tINCQ AX")
    e(f"\tCMPQ AX, {n_reg}")
    e(f"\tJB {name}_loop1")
    e(f"{name}_done:")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")

for op in ["ADD","SUB","MUL","DIV"]:
    nm=op.lower()+"AVX2"
    f.func(f"{nm}(dst, a, b *float32, n int)")
    e("\tMOVQ dst+0(FP), DI")
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ b+16(FP), DX")
    e("\tMOVQ n+24(FP), CX")
    def b32(op=op):
        for r in range(4):
            e(f"\tVMOVUPS {32*r}(SI)(AX*4), Y{r}")
        for r in range(4):
            e(f"\tV{op}PS {32*r}(DX)(AX*4), Y{r}, Y{r}")
        for r in range(4):
            e(f"\tVMOVUPS Y{r}, {32*r}(DI)(AX*4)")
    def b8(op=op):
        e(f"\tVMOVUPS (SI)(AX*4), Y0")
        e(f"\tV{op}PS (DX)(AX*4), Y0, Y0")
        e(f"\tVMOVUPS Y0, (DI)(AX*4)")
    def b1(op=op):
        e(f"\tVMOVSS (SI)(AX*4), X0")
        e(f"\tV{op}SS (DX)(AX*4), X0, X0")
        e(f"\tVMOVSS X0, (DI)(AX*4)")
    loops(op.lower(), b32, b8, b1)

f.func("scaleAVX2(alpha float32, x *float32, n int)")
e("\tVBROADCASTSS alpha+0(FP), Y15")
e("\tMOVQ x+8(FP), SI")
e("\tMOVQ n+16(FP), CX")
def s32():
    for r in range(4):
        e(f"\tVMULPS {32*r}(SI)(AX*4), Y15, Y{r}")
    for r in range(4):
        e(f"\tVMOVUPS Y{r}, {32*r}(SI)(AX*4)")
def s8():
    e("\tVMULPS (SI)(AX*4), Y15, Y0")
    e("\tVMOVUPS Y0, (SI)(AX*4)")
def s1():
    e("\tVMULSS (SI)(AX*4), X15, X0")
    e("\tVMOVSS X0, (SI)(AX*4)")
loops("scale", s32, s8, s1)

# reductions: 16 float64 lanes in Y0..Y3 (element i of each 16-block to lane i),
# tail summed in order into X8; result = ((l0+l2)+(l1+l3)) over the combined lanes... see sum64Go
for nm, dot in [("sumAVX2", False), ("dotAVX2", True)]:
    if dot:
        f.func("dotAVX2(x, y *float32, n int) float64")
        e("\tMOVQ x+0(FP), SI")
        e("\tMOVQ y+8(FP), DX")
        e("\tMOVQ n+16(FP), CX")
    else:
        f.func("sumAVX2(x *float32, n int) float64")
        e("\tMOVQ x+0(FP), SI")
        e("\tMOVQ n+8(FP), CX")
    for r in range(4):
        e(f"\tVXORPD Y{r}, Y{r}, Y{r}")
    e("\tVXORPD X8, X8, X8")
    e("\tXORQ AX, AX")
    e("\tMOVQ CX, BX")
    e("\tANDQ $-16, BX")
    e(f"\tJZ {nm}_tail")
    e(f"{nm}_loop16:")
    for r in range(4):
        e(f"\tVCVTPS2PD {16*r}(SI)(AX*4), Y{4+r}")
    if dot:
        for r in range(4):
            e(f"\tVCVTPS2PD {16*r}(DX)(AX*4), Y{9+r}")
        for r in range(4):
            # product of two float32s is exact in float64, so FMA equals mul+add
            e(f"\tVFMADD231PD Y{9+r}, Y{4+r}, Y{r}")
    else:
        for r in range(4):
            e(f"\tVADDPD Y{4+r}, Y{r}, Y{r}")
    e("\tADDQ $16, AX")
    e("\tCMPQ AX, BX")
    e(f"\tJB {nm}_loop16")
    e(f"{nm}_tail:")
    e("\tCMPQ AX, CX")
    e(f"\tJAE {nm}_reduce")
    e(f"{nm}_loop1:")
    e("\tVCVTSS2SD (SI)(AX*4), X9, X9")
    if dot:
        e("\tVCVTSS2SD (DX)(AX*4), X10, X10")
        e("\tVMULSD X10, X9, X9")
    e("\tVADDSD X9, X8, X8")
    e("\tINCQ AX")
    e("\tCMPQ AX, CX")
    e(f"\tJB {nm}_loop1")
    e(f"{nm}_reduce:")
    # lanes: acc[r*4+l]; combine (Y0+Y1)+(Y2+Y3) lane-wise, then (l0+l2)+(l1+l3), then + tail
    e("\tVADDPD Y1, Y0, Y0")
    e("\tVADDPD Y3, Y2, Y2")
    e("\tVADDPD Y2, Y0, Y0")
    e("\tVEXTRACTF128 $1, Y0, X1")
    e("\tVADDPD X1, X0, X0")
    e("\tVUNPCKHPD X0, X0, X1")
    e("\tVADDSD X1, X0, X0")
    e("\tVADDSD X8, X0, X0")
    e(f"\tVMOVSD X0, {f.arg('ret')}")
    e("\tVZEROUPPER")
    e("\tRET")
    if not dot:
        e("")  # between the functions; the file ends at dotAVX2's RET
f.write()
