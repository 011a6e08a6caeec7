# Generates ../gemm512_amd64.s and its Go declarations and stubs (see emit.py):
# the AVX-512 forms of gemm.py's micro-kernels. Run by go generate in the
# kernel directory; by hand: python3 asmgen/gemm512.py.
#
# A packed B row of nr = 16 floats is one zmm, so a 6×16 tile has only six
# accumulators: too few to keep two FMA pipes busy through the FMA latency.
# The kernels that matter therefore compute two tiles at once, sharing the A
# values (two panels of B: gemm512Kernel6x32, which the macro loop calls once
# per pair of column panels for all row panels, and gemm512Indirect{R}x32,
# two output positions of a convolution) or the B row (two panels of A:
# gemm512Panels, 12×16, for a column panel left alone). Every C element is
# still one accumulator summed over p = 0..k-1 in order with FMAs, scaled by
# alpha and then FMA'd with beta*C, exactly as gemm.py's kernels do it, so the
# results are bitwise those of the AVX2 kernels.
#
# Registers: accumulators Z0..Z11 (Z0..Z21 in the indirect pair kernels),
# B rows Z12..Z15 (Z22, Z23), A broadcasts Z16..Z19 (Z24..Z27), alpha Z30,
# beta Z31.
from emit import Asm
f = Asm("gemm512")
e = f.e


def zero(n):
    for r in range(n):
        e(f"\tVPXORD Z{r}, Z{r}, Z{r}")


def epilogue(lp, stores, alpha, beta, tail):
    """C = alpha*acc + beta*C (beta == 0: C not read). stores is a list of
    (code that points the C register at a row, or None, zmm, "C operand")
    in order; tail is the code after the stores ("RET" or a jump)."""
    e(f"\tVBROADCASTSS {alpha}, Z30")
    for _, z, _ in stores:
        e(f"\tVMULPS Z30, Z{z}, Z{z}")
    e(f"\tVBROADCASTSS {beta}, Z31")
    # beta == ±0 exactly when its bits without the sign are zero (NaN: accum).
    e(f"\tMOVL {beta}, R9")
    e("\tSHLL $1, R9")
    e(f"\tJNZ {lp('accum')}")
    for pre, z, mem in stores:
        for line in pre:
            e(line)
        e(f"\tVMOVUPS Z{z}, {mem}")
    tail("0")
    e(f"{lp('accum')}:")
    for pre, z, mem in stores:
        for line in pre:
            e(line)
        e(f"\tVFMADD231PS {mem}, Z31, Z{z}")
        e(f"\tVMOVUPS Z{z}, {mem}")
    tail("1")


def ret(_):
    e("\tVZEROUPPER")
    e("\tRET")


def rows_down(R, zs, creg="DX", stride="R8"):
    """Stores of R rows, acc zs[i] to row i at creg, advancing creg by stride."""
    out = []
    for i in range(R):
        pre = [] if i == 0 else [f"\tADDQ {stride}, {creg}"]
        out.append((pre, zs[i], f"({creg})"))
    return out


def kloop(lp, step, advance, prefetch=()):
    """The k loop in CX: four steps per iteration, then one at a time."""
    e("\tMOVQ CX, R9")
    e("\tSHRQ $2, R9")
    e(f"\tJZ {lp('tail')}")
    e(f"{lp('loop4')}:")
    for p in prefetch:
        e(f"\tPREFETCHT0 {p}")
    for s in range(4):
        step(s)
    advance(4)
    e("\tDECQ R9")
    e(f"\tJNZ {lp('loop4')}")
    e(f"{lp('tail')}:")
    e("\tANDQ $3, CX")
    e(f"\tJZ {lp('done')}")
    e(f"{lp('loop1')}:")
    step(0)
    advance(1)
    e("\tDECQ CX")
    e(f"\tJNZ {lp('loop1')}")
    e(f"{lp('done')}:")


BROWS = ["(DI)", "(DI)(R11*1)", "(DI)(R11*2)", "(DI)(R12*1)"]


def packed_args():
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ b+16(FP), DI")
    e("\tMOVQ ldb+24(FP), R11")
    e("\tSHLQ $2, R11")
    e("\tLEAQ (R11)(R11*2), R12")
    e("\tMOVQ ldc+40(FP), R8")
    e("\tSHLQ $2, R8")


def packed_advance(n):
    e(f"\tADDQ ${24*n}, SI")
    if n == 4:
        e("\tLEAQ (DI)(R11*4), DI")
    else:
        e("\tADDQ R11, DI")


def kernel(R):
    name = f"gemm512Kernel{R}x16"
    f.func(f"{name}(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)", [
        "",
        f"gemmKernel{R}x16 (gemm.py) on zmm: C[0:{R}][0:16] = alpha*(Apanel·Bpanel) + beta*C,",
        "Apanel k steps of 6 packed values (the first " + str(R) + " used), Bpanel k rows of",
        "16, ldb elements apart. One zmm accumulator per row, multiplied by A",
        "through embedded-broadcast FMAs.",
    ])
    packed_args()
    e("\tMOVQ c+32(FP), DX")
    zero(R)
    lp = lambda l: f"{l}{R}"

    def step(s):
        b = 12 + s
        e(f"\tVMOVUPS {BROWS[s]}, Z{b}")
        for i in range(R):
            e(f"\tVFMADD231PS.BCST {24*s+4*i}(SI), Z{b}, Z{i}")
    kloop(lp, step, packed_advance, ["384(SI)", "(DI)(R11*8)"])
    epilogue(lp, rows_down(R, list(range(R))), f.arg("alpha"), f.arg("beta"), ret)
    e("")


def kernel6x32():
    # Two B panels against the row panels of A, one 6×32 tile at a time:
    # twelve accumulators that share each broadcast of A (measured faster
    # than gemm512Panels' 12×16, which needs twelve broadcasts per B row),
    # and a second panel that may be partial.
    f.func("gemm512Kernel6x32(k int, a, b *float32, ldb int, b2 *float32, ldb2 int, c *float32, ldc int, alpha, beta float32, rows, mask2 int)", [
        "",
        "gemm512Kernel6x16 for two panels of B, b (rows ldb elements apart) and b2",
        "(ldb2 apart), into C[0:rows][0:16] and C[0:rows][16:32], over ⌈rows/6⌉",
        "consecutive packed panels of A (rows ≥ 1). Only the columns of b2 and of",
        "the second tile set in mask2 (bit j: column 16+j) are read and written,",
        "so a partial last panel of B is read in place, and of C needs no scratch",
        "tile.",
    ])
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ ldb+24(FP), R11")
    e("\tSHLQ $2, R11")
    e("\tMOVQ ldb2+40(FP), R13")
    e("\tSHLQ $2, R13")
    e("\tMOVQ ldc+56(FP), R8")
    e("\tSHLQ $2, R8")
    e("\tMOVQ c+48(FP), AX")          # C of the current panel
    e(f"\tMOVQ {f.arg('mask2')}, R10")
    e("\tKMOVW R10, K1")
    e(f"\tMOVQ {f.arg('rows')}, R14")  # rows left
    lp = lambda l: f"k{l}"
    e(f"{lp('panel')}:")
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ b+16(FP), DI")
    e("\tMOVQ b2+32(FP), BX")
    e("\tMOVQ AX, DX")
    zero(12)

    def step(s):
        e(f"\tVMOVUPS (DI), Z12")
        e(f"\tVMOVUPS.Z (BX), K1, Z13")  # B may end inside the panel
        for i in range(6):
            e(f"\tVBROADCASTSS {24*s+4*i}(SI), Z{16+(i&3)}")
            e(f"\tVFMADD231PS Z12, Z{16+(i&3)}, Z{2*i}")
            e(f"\tVFMADD231PS Z13, Z{16+(i&3)}, Z{2*i+1}")
        e("\tADDQ R11, DI")
        e("\tADDQ R13, BX")

    def adv(n):
        e(f"\tADDQ ${24*n}, SI")
    kloop(lp, step, adv, ["384(SI)"])
    # Rows past rows are computed (A is zero-padded) but not stored.
    e(f"\tVBROADCASTSS {f.arg('alpha')}, Z30")
    for z in range(12):
        e(f"\tVMULPS Z30, Z{z}, Z{z}")
    e(f"\tVBROADCASTSS {f.arg('beta')}, Z31")
    e(f"\tMOVL {f.arg('beta')}, R9")
    e("\tSHLL $1, R9")
    e(f"\tJNZ {lp('accum')}")
    for i in range(6):
        e(f"\tVMOVUPS Z{2*i}, (DX)")
        e(f"\tVMOVUPS Z{2*i+1}, K1, 64(DX)")
        if i < 5:
            e(f"\tCMPQ R14, ${i+1}")
            e(f"\tJLE {lp('next')}")
            e("\tADDQ R8, DX")
    e(f"\tJMP {lp('next')}")
    e(f"{lp('accum')}:")
    for i in range(6):
        e(f"\tVFMADD231PS (DX), Z31, Z{2*i}")
        e(f"\tVMOVUPS Z{2*i}, (DX)")
        # Masked-off columns load as zero and are not stored.
        e(f"\tVMOVUPS.Z 64(DX), K1, Z20")
        e(f"\tVFMADD231PS Z20, Z31, Z{2*i+1}")
        e(f"\tVMOVUPS Z{2*i+1}, K1, 64(DX)")
        if i < 5:
            e(f"\tCMPQ R14, ${i+1}")
            e(f"\tJLE {lp('next')}")
            e("\tADDQ R8, DX")
    e(f"{lp('next')}:")
    e("\tLEAQ (AX)(R8*4), AX")   # C += 6 rows
    e("\tLEAQ (AX)(R8*2), AX")
    e("\tSUBQ $6, R14")
    e(f"\tJGT {lp('panel')}")
    ret(0)
    e("")


def panels():
    f.func("gemm512Panels(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, panels int)", [
        "",
        "gemm512Kernel6x16 over panels consecutive 6-row panels of A (packed one after",
        "the other) and the matching 6-row blocks of C, with the same B panel. Pairs",
        "of panels run together as a 12×16 tile (twelve accumulators for one B row",
        "load per step); an odd last panel runs alone.",
    ])
    packed_args()
    e("\tMOVQ c+32(FP), AX")          # C of the current panel pair
    e("\tMOVQ CX, R14")
    e("\tIMUL3Q $24, R14, R14")       # bytes of one packed A panel
    e(f"\tMOVQ {f.arg('panels')}, R13")
    e("pair:")
    e("\tCMPQ R13, $2")
    e("\tJLT single")
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ b+16(FP), DI")
    e("\tMOVQ AX, DX")
    zero(12)
    lp = lambda l: f"{l}P"

    def step(s):
        b = 12 + s
        e(f"\tVMOVUPS {BROWS[s]}, Z{b}")
        for i in range(6):
            e(f"\tVFMADD231PS.BCST {24*s+4*i}(SI), Z{b}, Z{i}")
            e(f"\tVFMADD231PS.BCST {24*s+4*i}(SI)(R14*1), Z{b}, Z{6+i}")
    kloop(lp, step, packed_advance, ["384(SI)", "384(SI)(R14*1)", "(DI)(R11*8)"])

    def nextpair(which):
        if which == "0":
            e("\tJMP pairnext")
            return
        e("pairnext:")
        e("\tADDQ R14, SI")            # past the pair's second panel
        e("\tLEAQ (AX)(R8*8), AX")     # C += 12 rows
        e("\tLEAQ (AX)(R8*4), AX")
        e("\tSUBQ $2, R13")
        e("\tJMP pair")
    epilogue(lp, rows_down(12, list(range(12))), f.arg("alpha"), f.arg("beta"), nextpair)
    e("single:")
    e("\tTESTQ R13, R13")
    e("\tJZ end")
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ b+16(FP), DI")
    e("\tMOVQ AX, DX")
    zero(6)
    lp = lambda l: f"{l}S"

    def step1(s):
        b = 12 + s
        e(f"\tVMOVUPS {BROWS[s]}, Z{b}")
        for i in range(6):
            e(f"\tVFMADD231PS.BCST {24*s+4*i}(SI), Z{b}, Z{i}")
    kloop(lp, step1, packed_advance, ["384(SI)", "(DI)(R11*8)"])
    epilogue(lp, rows_down(6, list(range(6))), f.arg("alpha"), f.arg("beta"), ret)
    e("end:")
    ret(0)
    e("")


def indirect(R):
    name = f"gemm512Indirect{R}x16"
    f.func(f"{name}(k int, a *float32, off *int32, b *float32, c *float32, ldc int, alpha, beta float32)", [
        "",
        f"gemmIndirect{R}x16 (gemm.py) on zmm: gemm512Kernel{R}x16 with row p of the B",
        "panel the 16 values at byte offset off[p] from b.",
    ])
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ off+16(FP), BX")
    e("\tMOVQ b+24(FP), DI")
    e("\tMOVQ c+32(FP), DX")
    e("\tMOVQ ldc+40(FP), R8")
    e("\tSHLQ $2, R8")
    zero(R)
    regs = ["R10", "R11", "R12", "R13"]
    lp = lambda l: f"i{l}{R}"

    def step(s):
        b, rg = 12 + s, regs[s]
        e(f"\tMOVLQSX {4*s}(BX), {rg}")
        e(f"\tVMOVUPS (DI)({rg}*1), Z{b}")
        for i in range(R):
            e(f"\tVFMADD231PS.BCST {24*s+4*i}(SI), Z{b}, Z{i}")

    def adv(n):
        e(f"\tADDQ ${24*n}, SI")
        e(f"\tADDQ ${4*n}, BX")
    kloop(lp, step, adv, ["384(SI)"])
    epilogue(lp, rows_down(R, list(range(R))), f.arg("alpha"), f.arg("beta"), ret)
    e("")


def indirect2(R):
    # R rows of A against two B panels (two output positions, bstride bytes
    # apart): 2R accumulators, each A value broadcast once for both. R > 6
    # spans two packed A panels (the second 24k bytes after the first): a
    # last full panel with a short tail (OutC = 20: 6, 6, then 6+2), whose
    # 2×32 alone would have too few accumulators.
    name = f"gemm512Indirect{R}x32"
    doc = [f"gemm512Indirect{min(R, 6)}x16 for two panels of B, the second bstride bytes after the",
           "first, into c and c2: twice the accumulators for the same loads of A."]
    if R > 6:
        doc += [f"Rows 6..{R-1} are the first {R-6} of the next packed panel of A and of C."]
    f.func(f"{name}(k int, a *float32, off *int32, b *float32, bstride int, c, c2 *float32, ldc int, alpha, beta float32)", [""] + doc)
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ off+16(FP), BX")
    e("\tMOVQ b+24(FP), DI")
    e("\tMOVQ bstride+32(FP), DX")
    e("\tMOVQ ldc+56(FP), R8")
    e("\tSHLQ $2, R8")
    if R > 6:
        e("\tMOVQ CX, R14")
        e("\tIMUL3Q $24, R14, R14")  # bytes of one packed A panel
    zero(2*R)
    acc = lambda i, h: 2*i + h
    regs = ["R10", "R11", "R12", "R13"]
    lp = lambda l: f"j{l}{R}"

    def step(s):
        rg = regs[s]
        e(f"\tMOVLQSX {4*s}(BX), {rg}")
        e(f"\tADDQ DI, {rg}")
        e(f"\tVMOVUPS ({rg}), Z22")
        e(f"\tVMOVUPS ({rg})(DX*1), Z23")
        for i in range(R):
            y = 24 + (i & 3)
            if i < 6:
                e(f"\tVBROADCASTSS {24*s+4*i}(SI), Z{y}")
            else:
                e(f"\tVBROADCASTSS {24*s+4*(i-6)}(SI)(R14*1), Z{y}")
            e(f"\tVFMADD231PS Z22, Z{y}, Z{acc(i, 0)}")
            e(f"\tVFMADD231PS Z23, Z{y}, Z{acc(i, 1)}")

    def adv(n):
        e(f"\tADDQ ${24*n}, SI")
        e(f"\tADDQ ${4*n}, BX")
    pf = ["384(SI)"] + (["384(SI)(R14*1)"] if R > 6 else [])
    kloop(lp, step, adv, pf)
    stores = []
    for h, creg in enumerate(["c", "c2"]):
        for i in range(R):
            pre = [f"\tMOVQ {f.arg(creg)}, R10"] if i == 0 else ["\tADDQ R8, R10"]
            stores.append((pre, acc(i, h), "(R10)"))
    epilogue(lp, stores, f.arg("alpha"), f.arg("beta"), ret)
    e("")


for R in (6, 1, 2, 3, 4, 5):
    kernel(R)
kernel6x32()
panels()
for R in (6, 1, 2, 3, 4, 5):
    indirect(R)
for R in (6, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11):
    indirect2(R)
f.write()
