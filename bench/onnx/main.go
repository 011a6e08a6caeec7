// Command onnx compares oar's inference with ONNX Runtime's on the same ONNX files: the LeNet and
// the tutorial CNN of bench/mnist, exported by oar (opset 13, dynamic batch).
//
//	go run ./bench/onnx [-samples 10000] [-batches 100,250,500,1000]
//
// For each model it exports the network (seeded random weights), then times three ways of
// running it on the same random inputs at each batch size, one warm-up pass and the best of 2:
// oar's own network, the exported file imported back with onnx.Load, and ONNX Runtime on that
// file (node bench/onnx/ort_infer.js: CPU, 2 intra-op threads). It prints samples/s, each
// program's best batch, and the ratios oar/ORT at each program's best. ONNX Runtime for node is
// installed with `cd onnx/testdata/ort && npm ci --ignore-scripts` (node and npm from the system's
// packages); without it the program says so and exits 2.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/onnx"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func main() {
	samples := flag.Int("samples", 10000, "inputs per timed pass")
	batchList := flag.String("batches", "100,250,500,1000", "batch sizes, comma-separated")
	flag.Parse()
	debug.SetMemoryLimit(256 << 20) // as bench/mnist: inference activations die at once
	batches, err := parseInts(*batchList)
	if err == nil {
		err = run(*samples, batches)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/onnx:", err)
		if strings.Contains(err.Error(), "onnxruntime-node") {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("batch size %q: want a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// networks returns bench/mnist's two models, fused as bench/mnist runs them.
func networks() map[string]nn.Layer {
	oar.Seed(1)
	lenet := models.LeNet(10)
	pad2 := nn.Conv2DOptions{Padding: []int{2}}
	cnn := nn.NewSequential(
		nn.NewConv2D(1, 20, 5, pad2), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewConv2D(20, 20, 5, pad2), nn.NewReLU(), nn.NewMaxPool2D(2, 2),
		nn.NewFlatten(), nn.NewLinear(980, 10))
	nn.Fuse(lenet)
	nn.Fuse(cnn)
	return map[string]nn.Layer{"lenet": lenet, "cnn": cnn}
}

func run(samples int, batches []int) error {
	dir, err := os.MkdirTemp("", "oar-bench-onnx")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sample := []int{1, 28, 28}
	per := 28 * 28
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := make([]float32, samples*per)
	for i := range inputs {
		inputs[i] = rng.Float32()*2 - 1
	}
	inputFile := filepath.Join(dir, "input.f32")
	if err := os.WriteFile(inputFile, float32Bytes(inputs), 0o644); err != nil {
		return err
	}
	fmt.Printf("oar %s/%s GOMAXPROCS %d; ONNX Runtime (node) intraOpNumThreads 2; %d samples per pass, best of 2 after a warm-up\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), samples)
	nets := networks()
	for _, name := range []string{"lenet", "cnn"} {
		net := nets[name]
		file := filepath.Join(dir, name+".onnx")
		if err := onnx.Save(file, net, append([]int{1}, sample...)); err != nil {
			return err
		}
		imported, err := onnx.Load(file)
		if err != nil {
			return err
		}
		nn.Eval(net)
		nn.Eval(imported)
		native := timeAll(net, inputs, sample, batches)
		graph := timeAll(imported, inputs, sample, batches)
		ort, err := ortTimes(file, inputFile, samples, sample, batches)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s: samples/s by batch size\n%-8s %12s %12s %12s\n", name, "batch", "oar", "oar onnx", "ORT")
		for i, b := range batches {
			fmt.Printf("%-8d %12.0f %12.0f %12.0f\n", b, native[i], graph[i], ort[i])
		}
		nb, n := best(native, batches)
		gb, g := best(graph, batches)
		ob, o := best(ort, batches)
		fmt.Printf("best: oar %.0f (batch %d), oar onnx %.0f (batch %d), ORT %.0f (batch %d)\n", n, nb, g, gb, o, ob)
		fmt.Printf("%s ratio oar/ORT %.2f, oar onnx/ORT %.2f\n", name, n/o, g/o)
	}
	return nil
}

// timeAll returns samples/s of l over inputs at each batch size: a warm-up pass, then the best
// of two.
func timeAll(l nn.Layer, inputs []float32, sample []int, batches []int) []float64 {
	per := 1
	for _, d := range sample {
		per *= d
	}
	n := len(inputs) / per
	pass := func(batch int) {
		for s := 0; s < n; s += batch {
			m := min(batch, n-s)
			x := tensor.New(inputs[s*per:(s+m)*per], append([]int{m}, sample...)...).NoGrad()
			l.Forward(x)
		}
	}
	out := make([]float64, len(batches))
	for i, b := range batches {
		pass(b)
		bestS := math.Inf(1)
		for range 2 {
			t0 := time.Now()
			pass(b)
			bestS = min(bestS, time.Since(t0).Seconds())
		}
		out[i] = float64(n) / bestS
	}
	return out
}

// ortTimes runs ort_infer.js on file and parses its "batch B: N samples/s" lines.
func ortTimes(file, inputFile string, samples int, sample, batches []int) ([]float64, error) {
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "ort_infer.js")
	var bs, ss []string
	for _, b := range batches {
		bs = append(bs, strconv.Itoa(b))
	}
	for _, d := range sample {
		ss = append(ss, strconv.Itoa(d))
	}
	cmd := exec.Command("node", script, file, strconv.Itoa(samples), strings.Join(bs, ","), inputFile)
	cmd.Env = append(os.Environ(), "SAMPLE_SHAPE="+strings.Join(ss, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime (node %s; needs node and onnxruntime-node: cd onnx/testdata/ort && npm ci --ignore-scripts): %w", script, err)
	}
	got := map[int]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var b int
		var v float64
		if _, err := fmt.Sscanf(sc.Text(), "batch %d: %f samples/s", &b, &v); err == nil {
			got[b] = v
		}
	}
	res := make([]float64, len(batches))
	for i, b := range batches {
		v, ok := got[b]
		if !ok {
			return nil, fmt.Errorf("ort_infer.js printed no figure for batch %d:\n%s", b, out)
		}
		res[i] = v
	}
	return res, nil
}

func best(v []float64, batches []int) (int, float64) {
	bi := 0
	for i := range v {
		if v[i] > v[bi] {
			bi = i
		}
	}
	return batches[bi], v[bi]
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}
