# Generates ../convdw512_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/convdw512.py.
#
# The AVX-512 form of convdw.py's tile of the indirect convolution's weight
# gradient: R×4 sums (R = 1..6 output channels by four rows k of the
# im2col matrix) over the positions of nimg images. dY keeps convdw.py's
# layout (rows of vecs·8 values); a row is read as steps = ⌈vecs/2⌉ vectors
# of 16 positions, the last one loaded with the lane mask K1 (zeroing, so
# that lanes past OutW add nothing even when the padded image holds Inf or
# NaN there, and nothing is read past a row or the buffer's end). Each
# accumulator is a vector of 16 partial sums (lane l: the positions ≡ l mod
# 16 of each row), reduced horizontally in a fixed order (reduce4), the same
# for every R. The 6-row tile keeps 24 accumulators, so that each x vector
# loaded serves six multiply-adds.
from emit import Asm
from emit512 import REDUCE4_LANES, kmask, reduce4
f = Asm("convdw512")
e = f.e
OFF = ["R9", "R10", "R11", "R12"]
# dy row o of the tile: DI plus o·dyCh, with R8 = dyCh, R13 = 3·dyCh, R14 = 5·dyCh.
DYADDR = ["(DI)", "(DI)(R8*1)", "(DI)(R8*2)", "(DI)(R13*1)", "(DI)(R8*4)", "(DI)(R14*1)"]
DYREG, XREG, SCRATCH = 24, 30, 31


def tile(R):
    name = f"convDWTile{R}x4x16"
    f.func(f"{name}(dy *float32, dyCh, dyRowNext, dyNext int, x *float32, xRowNext, xNext int, "
           f"off *int32, rows, steps, mask, nimg int, sums *float32)", [
        "",
        "dy points at output channel 0 of the tile in image 0 (channels dyCh",
        "bytes apart; each image rows rows of steps vectors of 16 values, dyRowNext",
        "bytes from the end of a row's vectors to the next row, dyNext from the",
        "end of an image's rows to the next image); x at image 0's padded copy",
        "(xRowNext and xNext likewise). The last vector of each row is loaded",
        "with the lane mask mask. sums[4*o+c] = Σ dy[o]·x[off[c]], o < " + f"{R}, c < 4.",
    ])
    e(f"\tMOVQ {f.arg('dy')}, DI")
    e(f"\tMOVQ {f.arg('dyCh')}, R8")
    if R > 3:
        e("\tLEAQ (R8)(R8*2), R13")
        e("\tLEAQ (R8)(R8*4), R14")
    e(f"\tMOVQ {f.arg('x')}, SI")
    e(f"\tMOVQ {f.arg('off')}, AX")
    for c in range(4):
        e(f"\tMOVLQSX {4*c}(AX), {OFF[c]}")
    e(f"\tMOVQ {f.arg('mask')}, AX")
    e("\tKMOVW AX, K1")
    e(f"\tMOVQ {f.arg('nimg')}, CX")
    for r in range(4 * R):
        e(f"\tVPXORD Z{r}, Z{r}, Z{r}")

    def step(masked):
        ld = "VMOVUPS.Z" if masked else "VMOVUPS"
        k = "K1, " if masked else ""
        for o in range(R):
            e(f"\t{ld} {DYADDR[o]}, {k}Z{DYREG+o}")
        for c in range(4):
            e(f"\t{ld} (SI)({OFF[c]}*1), {k}Z{XREG}")
            for o in range(R):
                e(f"\tVFMADD231PS Z{XREG}, Z{DYREG+o}, Z{4*o+c}")
        e("\tADDQ $64, DI")
        e("\tADDQ $64, SI")

    e(f"{name}_img:")
    e(f"\tMOVQ {f.arg('rows')}, BX")
    e(f"{name}_row:")
    e(f"\tMOVQ {f.arg('steps')}, AX")
    e("\tDECQ AX")
    e(f"\tJZ {name}_last")
    e(f"{name}_vec:")
    step(False)
    e("\tDECQ AX")
    e(f"\tJNZ {name}_vec")
    e(f"{name}_last:")
    step(True)
    e(f"\tADDQ {f.arg('dyRowNext')}, DI")
    e(f"\tADDQ {f.arg('xRowNext')}, SI")
    e("\tDECQ BX")
    e(f"\tJNZ {name}_row")
    e(f"\tADDQ {f.arg('dyNext')}, DI")
    e(f"\tADDQ {f.arg('xNext')}, SI")
    e("\tDECQ CX")
    e(f"\tJNZ {name}_img")
    e(f"\tMOVQ {f.arg('sums')}, DX")
    kmask(e, 2, REDUCE4_LANES)
    kmask(e, 3, 0xF)
    for o in range(R):  # the four sums of channel o, stored together
        reduce4(e, [4*o + c for c in range(4)], XREG, SCRATCH)
        e(f"\tVCOMPRESSPS Z{4*o}, K2, Z{XREG}")
        e(f"\tVMOVUPS Z{XREG}, K3, {16*o}(DX)")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")


for R in range(1, 7):
    tile(R)
f.write()
