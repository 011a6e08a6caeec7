# Generates ../adam_amd64.s and its Go declarations and stubs (see emit.py).
# Run by go generate in the kernel directory; by hand: python3 asmgen/adam.py.
#
# The Adam (and AdamW) update of AdamVector, eight elements at a time, with
# exactly the operations of the Go loop adamRef and in its order (no fused
# multiply-add), so that the results are bitwise the loop's. The scalar
# operands come in a struct, adamConsts, generated here from CONSTS so that
# its layout and the offsets the assembly reads agree.
from emit import Asm, commented
f = Asm("adam")
e = f.e
c = lambda instr, comment: e(commented(instr, comment))

# adamConsts: float32 fields, then the int32 clip flag, 4 bytes each.
CONSTS = ["b1", "b2", "c1", "c2", "eps", "wd", "decay", "stepSize", "invSqrtBC2", "s", "lo", "hi"]
fields = ", ".join(CONSTS)
f.go_both("// adamConsts are adamAVX's scalar operands, in the order the assembly reads them.\n"
          "type adamConsts struct {\n"
          f"\t{fields} float32\n"
          f"\t{'clip'.ljust(len(fields))} int32\n"
          "}")

f.func("adamAVX(p, grad, m, v *float32, n int, k *adamConsts)", [
    "",
    "Eight elements at a time, the update of adamRef with exactly its",
    "operations and their order (no fused multiply-add), so the results are",
    "bitwise those of the Go loop. n is a multiple of 8.",
])
e(f"\tMOVQ {f.arg('p')}, DI")
e(f"\tMOVQ {f.arg('grad')}, SI")
e(f"\tMOVQ {f.arg('m')}, DX")
e(f"\tMOVQ {f.arg('v')}, R8")
e(f"\tMOVQ {f.arg('n')}, CX")
e(f"\tMOVQ {f.arg('k')}, AX")
for i, name in enumerate(CONSTS):   # into Y4..Y15
    c(f"VBROADCASTSS {4*i}(AX), Y{4+i}", name)
c(f"MOVL {4*len(CONSTS)}(AX), R9", "clip")
B1, B2, C1, C2, EPS, WD, DECAY, STEP, INVSQRT, S, LO, HI = [f"Y{4+i}" for i in range(len(CONSTS))]
e("\tXORQ BX, BX")
e("\tTESTQ CX, CX")
e("\tJZ done")
e("loop:")
e("\tVMOVUPS (DI)(BX*4), Y0")
c(f"VMULPS Y0, {DECAY}, Y1", "decay*p")
c("VSUBPS Y1, Y0, Y0", "pi = p - decay*p")
c(f"VMULPS (SI)(BX*4), {S}, Y1", "gi = g*s")
e("\tTESTL R9, R9")
e("\tJZ noclip")
c(f"VMAXPS Y1, {LO}, Y1", "lo > gi ? lo : gi")
c(f"VMINPS Y1, {HI}, Y1", "hi < gi ? hi : gi")
e("noclip:")
c(f"VMULPS Y0, {WD}, Y2", "wd*pi")
c("VADDPS Y2, Y1, Y1", "gi += wd*pi")
c(f"VMULPS (DX)(BX*4), {B1}, Y2", "b1*m")
c(f"VMULPS Y1, {C1}, Y3", "c1*gi")
c("VADDPS Y3, Y2, Y2", "mi")
e("\tVMOVUPS Y2, (DX)(BX*4)")
c(f"VMULPS Y1, {C2}, Y3", "c2*gi")
c("VMULPS Y1, Y3, Y3", "c2*gi*gi")
c(f"VMULPS (R8)(BX*4), {B2}, Y1", "b2*v")
c("VADDPS Y3, Y1, Y3", "vi")
e("\tVMOVUPS Y3, (R8)(BX*4)")
e("\tVSQRTPS Y3, Y3")
c(f"VMULPS {INVSQRT}, Y3, Y3", "sqrt(vi)*invSqrtBC2")
c(f"VADDPS {EPS}, Y3, Y3", "+ eps")
c(f"VMULPS Y2, {STEP}, Y2", "stepSize*mi")
e("\tVDIVPS Y3, Y2, Y2")
e("\tVSUBPS Y2, Y0, Y0")
e("\tVMOVUPS Y0, (DI)(BX*4)")
e("\tADDQ $8, BX")
e("\tCMPQ BX, CX")
e("\tJB loop")
e("done:")
e("\tVZEROUPPER")
e("\tRET")
f.write()
