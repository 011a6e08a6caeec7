package kernel

// ConvGeom describes one image's convolution (one group): input
// [InC, InH, InW], kernel KH×KW, output OutH×OutW, top/left padding PadT/PadL
// (bottom/right padding is implied by OutH/OutW), stride and dilation.
type ConvGeom struct {
	InC, InH, InW    int
	KH, KW           int
	StrideH, StrideW int
	PadT, PadL       int
	DilH, DilW       int
	OutH, OutW       int
}

func (g ConvGeom) check(fn string, img, col []float32) {
	if g.InC < 0 || g.InH < 0 || g.InW < 0 || g.KH < 0 || g.KW < 0 || g.OutH < 0 || g.OutW < 0 ||
		g.StrideH < 1 || g.StrideW < 1 || g.DilH < 1 || g.DilW < 1 {
		panic("kernel: " + fn + ": invalid geometry")
	}
	if len(img) < g.InC*g.InH*g.InW {
		panic("kernel: " + fn + ": len(img) too short")
	}
	if len(col) < g.InC*g.KH*g.KW*g.OutH*g.OutW {
		panic("kernel: " + fn + ": len(col) too short")
	}
}

// Im2col unfolds img into col so that convolution becomes a GEMM:
//
//	col[(c*KH*KW + i*KW + j)*(OutH*OutW) + oh*OutW + ow] =
//	    img[c][oh*StrideH-PadT+i*DilH][ow*StrideW-PadL+j*DilW]
//
// with 0 for positions outside the image. It panics if len(img) <
// InC*InH*InW, len(col) < InC*KH*KW*OutH*OutW, a size is negative or a
// stride or dilation is below 1.
func Im2col(g ConvGeom, img, col []float32) {
	g.check("Im2col", img, col)
	g.walk(img, col, false)
}

// Col2im is the adjoint of Im2col: it adds every col entry into the img
// element Im2col would have read it from (img +=); entries that came from
// padding are dropped. Contributions to one element are added in col's
// order, as in the plain loop. It panics like Im2col.
func Col2im(g ConvGeom, col, img []float32) {
	g.check("Col2im", img, col)
	g.walk(img, col, true)
}

// span returns the output positions [lo, hi) whose input coordinate
// o*stride + off falls inside [0, size).
func span(out, stride, off, size int) (lo, hi int) {
	// Smallest o with o*stride + off >= 0.
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	// Largest o with o*stride + off <= size-1, plus one.
	if size-1-off >= 0 {
		hi = (size-1-off)/stride + 1
	}
	lo, hi = min(lo, out), min(hi, out)
	return lo, max(lo, hi)
}

// walk is Im2col (add false) or Col2im (add true). For every kernel tap it
// works out once which output rows and columns read inside the image, so
// the inner loops carry no bounds tests; with StrideW 1 each output row is
// one contiguous run of an image row.
func (g ConvGeom) walk(img, col []float32, add bool) {
	hw := g.OutH * g.OutW
	for c := range g.InC {
		plane := img[c*g.InH*g.InW : (c+1)*g.InH*g.InW]
		for i := range g.KH {
			hoff := i*g.DilH - g.PadT
			ohLo, ohHi := span(g.OutH, g.StrideH, hoff, g.InH)
			for j := range g.KW {
				woff := j*g.DilW - g.PadL
				owLo, owHi := span(g.OutW, g.StrideW, woff, g.InW)
				r := (c*g.KH+i)*g.KW + j
				dst := col[r*hw : (r+1)*hw]
				if !add {
					clear(dst[:ohLo*g.OutW])
					clear(dst[ohHi*g.OutW:])
				}
				if owLo >= owHi {
					if !add {
						clear(dst[ohLo*g.OutW : ohHi*g.OutW])
					}
					continue
				}
				n := owHi - owLo
				for oh := ohLo; oh < ohHi; oh++ {
					row := dst[oh*g.OutW : (oh+1)*g.OutW]
					src := plane[(oh*g.StrideH+hoff)*g.InW:][:g.InW]
					w0 := owLo*g.StrideW + woff
					if add {
						if g.StrideW == 1 {
							AddTo(src[w0:w0+n], row[owLo:owHi])
						} else {
							for o, v := range row[owLo:owHi] {
								src[w0+o*g.StrideW] += v
							}
						}
						continue
					}
					clear(row[:owLo])
					clear(row[owHi:])
					if g.StrideW == 1 {
						copy(row[owLo:owHi], src[w0:w0+n])
					} else {
						d := row[owLo:owHi]
						for o := range d {
							d[o] = src[w0+o*g.StrideW]
						}
					}
				}
			}
		}
	}
}
