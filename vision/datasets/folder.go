package datasets

import (
	"fmt"
	stdimage "image"
	"image/color"
	_ "image/gif" // GIF, PNG and JPEG are the formats DefaultLoader decodes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// DefaultExtensions are the file extensions a DatasetFolder or ImageFolder takes when
// DatasetFolderOptions gives neither Extensions nor IsValidFile: those of the formats that Go's
// standard library decodes. Paddle's IMG_EXTENSIONS are .jpg .jpeg .png .ppm .bmp .pgm .tif
// .tiff .webp, which PIL decodes; to read BMP, TIFF or WebP files, import their decoders
// (golang.org/x/image/bmp, tiff and webp register themselves with image.Decode) and list the
// extensions in Extensions. Paddle's list lacks .gif, which this one has.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif"}

// DefaultMaxPixels is the most pixels (width × height) an image may have for DefaultLoader to
// decode it: PIL's MAX_IMAGE_PIXELS, the size above which Pillow warns of a decompression bomb.
// The size is read from the file's header before any pixel is decoded.
const DefaultMaxPixels = 89_478_485

// DatasetFolderOptions are the optional settings of NewDatasetFolder and NewImageFolder, with
// the meaning of Paddle's arguments of the same names. The zero value is Paddle's defaults, except
// for the extensions (see DefaultExtensions).
type DatasetFolderOptions struct {
	// Loader reads the file at path into an image tensor [C,H,W] (Paddle's loader). Nil means
	// DefaultLoader: PNG, JPEG or GIF converted to RGB, [3,H,W] of 0..255 values, as Paddle's
	// default pil_loader (Image.open(path).convert('RGB')) but channels first, as every image in
	// oar.
	Loader func(path string) (*tensor.Tensor, error)
	// Extensions are the file name endings to take, compared case-insensitively with the end of
	// the path (Paddle's has_valid_extension); nil means DefaultExtensions unless IsValidFile is
	// set. Give at most one of Extensions and IsValidFile.
	Extensions []string
	// Transform is applied to each image the Loader returns; nil keeps it as it is.
	Transform transforms.Transform
	// IsValidFile says whether the file at path is a sample. Paddle documents it but then
	// overwrites it with the extension check whenever extensions is None (its default list is
	// substituted first), so in Paddle it has no effect; oar uses it, as torchvision does.
	IsValidFile func(path string) bool
	// MaxPixels bounds DefaultLoader's images (width × height); 0 means DefaultMaxPixels.
	MaxPixels int
}

// FolderSample is one file of a DatasetFolder: its path and its class index.
type FolderSample struct {
	Path  string
	Label int
}

// DatasetFolder is a data set of files arranged in one sub-directory per class
// (paddle.vision.datasets.DatasetFolder):
//
//	root/cat/1.png
//	root/cat/more/2.png
//	root/dog/3.jpg
//
// The classes are root's sub-directories sorted by name ("cat" 0, "dog" 1); each class's samples
// are the files under its directory, at any depth, whose path passes the extension check (or
// IsValidFile), in the order of Paddle's sorted(os.walk(...)): directories sorted by path, files
// sorted by name within each. Symbolic links to directories are followed (a link back to a parent
// is not walked twice, where os.walk would loop), and a directory that cannot be read is an error
// (os.walk skips it silently). Item i is {image, label [1]}: the Loader's tensor, transformed, and the
// class index as a float32. Files are read when an item is asked for; a file that cannot be read
// makes Get panic with an *Error naming it, which a data.Loader turns into an error.
//
// It is safe for concurrent use if the Loader and Transform are.
type DatasetFolder struct {
	// Root is the directory given to NewDatasetFolder.
	Root string
	// Classes are the class names, sorted: the names of Root's sub-directories.
	Classes []string
	// ClassToIdx maps each class name to its index in Classes.
	ClassToIdx map[string]int
	// Samples are the files and their class indices, in order.
	Samples []FolderSample
	// Targets are the class indices of Samples, in order.
	Targets []int

	loader    func(string) (*tensor.Tensor, error)
	transform transforms.Transform
}

// NewDatasetFolder lists the classes and samples under root (see DatasetFolder). It returns an
// error naming root if root cannot be read, has no sub-directory, or no file under them passes
// the check; it panics with an *Error if opt sets both Extensions and IsValidFile.
func NewDatasetFolder(root string, opt DatasetFolderOptions) (*DatasetFolder, error) {
	valid, desc := folderFilter("NewDatasetFolder", opt)
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("datasets: DatasetFolder: %w", err)
	}
	var classes []string
	for _, e := range entries {
		if isDir(filepath.Join(root, e.Name()), e) {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("datasets: DatasetFolder: %s has no sub-directories: it needs one per class, root/<class>/<file>", root)
	}
	slices.Sort(classes)
	d := &DatasetFolder{Root: root, Classes: classes, ClassToIdx: make(map[string]int, len(classes)),
		loader: folderLoader(opt), transform: opt.Transform}
	for i, c := range classes {
		d.ClassToIdx[c] = i
		files, err := walkFiles(filepath.Join(root, c), valid)
		if err != nil {
			return nil, fmt.Errorf("datasets: DatasetFolder: %w", err)
		}
		for _, f := range files {
			d.Samples = append(d.Samples, FolderSample{Path: f, Label: i})
			d.Targets = append(d.Targets, i)
		}
	}
	if len(d.Samples) == 0 {
		return nil, fmt.Errorf("datasets: DatasetFolder: found no files in the %d class directories of %s (%s)", len(classes), root, desc)
	}
	return d, nil
}

// Len returns the number of samples.
func (d *DatasetFolder) Len() int { return len(d.Samples) }

// Get returns item i, {image, label [1]}: the file read by the Loader, transformed. It panics with
// an *Error if i is out of range or the file cannot be read.
func (d *DatasetFolder) Get(i int) data.Sample {
	if i < 0 || i >= len(d.Samples) {
		panicf("DatasetFolder.Get", "index %d out of range [0, %d)", i, len(d.Samples))
	}
	s := d.Samples[i]
	img := loadSample("DatasetFolder.Get", d.loader, d.transform, s.Path, nil)
	return data.Sample{img, tensor.New([]float32{float32(s.Label)}, 1)}
}

// GetRandom returns item i as Get does, with a Random transform (transforms.Random) applied
// through its ApplyRandom with rng, so that a data.Loader's per-item generators make augmented
// epochs the same for any number of workers. It panics as Get does.
func (d *DatasetFolder) GetRandom(i int, rng *rand.Rand) data.Sample {
	if i < 0 || i >= len(d.Samples) {
		panicf("DatasetFolder.GetRandom", "index %d out of range [0, %d)", i, len(d.Samples))
	}
	s := d.Samples[i]
	img := loadSample("DatasetFolder.GetRandom", d.loader, d.transform, s.Path, rng)
	return data.Sample{img, tensor.New([]float32{float32(s.Label)}, 1)}
}

// ImageFolder is a data set of the image files under a directory, at any depth, without classes
// (paddle.vision.datasets.ImageFolder): item i is {image}, a sample of one field, as Paddle's
// returns [sample]. The files are those that pass the extension check (or IsValidFile), in the
// order of Paddle's sorted(os.walk(root)): directories sorted by path, files sorted by name
// within each. Files are read as a DatasetFolder's are.
type ImageFolder struct {
	// Root is the directory given to NewImageFolder.
	Root string
	// Samples are the paths of the files, in order.
	Samples []string

	loader    func(string) (*tensor.Tensor, error)
	transform transforms.Transform
}

// ImageFolderOptions are NewImageFolder's options, those of a DatasetFolder.
type ImageFolderOptions = DatasetFolderOptions

// NewImageFolder lists the files under root (see ImageFolder). It returns an error naming root if
// it cannot be read or no file passes the check; it panics with an *Error if opt sets both
// Extensions and IsValidFile.
func NewImageFolder(root string, opt ImageFolderOptions) (*ImageFolder, error) {
	valid, desc := folderFilter("NewImageFolder", opt)
	if _, err := os.ReadDir(root); err != nil {
		return nil, fmt.Errorf("datasets: ImageFolder: %w", err)
	}
	files, err := walkFiles(root, valid)
	if err != nil {
		return nil, fmt.Errorf("datasets: ImageFolder: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("datasets: ImageFolder: found no files under %s (%s)", root, desc)
	}
	return &ImageFolder{Root: root, Samples: files, loader: folderLoader(opt), transform: opt.Transform}, nil
}

// Len returns the number of samples.
func (f *ImageFolder) Len() int { return len(f.Samples) }

// Get returns item i, {image}: the file read by the Loader, transformed. It panics with an *Error
// if i is out of range or the file cannot be read.
func (f *ImageFolder) Get(i int) data.Sample {
	if i < 0 || i >= len(f.Samples) {
		panicf("ImageFolder.Get", "index %d out of range [0, %d)", i, len(f.Samples))
	}
	return data.Sample{loadSample("ImageFolder.Get", f.loader, f.transform, f.Samples[i], nil)}
}

// GetRandom returns item i as Get does, with a Random transform applied through its ApplyRandom
// with rng (see DatasetFolder.GetRandom). It panics as Get does.
func (f *ImageFolder) GetRandom(i int, rng *rand.Rand) data.Sample {
	if i < 0 || i >= len(f.Samples) {
		panicf("ImageFolder.GetRandom", "index %d out of range [0, %d)", i, len(f.Samples))
	}
	return data.Sample{loadSample("ImageFolder.GetRandom", f.loader, f.transform, f.Samples[i], rng)}
}

// loadSample reads the file at path and transforms it: with rng, if it is not nil, for a Random
// transform.
func loadSample(op string, loader func(string) (*tensor.Tensor, error), t transforms.Transform, path string, rng *rand.Rand) *tensor.Tensor {
	img, err := loader(path)
	if err != nil {
		panic(&Error{Op: op, Msg: err.Error()})
	}
	switch {
	case t == nil:
	case rng != nil:
		img = transforms.ApplyRandom(t, img, rng)
	default:
		img = t.Apply(img)
	}
	return img
}

// folderFilter returns the file check of opt and a description of it for errors.
func folderFilter(op string, opt DatasetFolderOptions) (func(string) bool, string) {
	if opt.Extensions != nil && opt.IsValidFile != nil {
		panicf(op, "both Extensions and IsValidFile are set; give at most one")
	}
	if opt.IsValidFile != nil {
		return opt.IsValidFile, "those IsValidFile accepts"
	}
	exts := opt.Extensions
	if exts == nil {
		exts = DefaultExtensions
	}
	lower := make([]string, len(exts))
	for i, e := range exts {
		lower[i] = strings.ToLower(e)
	}
	return func(path string) bool {
		p := strings.ToLower(path)
		for _, e := range lower {
			if strings.HasSuffix(p, e) {
				return true
			}
		}
		return false
	}, "supported extensions: " + strings.Join(exts, ",")
}

func folderLoader(opt DatasetFolderOptions) func(string) (*tensor.Tensor, error) {
	if opt.Loader != nil {
		return opt.Loader
	}
	maxPixels := opt.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	return func(path string) (*tensor.Tensor, error) { return loadImage(path, maxPixels) }
}

// isDir says whether the entry e of dir (at path) is a directory, following a symbolic link.
func isDir(path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// walkFiles returns the files under dir that pass valid, in the order of Python's
// sorted(os.walk(dir, followlinks=True)) with each directory's file names sorted: the directories
// sorted by path, then their files by name. Symbolic links to directories are followed, except to
// a directory already on the way down (which would loop).
func walkFiles(dir string, valid func(string) bool) ([]string, error) {
	type entry struct {
		dir   string
		files []string
	}
	var dirs []entry
	var walk func(d string, seen []os.FileInfo) error
	walk = func(d string, seen []os.FileInfo) error {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		for _, s := range seen {
			if os.SameFile(s, st) {
				return nil
			}
		}
		seen = append(seen, st)
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		var files []string
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			if isDir(p, e) {
				if err := walk(p, seen); err != nil {
					return err
				}
				continue
			}
			if valid(p) {
				files = append(files, p)
			}
		}
		slices.Sort(files)
		dirs = append(dirs, entry{d, files})
		return nil
	}
	if err := walk(dir, nil); err != nil {
		return nil, err
	}
	slices.SortFunc(dirs, func(a, b entry) int { return strings.Compare(a.dir, b.dir) })
	var out []string
	for _, e := range dirs {
		out = append(out, e.files...)
	}
	return out, nil
}

// DefaultLoader reads a PNG, JPEG or GIF file (the first frame of a GIF) into an RGB image
// tensor [3,H,W] of 0..255 values, as Paddle's pil_loader, Image.open(path).convert('RGB'), but
// channels first. Grayscale becomes three equal channels, a palette its colours, and an alpha
// channel is dropped (the colour values kept, not composited, as PIL's convert does). JPEG's
// YCbCr is converted by Go's decoder, whose rounding and chroma upsampling may differ from
// libjpeg's (used by PIL) by a few levels. Images of more than DefaultMaxPixels pixels are
// refused from their header; the error names the file. (transforms.FromImage, by contrast, keeps
// a grey image as one channel.)
func DefaultLoader(path string) (*tensor.Tensor, error) { return loadImage(path, DefaultMaxPixels) }

func loadImage(path string, maxPixels int) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	x, err := decodeImage(f, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return x, nil
}

// decodeImage decodes the image r holds, if it has no more than maxPixels pixels, into an RGB
// tensor [3,H,W].
func decodeImage(r io.ReadSeeker, maxPixels int) (*tensor.Tensor, error) {
	cfg, format, err := stdimage.DecodeConfig(r)
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/cfg.Height {
		return nil, fmt.Errorf("a %dx%d %s image, more than the %d pixels allowed (MaxPixels)", cfg.Width, cfg.Height, format, maxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := stdimage.Decode(r)
	if err != nil {
		return nil, err
	}
	return imageCHW(img), nil
}

// imageCHW converts an image to an RGB tensor [3,H,W] of 0..255 values, as PIL's convert('RGB').
// Unlike transforms.FromImage, a grey image gets three channels, and a colour whose alpha is 0
// keeps its values.
func imageCHW(img stdimage.Image) *tensor.Tensor {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	out := make([]float32, 3*plane)
	r, g, bl := out[:plane], out[plane:2*plane], out[2*plane:]
	switch m := img.(type) {
	case *stdimage.Gray:
		for y := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := m.Pix[o : o+w]
			for x, v := range row {
				r[y*w+x], g[y*w+x], bl[y*w+x] = float32(v), float32(v), float32(v)
			}
		}
	case *stdimage.NRGBA:
		for y := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := m.Pix[o : o+4*w]
			for x := range w {
				k := y*w + x
				r[k], g[k], bl[k] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			}
		}
	case *stdimage.RGBA:
		for y := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := m.Pix[o : o+4*w]
			for x := range w {
				k := y*w + x
				if a := row[4*x+3]; a != 255 {
					c := color.NRGBAModel.Convert(color.RGBA{row[4*x], row[4*x+1], row[4*x+2], a}).(color.NRGBA)
					r[k], g[k], bl[k] = float32(c.R), float32(c.G), float32(c.B)
					continue
				}
				r[k], g[k], bl[k] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			}
		}
	case *stdimage.YCbCr:
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				k := y*w + x
				r[k], g[k], bl[k] = float32(cr), float32(cg), float32(cb)
			}
		}
	case *stdimage.Paletted:
		pal := make([]color.NRGBA, len(m.Palette))
		for i, c := range m.Palette {
			pal[i] = nrgba(c)
		}
		for y := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			row := m.Pix[o : o+w]
			for x, v := range row {
				var c color.NRGBA // an index beyond the palette is black, as Go's At gives
				if int(v) < len(pal) {
					c = pal[v]
				}
				k := y*w + x
				r[k], g[k], bl[k] = float32(c.R), float32(c.G), float32(c.B)
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := nrgba(img.At(b.Min.X+x, b.Min.Y+y))
				k := y*w + x
				r[k], g[k], bl[k] = float32(c.R), float32(c.G), float32(c.B)
			}
		}
	}
	return tensor.New(out, 3, h, w)
}

// nrgba converts c to non-premultiplied 8-bit RGBA: a colour model that stores it so (NRGBA,
// NRGBA64) keeps its values even where alpha is 0, as PIL does when it drops alpha.
func nrgba(c color.Color) color.NRGBA {
	switch c := c.(type) {
	case color.NRGBA:
		return c
	case color.NRGBA64:
		return color.NRGBA{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), uint8(c.A >> 8)}
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}
