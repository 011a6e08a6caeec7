# Generates ../dot512_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/dot512.py.
#
# The AVX-512 form of dot.py's tiles of C = A·Bᵀ + beta·C (GemmNT): up to
# 4 rows of A by 6 rows of B, each of the R×C accumulators a vector of 16
# partial sums over k (lane l sums the k ≡ l mod 16 terms); the k mod 16
# tail is one more step with loads masked by K1, so it lands in the lanes
# too, and the masked loads read nothing past a row. The accumulators are
# reduced four at a time in a fixed order (reduce4) and a row's sums stored
# (or added to beta·C, beta != 0) with masked stores.
from emit import Asm
from emit512 import REDUCE4_LANES, kmask, reduce4
f = Asm("dot512")
e = f.e
ROWS, COLS = (1, 2, 3, 4), (1, 2, 3, 4, 5, 6)
# Row r of A at SI plus r·lda (R9 = lda, R10 = 3·lda), row c of B at DI plus
# c·ldb (R8 = ldb, R13 = 3·ldb, R14 = 5·ldb); both pointers advance along k.
AADDR = ["(SI)", "(SI)(R9*1)", "(SI)(R9*2)", "(SI)(R10*1)"]
BADDR = ["(DI)", "(DI)(R8*1)", "(DI)(R8*2)", "(DI)(R13*1)", "(DI)(R8*4)", "(DI)(R14*1)"]
AREG = 24  # A's rows in Z24..Z27, B's in Z28; Z29..Z31 scratch
BREG, T, U, BETA = 28, 29, 30, 31


def tile(R, C):
    name = f"dotTile{R}x{C}x16"
    f.func(f"{name}(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)")
    acc = lambda r, c: r * C + c
    e(f"\tMOVQ {f.arg('k')}, CX")
    e(f"\tMOVQ {f.arg('a')}, SI")
    e(f"\tMOVQ {f.arg('lda')}, R9")
    e("\tSHLQ $2, R9")
    if R > 3:
        e("\tLEAQ (R9)(R9*2), R10")
    e(f"\tMOVQ {f.arg('b')}, DI")
    e(f"\tMOVQ {f.arg('ldb')}, R8")
    e("\tSHLQ $2, R8")
    if C > 3:
        e("\tLEAQ (R8)(R8*2), R13")
    if C > 5:
        e("\tLEAQ (R8)(R8*4), R14")
    for r in range(R * C):
        e(f"\tVPXORD Z{r}, Z{r}, Z{r}")
    # K1: the lanes of the k mod 16 tail.
    e("\tMOVQ CX, BX")
    e("\tANDQ $15, CX")
    e("\tMOVL $1, AX")
    e("\tSHLL CX, AX")
    e("\tDECL AX")
    e("\tKMOVW AX, K1")
    e("\tSHRQ $4, BX")
    e(f"\tJZ {name}_tail")

    def step(masked):
        ld = "VMOVUPS.Z" if masked else "VMOVUPS"
        k = "K1, " if masked else ""
        for r in range(R):
            e(f"\t{ld} {AADDR[r]}, {k}Z{AREG+r}")
        for c in range(C):
            e(f"\t{ld} {BADDR[c]}, {k}Z{BREG}")
            for r in range(R):
                e(f"\tVFMADD231PS Z{BREG}, Z{AREG+r}, Z{acc(r, c)}")

    e(f"{name}_loop:")
    step(False)
    e("\tADDQ $64, SI")
    e("\tADDQ $64, DI")
    e("\tDECQ BX")
    e(f"\tJNZ {name}_loop")
    e(f"{name}_tail:")
    e("\tTESTQ CX, CX")
    e(f"\tJZ {name}_reduce")
    step(True)
    e(f"{name}_reduce:")
    # Each row's sums, in groups of four columns, end compressed in the group's
    # first accumulator.
    groups = [list(range(g, min(g + 4, C))) for g in range(0, C, 4)]
    kmask(e, 2, REDUCE4_LANES)
    for r in range(R):
        for cols in groups:
            reduce4(e, [acc(r, c) for c in cols], T, U)
            e(f"\tVCOMPRESSPS Z{acc(r, cols[0])}, K2, Z{acc(r, cols[0])}")
    # K3: a group of four columns, K4: the last group's.
    kmask(e, 3, 0xF)
    kmask(e, 4, (1 << len(groups[-1])) - 1)
    e(f"\tMOVQ {f.arg('c')}, DX")
    e(f"\tMOVQ {f.arg('ldc')}, R9")
    e("\tSHLQ $2, R9")
    e(f"\tVBROADCASTSS {f.arg('beta')}, Z{BETA}")
    e(f"\tVPXORD Z{T}, Z{T}, Z{T}")
    e(f"\tVCMPPS $4, Z{T}, Z{BETA}, K5")  # beta != 0 (NEQ_UQ: NaN too)
    e("\tKORTESTW K5, K5")
    e(f"\tJNZ {name}_acc")
    for beta in (False, True):
        if beta:
            e(f"{name}_acc:")
        for r in range(R):
            for g, cols in enumerate(groups):
                km = "K3" if g < len(groups) - 1 else "K4"
                s = acc(r, cols[0])
                if beta:
                    e(f"\tVMOVUPS.Z {16*g}(DX), {km}, Z{T}")
                    e(f"\tVFMADD231PS Z{T}, Z{BETA}, Z{s}")
                e(f"\tVMOVUPS Z{s}, {km}, {16*g}(DX)")
            if r < R - 1:
                e("\tADDQ R9, DX")
        e("\tVZEROUPPER")
        e("\tRET")
    e("")


for R in ROWS:
    for C in COLS:
        tile(R, C)
sig = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, beta float32)"
f.go_both(f"// dot512Tiles[R-1][C-1] is dotTile{{R}}x{{C}}x16.\n"
          f"var dot512Tiles = [{len(ROWS)}][{len(COLS)}]{sig}{{\n" +
          "".join("\t{" + ", ".join(f"dotTile{R}x{C}x16" for C in COLS) + "},\n" for R in ROWS) +
          "}")
f.write()
