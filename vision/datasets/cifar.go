package datasets

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/internal/pickle"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// The CIFAR archives, as Krizhevsky's page and Paddle's cache name them.
const (
	Cifar10File  = "cifar-10-python.tar.gz"
	Cifar100File = "cifar-100-python.tar.gz"

	// DefaultCifarMaxBytes is how many bytes a CIFAR archive may decompress to unless
	// CifarOptions.MaxBytes says otherwise: 256 MiB, above the 186 MB that the tar of either real
	// archive holds.
	DefaultCifarMaxBytes = 256 << 20
)

// CIFAR image geometry: 3 channels of 32x32, stored as 1024 red, 1024 green then 1024 blue bytes,
// each plane row by row, which is already CHW.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
)

// cifarSpec describes one CIFAR archive: where it comes from, its digests (SHA-256 from Keras's
// cifar10.py and cifar100.py, which download the same files; MD5 from Paddle's cifar.py and
// Krizhevsky's page) and what Paddle reads of it.
type cifarSpec struct {
	name        string // "cifar10", for errors
	file        string
	sha256, md5 string
	train, test string // Paddle's MODE_FLAG_MAP: the members whose name contains it
	classes     int
}

var (
	cifar10Spec = cifarSpec{
		name: "cifar10", file: Cifar10File,
		sha256: "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
		md5:    "c58f30108f718f92721af3b95e74349a",
		train:  "data_batch", test: "test_batch", classes: 10,
	}
	cifar100Spec = cifarSpec{
		name: "cifar100", file: Cifar100File,
		sha256: "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
		md5:    "eb9058c3a382ffc7106e4002c42a8d85",
		train:  "train", test: "test", classes: 100,
	}
)

// The addresses of the archives: Krizhevsky's page and Paddle's mirror (URL_PREFIX of cifar.py).
const (
	cifarURL       = "https://www.cs.toronto.edu/~kriz/"
	cifarPaddleURL = "https://dataset.bj.bcebos.com/cifar/"
)

// CifarOptions choose a CIFAR split and its archive, as the arguments of Paddle's Cifar10 and
// Cifar100 (data_file, mode, transform). The zero value is the training split, raw 0..255
// pixels, read from DataHome()/cifar.
type CifarOptions struct {
	// DataFile is the path of the archive, cifar-10-python.tar.gz or cifar-100-python.tar.gz (or
	// any tar, gzip-compressed or not, of batches in their format), read without a checksum, as
	// Paddle's data_file. When empty, the archive is read from CifarDir() and must have the
	// SHA-256 of Krizhevsky's.
	DataFile string
	// Mode is "train" (50,000 items; the default when empty) or "test" (10,000 items).
	Mode string
	// Transform is applied to each image [3,32,32] of 0..255 values; nil keeps them (Paddle's
	// cv2 backend, but CHW: Paddle's gives HWC arrays, or PIL images with the pil backend).
	Transform transforms.Transform
	// Coarse selects CIFAR-100's 20 superclasses (coarse_labels) instead of its 100 classes
	// (fine_labels, Paddle's only choice). NewCifar10 ignores it.
	Coarse bool
	// MaxBytes is the most bytes the archive may decompress to; 0 (or less) means
	// DefaultCifarMaxBytes. An archive that holds more is refused as soon as the budget is spent.
	MaxBytes int64
}

// CifarDir returns the directory in which NewCifar10 and NewCifar100 look for their archives when
// CifarOptions.DataFile is empty: DataHome()/cifar (Paddle's is ~/.cache/paddle/dataset/cifar,
// whose archives work as a DataFile).
func CifarDir() string { return filepath.Join(DataHome(), "cifar") }

// Cifar10 is Krizhevsky's CIFAR-10 (paddle.vision.datasets.Cifar10): 32x32 colour images of ten
// classes (0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
// 9 truck). Item i is {image [3,32,32], label [1]}: the pixels 0..255 as float32 (or as the
// Transform maps them) and the class id as a float32. Paddle's item is (HWC image, int64 label
// of shape []): oar's images are CHW, and its labels [1] float32 as MNIST's.
//
// The pixels stay in memory as bytes (3,072 per image, 154 MB for the training set) and become
// float32 when Get or GetBatch builds a tensor. It is a data.Batcher, safe for concurrent use;
// GetBatch goes through a table of the 256 pixel values per channel when the Transform is nil or
// transforms.Pointwise.
type Cifar10 struct {
	op        string // "Cifar10" or "Cifar100", for panics
	images    []byte // n*3072, CHW per image
	labels    []byte
	transform transforms.Transform
	lut       *[3][256]float32
}

// Cifar100 is CIFAR-100 (paddle.vision.datasets.Cifar100, a subclass of Cifar10 there too): the
// same images and items as Cifar10's, in 100 classes (or, with CifarOptions.Coarse, 20
// superclasses).
type Cifar100 struct{ Cifar10 }

// NewCifar10 reads the split opt.Mode of cifar-10-python.tar.gz, as Paddle's Cifar10: the
// archive's members whose name contains "data_batch" (train) or "test_batch" (test), in sorted
// order, each a pickled dict of "data" (a uint8 NumPy array [N,3072]) and "labels" (a list of N
// class ids). The archive is read as a stream (never extracted) within opt.MaxBytes, and the
// pickles by a reader that only builds containers and NumPy arrays (internal/pickle): a hostile
// archive gives an error, never runs code.
//
// Nothing is downloaded: unlike Paddle's (download=True), a missing archive is an error naming the
// path where it was expected, the addresses it can be fetched from and its SHA-256 and MD5. The
// errors name the archive and the member at fault, e.g. "cifar10: read /data/cifar-10-python.tar.gz:
// cifar-10-batches-py/data_batch_3: label 10 at index 7, want 0..9".
func NewCifar10(opt CifarOptions) (*Cifar10, error) {
	c, err := newCifar(cifar10Spec, opt, []string{"labels", "fine_labels"})
	if err != nil {
		return nil, err
	}
	c.op = "Cifar10"
	return c, nil
}

// NewCifar100 reads the split opt.Mode of cifar-100-python.tar.gz, as Paddle's Cifar100: the
// member whose name contains "train" or "test", a pickled dict of "data" and "fine_labels" (or,
// with opt.Coarse, "coarse_labels"). See NewCifar10 for the rest.
func NewCifar100(opt CifarOptions) (*Cifar100, error) {
	keys, spec := []string{"labels", "fine_labels"}, cifar100Spec
	if opt.Coarse {
		keys, spec.classes = []string{"coarse_labels"}, 20
	}
	c, err := newCifar(spec, opt, keys)
	if err != nil {
		return nil, err
	}
	c.op = "Cifar100"
	return &Cifar100{*c}, nil
}

func newCifar(spec cifarSpec, opt CifarOptions, keys []string) (*Cifar10, error) {
	var flag string
	switch opt.Mode {
	case "", "train":
		flag = spec.train
	case "test":
		flag = spec.test
	default:
		return nil, fmt.Errorf("%s: mode %q: want \"train\" or \"test\"", spec.name, opt.Mode)
	}
	path, wantSHA, fix := opt.DataFile, "", ""
	if path == "" {
		path = filepath.Join(CifarDir(), spec.file)
		wantSHA = spec.sha256
		fix = fmt.Sprintf("the file is damaged or is not Krizhevsky's: delete %s and fetch it again from %s%s or %s%s "+
			"(for other data in this format, set CifarOptions.DataFile to its path instead)", path, cifarURL, spec.file, cifarPaddleURL, spec.file)
	}
	if _, err := os.Stat(path); err != nil {
		how := "set CifarOptions.DataFile to its path, or place it there"
		if opt.DataFile != "" {
			how = "place it there, or leave CifarOptions.DataFile empty to read " + filepath.Join(CifarDir(), spec.file)
		}
		return nil, fmt.Errorf("%s: %w (nothing is downloaded): get %s from %s%s or %s%s (SHA-256 %s, MD5 %s) and %s",
			spec.name, err, spec.file, cifarURL, spec.file, cifarPaddleURL, spec.file, spec.sha256, spec.md5, how)
	}
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultCifarMaxBytes
	}
	images, labels, err := readCifarFile(path, flag, keys, spec.classes, maxBytes, wantSHA, fix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	return newCifar10(images, labels, opt.Transform), nil
}

func newCifar10(images, labels []byte, t transforms.Transform) *Cifar10 {
	if t != nil {
		// A transform that does not fit a [3,32,32] image panics here rather than in a worker.
		t.Apply(tensor.Zeros(3, cifarSide, cifarSide))
	}
	c := &Cifar10{op: "Cifar10", images: images, labels: labels, transform: t}
	switch p := t.(type) {
	case nil:
		c.lut = new([3][256]float32)
		for ch := range c.lut {
			for b := range c.lut[ch] {
				c.lut[ch][b] = float32(b)
			}
		}
	case transforms.Pointwise:
		c.lut = new([3][256]float32)
		for ch := range c.lut {
			for b := range c.lut[ch] {
				c.lut[ch][b] = p.Point(ch, float32(b))
			}
		}
	}
	return c
}

// Len returns the number of items: 50,000 for train, 10,000 for test.
func (c *Cifar10) Len() int { return len(c.labels) }

// Label returns the class id of item i. It panics if i is out of range.
func (c *Cifar10) Label(i int) int {
	c.check("Label", i)
	return int(c.labels[i])
}

// Image returns the 3,072 bytes of item i as stored: the red, green and blue planes of 32x32, each
// row by row (CHW). The slice is shared with the data set: do not modify it. It panics if i is
// out of range.
func (c *Cifar10) Image(i int) []byte {
	c.check("Image", i)
	return c.images[i*cifarPixels : (i+1)*cifarPixels : (i+1)*cifarPixels]
}

// Get returns item i: {image [3,32,32], label [1]}. It panics if i is out of range.
func (c *Cifar10) Get(i int) data.Sample {
	c.check("Get", i)
	img := make([]float32, cifarPixels)
	c.fill(img, i)
	x := tensor.New(img, 3, cifarSide, cifarSide)
	if c.lut == nil {
		x = c.transform.Apply(x)
	}
	return data.Sample{x, tensor.New([]float32{float32(c.labels[i])}, 1)}
}

// GetRandom returns item i as Get does, with a Random transform (transforms.Random, e.g. Compose
// of RandomCrop and RandomHorizontalFlip) applied through its ApplyRandom with rng: the same rng
// state gives the same image. Cifar10 is a data.RandomDataset, so a data.Loader calls GetRandom
// with the item's generator data.SampleRand(Seed, epoch, i), and augmented epochs are the same for
// any number of workers. (Get applies a Random transform with its Apply, which draws from the
// process-wide source.) It panics if i is out of range.
func (c *Cifar10) GetRandom(i int, rng *rand.Rand) data.Sample {
	r, ok := c.transform.(transforms.Random)
	if !ok {
		return c.Get(i)
	}
	c.check("GetRandom", i)
	img := make([]float32, cifarPixels)
	for k, b := range c.images[i*cifarPixels : (i+1)*cifarPixels] {
		img[k] = float32(b)
	}
	x := r.ApplyRandom(tensor.New(img, 3, cifarSide, cifarSide), rng)
	return data.Sample{x, tensor.New([]float32{float32(c.labels[i])}, 1)}
}

// GetBatchRandom returns data.DefaultCollate of GetRandom(indices[k], rngs[k]); without a Random
// transform it is GetBatch (the generators are not used). It panics if indices is empty, an index
// is out of range or rngs is shorter than indices.
func (c *Cifar10) GetBatchRandom(indices []int, rngs []*rand.Rand) data.Batch {
	if _, ok := c.transform.(transforms.Random); !ok {
		return c.GetBatch(indices)
	}
	if len(indices) == 0 {
		panicf(c.op+".GetBatchRandom", "no indices")
	}
	if len(rngs) < len(indices) {
		panicf(c.op+".GetBatchRandom", "%d generators for %d indices", len(rngs), len(indices))
	}
	samples := make([]data.Sample, len(indices))
	for k, i := range indices {
		samples[k] = c.GetRandom(i, rngs[k])
	}
	return data.DefaultCollate(samples)
}

// fill writes image i's pixels to dst: through the table if there is one, as they are otherwise.
func (c *Cifar10) fill(dst []float32, i int) {
	px := c.images[i*cifarPixels : (i+1)*cifarPixels]
	const plane = cifarSide * cifarSide
	if c.lut == nil {
		for k, b := range px {
			dst[k] = float32(b)
		}
		return
	}
	for ch := range 3 {
		lut := &c.lut[ch]
		for k, b := range px[ch*plane : (ch+1)*plane] {
			dst[ch*plane+k] = lut[b]
		}
	}
}

// GetBatch returns the items at indices stacked: {images [N,3,32,32], labels [N,1]}, equal to
// data.DefaultCollate of their Gets. It panics if indices is empty or an index is out of range.
func (c *Cifar10) GetBatch(indices []int) data.Batch {
	if len(indices) == 0 {
		panicf(c.op+".GetBatch", "no indices")
	}
	if c.lut == nil {
		samples := make([]data.Sample, len(indices))
		for k, i := range indices {
			samples[k] = c.Get(i)
		}
		return data.DefaultCollate(samples)
	}
	n := len(indices)
	img := make([]float32, n*cifarPixels)
	lab := make([]float32, n)
	for k, i := range indices {
		c.check("GetBatch", i)
		c.fill(img[k*cifarPixels:(k+1)*cifarPixels], i)
		lab[k] = float32(c.labels[i])
	}
	return data.Batch{tensor.New(img, n, 3, cifarSide, cifarSide), tensor.New(lab, n, 1)}
}

func (c *Cifar10) check(op string, i int) {
	if i < 0 || i >= len(c.labels) {
		panicf(c.op+"."+op, "index %d out of range [0, %d)", i, len(c.labels))
	}
}

// readCifarFile reads the archive at path (see readCifar); unless wantSHA is empty, the file
// must have that SHA-256, and fix says what to do if it has not. Its errors name the file.
func readCifarFile(path, flag string, keys []string, classes int, maxBytes int64, wantSHA, fix string) (images, labels []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	var h hash.Hash
	if wantSHA != "" {
		h = sha256.New()
		r = io.TeeReader(f, h)
	}
	images, labels, err = readCifar(r, flag, keys, classes, maxBytes)
	if h != nil {
		// The rest of the file, so that the digest covers it all; a mismatch explains a parse
		// error better than the parse error does.
		if _, cerr := io.Copy(io.Discard, r); cerr != nil && err == nil {
			err = cerr
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
			return nil, nil, fmt.Errorf("%s: %w: got %s, want %s; %s", path, errChecksum, got, wantSHA, fix)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return images, labels, nil
}

// errBudget marks an archive that decompresses to more than its budget.
var errBudget = errors.New("more than the budget")

// budgetReader reads from r until left bytes have been read, then fails with errBudget.
type budgetReader struct {
	r    io.Reader
	left int64
	max  int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		// The budget is spent: one byte more is over it; the end of the stream is not.
		var one [1]byte
		n, err := io.ReadFull(b.r, one[:])
		if n > 0 {
			return 0, fmt.Errorf("the archive decompresses to %w of %d bytes (set CifarOptions.MaxBytes to read a larger one)", errBudget, b.max)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// readCifar reads a tar stream, gzip-compressed or not, that may not decompress to more than
// maxBytes bytes, and decodes the members whose name contains flag, in sorted order, as Paddle
// does. Each must be a pickled dict with "data", uint8 [N,3072], and a list of N labels under the
// first of keys it has, each in [0, classes). It returns the images and labels concatenated; its
// errors name the member at fault but not the archive.
func readCifar(r io.Reader, flag string, keys []string, classes int, maxBytes int64) (images, labels []byte, err error) {
	br := bufio.NewReader(r)
	var stream io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", unexpected(err))
		}
		defer zr.Close()
		stream = zr
	}
	lim := &budgetReader{r: stream, left: maxBytes, max: maxBytes}
	tr := tar.NewReader(lim)
	type batch struct {
		name           string
		images, labels []byte
	}
	var batches []batch
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, tarError(err)
		}
		if hdr.Typeflag != tar.TypeReg || !strings.Contains(hdr.Name, flag) {
			continue
		}
		if slices.ContainsFunc(batches, func(b batch) bool { return b.name == hdr.Name }) {
			return nil, nil, fmt.Errorf("%s: the archive has two members of this name", hdr.Name)
		}
		if hdr.Size < 0 || hdr.Size > lim.left {
			return nil, nil, fmt.Errorf("%s: %d bytes: the archive decompresses to %w of %d bytes "+
				"(set CifarOptions.MaxBytes to read a larger one)", hdr.Name, hdr.Size, errBudget, maxBytes)
		}
		b, err := readN(tr, int(hdr.Size), 1<<16)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", hdr.Name, tarError(err))
		}
		im, lb, err := decodeCifarBatch(b, keys, classes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		batches = append(batches, batch{hdr.Name, im, lb})
	}
	// To the end of the stream, which checks the gzip CRC.
	if _, err := io.Copy(io.Discard, lim); err != nil {
		return nil, nil, tarError(err)
	}
	if len(batches) == 0 {
		return nil, nil, fmt.Errorf("no member's name contains %q: not the archive of this data set", flag)
	}
	slices.SortFunc(batches, func(a, b batch) int { return strings.Compare(a.name, b.name) })
	if len(batches) == 1 {
		return batches[0].images, batches[0].labels, nil
	}
	n := 0
	for _, b := range batches {
		n += len(b.labels)
	}
	images = make([]byte, 0, n*cifarPixels)
	labels = make([]byte, 0, n)
	for _, b := range batches {
		images = append(images, b.images...)
		labels = append(labels, b.labels...)
	}
	return images, labels, nil
}

// tarError says what a failed read of the archive means.
func tarError(err error) error {
	switch {
	case errors.Is(err, errBudget):
		return err
	case err == io.ErrUnexpectedEOF || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated archive: %w", io.ErrUnexpectedEOF)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("gzip: %w", err)
	}
	return fmt.Errorf("tar: %w", err)
}

// decodeCifarBatch decodes one pickled batch: a dict with "data", uint8 [N,3072] (or
// [N,3,32,32]), and a list (or integer array) of N labels under the first of keys present.
func decodeCifarBatch(b []byte, keys []string, classes int) (images, labels []byte, err error) {
	v, err := pickle.Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("pickle: %w", err)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, nil, fmt.Errorf("a pickled %s, want a dict", pickle.TypeName(v))
	}
	dv, ok := d.Get("data")
	if !ok {
		return nil, nil, errors.New(`no "data" in the dict`)
	}
	arr, ok := dv.(*pickle.Array)
	if !ok || arr.Scalar {
		return nil, nil, fmt.Errorf(`"data" is a %s, want a uint8 array`, pickle.TypeName(dv))
	}
	if len(arr.DType) != 3 || arr.DType[1:] != "u1" {
		return nil, nil, fmt.Errorf(`"data" has dtype %q, want uint8`, arr.DType)
	}
	n := 0
	switch {
	case len(arr.Shape) == 2 && arr.Shape[1] == cifarPixels:
		n = arr.Shape[0]
	case len(arr.Shape) == 4 && arr.Shape[1] == 3 && arr.Shape[2] == cifarSide && arr.Shape[3] == cifarSide:
		n = arr.Shape[0]
	default:
		return nil, nil, fmt.Errorf(`"data" has shape %v, want [N %d]`, arr.Shape, cifarPixels)
	}
	if len(arr.Data) != n*cifarPixels {
		return nil, nil, fmt.Errorf(`"data" holds %d bytes for shape %v`, len(arr.Data), arr.Shape)
	}
	images = arr.Data
	if arr.Fortran {
		images = fortranBytes(arr.Data, arr.Shape)
	}
	var key string
	var lv any
	for _, k := range keys {
		if lv, ok = d.Get(k); ok {
			key = k
			break
		}
	}
	if key == "" {
		return nil, nil, fmt.Errorf(`no "%s" in the dict`, strings.Join(keys, `" or "`))
	}
	labels = make([]byte, 0, n)
	bad := func(i int, v any) error {
		return fmt.Errorf("label %v at index %d, want 0..%d", v, i, classes-1)
	}
	switch l := lv.(type) {
	case *pickle.List:
		if len(l.Items) != n {
			return nil, nil, fmt.Errorf("%d %s for %d images", len(l.Items), key, n)
		}
		for i, it := range l.Items {
			x, ok := it.(int64)
			if !ok {
				return nil, nil, fmt.Errorf("%s[%d] is a %s, want an int", key, i, pickle.TypeName(it))
			}
			if x < 0 || x >= int64(classes) {
				return nil, nil, bad(i, x)
			}
			labels = append(labels, byte(x))
		}
	case *pickle.Array:
		if len(l.DType) != 3 || (l.Kind() != 'i' && l.Kind() != 'u') {
			return nil, nil, fmt.Errorf("%s has dtype %q, want integers", key, l.DType)
		}
		if l.Len() != n || len(l.Shape) != 1 {
			return nil, nil, fmt.Errorf("%s has shape %v for %d images", key, l.Shape, n)
		}
		f, err := l.Float32s()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		for i, x := range f {
			if x < 0 || x >= float32(classes) {
				return nil, nil, bad(i, x)
			}
			labels = append(labels, byte(x))
		}
	default:
		return nil, nil, fmt.Errorf("%s is a %s, want a list", key, pickle.TypeName(lv))
	}
	return images, labels, nil
}

// fortranBytes returns the bytes of a column-major array of the given shape in row-major order.
func fortranBytes(src []byte, shape []int) []byte {
	dst := make([]byte, len(src))
	// The column-major strides of shape; then walk the row-major order.
	strides := make([]int, len(shape))
	st := 1
	for k := range shape {
		strides[k] = st
		st *= shape[k]
	}
	idx := make([]int, len(shape))
	for i := range dst {
		off := 0
		for k, x := range idx {
			off += x * strides[k]
		}
		dst[i] = src[off]
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}
