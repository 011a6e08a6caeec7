package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/internal/pickle"
)

// writeSynthetic writes an archive in the format of cifar-10-python.tar.gz to path: a gzip tar of
// cifar-10-batches-py/data_batch_1 ... data_batch_5 (nTrain images split among them), test_batch
// (nTest) and batches.meta, each a pickled dict (protocol 2, as Python 3's pickle writes it) of
// "data", a uint8 NumPy array [N,3072], "labels", "batch_label" and "filenames". The keys are
// str, as Python 3 writes them: Python's pickle.load reads the file, but Paddle's Cifar10 looks
// for the bytes keys (b'data') that the real files' Python 2 strings become with
// encoding='bytes', so Paddle itself would not.
//
// Image i has class i % 10, drawn as a colour of the class with stripes (horizontal for even
// classes, vertical for odd, of a period that grows with the class) and uniform noise: a pattern
// a network learns in a few dozen steps (see the command's doc), and that survives random crops
// and flips.
func writeSynthetic(path string, nTrain, nTest int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	add := func(name string, v any) error {
		var b bytes.Buffer
		if err := pickle.Encode(&b, v, 2); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-py/" + name, Mode: 0o644, Size: int64(b.Len()), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b.Bytes())
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-py/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	names := pickle.NewDict()
	labelNames := &pickle.List{}
	for _, n := range classNames {
		labelNames.Items = append(labelNames.Items, n)
	}
	names.Set("label_names", labelNames)
	names.Set("num_cases_per_batch", int64((nTrain+4)/5))
	names.Set("num_vis", int64(3072))
	if err := add("batches.meta", names); err != nil {
		return err
	}
	next := 0
	for b := range 5 {
		n := nTrain/5 + boolInt(b < nTrain%5)
		if err := add(fmt.Sprintf("data_batch_%d", b+1), syntheticBatch(rng, next, n, fmt.Sprintf("training batch %d of 5", b+1))); err != nil {
			return err
		}
		next += n
	}
	if err := add("test_batch", syntheticBatch(rng, 0, nTest, "testing batch 1 of 1")); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if _, err := zw.Write(tarBuf.Bytes()); err != nil {
			return err
		}
		return zw.Close()
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// classColors are the base colours of the synthetic classes.
var classColors = [10][3]int{
	{200, 60, 60}, {60, 200, 60}, {60, 60, 200}, {200, 200, 60}, {200, 60, 200},
	{60, 200, 200}, {140, 140, 140}, {230, 140, 40}, {40, 140, 230}, {120, 60, 30},
}

// syntheticBatch returns the dict of n images, the first of index first (its class is
// index % 10).
func syntheticBatch(rng *rand.Rand, first, n int, label string) *pickle.Dict {
	data := make([]byte, n*3072)
	labels := &pickle.List{}
	files := &pickle.List{}
	for k := range n {
		class := (first + k) % 10
		period := 2 + class/2
		img := data[k*3072 : (k+1)*3072]
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					pos := y
					if class%2 == 1 {
						pos = x
					}
					v := classColors[class][c] - 30 + rng.IntN(41)
					if (pos/period)%2 == 0 {
						v -= 50
					}
					img[c*1024+y*32+x] = byte(min(max(v, 0), 255))
				}
			}
		}
		labels.Items = append(labels.Items, int64(class))
		files.Items = append(files.Items, fmt.Sprintf("synthetic_%05d_%s.png", first+k, classNames[class]))
	}
	d := pickle.NewDict()
	d.Set("batch_label", label)
	d.Set("labels", labels)
	d.Set("data", &pickle.Array{DType: "|u1", Shape: []int{n, 3072}, Data: data})
	d.Set("filenames", files)
	return d
}
