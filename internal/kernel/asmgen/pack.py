# Generates ../pack_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/pack.py.
from emit import Asm
f = Asm("pack")
e = f.e
e("// Packing routines for Gemm. Both transpose 8×8 blocks: row i in Yi")
e("// (i < 8) becomes column i of Y8..Y15 through unpacks, shuffles and")
e("// 128-bit lane permutes, the usual AVX 8×8 transpose.")
def transpose():
    # t in Y8..Y15
    for i in range(4):
        e(f"\tVUNPCKLPS Y{2*i+1}, Y{2*i}, Y{8+2*i}")
        e(f"\tVUNPCKHPS Y{2*i+1}, Y{2*i}, Y{9+2*i}")
    # s0..s7 into Y0..Y7: s0=shuf(t0,t2,44) s1=shuf(t0,t2,EE) s2=shuf(t1,t3,44) s3=shuf(t1,t3,EE)
    # s4=shuf(t4,t6,44) s5=shuf(t4,t6,EE) s6=shuf(t5,t7,44) s7=shuf(t5,t7,EE); t_k is Y(8+k)
    pairs=[(0,2,"0x44"),(0,2,"0xEE"),(1,3,"0x44"),(1,3,"0xEE"),(4,6,"0x44"),(4,6,"0xEE"),(5,7,"0x44"),(5,7,"0xEE")]
    for s,(a,b,imm) in enumerate(pairs):
        e(f"\tVSHUFPS ${imm}, Y{8+b}, Y{8+a}, Y{s}")
    # out_j in Y8+j: out0=perm(s0,s4,20) out1=perm(s1,s5,20) out2=perm(s2,s6,20) out3=perm(s3,s7,20)
    # out4=perm(s0,s4,31) ... out7=perm(s3,s7,31)
    for j in range(8):
        a=j%4; b=a+4; imm="0x20" if j<4 else "0x31"
        e(f"\tVPERM2F128 ${imm}, Y{b}, Y{a}, Y{8+j}")

f.func("packA6AVX2(dst, src *float32, lda, blocks int)", [
    "",
    "For p < 8*blocks: dst[p*6+i] = src[i*lda+p], i < 6: interleaves six rows",
    "of A into a packed panel, eight columns at a time.",
])
e("\tMOVQ dst+0(FP), DI")
e("\tMOVQ src+8(FP), SI")
e("\tMOVQ lda+16(FP), R8")
e("\tSHLQ $2, R8")
e("\tMOVQ blocks+24(FP), CX")
e("\tTESTQ CX, CX")
e("\tJZ a6done")
e("\tLEAQ (R8)(R8*2), R9")
e("a6loop:")
e("\tVMOVUPS (SI), Y0")
e("\tVMOVUPS (SI)(R8*1), Y1")
e("\tVMOVUPS (SI)(R8*2), Y2")
e("\tVMOVUPS (SI)(R9*1), Y3")
e("\tLEAQ (SI)(R8*4), R10")
e("\tVMOVUPS (R10), Y4")
e("\tVMOVUPS (R10)(R8*1), Y5")
e("\tVXORPS Y6, Y6, Y6")
e("\tVXORPS Y7, Y7, Y7")
transpose()
for j in range(8):
    e(f"\tVMOVUPS X{8+j}, {24*j}(DI)")
    e(f"\tVEXTRACTF128 $1, Y{8+j}, X0")
    e(f"\tVMOVLPS X0, {24*j+16}(DI)")
e("\tADDQ $32, SI")
e("\tADDQ $192, DI")
e("\tDECQ CX")
e("\tJNZ a6loop")
e("a6done:")
e("\tVZEROUPPER")
e("\tRET")
e("")
f.func("packB16TAVX2(dst, src *float32, ldb, blocks int)", [
    "",
    "For p < 8*blocks: dst[p*16+j] = src[j*ldb+p], j < 16: transposes sixteen",
    "rows of Bᵀ into a packed B panel, eight columns at a time.",
])
e("\tMOVQ dst+0(FP), DI")
e("\tMOVQ src+8(FP), SI")
e("\tMOVQ ldb+16(FP), R8")
e("\tSHLQ $2, R8")
e("\tMOVQ blocks+24(FP), CX")
e("\tTESTQ CX, CX")
e("\tJZ b16done")
e("\tLEAQ (R8)(R8*2), R9")
e("b16loop:")
for half in range(2):
    if half:
        e("\tLEAQ (SI)(R8*8), R10")
    else:
        e("\tMOVQ SI, R10")
    e("\tVMOVUPS (R10), Y0")
    e("\tVMOVUPS (R10)(R8*1), Y1")
    e("\tVMOVUPS (R10)(R8*2), Y2")
    e("\tVMOVUPS (R10)(R9*1), Y3")
    e("\tLEAQ (R10)(R8*4), R10")
    e("\tVMOVUPS (R10), Y4")
    e("\tVMOVUPS (R10)(R8*1), Y5")
    e("\tVMOVUPS (R10)(R8*2), Y6")
    e("\tVMOVUPS (R10)(R9*1), Y7")
    transpose()
    for j in range(8):
        e(f"\tVMOVUPS Y{8+j}, {64*j+32*half}(DI)")
e("\tADDQ $32, SI")
e("\tADDQ $512, DI")
e("\tDECQ CX")
e("\tJNZ b16loop")
e("b16done:")
e("\tVZEROUPPER")
e("\tRET")
f.write()
