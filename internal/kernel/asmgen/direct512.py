# Generates ../direct512_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/direct512.py.
#
# A direct convolution for short reductions (K = InC·KH·KW below
# indirectMinK): indirectConv's layout (a zero-padded image, and the byte
# offset of each tap (c, i, j) in it) without its per-position bookkeeping.
# One call computes one 6-row panel of packed weights against a whole image:
# for each output row, 32 columns at a time (two zmm, masked at the row's
# end), every output is one accumulator summed over p = 0..k-1 in order with
# FMAs from +0, then multiplied by alpha: the arithmetic of gemm512Kernel6x32
# with beta = 0, so the result is bitwise the im2col path's.
from emit import Asm
f = Asm("direct512")
e = f.e

f.func("convDirect512(k int, a *float32, off *int32, xp *float32, wp int, c *float32, ldc, outH, outW, rows int, alpha float32)", [
    "",
    "For oh < outH, ow < outW and r < rows: c[r*ldc + oh*outW + ow] =",
    "alpha * Σ_{p<k} a[6p+r] * xp[oh*wp + ow + off[p]/4], the sum taken in p order",
    "with FMAs from +0. a is one packed 6-row panel (k steps of 6), off holds",
    "byte offsets; xp is read only at the columns below outW (plus offsets).",
    "k, outH, outW ≥ 1; 1 ≤ rows ≤ 6.",
])
e(f"\tMOVQ {f.arg('xp')}, R11")   # padded row oh
e(f"\tMOVQ {f.arg('c')}, R12")    # output row oh of channel 0
e(f"\tMOVQ {f.arg('ldc')}, R8")
e("\tSHLQ $2, R8")
e(f"\tMOVQ {f.arg('outH')}, R13")  # rows left
e(f"\tVBROADCASTSS {f.arg('alpha')}, Z30")
e("row:")
e("\tXORQ DX, DX")                 # c0, the block's first column
e("blk:")
# K1, K2: the columns c0..c0+15 and c0+16..c0+31 below outW.
e(f"\tMOVQ {f.arg('outW')}, AX")
e("\tSUBQ DX, AX")
e("\tMOVL $0xFFFF, BX")
e("\tKMOVW BX, K1")
e("\tKMOVW BX, K2")
e("\tCMPQ AX, $32")
e("\tJGE masked")
e("\tMOVQ AX, CX")
e("\tMOVQ $1, BX")
e("\tSHLQ CX, BX")
e("\tDECQ BX")
e("\tKMOVW BX, K1")
e("\tSHRQ $16, BX")
e("\tKMOVW BX, K2")
e("masked:")
for r in range(12):
    e(f"\tVPXORD Z{r}, Z{r}, Z{r}")
e(f"\tMOVQ {f.arg('k')}, CX")
e(f"\tMOVQ {f.arg('a')}, SI")
e(f"\tMOVQ {f.arg('off')}, R9")
e("\tLEAQ (R11)(DX*4), DI")
e("kloop:")
e("\tMOVLQSX (R9), R10")
e("\tVMOVUPS.Z (DI)(R10*1), K1, Z12")
e("\tVMOVUPS.Z 64(DI)(R10*1), K2, Z13")
for i in range(6):
    b = 16 + (i & 3)
    e(f"\tVBROADCASTSS {4*i}(SI), Z{b}")
    e(f"\tVFMADD231PS Z12, Z{b}, Z{2*i}")
    e(f"\tVFMADD231PS Z13, Z{b}, Z{2*i+1}")
e("\tADDQ $24, SI")
e("\tADDQ $4, R9")
e("\tDECQ CX")
e("\tJNZ kloop")
e(f"\tMOVQ {f.arg('rows')}, CX")
e("\tLEAQ (R12)(DX*4), BX")
for i in range(6):
    e(f"\tVMULPS Z30, Z{2*i}, Z{2*i}")
    e(f"\tVMULPS Z30, Z{2*i+1}, Z{2*i+1}")
    e(f"\tVMOVUPS Z{2*i}, K1, (BX)")
    e(f"\tVMOVUPS Z{2*i+1}, K2, 64(BX)")
    if i < 5:
        e(f"\tCMPQ CX, ${i+1}")
        e("\tJLE stored")
        e("\tADDQ R8, BX")
e("stored:")
e("\tADDQ $32, DX")
e(f"\tCMPQ DX, {f.arg('outW')}")
e("\tJLT blk")
e(f"\tMOVQ {f.arg('wp')}, AX")
e("\tLEAQ (R11)(AX*4), R11")
e(f"\tMOVQ {f.arg('outW')}, AX")
e("\tLEAQ (R12)(AX*4), R12")
e("\tDECQ R13")
e("\tJNZ row")
e("\tVZEROUPPER")
e("\tRET")
e("")

# ---- weight gradient
f.func("convDWDirect512(k int, off *int32, xp *float32, wp int, dy *float32, lddy, outH, outW, rows int, acc *float32, tail int)", [
    "",
    "For r < rows and p < k: acc[(r*k+p)*16 + l] += the lane-l partial sum of",
    "Σ_{oh<outH, ow<outW} dy[r*lddy + oh*outW + ow] * xp[oh*wp + ow + off[p]/4],",
    "each output row taken 32 columns at a time (two zmm, masked at the row's",
    "end) and column ow of a block in lane ow mod 16: a fixed order that",
    "depends only on the shapes. Taps run three at a time (k a multiple of 3;",
    "off holds byte offsets), against up to 6 channels of dy: 18 accumulators.",
    "tail masks a row's last block: bit j for column 32⌊(outW-1)/32⌋ + j.",
    "k, outH, outW ≥ 1; 1 ≤ rows ≤ 6.",
])
e(f"\tMOVQ {f.arg('off')}, R9")     # the group's first tap
e(f"\tMOVQ {f.arg('acc')}, SI")     # acc of the group's first tap, channel 0
e(f"\tMOVQ {f.arg('lddy')}, R8")
e("\tSHLQ $2, R8")
e(f"\tMOVQ {f.arg('k')}, R10")
e("\tSHLQ $6, R10")                 # bytes between channels in acc
e(f"\tMOVQ {f.arg('rows')}, R14")
e("grp:")
for r in range(18):
    e(f"\tVPXORD Z{r}, Z{r}, Z{r}")
e("\tMOVLQSX (R9), AX")
e("\tMOVLQSX 4(R9), BX")
e("\tMOVLQSX 8(R9), CX")
e(f"\tMOVQ {f.arg('xp')}, R11")
e("\tADDQ R11, AX")                 # AX, BX, CX: the three taps' padded rows
e("\tADDQ R11, BX")
e("\tADDQ R11, CX")
e(f"\tMOVQ {f.arg('dy')}, R12")     # dy row oh, channel 0
e(f"\tMOVQ {f.arg('outH')}, R13")
e("drow:")
e("\tXORQ DX, DX")
e("dblk:")
e(f"\tMOVQ {f.arg('outW')}, DI")
e("\tSUBQ DX, DI")
e("\tMOVL $0xFFFF, R11")
e("\tKMOVW R11, K1")
e("\tKMOVW R11, K2")
e("\tCMPQ DI, $32")
e("\tJGE dmasked")
e(f"\tMOVQ {f.arg('tail')}, R11")
e("\tKMOVW R11, K1")
e("\tSHRQ $16, R11")
e("\tKMOVW R11, K2")
e("dmasked:")
for t, base in enumerate(("AX", "BX", "CX")):
    e(f"\tVMOVUPS.Z ({base})(DX*4), K1, Z{18+2*t}")
    e(f"\tVMOVUPS.Z 64({base})(DX*4), K2, Z{19+2*t}")
e("\tLEAQ (R12)(DX*4), DI")
for o in range(6):
    e("\tVMOVUPS.Z (DI), K1, Z24")
    e("\tVMOVUPS.Z 64(DI), K2, Z25")
    for t in range(3):
        e(f"\tVFMADD231PS Z24, Z{18+2*t}, Z{3*o+t}")
        e(f"\tVFMADD231PS Z25, Z{19+2*t}, Z{3*o+t}")
    if o < 5:
        e(f"\tCMPQ R14, ${o+1}")
        e("\tJLE dchans")
        e("\tADDQ R8, DI")
e("dchans:")
e("\tADDQ $32, DX")
e(f"\tCMPQ DX, {f.arg('outW')}")
e("\tJLT dblk")
e(f"\tMOVQ {f.arg('wp')}, DI")
e("\tSHLQ $2, DI")
e("\tADDQ DI, AX")
e("\tADDQ DI, BX")
e("\tADDQ DI, CX")
e(f"\tMOVQ {f.arg('outW')}, DI")
e("\tLEAQ (R12)(DI*4), R12")
e("\tDECQ R13")
e("\tJNZ drow")
# acc += the group's sums, for the rows channels.
e("\tMOVQ SI, DI")
for o in range(6):
    for t in range(3):
        e(f"\tVADDPS {64*t}(DI), Z{3*o+t}, Z{3*o+t}")
        e(f"\tVMOVUPS Z{3*o+t}, {64*t}(DI)")
    if o < 5:
        e(f"\tCMPQ R14, ${o+1}")
        e("\tJLE dstored")
        e("\tADDQ R10, DI")
e("dstored:")
e("\tADDQ $12, R9")
e("\tADDQ $192, SI")
e(f"\tSUBQ $3, {f.arg('k')}")
e("\tJGT grp")
e("\tVZEROUPPER")
e("\tRET")
f.write()
