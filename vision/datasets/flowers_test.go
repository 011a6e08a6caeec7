package datasets

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/vision/transforms"
	"github.com/stretchr/testify/require"
)

// matVar is a variable for matFile: a 1×N row vector of doubles (as imagelabels.mat's labels) or,
// with u16, of uint16 (as MATLAB stores setid.mat's indices).
type matVar struct {
	name string
	vals []float64
	u16  bool
}

// matElem appends a level-5 data element (little-endian, padded to 8 bytes).
func matElem(b []byte, typ uint32, body []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// matFile writes a MAT file of level 5 as MATLAB's save (-v6, or -v7 with compress) does.
func matFile(compress bool, vars ...matVar) []byte {
	hdr := []byte(fmt.Sprintf("%-116s", "MATLAB 5.0 MAT-file, written by oar's tests"))
	hdr = append(hdr, make([]byte, 8)...)
	hdr = append(hdr, 0x00, 0x01, 'I', 'M')
	out := hdr
	for _, v := range vars {
		class, typ, size := uint32(6), uint32(miDOUBLE), 8 // mxDOUBLE_CLASS
		if v.u16 {
			class, typ, size = 11, miUINT16, 2 // mxUINT16_CLASS
		}
		var m []byte
		m = matElem(m, miUINT32, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, class), 0))
		m = matElem(m, miINT32, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1), uint32(len(v.vals))))
		if len(v.name) <= 4 {
			// A small element: size and type in the first word, the bytes in the second.
			w := binary.LittleEndian.AppendUint32(nil, uint32(len(v.name))<<16|miINT8)
			name := append([]byte(v.name), make([]byte, 4-len(v.name))...)
			m = append(m, append(w, name...)...)
		} else {
			m = matElem(m, miINT8, []byte(v.name))
		}
		data := make([]byte, 0, size*len(v.vals))
		for _, x := range v.vals {
			if v.u16 {
				data = binary.LittleEndian.AppendUint16(data, uint16(x))
			} else {
				data = binary.LittleEndian.AppendUint64(data, math.Float64bits(x))
			}
		}
		m = matElem(m, typ, data)
		elem := matElem(nil, miMATRIX, m)
		if compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(elem)
			zw.Close()
			elem = binary.LittleEndian.AppendUint32(nil, miCOMPRESSED)
			elem = binary.LittleEndian.AppendUint32(elem, uint32(z.Len()))
			elem = append(elem, z.Bytes()...) // compressed elements are not padded
		}
		out = append(out, elem...)
	}
	return out
}

// smallFlowers writes a tiny Flowers data set: 6 JPEG images (image k is rgbImage(8, 6, k)) with
// labels 5, 102, 1, 7, 7, 30; tstid (Paddle's train) = 6, 1, 3; trnid (test) = 2; valid = 4, 5.
func smallFlowers(t testing.TB, compress bool) (dir string) {
	dir = t.TempDir()
	var members []tarMember
	members = append(members, tarMember{"jpg/", nil})
	for k := 1; k <= 6; k++ {
		members = append(members, tarMember{fmt.Sprintf("jpg/image_%05d.jpg", k), encodeJPEG(t, rgbImage(8, 6, k))})
	}
	writeFile(t, filepath.Join(dir, FlowersDataFile), gz(tarBytes(t, members...)))
	writeFile(t, filepath.Join(dir, FlowersLabelFile), matFile(compress, matVar{name: "labels", vals: []float64{5, 102, 1, 7, 7, 30}}))
	writeFile(t, filepath.Join(dir, FlowersSetidFile), matFile(compress,
		matVar{name: "trnid", vals: []float64{2}, u16: true},
		matVar{name: "valid", vals: []float64{4, 5}, u16: true},
		matVar{name: "tstid", vals: []float64{6, 1, 3}, u16: true}))
	return dir
}

func flowersOpts(dir, mode string) FlowersOptions {
	return FlowersOptions{DataFile: filepath.Join(dir, FlowersDataFile), LabelFile: filepath.Join(dir, FlowersLabelFile),
		SetidFile: filepath.Join(dir, FlowersSetidFile), Mode: mode}
}

func TestFlowers(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := smallFlowers(t, compress)
		train, err := NewFlowers(flowersOpts(dir, ""))
		require.NoError(t, err)
		require.Equal(t, 3, train.Len())
		require.Equal(t, []int{30, 5, 1}, []int{train.Label(0), train.Label(1), train.Label(2)})
		s := train.Get(1)
		require.Equal(t, []int{3, 6, 8}, s[0].Shape())
		require.Equal(t, float32(5), s[1].Item())
		want, err := decodeImage(bytes.NewReader(encodeJPEG(t, rgbImage(8, 6, 1))), DefaultMaxPixels)
		require.NoError(t, err)
		require.Equal(t, want.Data(), s[0].Data())
		test, err := NewFlowers(flowersOpts(dir, "test"))
		require.NoError(t, err)
		require.Equal(t, 1, test.Len())
		require.Equal(t, 102, test.Label(0))
		valid, err := NewFlowers(flowersOpts(dir, "valid"))
		require.NoError(t, err)
		require.Equal(t, []int{7, 7}, []int{valid.Label(0), valid.Label(1)})
	}
	dir := smallFlowers(t, true)
	_, err := NewFlowers(flowersOpts(dir, "eval"))
	require.EqualError(t, err, `flowers: mode "eval": want "train", "valid" or "test"`)

	// Random transforms through a Loader's generators.
	o := flowersOpts(dir, "train")
	o.Transform = transforms.Compose(transforms.RandomCrop([]int{4}), transforms.RandomHorizontalFlip(0.5))
	f, err := NewFlowers(o)
	require.NoError(t, err)
	var _ data.RandomDataset = f
	x := f.GetRandom(2, data.SampleRand(1, 0, 2))[0]
	require.Equal(t, []int{3, 4, 4}, x.Shape())
	require.Equal(t, x.Data(), f.GetRandom(2, data.SampleRand(1, 0, 2))[0].Data())
	require.PanicsWithError(t, "datasets: Flowers.Get: index 3 out of range [0, 3)", func() { f.Get(3) })
}

func TestFlowersErrors(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OAR_DATA_HOME", home)
	_, err := NewFlowers(FlowersOptions{})
	for _, want := range []string{filepath.Join(home, "flowers", FlowersDataFile), filepath.Join(home, "flowers", FlowersSetidFile),
		"https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz", "52808999861908f626f3c1f4e79d11fa", "nothing is downloaded"} {
		require.ErrorContains(t, err, want)
	}

	// In the cache, the files are checked with Paddle's MD5s.
	dir := smallFlowers(t, true)
	require.NoError(t, os.Rename(dir, filepath.Join(home, "flowers")))
	_, err = NewFlowers(FlowersOptions{})
	require.ErrorIs(t, err, errChecksum)
	require.ErrorContains(t, err, "want e0620be6f572b9609742df49c70aed4d")
	saved := flowersFiles
	t.Cleanup(func() { flowersFiles = saved })
	flowersFiles = append(flowersFiles[:0:0], saved...)
	for i := range flowersFiles {
		b, err := os.ReadFile(filepath.Join(home, "flowers", flowersFiles[i].name))
		require.NoError(t, err)
		sum := md5.Sum(b)
		flowersFiles[i].md5 = hex.EncodeToString(sum[:])
	}
	f, err := NewFlowers(FlowersOptions{Mode: "valid"})
	require.NoError(t, err)
	require.Equal(t, 2, f.Len())

	// A label out of range, an index beyond the labels, a missing image, a corrupt JPEG.
	dir = smallFlowers(t, false)
	writeFile(t, filepath.Join(dir, FlowersLabelFile), matFile(false, matVar{name: "labels", vals: []float64{5, 103, 1, 7, 7, 30}}))
	_, err = NewFlowers(flowersOpts(dir, "test"))
	require.EqualError(t, err, "flowers: read "+filepath.Join(dir, FlowersLabelFile)+": label 103 of image 2, want 1..102")
	writeFile(t, filepath.Join(dir, FlowersSetidFile), matFile(false, matVar{name: "trnid", vals: []float64{7}, u16: true}))
	_, err = NewFlowers(flowersOpts(dir, "test"))
	require.EqualError(t, err, "flowers: read "+filepath.Join(dir, FlowersSetidFile)+": trnid[0] is 7, want an image number 1..6")
	_, err = NewFlowers(flowersOpts(dir, "valid"))
	require.EqualError(t, err, "flowers: read "+filepath.Join(dir, FlowersSetidFile)+`: no numeric variable "valid"`)

	dir = smallFlowers(t, false)
	writeFile(t, filepath.Join(dir, FlowersDataFile), gz(tarBytes(t,
		tarMember{"jpg/image_00002.jpg", []byte("not a jpeg")}, tarMember{"jpg/image_00004.jpg", []byte("x")})))
	_, err = NewFlowers(flowersOpts(dir, "valid"))
	require.ErrorContains(t, err, "no member jpg/image_00005.jpg (1 of the split's 2 images are missing)")
	f, err = NewFlowers(flowersOpts(dir, "test"))
	require.NoError(t, err)
	require.PanicsWithError(t, "datasets: Flowers.Get: decode "+filepath.Join(dir, FlowersDataFile)+": jpg/image_00002.jpg: image: unknown format", func() { f.Get(0) })
	o := flowersOpts(dir, "test")
	o.MaxBytes = 1000
	_, err = NewFlowers(o)
	require.ErrorIs(t, err, errBudget)
}

func TestReadMat(t *testing.T) {
	b := matFile(true, matVar{name: "a", vals: []float64{1.5, -2}}, matVar{name: "longer_name", vals: []float64{3}, u16: true})
	m, err := readMat(b, map[string]bool{"a": true, "longer_name": true}, 1<<20)
	require.NoError(t, err)
	require.Equal(t, matArray{dims: []int{1, 2}, data: []float64{1.5, -2}}, m["a"])
	require.Equal(t, matArray{dims: []int{1, 1}, data: []float64{3}}, m["longer_name"])
	m, err = readMat(b, map[string]bool{"a": true}, 1<<20)
	require.NoError(t, err)
	require.Len(t, m, 1)
	_, err = readMat(b[:100], nil, 1<<20)
	require.ErrorContains(t, err, "not a MAT file")
	_, err = readMat(b[:len(b)-5], map[string]bool{"longer_name": true}, 1<<20)
	require.ErrorContains(t, err, "left in the file")
	_, err = readMat(b, map[string]bool{"a": true}, 10)
	require.ErrorContains(t, err, "more than the budget of 10")
	// Bombs: a small file whose compressed variable holds more than the budget, and one whose
	// values, as float64, would.
	for _, c := range []struct {
		n    int
		want string
	}{{600_000, "a compressed variable of 1200"}, {120_000, "120000 values, more than the budget of 1048576 bytes"}} {
		bomb := matFile(true, matVar{name: "labels", vals: make([]float64, c.n), u16: true})
		require.Less(t, len(bomb), 3000)
		var err error
		alloc := allocated(func() { _, err = readMat(bomb, map[string]bool{"labels": true}, 1<<20) })
		require.ErrorContains(t, err, c.want)
		require.Less(t, alloc, uint64(2<<20))
	}
	hdf := append([]byte("MATLAB 7.3 MAT-file"), make([]byte, 200)...)
	_, err = readMat(hdf, nil, 1<<20)
	require.ErrorContains(t, err, "version 7.3")
}
