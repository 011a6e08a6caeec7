# Generates ../gemm_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/gemm.py.
from emit import Asm
f = Asm("gemm")
e = f.e
def epilogue(R, lp, multi=False):
    # C = alpha*acc + beta*C (beta == 0: C not read) for rows (1..R) rows of
    # C at DX, ldc bytes in R8; with multi, on to the next panel.
    e("\tVBROADCASTSS alpha+48(FP), Y12")
    for r in range(2*R):
        e(f"\tVMULPS Y12, Y{r}, Y{r}")
    e("\tVBROADCASTSS beta+52(FP), Y13")
    if multi:
        e("\tMOVQ $6, R9")
    else:
        e("\tMOVQ rows+56(FP), R9")
    e("\tVXORPS X14, X14, X14")
    e("\tVUCOMISS X14, X13")
    e(f"\tJNE {lp('accum')}")
    e(f"\tJPS {lp('accum')}")
    for r in range(R):
        e(f"\tVMOVUPS Y{2*r}, (DX)")
        e(f"\tVMOVUPS Y{2*r+1}, 32(DX)")
        if r<R-1:
            e(f"\tCMPQ R9, ${r+1}")
            e(f"\tJLE {lp('done0')}")
            e("\tADDQ R8, DX")
    e(f"{lp('done0')}:")
    if multi:
        e(f"\tJMP {lp('next')}")
    else:
        e("\tVZEROUPPER")
        e("\tRET")
    e(f"{lp('accum')}:")
    for r in range(R):
        e(f"\tVFMADD231PS (DX), Y13, Y{2*r}")
        e(f"\tVFMADD231PS 32(DX), Y13, Y{2*r+1}")
        e(f"\tVMOVUPS Y{2*r}, (DX)")
        e(f"\tVMOVUPS Y{2*r+1}, 32(DX)")
        if r<R-1:
            e(f"\tCMPQ R9, ${r+1}")
            e(f"\tJLE {lp('done1')}")
            e("\tADDQ R8, DX")
    e(f"{lp('done1')}:")
    if multi:
        e(f"{lp('next')}:")
        e("\tLEAQ (AX)(R8*4), AX")   # C += 6 rows
        e("\tLEAQ (AX)(R8*2), AX")
        e("\tDECQ R13")
        e("\tJNZ panel")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")


def kernel(R, multi=False):
    name = "gemmKernel6x16" if R == 6 else f"gemmKernel{R}x16"
    if multi:
        name = "gemmPanels6x16"
    if multi:
        f.func("gemmPanels6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, panels int)", [
            "",
            "gemmKernel6x16 over panels consecutive 6-row panels of A (packed one after",
            "the other) and the matching 6-row blocks of C, with the same B panel: one",
            "call instead of one per panel.",
        ])
    elif R == 6:
        f.func("gemmKernel6x16(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, rows int)", [
            "",
            "C[0:6][0:16] = alpha*(Apanel·Bpanel) + beta*C, where Apanel holds k steps of 6",
            "values (packed) and Bpanel k rows of 16, ldb elements apart (16 when packed,",
            "B's own stride when read in place). beta == 0 does not read C. Only the",
            "first rows (1..6) rows of C are read and written.",
            "Y0..Y11 hold the 6×16 accumulators (two ymm per row); Y12, Y13 hold a row of",
            "B and Y14, Y15 alternate as broadcasts of A so consecutive FMAs are independent.",
        ])
    else:
        f.func(f"{name}(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, rows int)", [
            "",
            f"gemmKernel6x16 for a panel of A with only {R} rows: the same packed layout",
            f"(6 values per step), but only the first {R} are multiplied; rows is {R}.",
        ])
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ ldb+24(FP), R11")
    e("\tSHLQ $2, R11")
    e("\tLEAQ (R11)(R11*2), R12")
    e("\tMOVQ ldc+40(FP), R8")
    e("\tSHLQ $2, R8")
    if multi:
        e("\tMOVQ c+32(FP), AX")      # C of the current panel
        e("\tMOVQ panels+56(FP), R13")  # panels left
        e("panel:")
        e("\tMOVQ AX, DX")
    else:
        e("\tMOVQ c+32(FP), DX")
    e("\tMOVQ k+0(FP), CX")
    e("\tMOVQ b+16(FP), DI")
    for r in range(2*R):
        e(f"\tVXORPS Y{r}, Y{r}, Y{r}")
    # prefetch C rows
    e("\tMOVQ DX, R10")
    for r in range(R):
        e("\tPREFETCHT0 (R10)")
        e("\tPREFETCHT0 60(R10)")
        if r<R-1: e("\tADDQ R8, R10")
    def step(s):
        ao=s*24
        base=["(DI)","(DI)(R11*1)","(DI)(R11*2)","(DI)(R12*1)"][s]
        e(f"\tVMOVUPS {base}, Y12")
        e(f"\tVMOVUPS 32{base}, Y13")
        for i in range(R):
            y=14+(i&1)
            e(f"\tVBROADCASTSS {ao+4*i}(SI), Y{y}")
            e(f"\tVFMADD231PS Y12, Y{y}, Y{2*i}")
            e(f"\tVFMADD231PS Y13, Y{y}, Y{2*i+1}")
    lp = lambda l: f"{l}{R}" + ("p" if multi else "")
    e("\tMOVQ CX, R9")
    e("\tSHRQ $2, R9")
    e(f"\tJZ {lp('tail')}")
    e(f"{lp('loop4')}:")
    e("\tPREFETCHT0 384(SI)")
    e("\tPREFETCHT0 (DI)(R11*8)")
    for s_ in range(4): step(s_)
    e("\tADDQ $96, SI")
    e("\tLEAQ (DI)(R11*4), DI")
    e("\tDECQ R9")
    e(f"\tJNZ {lp('loop4')}")
    e(f"{lp('tail')}:")
    e("\tANDQ $3, CX")
    e(f"\tJZ {lp('done')}")
    e(f"{lp('loop1')}:")
    step(0)
    e("\tADDQ $24, SI")
    e("\tADDQ R11, DI")
    e("\tDECQ CX")
    e(f"\tJNZ {lp('loop1')}")
    e(f"{lp('done')}:")
    epilogue(R, lp, multi)


def indirect(R):
    name = f"gemmIndirect{R}x16"
    if R == 6:
        doc = ["gemmKernel6x16 with an indirect B: row p of the B panel is the 16 values at",
               "byte offset off[p] from b (rows may overlap, as the shifted windows of a",
               "padded image do in a convolution). Same arithmetic and C update."]
    else:
        doc = [f"gemmIndirect6x16 for a panel of A with only {R} rows; rows is {R}."]
    f.func(f"{name}(k int, a *float32, off *int32, b *float32, c *float32, ldc int, alpha, beta float32, rows int)", [""] + doc)
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ off+16(FP), BX")
    e("\tMOVQ b+24(FP), DI")
    e("\tMOVQ c+32(FP), DX")
    e("\tMOVQ ldc+40(FP), R8")
    e("\tSHLQ $2, R8")
    e("\tMOVQ k+0(FP), CX")
    for r in range(2*R):
        e(f"\tVXORPS Y{r}, Y{r}, Y{r}")
    regs = ["R10", "R11", "R12", "R13"]
    def step(s):
        ao = s*24
        rg = regs[s]
        e(f"\tMOVLQSX {4*s}(BX), {rg}")
        e(f"\tVMOVUPS (DI)({rg}*1), Y12")
        e(f"\tVMOVUPS 32(DI)({rg}*1), Y13")
        for i in range(R):
            y = 14+(i&1)
            e(f"\tVBROADCASTSS {ao+4*i}(SI), Y{y}")
            e(f"\tVFMADD231PS Y12, Y{y}, Y{2*i}")
            e(f"\tVFMADD231PS Y13, Y{y}, Y{2*i+1}")
    lp = lambda l: f"i{l}{R}"
    e("\tMOVQ CX, R9")
    e("\tSHRQ $2, R9")
    e(f"\tJZ {lp('tail')}")
    e(f"{lp('loop4')}:")
    e("\tPREFETCHT0 384(SI)")
    for s_ in range(4): step(s_)
    e("\tADDQ $96, SI")
    e("\tADDQ $16, BX")
    e("\tDECQ R9")
    e(f"\tJNZ {lp('loop4')}")
    e(f"{lp('tail')}:")
    e("\tANDQ $3, CX")
    e(f"\tJZ {lp('done')}")
    e(f"{lp('loop1')}:")
    step(0)
    e("\tADDQ $24, SI")
    e("\tADDQ $4, BX")
    e("\tDECQ CX")
    e(f"\tJNZ {lp('loop1')}")
    e(f"{lp('done')}:")
    epilogue(R, lp)


def indirect2(R):
    # R rows of A against two B panels at once (two output positions whose
    # rows are bstride bytes apart): 4R accumulators, so that a short tail
    # panel (R = 1, 2) still keeps enough multiply-adds in flight.
    name = f"gemmIndirect{R}x32"
    f.func(f"{name}(k int, a *float32, off *int32, b *float32, bstride int, c, c2 *float32, ldc int, alpha, beta float32)", [
        "",
        f"gemmIndirect{R}x16 for two panels of B, the second bstride bytes after the",
        "first, into c and c2: twice the accumulators for the same loads of A.",
    ])
    e("\tMOVQ a+8(FP), SI")
    e("\tMOVQ off+16(FP), BX")
    e("\tMOVQ b+24(FP), DI")
    e("\tMOVQ bstride+32(FP), DX")
    e("\tMOVQ ldc+56(FP), R8")
    e("\tSHLQ $2, R8")
    e("\tMOVQ k+0(FP), CX")
    acc = lambda i, h, v: 4*i + 2*h + v   # row i, half h (panel), vector v
    for r in range(4*R):
        e(f"\tVXORPS Y{r}, Y{r}, Y{r}")
    # B vectors: Y8..Y11 (panel 0: Y8,Y9; panel 1: Y10,Y11); broadcasts Y12, Y13
    def step():
        e("\tMOVLQSX (BX), R10")
        e("\tLEAQ (DI)(R10*1), R11")
        e("\tVMOVUPS (R11), Y8")
        e("\tVMOVUPS 32(R11), Y9")
        e("\tVMOVUPS (R11)(DX*1), Y10")
        e("\tVMOVUPS 32(R11)(DX*1), Y11")
        for i in range(R):
            y = 12 + (i & 1)
            e(f"\tVBROADCASTSS {4*i}(SI), Y{y}")
            for h in range(2):
                for v in range(2):
                    e(f"\tVFMADD231PS Y{8+2*h+v}, Y{y}, Y{acc(i,h,v)}")
    lp = lambda l: f"j{l}{R}"
    e(f"{lp('loop')}:")
    step()
    e("\tADDQ $24, SI")
    e("\tADDQ $4, BX")
    e("\tDECQ CX")
    e(f"\tJNZ {lp('loop')}")
    e("\tVBROADCASTSS alpha+64(FP), Y12")
    for r in range(4*R):
        e(f"\tVMULPS Y12, Y{r}, Y{r}")
    e("\tVBROADCASTSS beta+68(FP), Y13")
    e("\tVXORPS X14, X14, X14")
    e("\tVUCOMISS X14, X13")
    e(f"\tJNE {lp('accum')}")
    e(f"\tJPS {lp('accum')}")
    for h, creg in enumerate(["c+40(FP)", "c2+48(FP)"]):
        e(f"\tMOVQ {creg}, R9")
        for i in range(R):
            e(f"\tVMOVUPS Y{acc(i,h,0)}, (R9)")
            e(f"\tVMOVUPS Y{acc(i,h,1)}, 32(R9)")
            if i < R-1:
                e("\tADDQ R8, R9")
    e("\tVZEROUPPER")
    e("\tRET")
    e(f"{lp('accum')}:")
    for h, creg in enumerate(["c+40(FP)", "c2+48(FP)"]):
        e(f"\tMOVQ {creg}, R9")
        for i in range(R):
            for v in range(2):
                e(f"\tVFMADD231PS {32*v}(R9), Y13, Y{acc(i,h,v)}")
                e(f"\tVMOVUPS Y{acc(i,h,v)}, {32*v}(R9)")
            if i < R-1:
                e("\tADDQ R8, R9")
    e("\tVZEROUPPER")
    e("\tRET")
    e("")

for R in (6, 1, 2, 3, 4, 5):
    kernel(R)
for R in (1, 2):
    indirect2(R)
kernel(6, multi=True)
for R in (6, 1, 2, 3, 4, 5):
    indirect(R)
f.write()
