package datasets

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	stdimage "image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
	"github.com/stretchr/testify/require"
)

// rgbImage returns a w×h opaque image whose pixel (x, y) is (10x+y+seed, 20y+x, 3(x+y)+seed).
func rgbImage(w, h, seed int) *stdimage.RGBA {
	m := stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(10*x + y + seed), uint8(20*y + x), uint8(3*(x+y) + seed), 255})
		}
	}
	return m
}

// wantCHW returns rgbImage(w, h, seed) as DefaultLoader should give it.
func wantCHW(w, h, seed int) []float32 {
	out := make([]float32, 3*w*h)
	for y := range h {
		for x := range w {
			k := y*w + x
			out[k] = float32(uint8(10*x + y + seed))
			out[w*h+k] = float32(uint8(20*y + x))
			out[2*w*h+k] = float32(uint8(3*(x+y) + seed))
		}
	}
	return out
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func encodePNG(t testing.TB, m stdimage.Image) []byte {
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, m stdimage.Image) []byte {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100}))
	return buf.Bytes()
}

func encodeGIF(t testing.TB, m stdimage.Image) []byte {
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, m, nil))
	return buf.Bytes()
}

// makeTree writes Paddle's example layout (folder.py's docstring), plus files to be ignored and
// a directory whose name sorts between a directory and its children.
func makeTree(t testing.TB) string {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "class_0", "abc.png"), encodePNG(t, rgbImage(4, 3, 0)))
	writeFile(t, filepath.Join(root, "class_0", "def.PNG"), encodePNG(t, rgbImage(4, 3, 1)))
	writeFile(t, filepath.Join(root, "class_1", "ghi.jpeg"), encodeJPEG(t, rgbImage(8, 8, 2)))
	writeFile(t, filepath.Join(root, "class_1", "jkl.png"), encodePNG(t, rgbImage(4, 3, 3)))
	writeFile(t, filepath.Join(root, "class_1", "mno", "pqr.jpg"), encodeJPEG(t, rgbImage(8, 8, 4)))
	writeFile(t, filepath.Join(root, "class_1", "mno", "x", "stu.png"), encodePNG(t, rgbImage(4, 3, 5)))
	writeFile(t, filepath.Join(root, "class_1", "mno-b", "vwx.png"), encodePNG(t, rgbImage(4, 3, 6)))
	writeFile(t, filepath.Join(root, "class_1", "notes.txt"), []byte("not an image"))
	writeFile(t, filepath.Join(root, "this_will_be_ignored.txt"), []byte("fake"))
	return root
}

func TestDatasetFolder(t *testing.T) {
	root := makeTree(t)
	ds, err := NewDatasetFolder(root, DatasetFolderOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"class_0", "class_1"}, ds.Classes)
	require.Equal(t, map[string]int{"class_0": 0, "class_1": 1}, ds.ClassToIdx)
	rel := func(p string) string { r, _ := filepath.Rel(root, p); return filepath.ToSlash(r) }
	var got []string
	for _, s := range ds.Samples {
		got = append(got, rel(s.Path))
	}
	// Python's sorted(os.walk(...)) sorts the directories by path: "mno" < "mno-b" < "mno/x",
	// since '-' < '/'.
	require.Equal(t, []string{
		"class_0/abc.png", "class_0/def.PNG",
		"class_1/ghi.jpeg", "class_1/jkl.png", "class_1/mno/pqr.jpg", "class_1/mno-b/vwx.png", "class_1/mno/x/stu.png",
	}, got)
	require.Equal(t, []int{0, 0, 1, 1, 1, 1, 1}, ds.Targets)
	require.Equal(t, 7, ds.Len())

	s := ds.Get(1)
	require.Len(t, s, 2)
	require.Equal(t, []int{3, 3, 4}, s[0].Shape())
	require.Equal(t, wantCHW(4, 3, 1), s[0].Data())
	require.Equal(t, []int{1}, s[1].Shape())
	require.Equal(t, float32(0), s[1].Item())
	s = ds.Get(6)
	require.Equal(t, wantCHW(4, 3, 5), s[0].Data())
	require.Equal(t, float32(1), s[1].Item())

	// JPEG: the pixels Go's decoder gives, close to the original's.
	s = ds.Get(2)
	require.Equal(t, []int{3, 8, 8}, s[0].Shape())
	dec, err := jpeg.Decode(bytes.NewReader(encodeJPEG(t, rgbImage(8, 8, 2))))
	require.NoError(t, err)
	want := wantCHW(8, 8, 2)
	for yy := range 8 {
		for xx := range 8 {
			r, g, b, _ := dec.At(xx, yy).RGBA()
			for c, v := range []uint32{r, g, b} {
				k := c*64 + yy*8 + xx
				require.Equal(t, float32(v>>8), s[0].Data()[k])
				require.InDelta(t, want[k], s[0].Data()[k], 24)
			}
		}
	}

	require.PanicsWithError(t, "datasets: DatasetFolder.Get: index 7 out of range [0, 7)", func() { ds.Get(7) })

	// Extensions and IsValidFile.
	ds, err = NewDatasetFolder(root, DatasetFolderOptions{Extensions: []string{".JPG"}})
	require.NoError(t, err)
	require.Len(t, ds.Samples, 1)
	require.Equal(t, "class_1/mno/pqr.jpg", rel(ds.Samples[0].Path))
	ds, err = NewDatasetFolder(root, DatasetFolderOptions{IsValidFile: func(p string) bool { return strings.Contains(p, "mno") }})
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 1}, ds.Targets)
	require.Panics(t, func() {
		NewDatasetFolder(root, DatasetFolderOptions{Extensions: []string{".png"}, IsValidFile: func(string) bool { return true }})
	})

	// A Loader of one's own, and a Transform.
	var loaded []string
	ds, err = NewDatasetFolder(root, DatasetFolderOptions{
		Extensions: []string{".txt"},
		Loader: func(p string) (*tensor.Tensor, error) {
			loaded = append(loaded, rel(p))
			return tensor.New([]float32{1, 2}, 1, 1, 2), nil
		},
		Transform: transforms.Normalize([]float32{1}, []float32{2}),
	})
	require.NoError(t, err)
	require.Equal(t, 1, ds.Len()) // the .txt at the root is in no class
	s = ds.Get(0)
	require.Equal(t, []float32{0, 0.5}, s[0].Data())
	require.Equal(t, []string{"class_1/notes.txt"}, loaded)
}

func TestImageFolder(t *testing.T) {
	root := makeTree(t)
	f, err := NewImageFolder(root, ImageFolderOptions{})
	require.NoError(t, err)
	var got []string
	for _, p := range f.Samples {
		r, _ := filepath.Rel(root, p)
		got = append(got, filepath.ToSlash(r))
	}
	require.Equal(t, []string{
		"class_0/abc.png", "class_0/def.PNG",
		"class_1/ghi.jpeg", "class_1/jkl.png", "class_1/mno/pqr.jpg", "class_1/mno-b/vwx.png", "class_1/mno/x/stu.png",
	}, got)
	s := f.Get(0)
	require.Len(t, s, 1)
	require.Equal(t, wantCHW(4, 3, 0), s[0].Data())

	f, err = NewImageFolder(root, ImageFolderOptions{Extensions: []string{".txt"}, Loader: func(string) (*tensor.Tensor, error) {
		return tensor.Zeros(1, 1, 1), nil
	}})
	require.NoError(t, err)
	require.Len(t, f.Samples, 2)
	// root's own files come first: sorted(os.walk(root)) yields root before its sub-directories.
	require.Equal(t, filepath.Join(root, "this_will_be_ignored.txt"), f.Samples[0])
	require.Equal(t, filepath.Join(root, "class_1", "notes.txt"), f.Samples[1])

	_, err = NewImageFolder(root, ImageFolderOptions{Extensions: []string{".bmp"}})
	require.EqualError(t, err, "datasets: ImageFolder: found no files under "+root+" (supported extensions: .bmp)")
	_, err = NewImageFolder(filepath.Join(root, "nope"), ImageFolderOptions{})
	require.ErrorContains(t, err, filepath.Join(root, "nope"))
}

func TestFolderErrors(t *testing.T) {
	root := t.TempDir()
	_, err := NewDatasetFolder(filepath.Join(root, "missing"), DatasetFolderOptions{})
	require.ErrorContains(t, err, "datasets: DatasetFolder: open "+filepath.Join(root, "missing"))
	writeFile(t, filepath.Join(root, "a.png"), encodePNG(t, rgbImage(2, 2, 0)))
	_, err = NewDatasetFolder(root, DatasetFolderOptions{})
	require.EqualError(t, err, "datasets: DatasetFolder: "+root+" has no sub-directories: it needs one per class, root/<class>/<file>")
	require.NoError(t, os.Mkdir(filepath.Join(root, "empty"), 0o755))
	_, err = NewDatasetFolder(root, DatasetFolderOptions{})
	require.EqualError(t, err, "datasets: DatasetFolder: found no files in the 1 class directories of "+root+" (supported extensions: .jpg,.jpeg,.png,.gif)")

	// A file that does not decode, and one whose header claims too many pixels: Get panics with
	// an error naming the file, and a Loader returns it.
	bad := filepath.Join(root, "empty", "bad.png")
	writeFile(t, bad, []byte("\x89PNG\r\n\x1a\nnot really"))
	ds, err := NewDatasetFolder(root, DatasetFolderOptions{})
	require.NoError(t, err)
	require.PanicsWithError(t, "datasets: DatasetFolder.Get: decode "+bad+": unexpected EOF", func() { ds.Get(0) })
	// A data.Loader re-panics with a *data.PanicError that unwraps to it.
	func() {
		defer func() {
			pe, ok := recover().(*data.PanicError)
			require.True(t, ok)
			var de *Error
			require.ErrorAs(t, pe, &de)
			require.Contains(t, de.Msg, bad)
		}()
		for range (&data.Loader{Dataset: ds, BatchSize: 1}).All(context.Background()) {
		}
	}()

	huge := encodePNG(t, rgbImage(2, 2, 0))
	binary.BigEndian.PutUint32(huge[16:], 100000) // IHDR width
	binary.BigEndian.PutUint32(huge[20:], 100000) // IHDR height
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	writeFile(t, bad, huge)
	require.PanicsWithError(t, "datasets: DatasetFolder.Get: decode "+bad+": a 100000x100000 png image, more than the 89478485 pixels allowed (MaxPixels)", func() { ds.Get(0) })
	writeFile(t, bad, encodePNG(t, rgbImage(5, 4, 0)))
	ds, err = NewDatasetFolder(root, DatasetFolderOptions{MaxPixels: 19})
	require.NoError(t, err)
	require.Panics(t, func() { ds.Get(0) })
	ds, err = NewDatasetFolder(root, DatasetFolderOptions{MaxPixels: 20})
	require.NoError(t, err)
	require.Equal(t, []int{3, 4, 5}, ds.Get(0)[0].Shape())
}

func TestFolderSymlinkLoop(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "c", "a.png"), encodePNG(t, rgbImage(2, 2, 0)))
	if err := os.Symlink("..", filepath.Join(root, "c", "up")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	require.NoError(t, os.Symlink(filepath.Join(root, "c"), filepath.Join(root, "d")))
	ds, err := NewDatasetFolder(root, DatasetFolderOptions{})
	require.NoError(t, err)
	// "d" is a class through its link; "c/up" leads back to root, whose class directories are
	// walked once more under it (as os.walk would), but never c itself again.
	require.Equal(t, []string{"c", "d"}, ds.Classes)
	for _, s := range ds.Samples {
		require.Equal(t, "a.png", filepath.Base(s.Path))
	}
	require.Less(t, ds.Len(), 10)
}

func TestImageCHWColorModels(t *testing.T) {
	// Grayscale: three equal channels.
	g := stdimage.NewGray(stdimage.Rect(0, 0, 3, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(40 * i)
	}
	x := imageCHW(g)
	require.Equal(t, []int{3, 2, 3}, x.Shape())
	require.Equal(t, []float32{0, 40, 80, 120, 160, 200, 0, 40, 80, 120, 160, 200, 0, 40, 80, 120, 160, 200}, x.Data())

	// Alpha is dropped, the colour kept, as PIL's convert('RGB').
	n := stdimage.NewNRGBA(stdimage.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	n.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 128})
	require.Equal(t, []float32{200, 10, 100, 20, 50, 30}, imageCHW(n).Data())

	// Through a PNG file, NRGBA survives.
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	writeFile(t, p, encodePNG(t, n))
	y, err := DefaultLoader(p)
	require.NoError(t, err)
	require.Equal(t, []float32{200, 10, 100, 20, 50, 30}, y.Data())

	// A palette (GIF).
	pal := stdimage.NewPaletted(stdimage.Rect(0, 0, 2, 2), color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}})
	pal.Pix = []uint8{0, 1, 1, 0}
	p = filepath.Join(dir, "a.gif")
	writeFile(t, p, encodeGIF(t, pal))
	y, err = DefaultLoader(p)
	require.NoError(t, err)
	require.Equal(t, []float32{255, 0, 0, 255, 0, 0, 0, 0, 0, 255, 255, 0}, y.Data())

	// A sub-image starts at its own origin.
	sub := rgbImage(6, 5, 0).SubImage(stdimage.Rect(2, 1, 5, 3))
	z := imageCHW(sub).Data()
	require.Equal(t, float32(10*2+1), z[0])
	require.Equal(t, float32(uint8(20*2+4)), z[6+5])

	// YCbCr through the generic conversion agrees with At.
	yc := stdimage.NewYCbCr(stdimage.Rect(0, 0, 4, 4), stdimage.YCbCrSubsampleRatio420)
	for i := range yc.Y {
		yc.Y[i] = uint8(i * 13)
	}
	for i := range yc.Cb {
		yc.Cb[i], yc.Cr[i] = uint8(60*i), uint8(255-50*i)
	}
	w := imageCHW(yc).Data()
	for yy := range 4 {
		for xx := range 4 {
			r, gg, b, _ := yc.At(xx, yy).RGBA()
			k := yy*4 + xx
			require.Equal(t, []float32{float32(r >> 8), float32(gg >> 8), float32(b >> 8)}, []float32{w[k], w[16+k], w[32+k]})
		}
	}
}

func TestFolderRandomTransforms(t *testing.T) {
	root := makeTree(t)
	aug := transforms.Compose(transforms.RandomCrop([]int{2}), transforms.RandomHorizontalFlip(0.5))
	ds, err := NewDatasetFolder(root, DatasetFolderOptions{Extensions: []string{".png"}, Transform: aug})
	require.NoError(t, err)
	var _ data.RandomDataset = ds
	x := ds.GetRandom(0, data.SampleRand(3, 0, 0))
	require.Equal(t, []int{3, 2, 2}, x[0].Shape())
	require.Equal(t, x[0].Data(), ds.GetRandom(0, data.SampleRand(3, 0, 0))[0].Data())
	require.Equal(t, float32(0), x[1].Item())
	f, err := NewImageFolder(root, ImageFolderOptions{Extensions: []string{".png"}, Transform: aug})
	require.NoError(t, err)
	var _ data.RandomDataset = f
	require.Equal(t, x[0].Data(), f.GetRandom(0, data.SampleRand(3, 0, 0))[0].Data())
	var ref []float32
	for _, workers := range []int{0, 2} {
		var got []float32
		l := &data.Loader{Dataset: f, BatchSize: 2, Seed: 5, Workers: workers, Shuffle: true}
		for b := range l.All(t.Context()) {
			got = append(got, b[0].Data()...)
		}
		require.NoError(t, l.Err())
		if ref == nil {
			ref = got
		}
		require.Equal(t, ref, got)
	}
}
