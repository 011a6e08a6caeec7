# Helpers shared by the AVX-512 generators (dot512.py, convdw512.py), beside
# emit.py's. They use AVX-512F instructions on zmm registers only (xmm and
# ymm forms of registers 16..31 would need AVX-512VL, which useAVX512 does
# not check).

# reduce4's compress mask: the lanes that hold its four sums.
REDUCE4_LANES = 0x1111


def reduce4(e, regs, t, u):
    """Horizontal sums of up to four 16-lane accumulators Z{regs[i]} (distinct
    registers), each in the same fixed order: m_i = l_i + l_{i+8} (i < 8),
    n_i = m_i + m_{i+4} (i < 4), then (n0+n2) + (n1+n3) - the tree of
    emit.hsum8 after the first halving. The sum of regs[i] ends in lane 4·i of
    Z{regs[0]} (lanes 0, 4, 8, 12: REDUCE4_LANES, for VCOMPRESSPS); with fewer
    than four registers the lanes past them repeat others. Clobbers regs,
    Z{t} and Z{u}. 13 instructions for four sums."""
    a = regs[0]
    b = regs[1] if len(regs) > 1 else a
    # Halve two accumulators into one register: x's m_i in lanes 0..7, y's in 8..15.
    def pair(x, y):
        e(f"\tVSHUFF64X2 $0x44, Z{y}, Z{x}, Z{t}")   # x.lo256, y.lo256
        e(f"\tVSHUFF64X2 $0xEE, Z{y}, Z{x}, Z{u}")   # x.hi256, y.hi256
        e(f"\tVADDPS Z{u}, Z{t}, Z{x}")
    pair(a, b)
    c = a
    if len(regs) > 2:
        c = regs[2]
        pair(c, regs[3] if len(regs) > 3 else c)
    # Halve again: block i (of four lanes) holds the n of accumulator i.
    e(f"\tVSHUFF32X4 $0x88, Z{c}, Z{a}, Z{t}")        # blocks 0, 2 of a; 0, 2 of c
    e(f"\tVSHUFF32X4 $0xDD, Z{c}, Z{a}, Z{u}")        # blocks 1, 3 of a; 1, 3 of c
    e(f"\tVADDPS Z{u}, Z{t}, Z{a}")
    e(f"\tVPERMILPS $0x4E, Z{a}, Z{t}")              # in each block: lanes 2, 3, 0, 1
    e(f"\tVADDPS Z{t}, Z{a}, Z{a}")                  # n0+n2, n1+n3
    e(f"\tVPERMILPS $0xB1, Z{a}, Z{t}")              # lanes 1, 0, 3, 2
    e(f"\tVADDPS Z{t}, Z{a}, Z{a}")


def kmask(e, k, bits):
    """Set mask register K{k} to the constant bits (clobbers AX)."""
    e(f"\tMOVL ${bits:#x}, AX")
    e(f"\tKMOVW AX, K{k}")
