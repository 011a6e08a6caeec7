package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/oarlab/oar"
)

// digit is a test image with its predicted and true labels.
type digit struct {
	index       int    // position in the test set
	pixels      []byte // 28x28, row by row, 0..255
	pred, label int
}

// pickDigits returns n digits in test-set order: the first misclassified ones (at most maxWrong)
// and the first correctly classified ones to fill the rest.
func pickDigits(all []digit, n, maxWrong int) []digit {
	var wrong, right []digit
	for _, d := range all {
		if d.pred != d.label {
			if len(wrong) < maxWrong {
				wrong = append(wrong, d)
			}
		} else if len(right) < n {
			right = append(right, d)
		}
	}
	picked := append(wrong, right[:min(len(right), n-len(wrong))]...)
	slices.SortFunc(picked, func(a, b digit) int { return a.index - b.index })
	return picked
}

var (
	red   = color.RGBA{R: 210, A: 255}
	gray  = color.Gray{Y: 170}
	black = color.Black
)

// drawPredictions writes a rows×cols grid of digits as a PNG to path, each titled with its
// predicted and true labels; a misclassified digit has a red title and a red frame.
func drawPredictions(path string, digits []digit, rows, cols int) error {
	// A cell is the 28x28 image, square, under a two-line title.
	const cellW, cellH, head = 1.8 * vg.Inch, 2.35 * vg.Inch, 0.6 * vg.Inch
	grid := make([][]*plot.Plot, rows)
	wrong := 0
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			p := plot.New()
			p.HideAxes()
			grid[r][c] = p
			i := r*cols + c
			if i >= len(digits) {
				continue
			}
			d := digits[i]
			p.Add(plotter.NewImage(digitImage(d.pixels), 0, 0, 28, 28))
			p.Title.Text = fmt.Sprintf("test #%d\npred %d / true %d", d.index, d.pred, d.label)
			p.Title.TextStyle.Font.Size = 14
			p.Title.TextStyle.Color = black
			p.Title.Padding = vg.Points(4)
			border := frame{color: gray, width: vg.Points(1)}
			if d.pred != d.label {
				wrong++
				p.Title.Text = fmt.Sprintf("test #%d  WRONG\npred %d / true %d", d.index, d.pred, d.label)
				p.Title.TextStyle.Color = red
				border = frame{color: red, width: vg.Points(4)}
			}
			p.Add(border)
		}
	}
	img := vgimg.New(vg.Length(cols)*cellW, vg.Length(rows)*cellH+head)
	dc := draw.New(img)
	title := plot.New()
	title.HideAxes()
	title.Title.Text = fmt.Sprintf("LeNet on MNIST test digits: predicted / true label, %d of %d misclassified (red)", wrong, len(digits))
	title.Title.TextStyle.Font.Size = 18
	title.Draw(draw.Crop(dc, 0, 0, vg.Length(rows)*cellH, 0))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 3, PadY: vg.Millimeter * 3,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, draw.Crop(dc, 0, 0, 0, -head))
	for r := range grid {
		for c := range grid[r] {
			grid[r][c].Draw(canvases[r][c])
		}
	}
	return writePNG(path, img)
}

// digitImage renders 28x28 pixels as dark ink on white paper (matplotlib's cm.binary).
func digitImage(pixels []byte) image.Image {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i, p := range pixels {
		img.Pix[i] = 255 - p
	}
	return img
}

// frame is a plotter that strokes a rectangle around a plot's data area.
type frame struct {
	color color.Color
	width vg.Length
}

func (f frame) Plot(c draw.Canvas, p *plot.Plot) {
	r := c.Rectangle
	h := f.width / 2
	c.StrokeLines(draw.LineStyle{Color: f.color, Width: f.width}, []vg.Point{
		{X: r.Min.X + h, Y: r.Min.Y + h}, {X: r.Max.X - h, Y: r.Min.Y + h},
		{X: r.Max.X - h, Y: r.Max.Y - h}, {X: r.Min.X + h, Y: r.Max.Y - h},
		{X: r.Min.X + h, Y: r.Min.Y},
	})
}

// drawCurves writes the loss and accuracy per epoch as a PNG to path: two panels side by side,
// training and evaluation, from Fit's History (whose loss is each epoch's last batch, as Paddle
// logs it) and from the epoch means of the batch losses.
func drawCurves(path string, hist *oar.History, means *lossMeans) error {
	series := func(logs []oar.Logs, name string) []float64 {
		v := make([]float64, len(logs))
		for i, l := range logs {
			v[i], _ = l.Get(name)
		}
		return v
	}
	lossPlot, err := curvePlot("Loss per epoch", "cross-entropy loss", []curve{
		{"train, epoch mean", means.Train, 0, false},
		{"eval (test set), mean", means.Eval, 1, false},
		{"train, last batch (History)", series(hist.Train, "loss"), 0, true},
		{"eval, last batch (History)", series(hist.Eval, "loss"), 1, true},
	})
	if err != nil {
		return err
	}
	lossPlot.Y.Min = 0
	accPlot, err := curvePlot("Accuracy per epoch", "accuracy", []curve{
		{"train (History)", series(hist.Train, "acc"), 0, false},
		{"eval, test set (History)", series(hist.Eval, "acc"), 1, false},
	})
	if err != nil {
		return err
	}
	accPlot.Legend.Top = false
	img := vgimg.New(12*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 2, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8,
		PadLeft: vg.Inch / 8, PadRight: vg.Inch / 4}
	canvases := plot.Align([][]*plot.Plot{{lossPlot, accPlot}}, tiles, dc)
	lossPlot.Draw(canvases[0][0])
	accPlot.Draw(canvases[0][1])
	return writePNG(path, img)
}

type curve struct {
	name   string
	values []float64
	color  int
	dashed bool
}

func curvePlot(title, ylabel string, curves []curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 16
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = 14
	p.Y.Label.TextStyle.Font.Size = 14
	p.X.Tick.Label.Font.Size = 12
	p.Y.Tick.Label.Font.Size = 12
	p.Legend.TextStyle.Font.Size = 12
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	n := 0
	for _, c := range curves {
		n = max(n, len(c.values))
	}
	p.X.Min, p.X.Max = 0.8, float64(n)+0.2
	p.X.Tick.Marker = epochTicks{}
	palette := []color.Color{color.RGBA{B: 200, A: 255}, color.RGBA{R: 220, G: 100, A: 255}}
	for _, c := range curves {
		if len(c.values) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(c.values))
		for i, v := range c.values {
			xys[i] = plotter.XY{X: float64(i + 1), Y: v}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		col := palette[c.color%len(palette)]
		line.Color, points.Color = col, col
		line.Width = vg.Points(2)
		points.Radius = vg.Points(3.5)
		points.Shape = draw.CircleGlyph{}
		if c.dashed {
			line.Width = vg.Points(1)
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
			points.Shape = draw.CrossGlyph{}
		}
		p.Add(line, points)
		p.Legend.Add(c.name, line, points)
	}
	return p, nil
}

// epochTicks labels whole epochs only.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := int(lo + 0.999); float64(e) <= hi; e++ {
		ts = append(ts, plot.Tick{Value: float64(e), Label: fmt.Sprint(e)})
	}
	return ts
}

func writePNG(path string, img *vgimg.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// drawTutorialPredictions writes the tutorial's sample of predictions as a PNG to path: the
// digits side by side, each titled "predict: N" as the tutorial's show_img titles its figures,
// drawn as plt.imshow(img, cmap=plt.cm.binary) draws them, under a line naming the test images.
func drawTutorialPredictions(path string, digits []digit) error {
	const cellW, cellH, head = 2.4 * vg.Inch, 2.7 * vg.Inch, 0.5 * vg.Inch
	row := make([]*plot.Plot, len(digits))
	var ids []string
	for i, d := range digits {
		p := plot.New()
		p.HideAxes()
		p.Add(plotter.NewImage(digitImage(d.pixels), 0, 0, 28, 28), frame{color: gray, width: vg.Points(1)})
		p.Title.Text = fmt.Sprintf("predict: %d", d.pred)
		p.Title.TextStyle.Font.Size = 18
		p.Title.Padding = vg.Points(6)
		row[i] = p
		ids = append(ids, fmt.Sprint(d.index))
	}
	img := vgimg.New(vg.Length(len(digits))*cellW, cellH+head)
	dc := draw.New(img)
	title := plot.New()
	title.HideAxes()
	title.Title.Text = "model.predict(eval_dataset): test images " + strings.Join(ids, ", ")
	title.Title.TextStyle.Font.Size = 16
	title.Draw(draw.Crop(dc, 0, 0, cellH, 0))
	tiles := draw.Tiles{Rows: 1, Cols: len(digits), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter,
		PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, draw.Crop(dc, 0, 0, 0, -head))
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	return writePNG(path, img)
}

// drawImage writes a 28x28 digit as a PNG to path, as the tutorial's data view shows
// train_dataset[0] (plt.imshow(..., cmap=plt.cm.binary)), each pixel a 10x10 square.
func drawImage(path string, pixels []byte) error {
	const scale = 10
	src := digitImage(pixels).(*image.Gray)
	img := image.NewGray(image.Rect(0, 0, 28*scale, 28*scale))
	for y := range 28 * scale {
		for x := range 28 * scale {
			img.Pix[y*img.Stride+x] = src.Pix[(y/scale)*28+x/scale]
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
