# Shared by dot.py and convdw.py: the fixed-order horizontal sum of an
# 8-lane float32 accumulator, so both weight-gradient kernels reduce alike.

def hsum8(e, r):
    """Reduce Y{r} into lane 0 of X{r}: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)).
    Uses X15 as scratch."""
    e(f"\tVEXTRACTF128 $1, Y{r}, X15")
    e(f"\tVADDPS X15, X{r}, X{r}")          # l_i + l_{i+4}
    e(f"\tVMOVHLPS X{r}, X{r}, X15")        # lanes 2,3 -> 0,1
    e(f"\tVADDPS X15, X{r}, X{r}")          # (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
    e(f"\tVMOVSHDUP X{r}, X15")             # lane 1 -> 0
    e(f"\tVADDSS X15, X{r}, X{r}")
