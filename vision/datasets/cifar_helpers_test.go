package datasets

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// py2Batch pickles a CIFAR batch as the real files are pickled: Python 2's cPickle at protocol 2,
// keys and strings as Python 2 str (SHORT_BINSTRING), the labels as a list appended 1,000 at a
// time, the images as numpy 1.x's ndarray reduce (numpy.core.multiarray._reconstruct, then
// BUILD with (1, shape, dtype('u1'), False, <raw bytes as a str>)), and the file names last.
// labelKeys are the keys of the label lists, each given labels.
func py2Batch(images []byte, labels [][]int, labelKeys ...string) []byte {
	n := len(labels[0])
	var b bytes.Buffer
	str := func(s string) {
		if len(s) < 256 {
			b.WriteByte('U')
			b.WriteByte(byte(len(s)))
		} else {
			b.WriteByte('T')
			binary.Write(&b, binary.LittleEndian, uint32(len(s)))
		}
		b.WriteString(s)
	}
	intOp := func(x int) {
		switch {
		case x >= 0 && x < 256:
			b.WriteByte('K')
			b.WriteByte(byte(x))
		case x >= 0 && x < 65536:
			b.WriteByte('M')
			binary.Write(&b, binary.LittleEndian, uint16(x))
		default:
			b.WriteByte('J')
			binary.Write(&b, binary.LittleEndian, int32(x))
		}
	}
	b.WriteString("\x80\x02}q\x01(")
	str("batch_label")
	str("training batch 1 of 5")
	for k, key := range labelKeys {
		str(key)
		b.WriteString("]q\x02")
		for start := 0; start < n; start += 1000 {
			b.WriteByte('(')
			for _, l := range labels[k][start:min(start+1000, n)] {
				intOp(l)
			}
			b.WriteByte('e')
		}
	}
	str("data")
	b.WriteString("cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05(K\x01")
	intOp(n)
	intOp(cifarPixels)
	b.WriteString("\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89")
	str(string(images))
	b.WriteString("tb")
	str("filenames")
	b.WriteString("](")
	for i := range n {
		str(fmt.Sprintf("img_%05d.png", i))
	}
	b.WriteString("eu.")
	return b.Bytes()
}

// cifarImages returns n images whose byte p of image i is (7i + p) % 256 + offset.
func cifarImages(n, offset int) []byte {
	b := make([]byte, n*cifarPixels)
	for i := range n {
		for p := range cifarPixels {
			b[i*cifarPixels+p] = byte((7*i + p + offset) % 256)
		}
	}
	return b
}

type tarMember struct {
	name string
	body []byte
}

// tarBytes writes members as a tar (directories for names ending in "/").
func tarBytes(t testing.TB, members ...tarMember) []byte {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
		if m.name[len(m.name)-1] == '/' {
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		require.NoError(t, w.WriteHeader(h))
		_, err := w.Write(m.body)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// smallCifar10 returns a CIFAR-10 archive (gzip) of two training batches, written in the tar in
// reverse order (data_batch_2 first: the reader sorts them), of 3 and 2 images, and a test batch
// of 2. Training image i (over both batches) is cifarImages(5, 0)'s i, with label (3i+1) % 10; the
// test images are cifarImages(2, 100), labels 9 and 0.
func smallCifar10(t testing.TB) []byte {
	all := cifarImages(5, 0)
	lab := func(lo, hi int) []int {
		var l []int
		for i := lo; i < hi; i++ {
			l = append(l, (3*i+1)%10)
		}
		return l
	}
	return gz(tarBytes(t,
		tarMember{"cifar-10-batches-py/", nil},
		tarMember{"cifar-10-batches-py/data_batch_2", py2Batch(all[3*cifarPixels:], [][]int{lab(3, 5)}, "labels")},
		tarMember{"cifar-10-batches-py/readme.html", []byte("<html></html>")},
		tarMember{"cifar-10-batches-py/batches.meta", []byte("not a batch, not read")},
		tarMember{"cifar-10-batches-py/data_batch_1", py2Batch(all[:3*cifarPixels], [][]int{lab(0, 3)}, "labels")},
		tarMember{"cifar-10-batches-py/test_batch", py2Batch(cifarImages(2, 100), [][]int{{9, 0}}, "labels")},
	))
}

// smallCifar100 returns a CIFAR-100 archive (gzip) of 4 training images (cifarImages(4, 50),
// fine labels 99, 0, 42, 7, coarse 19, 0, 3, 1) and 1 test image.
func smallCifar100(t testing.TB) []byte {
	return gz(tarBytes(t,
		tarMember{"cifar-100-python/meta", []byte("meta")},
		tarMember{"cifar-100-python/train", py2Batch(cifarImages(4, 50), [][]int{{99, 0, 42, 7}, {19, 0, 3, 1}}, "fine_labels", "coarse_labels")},
		tarMember{"cifar-100-python/test", py2Batch(cifarImages(1, 9), [][]int{{5}, {2}}, "fine_labels", "coarse_labels")},
	))
}

func writeTemp(t testing.TB, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}
