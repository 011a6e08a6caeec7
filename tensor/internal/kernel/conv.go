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
	im2colRef(g, img, col)
}

// Col2im is the adjoint of Im2col: it adds every col entry into the img
// element Im2col would have read it from (img +=); entries that came from
// padding are dropped. It panics like Im2col.
func Col2im(g ConvGeom, col, img []float32) {
	g.check("Col2im", img, col)
	col2imRef(g, col, img)
}
