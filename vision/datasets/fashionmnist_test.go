package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFashionMNISTDir(t *testing.T) {
	for _, compress := range []bool{true, false} {
		dir := writeMNISTDir(t, 12, compress)
		for _, mode := range []string{"", "train", "test"} {
			ds, err := NewFashionMNIST(FashionMNISTOptions{Mode: mode, Dir: dir})
			require.NoError(t, err)
			require.Equal(t, 12, ds.Len())
			s := ds.Get(5)
			require.Equal(t, []int{1, 28, 28}, s[0].Shape())
			require.Equal(t, float32(5), s[1].Item())
			// Pixel p of image i is (i*31 + p) % 256.
			require.Equal(t, float32((5*31+100)%256), s[0].Data()[100])
		}
	}
	_, err := NewFashionMNIST(FashionMNISTOptions{Mode: "valid", Dir: t.TempDir()})
	require.ErrorContains(t, err, `fashion-mnist: mode "valid"`)
}

func TestFashionMNISTMissing(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	_, err := NewFashionMNIST(FashionMNISTOptions{Mode: "test"})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		filepath.Join(home, "fashion-mnist", TestImagesFile), filepath.Join(home, "fashion-mnist", TestLabelsFile),
		fashionURL + TestImagesFile, fashionPaddleURL + TestLabelsFile,
		fashionSHA256[TestImagesFile], fashionMD5[TestLabelsFile], "nothing is downloaded", "FashionMNISTOptions.Dir",
	} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, TrainImagesFile)

	// With Dir, the message names the files in Dir.
	dir := t.TempDir()
	_, err = NewFashionMNIST(FashionMNISTOptions{Dir: dir})
	require.ErrorContains(t, err, filepath.Join(dir, TrainLabelsFile))
	require.ErrorContains(t, err, fashionSHA256[TrainLabelsFile])
}

func TestFashionMNISTCacheChecksum(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	src := writeMNISTDir(t, 3, true)
	cache := filepath.Join(home, "fashion-mnist")
	require.NoError(t, os.MkdirAll(cache, 0o755))
	for _, name := range mnistFileNames {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(cache, name), b, 0o644))
	}
	// The generated files are not Zalando's: the cache's check refuses them and says what to do.
	_, err := NewFashionMNIST(FashionMNISTOptions{})
	require.ErrorIs(t, err, errChecksum)
	require.ErrorContains(t, err, "fashion-mnist: "+filepath.Join(cache, TrainImagesFile))
	require.ErrorContains(t, err, "want "+fashionSHA256[TrainImagesFile])
	require.ErrorContains(t, err, "delete "+filepath.Join(cache, TrainImagesFile))

	// With the digests of these files in place of Zalando's, the same cache loads.
	saved := fashionSHA256
	t.Cleanup(func() { fashionSHA256 = saved })
	fashionSHA256 = map[string]string{}
	for _, name := range mnistFileNames {
		b, err := os.ReadFile(filepath.Join(cache, name))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		fashionSHA256[name] = hex.EncodeToString(sum[:])
	}
	ds, err := NewFashionMNIST(FashionMNISTOptions{Mode: "test"})
	require.NoError(t, err)
	require.Equal(t, 3, ds.Len())

	// A damaged label file is named.
	p := filepath.Join(cache, TestLabelsFile)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, err = NewFashionMNIST(FashionMNISTOptions{Mode: "test"})
	require.ErrorIs(t, err, errChecksum)
	require.True(t, strings.HasPrefix(err.Error(), "fashion-mnist: "+p), err.Error())
}

func TestFashionMNISTCorrupt(t *testing.T) {
	dir := writeMNISTDir(t, 4, false)
	p := filepath.Join(dir, strings.TrimSuffix(TrainLabelsFile, ".gz"))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)-1] = 10
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, err = NewFashionMNIST(FashionMNISTOptions{Dir: dir})
	require.EqualError(t, err, "fashion-mnist: read "+p+": label 10 at index 3, want 0..9")
}
