# Generates ../pool512_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/pool512.py.
#
# The AVX-512 form of pool.py's 2×2, stride-2 max pooling of one plane,
# forward and backward, 16 outputs per step. A row's last, partial step
# uses loads and stores masked with K registers, so nothing outside the
# rows is read or written (no spilling into the next rows as pool.py does).
# The results are bitwise pool.py's: the same comparisons in the same
# window order, and the backward pass's single addition per cell.
from emit import Asm
f = Asm("pool512")
e = f.e
# Permutation indices: even and odd lanes of a 32-float pair of registers,
# and the interleaving of two 16-float registers into two (low and high
# halves).
tables = {
    "even": [2 * i for i in range(16)],
    "odd": [2 * i + 1 for i in range(16)],
    "ilo": [i // 2 + 16 * (i % 2) for i in range(16)],
    "ihi": [8 + i // 2 + 16 * (i % 2) for i in range(16)],
}
for name, vals in tables.items():
    for i, v in enumerate(vals):
        e(f"DATA pool512{name}<>+{4*i}(SB)/4, ${v}")
    e(f"GLOBL pool512{name}<>(SB), RODATA|NOPTR, $64")
e("")
EVEN, ODD, ONE, W, W1 = 31, 30, 28, 27, 26


def consts():
    # Z31 even lanes (also 2·lane, the column of each output's first cell),
    # Z30 odd lanes, Z28 = 1, Z27 = W, Z26 = W+1 (int32).
    e("\tVMOVDQU32 pool512even<>(SB), Z31")
    e("\tVMOVDQU32 pool512odd<>(SB), Z30")
    e("\tMOVL $1, R11")
    e("\tVPBROADCASTD R11, Z28")
    e("\tVPBROADCASTD R8, Z27")
    e("\tLEAQ 1(R8), R11")
    e("\tVPBROADCASTD R11, Z26")


def tail_masks():
    # CX = outW: K5 = the outW mod 16 lanes of a row's last outputs, K6 and
    # K7 those of its input cells (twice as many, over two registers).
    e("\tANDQ $15, CX")
    e("\tMOVL $1, AX")
    e("\tSHLL CX, AX")
    e("\tDECL AX")
    e("\tKMOVW AX, K5")
    e("\tSHLQ $1, CX")
    e("\tMOVQ $1, AX")
    e("\tSHLQ CX, AX")
    e("\tDECQ AX")
    e("\tKMOVW AX, K6")
    e("\tSHRQ $16, AX")
    e("\tKMOVW AX, K7")
    e(f"\tMOVQ {f.arg('outW')}, CX")


def row_loop(name, body):
    # For each row pair: full steps of 16 outputs at AX = 0, 16, ..., then a
    # masked step for the rest. SI: row 2oh of x, BX: row 2oh+1, R10: 2oh·w.
    e("\tXORQ R10, R10")
    e("\tTESTQ R9, R9")
    e(f"\tJZ {name}_done")
    e(f"{name}_row:")
    e("\tLEAQ (SI)(R8*4), BX")
    e("\tXORQ AX, AX")
    e(f"{name}_blk:")
    e("\tLEAQ 16(AX), R11")
    e("\tCMPQ R11, CX")
    e(f"\tJA {name}_tail")
    body(False)
    e("\tADDQ $16, AX")
    e(f"\tJMP {name}_blk")
    e(f"{name}_tail:")
    e("\tCMPQ AX, CX")
    e(f"\tJAE {name}_next")
    body(True)
    e(f"{name}_next:")
    row_next(name)
    e("\tLEAQ (SI)(R8*8), SI")
    e("\tLEAQ (R10)(R8*2), R10")
    e("\tDECQ R9")
    e(f"\tJNZ {name}_row")
    e(f"{name}_done:")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")


def cell_base():
    # Z9 = the index in the plane of each output's first cell: 2oh·w + 2ow.
    e("\tLEAQ (R10)(AX*2), R11")
    e("\tVPBROADCASTD R11, Z9")
    e(f"\tVPADDD Z{EVEN}, Z9, Z9")


# ---- forward
f.func("maxPool2AVX512(y *float32, arg *int32, x *float32, w, outW, rows int)", [
    "",
    "maxPool2AVX2's results: for oh < rows, ow < outW, y[oh*outW+ow] is the",
    "maximum of x[(2oh+dh)*w + 2ow+dw], dh, dw in {0, 1}, in row-major window",
    "order (ties keep the first; a NaN wins, the first NaN), and arg its index",
    "(2oh+dh)*w + 2ow+dw (not written when arg is nil). 2*outW <= w.",
])
e(f"\tMOVQ {f.arg('y')}, DI")
e(f"\tMOVQ {f.arg('arg')}, DX")
e(f"\tMOVQ {f.arg('x')}, SI")
e(f"\tMOVQ {f.arg('w')}, R8")
e(f"\tMOVQ {f.arg('outW')}, CX")
e(f"\tMOVQ {f.arg('rows')}, R9")
consts()
tail_masks()


def fwd(masked):
    def ld(off, base, k, reg):
        if masked:
            e(f"\tVMOVUPS.Z {off}({base})(AX*8), {k}, Z{reg}")
        else:
            e(f"\tVMOVUPS {off}({base})(AX*8), Z{reg}")
    ld("", "SI", "K6", 0)
    ld("64", "SI", "K7", 1)
    ld("", "BX", "K6", 2)
    ld("64", "BX", "K7", 3)
    # Window order: Z4 (2oh, 2ow), Z5 (2oh, 2ow+1), Z6 (2oh+1, 2ow), Z7 (2oh+1, 2ow+1).
    for dst, idx, lo, hi in ((4, EVEN, 0, 1), (5, ODD, 0, 1), (6, EVEN, 2, 3), (7, ODD, 2, 3)):
        e(f"\tVMOVDQA32 Z{idx}, Z{dst}")
        e(f"\tVPERMI2PS Z{hi}, Z{lo}, Z{dst}")
    # A later cell wins where it is above the earlier or NaN, unless the
    # earlier is NaN: K = ordered(earlier) & !(later <= earlier). Taken as a
    # tournament, each row's pair and then the two winners, which picks the
    # cell the row-major scan picks (the first maximum, the first NaN) with
    # a shorter chain of dependent comparisons.
    def duel(first, later, k, km):
        e(f"\tVCMPPS $7, Z{first}, Z{first}, {km}")
        e(f"\tVCMPPS $6, Z{first}, Z{later}, {km}, {k}")
        e(f"\tVMOVAPS Z{later}, {k}, Z{first}")
    e("\tVPXORD Z8, Z8, Z8")
    duel(4, 5, "K2", "K1")
    e(f"\tVMOVDQA32 Z{W}, Z10")
    duel(6, 7, "K3", "K4")
    e(f"\tVMOVDQA32 Z{ONE}, K2, Z8")  # Z8: the first pair's winner's offset
    e(f"\tVMOVDQA32 Z{W1}, K3, Z10")  # Z10: the second's
    duel(4, 6, "K2", "K1")
    e("\tVMOVDQA32 Z10, K2, Z8")
    if masked:
        e("\tVMOVUPS Z4, K5, (DI)(AX*4)")
    else:
        e("\tVMOVUPS Z4, (DI)(AX*4)")
    skip = "mpf5_noarg_m" if masked else "mpf5_noarg"
    e("\tTESTQ DX, DX")
    e(f"\tJZ {skip}")
    cell_base()
    e("\tVPADDD Z9, Z8, Z8")
    if masked:
        e("\tVMOVDQU32 Z8, K5, (DX)(AX*4)")
    else:
        e("\tVMOVDQU32 Z8, (DX)(AX*4)")
    e(f"{skip}:")


def row_next(name):
    e("\tLEAQ (DI)(CX*4), DI")
    if name == "mpf5":
        e("\tTESTQ DX, DX")
        e("\tJZ mpf5_rownoarg")
        e("\tLEAQ (DX)(CX*4), DX")
        e("mpf5_rownoarg:")
    else:
        e("\tLEAQ (DX)(CX*4), DX")


row_loop("mpf5", fwd)

# ---- backward
f.func("maxPool2BackAVX512(dx, dy *float32, arg *int32, w, outW, rows, assign int)", [
    "",
    "maxPool2BackAVX2's results: for oh < rows, ow < outW, it adds",
    "dy[oh*outW+ow] into dx[arg[oh*outW+ow]] when arg is one of the window's",
    "cells, and +0 into the window's other cells; with assign != 0 it sets",
    "the window's cells instead (every cell of dx in a window).",
])
e(f"\tMOVQ {f.arg('dx')}, SI")
e(f"\tMOVQ {f.arg('dy')}, DI")
e(f"\tMOVQ {f.arg('arg')}, DX")
e(f"\tMOVQ {f.arg('w')}, R8")
e(f"\tMOVQ {f.arg('outW')}, CX")
e(f"\tMOVQ {f.arg('rows')}, R9")
consts()
e("\tVMOVDQU32 pool512ilo<>(SB), Z25")
e("\tVMOVDQU32 pool512ihi<>(SB), Z24")
e(f"\tMOVQ {f.arg('assign')}, R13")
tail_masks()


def back(masked):
    if masked:
        e("\tVMOVUPS.Z (DI)(AX*4), K5, Z0")
        e("\tVMOVDQU32.Z (DX)(AX*4), K5, Z1")
    else:
        e("\tVMOVUPS (DI)(AX*4), Z0")
        e("\tVMOVDQU32 (DX)(AX*4), Z1")
    cell_base()
    e("\tVPSUBD Z9, Z1, Z1")  # the winner's offset within its window
    # Each window cell's share: dy where the offset names it, else +0.
    e("\tVPXORD Z9, Z9, Z9")
    for k, (reg, off) in enumerate(((4, 9), (5, ONE), (6, W), (7, W1))):
        e(f"\tVPCMPEQD Z{off}, Z1, K{k+1}")
        e(f"\tVMOVAPS.Z Z0, K{k+1}, Z{reg}")
    # Interleave the even and odd cells of each row: Z10, Z11 row 2oh; Z12, Z13 row 2oh+1.
    for dst, idx, ev, od in ((10, 25, 4, 5), (11, 24, 4, 5), (12, 25, 6, 7), (13, 24, 6, 7)):
        e(f"\tVMOVDQA32 Z{idx}, Z{dst}")
        e(f"\tVPERMI2PS Z{od}, Z{ev}, Z{dst}")
    lbl = "mpb5_set_m" if masked else "mpb5_set"
    e("\tTESTQ R13, R13")
    e(f"\tJNZ {lbl}")
    for reg, off, base, k in ((10, "", "SI", "K6"), (11, "64", "SI", "K7"), (12, "", "BX", "K6"), (13, "64", "BX", "K7")):
        if masked:
            e(f"\tVMOVUPS.Z {off}({base})(AX*8), {k}, Z14")
            e(f"\tVADDPS Z14, Z{reg}, Z{reg}")
        else:
            e(f"\tVADDPS {off}({base})(AX*8), Z{reg}, Z{reg}")
    e(f"{lbl}:")
    for reg, off, base, k in ((10, "", "SI", "K6"), (11, "64", "SI", "K7"), (12, "", "BX", "K6"), (13, "64", "BX", "K7")):
        if masked:
            e(f"\tVMOVUPS Z{reg}, {k}, {off}({base})(AX*8)")
        else:
            e(f"\tVMOVUPS Z{reg}, {off}({base})(AX*8)")


row_loop("mpb5", back)
f.write()
