package datasets

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Hostile inputs, each built by the test, and the bound of memory and time within which the
// readers must refuse them.

// multiGz returns a gzip stream of several members: head, then chunk n times, then tail, each
// compressed on its own. Readers concatenate the members, so a stream of gigabytes costs only
// one compression of chunk.
func multiGz(head, chunk []byte, n int, tail []byte) []byte {
	var out bytes.Buffer
	out.Write(gz(head))
	c := gz(chunk)
	for range n {
		out.Write(c)
	}
	if len(tail) > 0 {
		out.Write(gz(tail))
	}
	return out.Bytes()
}

// bombIDXForgedSize is a 990 KB gzip file whose header claims [1300000, 28, 28] (1,019 MB) and
// whose size trailer agrees with that claim, though it holds only 990,016 bytes.
func bombIDXForgedSize() []byte {
	data := make([]byte, 990000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return forgeSize(gz(idxBytes(idxImagesMagic, []int{1300000, 28, 28}, data)), 16+1300000*784)
}

// bombIDXZeros is a 1 MB gzip file that decompresses to 1,019 MB: a header claiming
// [1300000, 28, 28] and that many zero bytes.
func bombIDXZeros() []byte {
	n := 1300000 * 784
	return multiGz(idxBytes(idxImagesMagic, []int{1300000, 28, 28}, nil), make([]byte, 1<<20), n>>20, make([]byte, n&(1<<20-1)))
}

// bombJSONSplits is a 1.1 MB mnist.json.gz of three splits of 130,561 zero images each (614 MB
// of JSON), within the old limit of 131,072 items per split.
func bombJSONSplits() []byte { return bombJSON(255, 3) }

// bombJSONItems is a mnist.json.gz whose train split holds 131,585 images.
func bombJSONItems() []byte { return bombJSON(257, 1) }

func bombJSON(chunks, splits int) []byte {
	img := "[" + strings.Repeat("0,", 783) + "0]"
	var out bytes.Buffer
	imgs := []byte(strings.Repeat(","+img, 512))
	labels := []byte(strings.Repeat(",0", 512))
	for k := range splits {
		head := "[[" + img
		if k == 0 {
			head = "[" + head
		} else {
			head = "," + head
		}
		out.Write(multiGz([]byte(head), imgs, chunks, nil))
		out.Write(multiGz([]byte("],[0"), labels, chunks, []byte("]]")))
	}
	for range 3 - splits {
		out.Write(gz([]byte(",[[],[]]")))
	}
	out.Write(gz([]byte("]")))
	return out.Bytes()
}

// bombJSONSpace is a 4 MB mnist.json.gz of "[" and 4 GiB of spaces.
func bombJSONSpace() []byte {
	return multiGz([]byte("["), bytes.Repeat([]byte(" "), 1<<20), 4096, nil)
}

// bombIDXForgedWithin is a 990 KB gzip file whose header claims [60000, 28, 28], MNIST's size,
// and whose size trailer agrees, though it holds 990,016 bytes.
func bombIDXForgedWithin() []byte {
	data := make([]byte, 990000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return forgeSize(gz(idxBytes(idxImagesMagic, []int{60000, 28, 28}, data)), 16+60000*784)
}

// hostile checks that f refuses its input with an error containing want, allocating at most
// maxAlloc bytes in at most 2 s (20 s under the race detector), and logs both figures.
func hostile(t *testing.T, size int, maxAlloc uint64, want string, f func() error) {
	t.Helper()
	runtime.GC()
	var err error
	start := time.Now()
	alloc := allocated(func() { err = f() })
	took := time.Since(start)
	t.Logf("%d-byte input refused after allocating %.1f MB in %v: %v", size, float64(alloc)/1e6, took.Round(time.Millisecond), err)
	require.ErrorContains(t, err, want)
	require.LessOrEqual(t, alloc, maxAlloc, "allocated %d bytes", alloc)
	limit := 2 * time.Second
	if raceEnabled {
		limit *= 10
	}
	require.Less(t, took, limit)
}

const bombAlloc = 64 << 20

func TestIDXBombs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        []byte
		maxAlloc uint64
		want     string
	}{
		{"forged size trailer", bombIDXForgedSize(), bombAlloc, "dimensions [1300000 28 28] declare 1019200016 bytes, more than the budget of 47040016 bytes"},
		{"1 GB of zeros", bombIDXZeros(), bombAlloc, "dimensions [1300000 28 28] declare 1019200016 bytes, more than the budget"},
		// Within the budget, the buffer grows with the data that arrives, whatever the trailer says.
		{"forged size trailer within the budget", bombIDXForgedWithin(), allocPerByte * 1 << 20, "gzip: invalid checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostile(t, len(tc.b), tc.maxAlloc, tc.want, func() error {
				_, _, err := decodeIDX(tc.b, idxImagesMagic, DefaultMNISTMaxBytes)
				return err
			})
		})
	}
}

func TestMNISTJSONBombs(t *testing.T) {
	const bomb = "more than the budget of 100 per byte: a decompression bomb?"
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"3 splits of 130,561 zero images", bombJSONSplits(), bomb},
		{"131,585 images", bombJSONItems(), bomb},
		{"4 GiB of whitespace", bombJSONSpace(), bomb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostile(t, len(tc.b), bombAlloc, tc.want, func() error {
				_, err := ReadMNISTJSON(bytes.NewReader(tc.b))
				return err
			})
		})
	}
}
