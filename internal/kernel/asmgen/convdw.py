# Generates ../convdw_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/convdw.py.
#
# The weight gradient of an indirect convolution (see convindirect.go): a 3×4
# tile of dW, three output channels by four rows k of the im2col matrix, each
# summed over the positions of nimg images without building that matrix. Row
# k of an image is read from its zero-padded copy at byte offset off[k],
# row by row of the output: vecs vectors of 8 positions per output row, the
# last one ANDed with mask so that positions past OutW add nothing even when
# the padded image holds Inf or NaN there (dY is zero at those positions).
# Each of the 12 accumulators is a vector of 8 partial sums, reduced
# horizontally in a fixed order at the end.
from emit import Asm, hsum8
f = Asm("convdw")
e = f.e
OFF=["R9","R10","R11","R12"]
f.func("convDWTile3x4(dy *float32, dyCh, dyNext int, x *float32, xRowNext, xNext int, off *int32, rows, vecs int, mask *float32, nimg int, sums *float32)", [
    "",
    "dy points at output channel 0 of the tile in image 0 (rows of vecs·8",
    "values, channels dyCh bytes apart, images one after the other with dyNext",
    "bytes between the end of one's rows and the start of the next); x at",
    "image 0's padded copy (xRowNext bytes from the end of a row's vectors to",
    "the next row, xNext from the end of an image's rows to the next image).",
    "sums[4*o+c] = Σ dy[o]·x[off[c]], o < 3, c < 4.",
])
e("\tMOVQ dy+0(FP), DI")
e("\tMOVQ dyCh+8(FP), R8")
e("\tMOVQ x+24(FP), SI")
e("\tMOVQ off+48(FP), AX")
for c in range(4):
    e(f"\tMOVLQSX {4*c}(AX), {OFF[c]}")
e("\tMOVQ mask+72(FP), DX")
e("\tMOVQ nimg+80(FP), CX")
for r in range(12):
    e(f"\tVXORPS Y{r}, Y{r}, Y{r}")
def step(masked):
    e("\tVMOVUPS (DI), Y12")
    e("\tVMOVUPS (DI)(R8*1), Y13")
    e("\tVMOVUPS (DI)(R8*2), Y14")
    for c in range(4):
        e(f"\tVMOVUPS (SI)({OFF[c]}*1), Y15")
        if masked:
            e("\tVANDPS (DX), Y15, Y15")
        for o in range(3):
            e(f"\tVFMADD231PS Y15, Y{12+o}, Y{4*o+c}")
    e("\tADDQ $32, DI")
    e("\tADDQ $32, SI")
e("img:")
e("\tMOVQ rows+56(FP), BX")
e("row:")
e("\tMOVQ vecs+64(FP), AX")
e("\tDECQ AX")
e("\tJZ last")
e("vec:")
step(False)
e("\tDECQ AX")
e("\tJNZ vec")
e("last:")
step(True)
e("\tADDQ xRowNext+32(FP), SI")
e("\tDECQ BX")
e("\tJNZ row")
e("\tADDQ dyNext+16(FP), DI")
e("\tADDQ xNext+40(FP), SI")
e("\tDECQ CX")
e("\tJNZ img")
# horizontal sums: lanes (0..7) -> ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), as dot.py
e("\tMOVQ sums+88(FP), DX")
for r in range(12):
    hsum8(e, r)
    e(f"\tVMOVSS X{r}, {4*r}(DX)")
e("\tVZEROUPPER")
e("\tRET")
f.write()
