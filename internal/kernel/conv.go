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
	g.checkImg(fn, img)
	if len(col) < g.InC*g.KH*g.KW*g.OutH*g.OutW {
		panic("kernel: " + fn + ": len(col) too short")
	}
}

func (g ConvGeom) checkImg(fn string, img []float32) {
	if g.InC < 0 || g.InH < 0 || g.InW < 0 || g.KH < 0 || g.KW < 0 || g.OutH < 0 || g.OutW < 0 ||
		g.StrideH < 1 || g.StrideW < 1 || g.DilH < 1 || g.DilW < 1 {
		panic("kernel: " + fn + ": invalid geometry")
	}
	if len(img) < g.InC*g.InH*g.InW {
		panic("kernel: " + fn + ": len(img) too short")
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
	g.walk(img, col, g.OutH*g.OutW, false)
}

// Im2colLD is Im2col into a matrix whose rows are ld >= OutH*OutW elements
// apart: row r of the unfolded image is col[r*ld : r*ld+OutH*OutW], and the
// elements between rows are left alone. Several images unfolded side by
// side (at col, col[P:], col[2P:], ... with ld = images*P) form one GEMM
// operand. It panics like Im2col, or if ld is too small or col too short.
func Im2colLD(g ConvGeom, img, col []float32, ld int) {
	g.checkLD("Im2colLD", img, col, ld)
	g.walk(img, col, ld, false)
}

// Col2im is the adjoint of Im2col: it adds every col entry into the img
// element Im2col would have read it from (img +=); entries that came from
// padding are dropped. Contributions to one element are added in col's
// order, as in the plain loop. It panics like Im2col.
func Col2im(g ConvGeom, col, img []float32) {
	g.check("Col2im", img, col)
	g.walk(img, col, g.OutH*g.OutW, true)
}

// Col2imLD is Col2im from a matrix whose rows are ld elements apart (see
// Im2colLD). It panics like Im2colLD.
func Col2imLD(g ConvGeom, col []float32, ld int, img []float32) {
	g.checkLD("Col2imLD", img, col, ld)
	g.walk(img, col, ld, true)
}

func (g ConvGeom) checkLD(fn string, img, col []float32, ld int) {
	g.checkImg(fn, img)
	hw := g.OutH * g.OutW
	rows := g.InC * g.KH * g.KW
	if ld < hw {
		panic("kernel: " + fn + ": ld smaller than OutH*OutW")
	}
	if rows > 0 && hw > 0 && len(col) < (rows-1)*ld+hw {
		panic("kernel: " + fn + ": len(col) too short")
	}
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

// walk is Im2col (add false) or Col2im (add true), col's rows ld apart.
// For every kernel tap it works out once which output rows and columns read
// inside the image, so the inner loops carry no bounds tests; with StrideW 1
// the in-image part of a tap is a block of contiguous runs, copied or added
// by one strided-rows kernel.
func (g ConvGeom) walk(img, col []float32, ld int, add bool) {
	if useTaps && useAVX2 && g.StrideH == 1 && g.StrideW == 1 && g.DilH == 1 && g.DilW == 1 && g.KH*g.KW <= maxTaps {
		g.walkTaps(img, col, ld, add)
		return
	}
	hw := g.OutH * g.OutW
	// The in-image output spans of every kernel row and column, worked out
	// once (span divides).
	var hbuf, wbuf [16][2]int
	hs, ws := hbuf[:0], wbuf[:0]
	for i := range g.KH {
		lo, hi := span(g.OutH, g.StrideH, i*g.DilH-g.PadT, g.InH)
		hs = append(hs, [2]int{lo, hi})
	}
	for j := range g.KW {
		lo, hi := span(g.OutW, g.StrideW, j*g.DilW-g.PadL, g.InW)
		ws = append(ws, [2]int{lo, hi})
	}
	r := 0 // col row
	for c := range g.InC {
		plane := img[c*g.InH*g.InW : (c+1)*g.InH*g.InW]
		for i := range g.KH {
			hoff := i*g.DilH - g.PadT
			ohLo, ohHi := hs[i][0], hs[i][1]
			for j := range g.KW {
				woff := j*g.DilW - g.PadL
				owLo, owHi := ws[j][0], ws[j][1]
				dst := col[r*ld : r*ld+hw]
				r++
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
				rows := ohHi - ohLo
				if rows == 0 {
					continue
				}
				if g.StrideW == 1 {
					src := plane[(ohLo*g.StrideH+hoff)*g.InW+owLo+woff:]
					d := dst[ohLo*g.OutW+owLo:]
					if add {
						addRows(src, g.StrideH*g.InW, d, g.OutW, rows, n)
						continue
					}
					copyRows(d, g.OutW, src, g.StrideH*g.InW, rows, n)
					if owLo > 0 || owHi < g.OutW {
						for oh := ohLo; oh < ohHi; oh++ {
							row := dst[oh*g.OutW : (oh+1)*g.OutW]
							for o := range owLo {
								row[o] = 0
							}
							for o := owHi; o < g.OutW; o++ {
								row[o] = 0
							}
						}
					}
					continue
				}
				for oh := ohLo; oh < ohHi; oh++ {
					row := dst[oh*g.OutW : (oh+1)*g.OutW]
					src := plane[(oh*g.StrideH+hoff)*g.InW:][:g.InW]
					w0 := owLo*g.StrideW + woff
					if add {
						for o, v := range row[owLo:owHi] {
							src[w0+o*g.StrideW] += v
						}
						continue
					}
					clear(row[:owLo])
					clear(row[owHi:])
					d := row[owLo:owHi]
					for o := range d {
						d[o] = src[w0+o*g.StrideW]
					}
				}
			}
		}
	}
}

// convTap is one kernel tap of a stride-1, dilation-1 convolution, as the
// assembly in im2col_amd64.s reads it (field order and size matter): its
// unfolded row is top zeros, then rows runs of zl zeros, n values copied
// from the image and zr zeros, then bot zeros from botOff. dst and src are
// the offsets of the first run in the row and of its source in the channel.
type convTap struct {
	top, botOff, bot, dst, src, rows, n, zl, zr, _ int
}

// maxTaps bounds the kernel size (KH*KW) of the assembly path, whose tap
// table lives on the stack.
const maxTaps = 64

// useTaps lets tests compare walkTaps with the plain walk.
var useTaps = true

// walkTaps is walk for stride 1 and dilation 1, all channels in one
// assembly call.
func (g ConvGeom) walkTaps(img, col []float32, ld int, add bool) {
	hw := g.OutH * g.OutW
	if g.InC == 0 || hw == 0 || g.KH*g.KW == 0 {
		return
	}
	var taps [maxTaps]convTap
	t := 0
	for i := range g.KH {
		ohLo, ohHi := span(g.OutH, 1, i-g.PadT, g.InH)
		for j := range g.KW {
			owLo, owHi := span(g.OutW, 1, j-g.PadL, g.InW)
			tp := &taps[t]
			t++
			if ohLo >= ohHi || owLo >= owHi {
				tp.top = hw // nothing from the image: the whole row is zero
				tp.botOff = hw
				continue
			}
			*tp = convTap{top: ohLo * g.OutW, botOff: ohHi * g.OutW, bot: (g.OutH - ohHi) * g.OutW,
				dst: ohLo*g.OutW + owLo, src: (ohLo+i-g.PadT)*g.InW + owLo + j - g.PadL,
				rows: ohHi - ohLo, n: owHi - owLo, zl: owLo, zr: g.OutW - owHi}
		}
	}
	// The checks of Im2colLD/Col2imLD cover every access the assembly makes.
	if add {
		col2imTapsAVX2(&col[0], ld, &img[0], g.InH*g.InW, g.InC, &taps[0], t, 4*g.OutW, 4*g.InW)
	} else {
		im2colTapsAVX2(&col[0], ld, &img[0], g.InH*g.InW, g.InC, &taps[0], t, 4*g.OutW, 4*g.InW)
	}
}
