package datasets

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/vision/transforms"
)

var quickStart = transforms.Normalize([]float32{127.5}, []float32{127.5})

func TestMNISTJSONRoundTrip(t *testing.T) {
	dir := writeMNISTDir(t, 25, true)
	m, err := NewMNIST(MNISTOptions{Dir: dir, Transform: quickStart})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "mnist.json.gz")
	require.NoError(t, SaveMNISTJSON(path, m.Slice(0, 15), m.Slice(15, 20), m.Slice(20, 25)))
	train, valid, eval, err := LoadMNISTJSON(path)
	require.NoError(t, err)
	require.Equal(t, []int{15, 5, 5}, []int{train.Len(), valid.Len(), eval.Len()})
	for k, s := range []*JSONSplit{train, valid, eval} {
		off := []int{0, 15, 20}[k]
		for i := range s.Len() {
			got := s.Get(i)
			require.Equal(t, []int{784}, got[0].Shape())
			require.Equal(t, []int{1}, got[1].Shape())
			want := m.Get(off + i)
			require.Equal(t, want[0].Data(), got[0].Data(), "exactly the float32 values of Normalize(127.5, 127.5)")
			require.Equal(t, want[1].Data(), got[1].Data())
			require.Equal(t, m.Label(off+i), s.Label(i))
		}
	}
	b := train.GetBatch([]int{3, 1})
	require.Equal(t, []int{2, 784}, b[0].Shape())
	require.Equal(t, []int{2, 1}, b[1].Shape())
	require.Equal(t, data.DefaultCollate([]data.Sample{train.Get(3), train.Get(1)})[0].Data(), b[0].Data())
	require.PanicsWithError(t, "datasets: JSONSplit.Get: index 15 out of range [0, 15)", func() { train.Get(15) })
	require.PanicsWithError(t, "datasets: JSONSplit.GetBatch: no indices", func() { train.GetBatch(nil) })

	// Empty splits are allowed.
	var buf bytes.Buffer
	require.NoError(t, WriteMNISTJSON(&buf, m.Slice(0, 0), m.Slice(0, 1), m.Slice(0, 0)))
	splits, err := ReadMNISTJSON(&buf)
	require.NoError(t, err)
	require.Equal(t, 0, splits[0].Len())
	require.Equal(t, 1, splits[1].Len())
}

// TestMNISTJSONReal writes the tutorial's file from the real data and reads it back: 50,000,
// 10,000 and 10,000 items (a tenth of them under the race detector, which is too slow for all).
func TestMNISTJSONReal(t *testing.T) {
	train, test := realMNIST(t)
	n, v, e := 50000, 10000, 10000
	if raceEnabled || testing.Short() {
		n, v, e = 500, 100, 100
	}
	path := filepath.Join(t.TempDir(), "mnist.json.gz")
	require.NoError(t, SaveMNISTJSON(path, train.Slice(0, n), train.Slice(50000, 50000+v), test.Slice(0, e)))
	a, b, c, err := LoadMNISTJSON(path)
	require.NoError(t, err)
	require.Equal(t, []int{n, v, e}, []int{a.Len(), b.Len(), c.Len()})
	require.Equal(t, 5, a.Label(0))
	require.Equal(t, 7, c.Label(0))
	norm := train.Slice(0, 1)
	norm.lut = nil
	norm.transform = quickStart
	require.Equal(t, norm.Get(0)[0].Data(), a.Get(0)[0].Data())
}

// jsonOf builds a file in the tutorial's format with the given image and label lists.
func jsonOf(split string) string { return "[" + split + "," + split + "," + split + "]" }

func image(v string) string { return "[" + strings.Repeat(v+",", 783) + v + "]" }

func TestMNISTJSONCorrupt(t *testing.T) {
	good := "[[" + image("0") + "," + image("-1") + "],[3,9]]"
	for _, tc := range []struct {
		name, json, want string
	}{
		{"empty", "", "empty file"},
		{"not a list", `{"train": 1}`, `found '{', want '[' opening the list of splits (at byte 1 of the JSON)`},
		{"two splits", "[" + good + "," + good + "]", "2 splits, want 3 (train, valid, eval) (at byte"},
		{"four splits", jsonOf(good)[:len(jsonOf(good))-1] + "," + good + "]", "more than 3 splits"},
		{"no splits", "[]", "0 splits, want 3"},
		{"trailing data", jsonOf(good) + " x", "found 'x' after the list of splits: trailing data"},
		{"trailing list", jsonOf(good) + "[]", "trailing data"},
		{"truncated", jsonOf(good)[:5000], "valid: at byte 5000 of the JSON: unexpected EOF"},
		{"split not a list", "[1," + good + "," + good + "]", "train: found '1', want '[' opening the split [images, labels]"},
		{"split of one", jsonOf("[[]]"), "train: 1 elements, want 2: [images, labels]"},
		{"split of three", jsonOf("[[],[],[]]"), "train: more than 2 elements, want [images, labels]"},
		{"labels not a list", jsonOf("[[],3]"), "train: found '3', want '[' opening the list of labels"},
		{"short image", "[" + good + ",[[" + image("0")[:len(image("0"))-3] + "]],[1]]," + good + "]", "valid: images[0]: 783 numbers, want 784"},
		{"long image", jsonOf("[[" + image("0")[:len(image("0"))-1] + ",0]],[1]]"), "train: images[0]: more than 784 numbers"},
		{"empty image", jsonOf("[[[]],[1]]"), "train: images[0]: 0 numbers, want 784"},
		{"image not a list", jsonOf("[[" + image("0") + ",5],[1,2]]"), "train: images[1]: found '5', want '[' opening an image"},
		{"nested image", jsonOf("[[[[0]]],[1]]"), "train: images[0][0]: found '[', want a number"},
		{"string pixel", jsonOf(`[[["0"]],[1]]`), `train: images[0][0]: found '"', want a number`},
		{"NaN pixel", jsonOf("[[[NaN]],[1]]"), "train: images[0][0]: found 'N', want a number"},
		{"bad number", jsonOf("[[[1.]],[1]]"), `train: images[0][0]: "1." is not a JSON number`},
		{"leading zero", jsonOf("[[[01]],[1]]"), `"01" is not a JSON number`},
		{"plus sign", jsonOf("[[[-+1]],[1]]"), `"-+1" is not a JSON number`},
		{"huge pixel", jsonOf("[[[1e39]],[1]]"), "train: images[0][0]: 1e39 is out of float32 range"},
		{"long number", jsonOf("[[[" + strings.Repeat("1", 100) + "]],[1]]"), "a number longer than 64 bytes"},
		{"missing comma", jsonOf("[[" + image("0") + " " + image("0") + "],[1,2]]"), "train: found '[', want ',' or ']' after element 0"},
		{"extra comma", jsonOf("[[" + image("0") + ",],[1]]"), "train: images[1]: found ']', want '[' opening an image"},
		{"pixel separator", jsonOf("[[[0;1]],[1]]"), "train: images[0]: found ';', want ',' or ']' after number 0"},
		{"label 10", jsonOf("[[" + image("0") + "],[10]]"), "train: labels[0]: 10, want an integer 0..9"},
		{"label -1", jsonOf("[[" + image("0") + "],[-1]]"), "train: labels[0]: -1, want an integer 0..9"},
		{"label 2.5", jsonOf("[[" + image("0") + "],[2.5]]"), "train: labels[0]: 2.5, want an integer 0..9"},
		{"label string", jsonOf("[[" + image("0") + `],["2"]]`), `train: labels[0]: found '"', want a number`},
		{"more labels", jsonOf("[[" + image("0") + "],[1,2]]"), "train: 1 images but 2 labels"},
		{"fewer labels", jsonOf("[[" + image("0") + "," + image("0") + "],[1]]"), "train: 2 images but 1 labels"},
		{"control byte", "\x00", "found byte 0x00, want '['"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, compress := range []bool{false, true} {
				b := []byte(tc.json)
				if compress {
					b = gz(b)
				}
				path := filepath.Join(t.TempDir(), "mnist.json.gz")
				require.NoError(t, os.WriteFile(path, b, 0o644))
				_, _, _, err := LoadMNISTJSON(path)
				require.Error(t, err)
				require.Contains(t, err.Error(), "mnist: read "+path+": ")
				require.Contains(t, err.Error(), tc.want)
			}
		})
	}

	// A valid file with equivalent spellings.
	ok := jsonOf("[ [" + image("2.5e1") + ",\n" + image("-0.5") + " ] , [ 3.0 , 9 ] ]")
	splits, err := ReadMNISTJSON(strings.NewReader(ok))
	require.NoError(t, err)
	require.Equal(t, 2, splits[2].Len())
	require.Equal(t, float32(25), splits[0].Get(0)[0].Data()[783])
	require.Equal(t, 3, splits[0].Label(0))

	// gzip problems.
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"gzip garbage", append([]byte{0x1f, 0x8b}, "garbage garbage"...), "gzip: "},
		{"gzip cut", gz([]byte(jsonOf(good)))[:100], "unexpected EOF"},
		{"gzip checksum", func() []byte { b := gz([]byte(jsonOf(good))); b[len(b)-5] ^= 1; return b }(), "gzip: invalid checksum"},
	} {
		path := filepath.Join(t.TempDir(), "mnist.json.gz")
		require.NoError(t, os.WriteFile(path, tc.b, 0o644))
		_, _, _, err := LoadMNISTJSON(path)
		require.ErrorContains(t, err, "mnist: read "+path+": ", tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	_, _, _, err = LoadMNISTJSON(filepath.Join(t.TempDir(), "none.json.gz"))
	require.ErrorContains(t, err, "none.json.gz: no such file or directory")
}

func TestMNISTJSONBudgets(t *testing.T) {
	img := image("0")
	imgs := img + "," + img + "," + img
	three := MNISTJSONOptions{MaxItems: 3}
	_, err := ReadMNISTJSON(strings.NewReader(jsonOf("[["+imgs+"],[1,2,3]]")), three)
	require.NoError(t, err)
	_, err = ReadMNISTJSON(strings.NewReader(jsonOf("[["+imgs+","+img+"],[1,2,3]]")), three)
	require.ErrorContains(t, err, "train: more than 3 images, the budget of one split (set MNISTJSONOptions.MaxItems to read more)")
	_, err = ReadMNISTJSON(strings.NewReader(jsonOf("[["+imgs+"],[1,2,3,4]]")), three)
	require.ErrorContains(t, err, "train: more than 3 labels, the budget of one split")

	good := jsonOf("[[" + imgs + "],[1,2,3]]")
	for _, compress := range []bool{false, true} {
		b := []byte(good)
		if compress {
			b = gz(b)
		}
		_, err = ReadMNISTJSON(bytes.NewReader(b), MNISTJSONOptions{MaxBytes: int64(len(good))})
		require.NoError(t, err)
		_, err = ReadMNISTJSON(bytes.NewReader(b), MNISTJSONOptions{MaxBytes: int64(len(good)) - 1})
		require.ErrorContains(t, err, fmt.Sprintf("more than the budget of %d bytes of JSON (the tutorial's file has 243,199,236; set MNISTJSONOptions.MaxBytes to read a larger file)", len(good)-1))
	}

	// A file on disk larger than any within the budget is refused before it is read.
	path := filepath.Join(t.TempDir(), "mnist.json")
	require.NoError(t, os.WriteFile(path, []byte(good+strings.Repeat(" ", 1<<17)), 0o644))
	_, _, _, err = LoadMNISTJSON(path, MNISTJSONOptions{MaxBytes: int64(len(good))})
	require.ErrorContains(t, err, fmt.Sprintf("mnist: read %s: %d bytes, more than a file within the budget of %d bytes of JSON can have", path, len(good)+1<<17, len(good)))

	// The ratio of a gzip file is checked once 1 MiB of JSON has been read: 2.9 MB of random
	// pixels compress about 2.5 times.
	var many strings.Builder
	r := rand.New(rand.NewPCG(3, 4))
	many.WriteString("[[")
	for i := range 1000 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString("[")
		for j := range mnistPixels {
			if j > 0 {
				many.WriteString(",")
			}
			many.WriteString(strconv.Itoa(r.IntN(256)))
		}
		many.WriteString("]")
	}
	many.WriteString("],[0" + strings.Repeat(",0", 999) + "]]")
	big := gz([]byte(jsonOf(many.String())))
	_, err = ReadMNISTJSON(bytes.NewReader(big))
	require.NoError(t, err)
	_, err = ReadMNISTJSON(bytes.NewReader(big), MNISTJSONOptions{MaxRatio: 2})
	require.ErrorContains(t, err, "compressed bytes, more than the budget of 2 per byte: a decompression bomb? (the tutorial's file has 8 to 13; set MNISTJSONOptions.MaxRatio to read this file)")

	_, err = ReadMNISTJSON(bytes.NewReader(big), MNISTJSONOptions{MaxBytes: math.MaxInt64, MaxItems: math.MaxInt, MaxRatio: math.MaxInt})
	require.NoError(t, err)

	require.PanicsWithError(t, "datasets: ReadMNISTJSON: 2 MNISTJSONOptions, want at most one", func() {
		ReadMNISTJSON(strings.NewReader(good), three, three)
	})
}
