# Helpers shared by the AVX-512 generators (dot512.py, convdw512.py), beside
# emit.py's: the fixed-order horizontal sum of a 16-lane accumulator.


def hsum16(e, r, s):
    """Reduce Z{r} into lane 0 of X{r}: m_i = l_i + l_{i+8} (i < 8), then
    ((m0+m4)+(m2+m6)) + ((m1+m5)+(m3+m7)) as emit.hsum8 does; a fixed order.
    Uses Z{s} as scratch. Z{r}'s bits above the low lane are left
    unspecified."""
    e(f"\tVEXTRACTF64X4 $1, Z{r}, Y{s}")
    e(f"\tVADDPS Y{s}, Y{r}, Y{r}")          # l_i + l_{i+8}
    e(f"\tVEXTRACTF32X4 $1, Y{r}, X{s}")     # (EVEX: s may be 16..31)
    e(f"\tVADDPS X{s}, X{r}, X{r}")          # m_i + m_{i+4}
    e(f"\tVMOVHLPS X{r}, X{r}, X{s}")        # lanes 2,3 -> 0,1
    e(f"\tVADDPS X{s}, X{r}, X{r}")
    e(f"\tVMOVSHDUP X{r}, X{s}")             # lane 1 -> 0
    e(f"\tVADDSS X{s}, X{r}, X{r}")
