package datasets

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// The three files of Oxford's 102 Category Flower Dataset, as Paddle's cache names them.
const (
	FlowersDataFile  = "102flowers.tgz"
	FlowersLabelFile = "imagelabels.mat"
	FlowersSetidFile = "setid.mat"

	// DefaultFlowersMaxBytes is how many bytes 102flowers.tgz may decompress to unless
	// FlowersOptions.MaxBytes says otherwise: 512 MiB, above the 345 MB of the real tar.
	DefaultFlowersMaxBytes = 512 << 20
)

// flowersFiles gives each file's MD5, from Paddle's flowers.py (which torchvision's Flowers102
// shares); no SHA-256 of them is published by Oxford or Paddle, so the cache is checked with MD5.
var flowersFiles = []struct{ name, md5 string }{
	{FlowersDataFile, "52808999861908f626f3c1f4e79d11fa"},
	{FlowersLabelFile, "e0620be6f572b9609742df49c70aed4d"},
	{FlowersSetidFile, "a5357ecc9cb78c4bef273ce3793fc85c"},
}

const (
	flowersURL       = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
	flowersPaddleURL = "http://paddlemodels.bj.bcebos.com/flowers/"
)

// FlowersOptions are the arguments of Paddle's Flowers(data_file, label_file, setid_file, mode,
// transform). The zero value is the training split, read from DataHome()/flowers.
type FlowersOptions struct {
	// DataFile, LabelFile and SetidFile are the paths of 102flowers.tgz, imagelabels.mat and
	// setid.mat, read without a checksum; an empty one is read from FlowersDir(), where its MD5
	// must be Oxford's.
	DataFile, LabelFile, SetidFile string
	// Mode is "train" (the default when empty), "valid" or "test". As Paddle's, "train" reads the
	// images that setid.mat lists as tstid (6,149) and "test" those of trnid (1,020): Paddle swaps
	// them because the official test split is the larger one. "valid" is valid (1,020).
	Mode string
	// Transform is applied to each image [3,H,W] of 0..255 values.
	Transform transforms.Transform
	// MaxBytes bounds what 102flowers.tgz decompresses to; 0 means DefaultFlowersMaxBytes.
	MaxBytes int64
	// MaxPixels bounds each decoded image, as DatasetFolderOptions.MaxPixels.
	MaxPixels int
}

// FlowersDir returns the directory in which NewFlowers looks for files not given in
// FlowersOptions: DataHome()/flowers (Paddle's is ~/.cache/paddle/dataset/flowers).
func FlowersDir() string { return filepath.Join(DataHome(), "flowers") }

// Flowers is Oxford's 102 Category Flower Dataset (paddle.vision.datasets.Flowers): JPEG images
// of various sizes. Item i is {image [3,H,W], label [1]}: the image decoded as DefaultLoader
// does (RGB, 0..255, or as the Transform maps it) and its class as Paddle gives it, 1..102 from
// imagelabels.mat, not shifted to 0..101 (a classifier needs 103 outputs, or a label minus 1).
// Paddle's item is (PIL image or HWC array, int64 [1]).
//
// The JPEG files of the split are held in memory, compressed (about 250 MB for "train"), and
// decoded by Get. It is safe for concurrent use, and a data.RandomDataset.
type Flowers struct {
	names     []string // "<archive>: jpg/image_00001.jpg", for errors
	images    [][]byte
	labels    []int
	transform transforms.Transform
	maxPixels int
}

// NewFlowers reads the split opt.Mode: the indices setid.mat lists for it, their labels in
// imagelabels.mat (level-5 MAT files, compressed or not), and the images jpg/image_%05d.jpg of
// 102flowers.tgz, read as a stream within opt.MaxBytes. Nothing is downloaded: a missing file is
// an error naming the path where it was expected, where to get it and its MD5. The errors name
// the file at fault.
func NewFlowers(opt FlowersOptions) (*Flowers, error) {
	flag := map[string]string{"": "tstid", "train": "tstid", "test": "trnid", "valid": "valid"}[opt.Mode]
	if flag == "" {
		return nil, fmt.Errorf(`flowers: mode %q: want "train", "valid" or "test"`, opt.Mode)
	}
	paths := []string{opt.DataFile, opt.LabelFile, opt.SetidFile}
	sums := make([]string, 3)
	var missing []string
	for i, f := range flowersFiles {
		if paths[i] == "" {
			paths[i], sums[i] = filepath.Join(FlowersDir(), f.name), f.md5
		}
		if _, err := os.Stat(paths[i]); err != nil {
			missing = append(missing, fmt.Sprintf("\t%s: get %s%s or %s%s (MD5 %s)", err, flowersURL, f.name, flowersPaddleURL, f.name, f.md5))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("flowers: missing files (nothing is downloaded):\n%s\nset FlowersOptions.DataFile, LabelFile and SetidFile, or place the files in %s",
			strings.Join(missing, "\n"), FlowersDir())
	}
	var vars [2]matArray
	for k, v := range []struct {
		i    int
		name string
	}{{1, "labels"}, {2, flag}} {
		b, err := readChecked(paths[v.i], sums[v.i])
		if err != nil {
			return nil, fmt.Errorf("flowers: %w", err)
		}
		m, err := readMat(b, map[string]bool{v.name: true}, 16<<20)
		if err != nil {
			return nil, fmt.Errorf("flowers: read %s: %w", paths[v.i], err)
		}
		a, ok := m[v.name]
		if !ok {
			return nil, fmt.Errorf("flowers: read %s: no numeric variable %q", paths[v.i], v.name)
		}
		vars[k] = a
	}
	labels, index := vars[0].data, vars[1].data
	want := make(map[string]int, len(index)) // member name → position in the split
	for k, x := range index {
		if x != float64(int(x)) || x < 1 || int(x) > len(labels) {
			return nil, fmt.Errorf("flowers: read %s: %s[%d] is %v, want an image number 1..%d", paths[2], flag, k, x, len(labels))
		}
		name := fmt.Sprintf("jpg/image_%05d.jpg", int(x))
		if _, dup := want[name]; dup {
			return nil, fmt.Errorf("flowers: read %s: %s lists image %d twice", paths[2], flag, int(x))
		}
		want[name] = k
	}
	f := &Flowers{names: make([]string, len(index)), images: make([][]byte, len(index)), labels: make([]int, len(index)), transform: opt.Transform, maxPixels: opt.MaxPixels}
	for name, k := range want {
		f.names[k] = paths[0] + ": " + name
	}
	if f.maxPixels <= 0 {
		f.maxPixels = DefaultMaxPixels
	}
	for k, x := range index {
		l := labels[int(x)-1]
		if l != float64(int(l)) || l < 1 || l > 102 {
			return nil, fmt.Errorf("flowers: read %s: label %v of image %d, want 1..102", paths[1], l, int(x))
		}
		f.labels[k] = int(l)
	}
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultFlowersMaxBytes
	}
	if err := f.readImages(paths[0], sums[0], want, maxBytes); err != nil {
		return nil, fmt.Errorf("flowers: %w", err)
	}
	return f, nil
}

// readChecked reads a small file, checked against wantMD5 unless it is empty.
func readChecked(path, wantMD5 string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > 64<<20 {
		return nil, fmt.Errorf("%s: %d bytes, more than a label file of the data set can have", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if wantMD5 != "" {
		sum := md5.Sum(b)
		if err := checkMD5(path, sum[:], wantMD5); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func checkMD5(path string, sum []byte, want string) error {
	if got := hex.EncodeToString(sum); got != want {
		return fmt.Errorf("%s: %w: MD5 %s, want %s; the file is damaged or is not Oxford's: delete it and fetch it again from %s or %s",
			path, errChecksum, got, want, flowersURL, flowersPaddleURL)
	}
	return nil
}

// readImages reads the members of the tar.gz at path that want names into f.images.
func (f *Flowers) readImages(path, wantMD5 string, want map[string]int, maxBytes int64) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	var r io.Reader = file
	var h hash.Hash
	if wantMD5 != "" {
		h = md5.New()
		r = io.TeeReader(file, h)
	}
	err = f.readTar(r, want, maxBytes)
	if h != nil {
		if _, cerr := io.Copy(io.Discard, r); cerr != nil && err == nil {
			err = cerr
		}
		if cerr := checkMD5(path, h.Sum(nil), wantMD5); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func (f *Flowers) readTar(r io.Reader, want map[string]int, maxBytes int64) error {
	br := bufio.NewReader(r)
	var stream io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", unexpected(err))
		}
		defer zr.Close()
		stream = zr
	}
	lim := &budgetReader{r: stream, left: maxBytes, max: maxBytes}
	tr := tar.NewReader(lim)
	found := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tarError(err)
		}
		k, ok := want[hdr.Name]
		if !ok || hdr.Typeflag != tar.TypeReg || f.images[k] != nil {
			continue
		}
		if hdr.Size < 0 || hdr.Size > lim.left {
			return fmt.Errorf("%s: %d bytes: the archive decompresses to %w of %d bytes", hdr.Name, hdr.Size, errBudget, maxBytes)
		}
		b, err := readN(tr, int(hdr.Size), 1<<16)
		if err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, tarError(err))
		}
		f.images[k] = b
		found++
	}
	if _, err := io.Copy(io.Discard, lim); err != nil {
		return tarError(err)
	}
	if found < len(want) {
		for name, k := range want {
			if f.images[k] == nil {
				return fmt.Errorf("no member %s (%d of the split's %d images are missing)", name, len(want)-found, len(want))
			}
		}
	}
	return nil
}

// Len returns the number of items: 6,149 for train, 1,020 for valid and test.
func (f *Flowers) Len() int { return len(f.labels) }

// Label returns the class of item i, 1..102. It panics if i is out of range.
func (f *Flowers) Label(i int) int {
	f.check("Label", i)
	return f.labels[i]
}

// Get returns item i: {image [3,H,W], label [1]}. It panics with an *Error if i is out of range
// or the image does not decode.
func (f *Flowers) Get(i int) data.Sample { return f.get("Get", i, nil) }

// GetRandom returns item i as Get does, with a Random transform applied through its ApplyRandom
// with rng (see DatasetFolder.GetRandom).
func (f *Flowers) GetRandom(i int, rng *rand.Rand) data.Sample { return f.get("GetRandom", i, rng) }

func (f *Flowers) get(op string, i int, rng *rand.Rand) data.Sample {
	f.check(op, i)
	load := func(name string) (*tensor.Tensor, error) {
		x, err := decodeImage(bytes.NewReader(f.images[i]), f.maxPixels)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		return x, nil
	}
	img := loadSample("Flowers."+op, load, f.transform, f.names[i], rng)
	return data.Sample{img, tensor.New([]float32{float32(f.labels[i])}, 1)}
}

func (f *Flowers) check(op string, i int) {
	if i < 0 || i >= len(f.labels) {
		panicf("Flowers."+op, "index %d out of range [0, %d)", i, len(f.labels))
	}
}
