package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/internal/pickle"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/transforms"
	"github.com/stretchr/testify/require"
)

func TestCifar10(t *testing.T) {
	path := writeTemp(t, "c10.tar.gz", smallCifar10(t))
	train, err := NewCifar10(CifarOptions{DataFile: path})
	require.NoError(t, err)
	require.Equal(t, 5, train.Len())
	all := cifarImages(5, 0)
	for i := range 5 {
		require.Equal(t, (3*i+1)%10, train.Label(i))
		require.Equal(t, all[i*cifarPixels:(i+1)*cifarPixels], train.Image(i))
		s := train.Get(i)
		require.Equal(t, []int{3, 32, 32}, s[0].Shape())
		require.Equal(t, []int{1}, s[1].Shape())
		require.Equal(t, float32((3*i+1)%10), s[1].Item())
		// Channel c, row y, column x is byte c*1024 + y*32 + x of the row.
		require.Equal(t, float32(all[i*cifarPixels+1024+5*32+7]), s[0].Data()[1024+5*32+7])
	}
	test, err := NewCifar10(CifarOptions{DataFile: path, Mode: "test"})
	require.NoError(t, err)
	require.Equal(t, 2, test.Len())
	require.Equal(t, []int{9, 0}, []int{test.Label(0), test.Label(1)})
	require.Equal(t, cifarImages(2, 100)[cifarPixels:], test.Image(1))

	_, err = NewCifar10(CifarOptions{DataFile: path, Mode: "Train"})
	require.EqualError(t, err, `cifar10: mode "Train": want "train" or "test"`)
	require.PanicsWithError(t, "datasets: Cifar10.Get: index 5 out of range [0, 5)", func() { train.Get(5) })

	// An uncompressed tar works too (Paddle's tarfile.open(mode='r') takes either).
	raw, err := gunzip(smallCifar10(t))
	require.NoError(t, err)
	rawTrain, err := NewCifar10(CifarOptions{DataFile: writeTemp(t, "c10.tar", raw)})
	require.NoError(t, err)
	require.Equal(t, train.images, rawTrain.images)
}

func TestCifarBatchesAndTransforms(t *testing.T) {
	path := writeTemp(t, "c10.tar.gz", smallCifar10(t))
	norm := transforms.Normalize([]float32{125, 120, 110}, []float32{60, 61, 62})
	scale := transforms.Func(func(x *tensor.Tensor) *tensor.Tensor { return x.Scale(0.5) })
	for _, tr := range []transforms.Transform{nil, norm, transforms.ToTensor(), scale} {
		ds, err := NewCifar10(CifarOptions{DataFile: path, Transform: tr})
		require.NoError(t, err)
		idx := []int{4, 0, 2, 2}
		samples := make([]data.Sample, len(idx))
		for k, i := range idx {
			samples[k] = ds.Get(i)
		}
		want := data.DefaultCollate(samples)
		got := ds.GetBatch(idx)
		require.Equal(t, []int{4, 3, 32, 32}, got[0].Shape())
		require.Equal(t, []int{4, 1}, got[1].Shape())
		require.Equal(t, want[0].Data(), got[0].Data())
		require.Equal(t, want[1].Data(), got[1].Data())
		// The table agrees with the transform's Apply.
		x := tensor.New(bytesToFloat(ds.Image(3)), 3, 32, 32)
		if tr != nil {
			x = tr.Apply(x)
		}
		require.Equal(t, x.Data(), ds.Get(3)[0].Data())
	}
	// Channel 2's normalization uses the third mean and std.
	ds, err := NewCifar10(CifarOptions{DataFile: path, Transform: norm})
	require.NoError(t, err)
	require.Equal(t, (float32(ds.Image(1)[2048])-110)/62, ds.Get(1)[0].Data()[2048])
	require.Panics(t, func() {
		NewCifar10(CifarOptions{DataFile: path, Transform: transforms.Normalize([]float32{1, 2}, []float32{1, 2})})
	})

	// In a Loader with workers, an epoch is the same as without.
	ds, err = NewCifar10(CifarOptions{DataFile: path, Transform: norm})
	require.NoError(t, err)
	var ref []float32
	for _, workers := range []int{0, 2} {
		l := &data.Loader{Dataset: ds, BatchSize: 2, Shuffle: true, Seed: 3, Workers: workers}
		var got []float32
		for b := range l.All(t.Context()) {
			got = append(got, b[0].Data()...)
			got = append(got, b[1].Data()...)
		}
		require.NoError(t, l.Err())
		if ref == nil {
			ref = got
		}
		require.Equal(t, ref, got)
	}
}

func bytesToFloat(b []byte) []float32 {
	f := make([]float32, len(b))
	for i, v := range b {
		f[i] = float32(v)
	}
	return f
}

func TestCifar100(t *testing.T) {
	path := writeTemp(t, "c100.tar.gz", smallCifar100(t))
	fine, err := NewCifar100(CifarOptions{DataFile: path})
	require.NoError(t, err)
	require.Equal(t, 4, fine.Len())
	require.Equal(t, []int{99, 0, 42, 7}, []int{fine.Label(0), fine.Label(1), fine.Label(2), fine.Label(3)})
	require.Equal(t, cifarImages(4, 50)[2*cifarPixels:3*cifarPixels], fine.Image(2))
	require.Equal(t, float32(42), fine.Get(2)[1].Item())
	require.PanicsWithError(t, "datasets: Cifar100.Get: index -1 out of range [0, 4)", func() { fine.Get(-1) })
	coarse, err := NewCifar100(CifarOptions{DataFile: path, Coarse: true})
	require.NoError(t, err)
	require.Equal(t, []int{19, 0, 3, 1}, []int{coarse.Label(0), coarse.Label(1), coarse.Label(2), coarse.Label(3)})
	test, err := NewCifar100(CifarOptions{DataFile: path, Mode: "test"})
	require.NoError(t, err)
	require.Equal(t, 1, test.Len())
	require.Equal(t, 5, test.Label(0))

	// CIFAR-10's archive is not CIFAR-100's: no member is named "train".
	_, err = NewCifar100(CifarOptions{DataFile: writeTemp(t, "c10.tar.gz", smallCifar10(t))})
	require.ErrorContains(t, err, `no member's name contains "train"`)
}

func TestCifarMissing(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	_, err := NewCifar10(CifarOptions{})
	require.Error(t, err)
	for _, want := range []string{
		filepath.Join(home, "cifar", Cifar10File), "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
		"https://dataset.bj.bcebos.com/cifar/cifar-10-python.tar.gz", cifar10Spec.sha256, cifar10Spec.md5,
		"nothing is downloaded", "CifarOptions.DataFile",
	} {
		require.ErrorContains(t, err, want)
	}
	_, err = NewCifar100(CifarOptions{Mode: "test"})
	require.ErrorContains(t, err, filepath.Join(home, "cifar", Cifar100File))
	require.ErrorContains(t, err, cifar100Spec.sha256)
	p := filepath.Join(t.TempDir(), "mine.tar.gz")
	_, err = NewCifar100(CifarOptions{DataFile: p})
	require.ErrorContains(t, err, "cifar100: stat "+p)
	require.ErrorContains(t, err, "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz")
}

func TestCifarCacheChecksum(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	archive := smallCifar10(t)
	p := filepath.Join(home, "cifar", Cifar10File)
	writeFile(t, p, archive)
	_, err := NewCifar10(CifarOptions{})
	require.ErrorIs(t, err, errChecksum)
	require.ErrorContains(t, err, "cifar10: "+p+": SHA-256 mismatch")
	require.ErrorContains(t, err, "want "+cifar10Spec.sha256)
	require.ErrorContains(t, err, "delete "+p)

	saved := cifar10Spec
	t.Cleanup(func() { cifar10Spec = saved })
	sum := sha256.Sum256(archive)
	cifar10Spec.sha256 = hex.EncodeToString(sum[:])
	ds, err := NewCifar10(CifarOptions{Mode: "test"})
	require.NoError(t, err)
	require.Equal(t, 2, ds.Len())

	// A damaged cached file is a checksum error, even where its damage also breaks the parse.
	archive[len(archive)/2] ^= 0xff
	writeFile(t, p, archive)
	_, err = NewCifar10(CifarOptions{})
	require.ErrorIs(t, err, errChecksum)
}

func TestCifarCorrupt(t *testing.T) {
	good := py2Batch(cifarImages(2, 0), [][]int{{1, 2}}, "labels")
	cases := []struct {
		name  string
		batch []byte
		want  string
	}{
		{"label", py2Batch(cifarImages(2, 0), [][]int{{1, 10}}, "labels"), "data_batch_1: label 10 at index 1, want 0..9"},
		{"empty", nil, "data_batch_1: pickle:"},
		{"nolabels", py2Batch(cifarImages(2, 0), [][]int{{1, 2}}, "targets"), `data_batch_1: no "labels" or "fine_labels" in the dict`},
		{"global", []byte("\x80\x02cos\nsystem\nU\x02lsK\x00\x86R."), "data_batch_1: pickle:"},
		{"notdict", []byte("\x80\x02]."), "data_batch_1: a pickled list, want a dict"},
		{"truncated", good[:len(good)/2], "data_batch_1: pickle:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeTemp(t, "c.tar.gz", gz(tarBytes(t, tarMember{"b/data_batch_1", c.batch})))
			_, err := NewCifar10(CifarOptions{DataFile: p})
			require.ErrorContains(t, err, "cifar10: read "+p+": b/"+c.want)
		})
	}
	// A label list of the wrong length.
	b := py2Batch(cifarImages(2, 0), [][]int{{1, 2}}, "labels")
	b = bytes.Replace(b, []byte("K\x01K\x02e"), []byte("K\x01e"), 1)
	p := writeTemp(t, "c.tar.gz", gz(tarBytes(t, tarMember{"data_batch_1", b})))
	_, err := NewCifar10(CifarOptions{DataFile: p})
	require.ErrorContains(t, err, "data_batch_1: 1 labels for 2 images")

	// Two members of one name.
	p = writeTemp(t, "c.tar.gz", gz(tarBytes(t, tarMember{"data_batch_1", good}, tarMember{"data_batch_1", good})))
	_, err = NewCifar10(CifarOptions{DataFile: p})
	require.ErrorContains(t, err, "data_batch_1: the archive has two members of this name")

	// A truncated archive, a damaged gzip stream, a file that is no archive.
	arc := smallCifar10(t)
	for name, b := range map[string][]byte{
		"truncated archive": arc[:len(arc)*2/3], "gzip: ": append(arc[:len(arc)-8:len(arc)-8], 1, 2, 3, 4, 5, 6, 7, 8),
		"tar: ": []byte(strings.Repeat("not a tar file ", 100)),
	} {
		_, err = NewCifar10(CifarOptions{DataFile: writeTemp(t, "c.tar.gz", b)})
		require.ErrorContains(t, err, name)
	}
}

func TestCifarBudget(t *testing.T) {
	arc := smallCifar10(t)
	raw, err := gunzip(arc)
	require.NoError(t, err)
	p := writeTemp(t, "c.tar.gz", arc)
	_, err = NewCifar10(CifarOptions{DataFile: p, MaxBytes: int64(len(raw))})
	require.NoError(t, err)
	_, err = NewCifar10(CifarOptions{DataFile: p, MaxBytes: int64(len(raw)) - 1})
	require.ErrorIs(t, err, errBudget)
	require.ErrorContains(t, err, "CifarOptions.MaxBytes")
	// A member that claims more than the budget is refused from its header, before anything is
	// allocated for it.
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	require.NoError(t, w.WriteHeader(&tar.Header{Name: "data_batch_1", Mode: 0o644, Size: 1 << 40, Typeflag: tar.TypeReg}))
	forged := gz(buf.Bytes())
	var alloc uint64
	alloc = allocated(func() {
		_, _, err = readCifar(bytes.NewReader(forged), "data_batch", []string{"labels"}, 10, DefaultCifarMaxBytes)
	})
	require.ErrorIs(t, err, errBudget)
	require.ErrorContains(t, err, "data_batch_1: 1099511627776 bytes: the archive decompresses to more than the budget of 268435456 bytes")
	require.Less(t, alloc, uint64(1<<20))
	// Claiming less than the budget, with no data behind the claim: a truncated archive, and an
	// allocation in proportion to what is there.
	buf.Reset()
	w = tar.NewWriter(&buf)
	require.NoError(t, w.WriteHeader(&tar.Header{Name: "data_batch_1", Mode: 0o644, Size: 200 << 20, Typeflag: tar.TypeReg}))
	w.Write(make([]byte, 1000))
	forged = gz(buf.Bytes())
	alloc = allocated(func() {
		_, _, err = readCifar(bytes.NewReader(forged), "data_batch", []string{"labels"}, 10, DefaultCifarMaxBytes)
	})
	require.ErrorContains(t, err, "data_batch_1: truncated archive")
	require.Less(t, alloc, uint64(1<<20))

	// A bomb: 64 MiB of zeros after a member, within a 100 KB file, refused once the budget is
	// spent.
	zeros := gz(append(tarBytes(t, tarMember{"x", []byte("x")}), make([]byte, 64<<20)...))
	require.Less(t, len(zeros), 100_000)
	alloc = allocated(func() { _, _, err = readCifar(bytes.NewReader(zeros), "data_batch", []string{"labels"}, 10, 1<<20) })
	require.ErrorIs(t, err, errBudget)
	require.Less(t, alloc, uint64(1<<20))
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func TestCifarRandomTransforms(t *testing.T) {
	path := writeTemp(t, "c10.tar.gz", smallCifar10(t))
	aug := transforms.Compose(
		transforms.RandomCrop([]int{32}, transforms.RandomCropOptions{Padding: []int{4}}),
		transforms.RandomHorizontalFlip(0.5),
		transforms.Normalize([]float32{125, 120, 110}, []float32{60, 61, 62}),
	)
	ds, err := NewCifar10(CifarOptions{DataFile: path, Transform: aug})
	require.NoError(t, err)
	var _ data.RandomBatcher = ds

	// The same generator state gives the same image; the images of other states differ.
	a := ds.GetRandom(1, data.SampleRand(7, 0, 1))[0].Data()
	require.Equal(t, a, ds.GetRandom(1, data.SampleRand(7, 0, 1))[0].Data())
	differ := false
	for e := 1; e < 8 && !differ; e++ {
		differ = !slicesEqual(a, ds.GetRandom(1, data.SampleRand(7, e, 1))[0].Data())
	}
	require.True(t, differ, "eight epochs drew the same crop and flip")

	// A Loader's epochs are the same for any number of workers, and item i of epoch e is
	// GetRandom(i, SampleRand(Seed, e, i)).
	var ref [][]float32
	for _, workers := range []int{0, 1, 3} {
		l := &data.Loader{Dataset: ds, BatchSize: 2, Seed: 11, Workers: workers}
		var got [][]float32
		for epoch := range 2 {
			l.SetEpoch(epoch)
			for b := range l.All(t.Context()) {
				got = append(got, b[0].Data())
			}
			require.NoError(t, l.Err())
		}
		if ref == nil {
			ref = got
		}
		require.Equal(t, ref, got)
	}
	want := data.DefaultCollate([]data.Sample{ds.GetRandom(2, data.SampleRand(11, 1, 2)), ds.GetRandom(3, data.SampleRand(11, 1, 3))})
	require.Equal(t, want[0].Data(), ref[4])

	// Cifar100 has the same methods.
	c100, err := NewCifar100(CifarOptions{DataFile: writeTemp(t, "c100.tar.gz", smallCifar100(t)), Transform: aug})
	require.NoError(t, err)
	require.Equal(t, c100.GetRandom(3, data.SampleRand(1, 0, 3))[0].Data(), c100.GetBatchRandom([]int{3}, []*rand.Rand{data.SampleRand(1, 0, 3)})[0].Data())
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCifarPython3Pickles reads batches pickled as Python 3 writes them (str keys, protocols 2
// and 4, the labels as a NumPy int64 array rather than a list), through internal/pickle's writer.
func TestCifarPython3Pickles(t *testing.T) {
	for _, protocol := range []int{2, 4} {
		d := pickle.NewDict()
		d.Set("data", &pickle.Array{DType: "|u1", Shape: []int{3, cifarPixels}, Data: cifarImages(3, 5)})
		d.Set("labels", &pickle.Array{DType: "<i8", Shape: []int{3}, Data: []byte{
			4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}})
		var b bytes.Buffer
		require.NoError(t, pickle.Encode(&b, d, protocol))
		p := writeTemp(t, "c.tar.gz", gz(tarBytes(t, tarMember{"x/data_batch_1", b.Bytes()})))
		ds, err := NewCifar10(CifarOptions{DataFile: p})
		require.NoError(t, err)
		require.Equal(t, []int{4, 0, 9}, []int{ds.Label(0), ds.Label(1), ds.Label(2)})
		require.Equal(t, cifarImages(3, 5)[2*cifarPixels:], ds.Image(2))

		// Fortran order is reordered.
		f := make([]byte, 2*cifarPixels)
		c := cifarImages(2, 1)
		for i := range 2 {
			for j := range cifarPixels {
				f[j*2+i] = c[i*cifarPixels+j]
			}
		}
		d.Set("data", &pickle.Array{DType: "|u1", Shape: []int{2, cifarPixels}, Fortran: true, Data: f})
		d.Set("labels", &pickle.List{Items: []any{int64(1), int64(2)}})
		b.Reset()
		require.NoError(t, pickle.Encode(&b, d, protocol))
		p = writeTemp(t, "c.tar.gz", gz(tarBytes(t, tarMember{"x/data_batch_1", b.Bytes()})))
		ds, err = NewCifar10(CifarOptions{DataFile: p})
		require.NoError(t, err)
		require.Equal(t, c, ds.images)
	}
}
