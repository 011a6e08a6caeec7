package datasets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/internal/kernel"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

// MNIST image geometry.
const (
	mnistRows   = 28
	mnistCols   = 28
	mnistPixels = mnistRows * mnistCols
)

// The four MNIST files, as LeCun's site, Paddle's cache and the GoMNIST module name them. Each may
// also be present uncompressed, without ".gz".
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// MNISTOptions choose an MNIST split and where its files come from. The zero value is the
// training split, raw 0..255 pixels, found in the cache or acquired.
type MNISTOptions struct {
	// Mode is "train" (60,000 items; the default when empty) or "test" (10,000 items).
	Mode string
	// Dir is a directory holding the mode's two IDX files (gzip or raw). When empty, the files
	// are looked for in DataHome()/mnist and, if absent, acquired there (see AcquireMNIST).
	Dir string
	// Transform is applied to each image [1,28,28] of 0..255 values; nil keeps them as they are
	// (Paddle's cv2 backend). The quick start uses transforms.Normalize([]float32{127.5},
	// []float32{127.5}).
	Transform transforms.Transform
	// NoDownload disables the acquisition (Paddle's download=False): without the files in the
	// cache, NewMNIST returns an error.
	NoDownload bool
	// DownloadTimeout bounds the acquisition through the Go module proxy; 0 means 10 minutes.
	// Call AcquireMNIST with a context for finer control.
	DownloadTimeout time.Duration
	// MaxBytes is the most bytes one IDX file may hold once decompressed; 0 (or less) means
	// DefaultMNISTMaxBytes (47,040,016: the size of MNIST's largest file). A file whose header
	// declares more is refused before its data is read. Raise it to read larger data sets in the
	// same format, such as EMNIST.
	MaxBytes int64
}

// MNIST is LeCun's data set of 28x28 handwritten digits (paddle.vision.datasets.MNIST): item i is
// {image [1,28,28], label [1]}, the image's pixels 0..255 as float32 (or as the Transform maps
// them) and the label a float32 class id 0..9.
//
// The pixels stay in memory as bytes (784 per image) and become float32 when Get or GetBatch
// builds a tensor. MNIST is a data.Batcher: GetBatch builds {images [N,1,28,28], labels [N,1]}
// straight from the bytes, through a 256-entry table when the Transform is nil or
// transforms.Pointwise. It is also a data.RandomDataset: with a Random transform (RandomCrop,
// say), a data.Loader calls GetRandom with each item's own generator, so augmented batches are
// bitwise the same for any number of workers. It is safe for concurrent use.
type MNIST struct {
	images    []byte // n*784 pixels
	labels    []byte // n labels 0..9
	transform transforms.Transform
	lut       *[256]float32 // pixel value → float32 output; nil if the transform is not Pointwise
}

// NewMNIST loads the split opt.Mode from the files it finds: in opt.Dir if set; otherwise in
// DataHome()/mnist, acquiring them there first, through the Go module proxy, if they are absent
// (unless opt.NoDownload; see AcquireMNIST). If the verified files cannot be copied into the
// cache (a read-only home, say), it reads them from the Go module cache instead. It checks the
// files' magic numbers, dimensions (28x28 images), counts (the data against the header and the
// file size, as many labels as images) and labels (0..9).
//
// The error says what is wrong with which file, e.g. "mnist: read
// /data/train-images-idx3-ubyte.gz: gzip: unexpected EOF", or, when no files were found, where
// they were looked for and how to provide them. It panics (a programmer error) if opt.Transform
// cannot take a [1,28,28] image, e.g. a Normalize with three channels.
func NewMNIST(opt MNISTOptions) (*MNIST, error) {
	imagesName, labelsName, err := mnistFiles(opt.Mode)
	if err != nil {
		return nil, err
	}
	dir, src := opt.Dir, fromDir
	if dir == "" {
		if dir, src, err = findMNIST(imagesName, labelsName, opt.NoDownload, opt.DownloadTimeout); err != nil {
			return nil, err
		}
	}
	imagesPath, err := locate(dir, imagesName)
	if err != nil {
		return nil, err
	}
	labelsPath, err := locate(dir, labelsName)
	if err != nil {
		return nil, err
	}
	images, labels, err := loadMNIST(imagesPath, labelsPath, mnistMaxBytes(opt.MaxBytes), src)
	if err != nil {
		return nil, err
	}
	return newMNIST(images, labels, opt.Transform), nil
}

// mnistMaxBytes returns the budget of MNISTOptions.MaxBytes m.
func mnistMaxBytes(m int64) int64 {
	if m <= 0 {
		return DefaultMNISTMaxBytes
	}
	return m
}

func mnistFiles(mode string) (images, labels string, err error) {
	switch mode {
	case "", "train":
		return TrainImagesFile, TrainLabelsFile, nil
	case "test":
		return TestImagesFile, TestLabelsFile, nil
	}
	return "", "", fmt.Errorf("mnist: mode %q: want \"train\" or \"test\"", mode)
}

// locate returns the path of name (a .gz name) in dir, or of its uncompressed form.
func locate(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	raw := strings.TrimSuffix(p, ".gz")
	if _, err := os.Stat(raw); err == nil {
		return raw, nil
	}
	return "", fmt.Errorf("mnist: %s: neither %s nor %s exists", dir, name, strings.TrimSuffix(name, ".gz"))
}

func has(dir string, names ...string) bool {
	for _, n := range names {
		if _, err := locate(dir, n); err != nil {
			return false
		}
	}
	return true
}

// source says where a pair of MNIST files was found: the files of the cache and of the Go module
// cache are LeCun's, and are checked against their SHA-256 as they are read.
type source int

const (
	fromDir         source = iota // MNISTOptions.Dir: any data in the format, not checked
	fromCache                     // DataHome()/mnist
	fromModuleCache               // the Go module cache's copy of mnistModule
)

// digest returns the SHA-256 that the file at path must have, or "" when it is not checked, and
// what to do if it differs.
func (s source) digest(path string) (sha, fix string) {
	name := filepath.Base(path)
	switch s {
	case fromCache:
		sha = mnistSHA256[name]
		if sha == "" {
			sha = mnistRawSHA256[name]
		}
		return sha, fmt.Sprintf("the cached file is damaged or is not LeCun's: delete %s and it is fetched again "+
			"(for other data in MNIST's format, such as Fashion-MNIST, set MNISTOptions.Dir to its directory instead)", path)
	case fromModuleCache:
		return mnistSHA256[name], moduleCacheFix
	}
	return "", ""
}

// moduleCacheFix says how to recover from a damaged file in the Go module cache.
var moduleCacheFix = fmt.Sprintf("the Go module cache's copy of %s@%s is damaged or was modified: "+
	"run `go clean -modcache` (it deletes every downloaded module) and try again", mnistModule, mnistVersion)

// A digester gives the SHA-256 that a file must have ("" when it is not checked) and what to do
// if it differs: a source for MNIST, fashionSource for Fashion-MNIST.
type digester interface {
	digest(path string) (sha, fix string)
}

// loadMNIST reads and checks a pair of IDX files, neither of which may decompress to more than
// maxBytes bytes.
func loadMNIST(imagesPath, labelsPath string, maxBytes int64, src digester) (images, labels []byte, err error) {
	sha, fix := src.digest(imagesPath)
	idims, images, err := readIDXFile(imagesPath, idxImagesMagic, maxBytes, sha, fix)
	if err != nil {
		return nil, nil, err
	}
	if idims[1] != mnistRows || idims[2] != mnistCols {
		return nil, nil, fmt.Errorf("mnist: read %s: images are %dx%d, want %dx%d", imagesPath, idims[1], idims[2], mnistRows, mnistCols)
	}
	sha, fix = src.digest(labelsPath)
	ldims, labels, err := readIDXFile(labelsPath, idxLabelsMagic, maxBytes, sha, fix)
	if err != nil {
		return nil, nil, err
	}
	if ldims[0] != idims[0] {
		return nil, nil, fmt.Errorf("mnist: read %s: %d labels for the %d images of %s", labelsPath, ldims[0], idims[0], filepath.Base(imagesPath))
	}
	if i, l := badLabel(labels); i >= 0 {
		return nil, nil, fmt.Errorf("mnist: read %s: label %d at index %d, want 0..9", labelsPath, l, i)
	}
	return images, labels, nil
}

func badLabel(labels []byte) (int, byte) {
	for i, l := range labels {
		if l > 9 {
			return i, l
		}
	}
	return -1, 0
}

func newMNIST(images, labels []byte, t transforms.Transform) *MNIST {
	if t != nil {
		// A transform that does not fit a [1,28,28] image (a 3-channel Normalize, say) panics
		// here, not later: the table below would otherwise hide the mismatch.
		t.Apply(tensor.Zeros(1, 28, 28))
	}
	m := &MNIST{images: images, labels: labels, transform: t}
	switch p := t.(type) {
	case nil:
		m.lut = new([256]float32)
		for b := range m.lut {
			m.lut[b] = float32(b)
		}
	case transforms.Pointwise:
		m.lut = new([256]float32)
		for b := range m.lut {
			m.lut[b] = p.Point(0, float32(b))
		}
	}
	return m
}

// Len returns the number of items: 60,000 for train, 10,000 for test.
func (m *MNIST) Len() int { return len(m.labels) }

// Label returns the class id 0..9 of item i. It panics if i is out of range.
func (m *MNIST) Label(i int) int {
	m.check("Label", i)
	return int(m.labels[i])
}

// Image returns the 784 pixels of item i, row by row, as stored (0..255). The slice is shared
// with the data set: do not modify it. It panics if i is out of range.
func (m *MNIST) Image(i int) []byte {
	m.check("Image", i)
	return m.images[i*mnistPixels : (i+1)*mnistPixels : (i+1)*mnistPixels]
}

// Slice returns the items i..j-1 as a data set with the same transform, sharing the pixels
// (e.g. the tutorial's split of the training set, Slice(0, 50000) and Slice(50000, 60000)).
// It panics if 0 <= i <= j <= Len() does not hold.
func (m *MNIST) Slice(i, j int) *MNIST {
	if i < 0 || j < i || j > m.Len() {
		panicf("MNIST.Slice", "[%d:%d] out of range [0:%d]", i, j, m.Len())
	}
	s := *m
	s.images = m.images[i*mnistPixels : j*mnistPixels : j*mnistPixels]
	s.labels = m.labels[i:j:j]
	return &s
}

// Get returns item i: {image [1,28,28], label [1]}. It panics if i is out of range.
func (m *MNIST) Get(i int) data.Sample {
	m.check("Get", i)
	px := m.images[i*mnistPixels : (i+1)*mnistPixels]
	img := make([]float32, mnistPixels)
	label := tensor.New([]float32{float32(m.labels[i])}, 1)
	if m.lut != nil {
		for k, b := range px {
			img[k] = m.lut[b]
		}
		return data.Sample{tensor.New(img, 1, mnistRows, mnistCols), label}
	}
	for k, b := range px {
		img[k] = float32(b)
	}
	return data.Sample{m.transform.Apply(tensor.New(img, 1, mnistRows, mnistCols)), label}
}

// GetRandom returns item i as Get does, with a Random transform (transforms.Random, e.g. a
// RandomCrop) applied through its ApplyRandom with rng: the same rng state gives the same image.
// MNIST is a data.RandomDataset, so a data.Loader calls GetRandom with the item's generator
// data.SampleRand(Seed, epoch, i) and an augmented epoch is the same for any number of workers.
// (Get applies a Random transform with its Apply, which draws from the process-wide source.)
// It panics if i is out of range.
func (m *MNIST) GetRandom(i int, rng *rand.Rand) data.Sample {
	r, ok := m.transform.(transforms.Random)
	if !ok {
		return m.Get(i)
	}
	m.check("GetRandom", i)
	px := m.images[i*mnistPixels : (i+1)*mnistPixels]
	img := make([]float32, mnistPixels)
	for k, b := range px {
		img[k] = float32(b)
	}
	label := tensor.New([]float32{float32(m.labels[i])}, 1)
	return data.Sample{r.ApplyRandom(tensor.New(img, 1, mnistRows, mnistCols), rng), label}
}

// GetBatchRandom returns data.DefaultCollate of GetRandom(indices[k], rngs[k]); without a Random
// transform it is GetBatch (the generators are not used). It panics if indices is empty, an index
// is out of range or rngs is shorter than indices.
func (m *MNIST) GetBatchRandom(indices []int, rngs []*rand.Rand) data.Batch {
	if _, ok := m.transform.(transforms.Random); !ok {
		return m.GetBatch(indices)
	}
	if len(indices) == 0 {
		panicf("MNIST.GetBatchRandom", "no indices")
	}
	if len(rngs) < len(indices) {
		panicf("MNIST.GetBatchRandom", "%d generators for %d indices", len(rngs), len(indices))
	}
	samples := make([]data.Sample, len(indices))
	for k, i := range indices {
		samples[k] = m.GetRandom(i, rngs[k])
	}
	return data.DefaultCollate(samples)
}

// GetBatch returns the items at indices stacked: {images [N,1,28,28], labels [N,1]}, equal to
// data.DefaultCollate of their Gets. It panics if indices is empty or an index is out of range.
func (m *MNIST) GetBatch(indices []int) data.Batch {
	if len(indices) == 0 {
		panicf("MNIST.GetBatch", "no indices")
	}
	if m.lut == nil {
		samples := make([]data.Sample, len(indices))
		for k, i := range indices {
			samples[k] = m.Get(i)
		}
		return data.DefaultCollate(samples)
	}
	n := len(indices)
	img := make([]float32, n*mnistPixels)
	lab := make([]float32, n)
	for k, i := range indices {
		m.check("GetBatch", i)
		lab[k] = float32(m.labels[i])
	}
	// The images are gathered from random places of a 47 MB array, so the loop waits on memory:
	// two goroutines halve the time, on the training loop's critical path.
	lut := m.lut
	kernel.ParallelFor(n, batchGrain, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			px := m.images[indices[k]*mnistPixels : (indices[k]+1)*mnistPixels]
			dst := img[k*mnistPixels : (k+1)*mnistPixels]
			dst = dst[:len(px)]
			for p, b := range px {
				dst[p] = lut[b]
			}
		}
	})
	return data.Batch{tensor.New(img, n, 1, mnistRows, mnistCols), tensor.New(lab, n, 1)}
}

// batchGrain is how many images GetBatch converts per parallel chunk.
const batchGrain = 16

func (m *MNIST) check(op string, i int) {
	if i < 0 || i >= len(m.labels) {
		panicf("MNIST."+op, "index %d out of range [0, %d)", i, len(m.labels))
	}
}

// Error is the value of this package's panics, raised for programmer errors such as an index out
// of range, e.g. "datasets: MNIST.Get: index 60000 out of range [0, 60000)".
type Error struct {
	Op  string // the function or method that panicked, e.g. "MNIST.Get"
	Msg string // what was wrong
}

func (e *Error) Error() string { return "datasets: " + e.Op + ": " + e.Msg }

func panicf(op, format string, args ...any) {
	panic(&Error{Op: op, Msg: fmt.Sprintf(format, args...)})
}

// DataHome returns the directory under which data sets are cached: $OAR_DATA_HOME if set,
// otherwise "oar" in the user's cache directory (~/.cache/oar on Linux, as os.UserCacheDir
// gives, honouring $XDG_CACHE_HOME). MNIST is cached in DataHome()/mnist.
func DataHome() string {
	if d := os.Getenv("OAR_DATA_HOME"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "oar")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "oar")
	}
	return filepath.Join(os.TempDir(), "oar")
}

// findMNIST returns the directory that holds the given files, and which it is: the cache, after
// acquiring them into it if needed and allowed, or the Go module cache.
func findMNIST(imagesName, labelsName string, noDownload bool, timeout time.Duration) (string, source, error) {
	cache := filepath.Join(DataHome(), "mnist")
	if has(cache, imagesName, labelsName) {
		return cache, fromCache, nil
	}
	var tried []string
	if _, err := os.Stat(cache); errors.Is(err, fs.ErrNotExist) {
		tried = append(tried, fmt.Sprintf("%s: no such directory", cache))
	} else {
		tried = append(tried, fmt.Sprintf("%s: %s and %s not both there (gzip or uncompressed)", cache, imagesName, labelsName))
	}
	var acqErr error
	if noDownload {
		tried = append(tried, "acquisition through the Go module proxy: disabled by MNISTOptions.NoDownload")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(timeout, 10*time.Minute))
		dir, src, err := acquire(ctx, cache)
		cancel()
		if err == nil {
			return dir, src, nil
		}
		acqErr = err
		tried = append(tried, fmt.Sprintf("acquisition of %s@%s through the Go module proxy: %v", mnistModule, mnistVersion, err))
	}
	msg := fmt.Sprintf("mnist: cannot find %s and %s.\nTried:\n\t%s\nTo fix, do one of:\n"+
		"\t- set MNISTOptions.Dir to a directory that holds them;\n"+
		"\t- set OAR_DATA_HOME to a directory whose mnist subdirectory holds them;\n"+
		"\t- place the four files %s, %s, %s and %s (gzip or uncompressed) in %s.",
		imagesName, labelsName, strings.Join(tried, "\n\t"),
		TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile, cache)
	if acqErr != nil {
		return "", 0, &notFoundError{msg: msg, err: acqErr}
	}
	return "", 0, &notFoundError{msg: msg}
}

// notFoundError is the error when no MNIST files could be found or acquired; it unwraps to the
// acquisition's error.
type notFoundError struct {
	msg string
	err error
}

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return e.err }
