# Generates ../dot_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/dot.py.
#
# Tiles of C = A·Bᵀ + beta·C where A's and B's rows run along the long
# contracted dimension k: each of the R×C accumulators is a vector of 8
# partial sums over k (lane l sums the k ≡ l mod 8 terms of the 8-aligned
# part), reduced horizontally in a fixed order, then the k mod 8 tail is
# added term by term.
from emit import Asm, hsum8
f = Asm("dot")
e = f.e
AREG=["SI","R9","R10"]
BREG=["DI","R11","R12","R13"]
def tile(R, C):
    name=f"dotTile{R}x{C}"
    f.func(f"{name}(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)")
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ lda+16(FP), AX")
    e("\tSHLQ $2, AX")
    for r in range(1,R):
        e(f"\tLEAQ ({AREG[r-1]})(AX*1), {AREG[r]}")
    e("\tMOVQ b+24(FP), DI")
    e("\tMOVQ ldb+32(FP), AX")
    e("\tSHLQ $2, AX")
    for c in range(1,C):
        e(f"\tLEAQ ({BREG[c-1]})(AX*1), {BREG[c]}")
    for r in range(R*C):
        e(f"\tVXORPS Y{r}, Y{r}, Y{r}")
    e("\tMOVQ CX, BX")
    e("\tANDQ $-8, BX")
    e("\tXORQ AX, AX")
    e("\tTESTQ BX, BX")
    e(f"\tJZ {name}_red")
    e(f"{name}_loop:")
    for r in range(R):
        e(f"\tVMOVUPS ({AREG[r]})(AX*4), Y{12+r}")
    for c in range(C):
        e(f"\tVMOVUPS ({BREG[c]})(AX*4), Y15")
        for r in range(R):
            e(f"\tVFMADD231PS Y15, Y{12+r}, Y{r*C+c}")
    e("\tADDQ $8, AX")
    e("\tCMPQ AX, BX")
    e(f"\tJB {name}_loop")
    e(f"{name}_red:")
    # horizontal sums: lanes (0..7) -> ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))
    for r in range(R*C):
        hsum8(e, r)
    # tail
    e("\tCMPQ AX, CX")
    e(f"\tJAE {name}_store")
    e(f"{name}_tail:")
    for r in range(R):
        e(f"\tVMOVSS ({AREG[r]})(AX*4), X{12+r}")
    for c in range(C):
        e(f"\tVMOVSS ({BREG[c]})(AX*4), X15")
        for r in range(R):
            e(f"\tVFMADD231SS X15, X{12+r}, X{r*C+c}")
    e("\tINCQ AX")
    e("\tCMPQ AX, CX")
    e(f"\tJB {name}_tail")
    e(f"{name}_store:")
    e("\tMOVQ c+40(FP), DX")
    e("\tMOVQ ldc+48(FP), AX")
    e("\tSHLQ $2, AX")
    e("\tVMOVSS beta+56(FP), X15")
    e("\tVXORPS X14, X14, X14")
    e("\tVUCOMISS X14, X15")
    e(f"\tJNE {name}_acc")
    e(f"\tJPS {name}_acc")
    for r in range(R):
        for c in range(C):
            e(f"\tVMOVSS X{r*C+c}, {4*c}(DX)")
        if r < R-1:
            e("\tADDQ AX, DX")
    e("\tVZEROUPPER")
    e("\tRET")
    e(f"{name}_acc:")
    for r in range(R):
        for c in range(C):
            e(f"\tVFMADD231SS {4*c}(DX), X15, X{r*C+c}")
            e(f"\tVMOVSS X{r*C+c}, {4*c}(DX)")
        if r < R-1:
            e("\tADDQ AX, DX")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")
ROWS, COLS = (1,2,3), (1,2,3,4)
for R in ROWS:
    for C in COLS:
        tile(R,C)
# GemmNT picks a tile by its shape.
sig = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)"
f.go_both(f"// dotTiles[R-1][C-1] is dotTile{{R}}x{{C}}.\n"
          f"var dotTiles = [{len(ROWS)}][{len(COLS)}]{sig}{{\n" +
          "".join("\t{" + ", ".join(f"dotTile{R}x{C}" for C in COLS) + "},\n" for R in ROWS) +
          "}")
f.write()
