package models_test

import (
	"bufio"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

// fixtureUniform is make_fixtures.py's uniform: n values in [-1, 1), multiples of 2^-23, from
// splitmix64 of fnv1a64(key) + (i+1)·golden.
func fixtureUniform(key string, n int) []float64 {
	h := uint64(0xCBF29CE484222325)
	for _, b := range []byte(key) {
		h = (h ^ uint64(b)) * 0x100000001B3
	}
	out := make([]float64, n)
	for i := range out {
		z := h + uint64(i+1)*0x9E3779B97F4A7C15
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		z ^= z >> 31
		out[i] = float64(z>>40)/(1<<23) - 1
	}
	return out
}

// fillFixture sets every tensor of l's state dict as make_fixtures.py's gen does.
func fillFixture(l nn.Layer) {
	sd := nn.StateDict(l)
	bn := map[string]bool{}
	for _, p := range sd {
		if prefix, ok := strings.CutSuffix(p.Name, "._mean"); ok {
			bn[prefix] = true
		}
	}
	for _, p := range sd {
		prefix, last := p.Name[:strings.LastIndex(p.Name, ".")], p.Name[strings.LastIndex(p.Name, ".")+1:]
		s := p.Shape()
		u := fixtureUniform(p.Name, p.Len())
		f := func(u float64) float64 {
			switch {
			case last == "_mean":
				return 0.1 * u
			case last == "_variance":
				return 1.0 + 0.25*(u+1.0)
			case bn[prefix] && last == "weight":
				return 1.0 + 0.2*u
			case bn[prefix] && last == "bias":
				return 0.1 * u
			case len(s) == 1:
				return 0.05 * u
			case len(s) == 4:
				return u * math.Sqrt(6.0/float64(s[1]*s[2]*s[3]))
			case len(s) == 2:
				return u * math.Sqrt(6.0/float64(s[0]))
			}
			panic(p.Name)
		}
		for i := range p.Data() {
			p.Data()[i] = float32(f(u[i]))
		}
	}
}

func readFixtureKeys(t *testing.T, path string) map[string][]int {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		var shape []int
		for _, d := range fields[1:] {
			n, err := strconv.Atoi(d)
			require.NoError(t, err)
			shape = append(shape, n)
		}
		out[fields[0]] = shape
	}
	require.NoError(t, sc.Err())
	return out
}

func readFloats(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// The forward pass of ResNet-18, VGG-11-BN and MobileNetV2 in eval mode matches torchvision
// 0.14's on the same weights (see testdata/make_fixtures.py), and torchvision's state dict has
// exactly oar's keys and shapes once BatchNorm's buffers are renamed and Linear weights
// transposed.
func TestTorchvisionForward(t *testing.T) {
	cases := []struct {
		name  string
		build func() nn.Layer
	}{
		{"resnet18", func() nn.Layer { return must(models.ResNet18()) }},
		{"vgg11_bn", func() nn.Layer { return must(models.VGG11(models.VGGOptions{BatchNorm: true})) }},
		{"mobilenet_v2", func() nn.Layer { return must(models.NewMobileNetV2()) }},
	}
	u := fixtureUniform("input", 2*3*64*64)
	in := make([]float32, len(u))
	for i, v := range u {
		in[i] = float32(v)
	}
	x := tensor.New(in, 2, 3, 64, 64)
	for _, c := range cases {
		if testing.Short() && c.name == "vgg11_bn" {
			continue
		}
		net := c.build()
		want := readFixtureKeys(t, filepath.Join("testdata", "zoo", c.name+".keys"))
		got := map[string][]int{}
		for _, p := range nn.StateDict(net) {
			got[p.Name] = p.Shape()
		}
		assertSameKeys(t, c.name, want, got)
		fillFixture(net)
		nn.Eval(net)
		y := net.Forward(x)
		ref := readFloats(t, filepath.Join("testdata", "zoo", c.name+".out"))
		require.Equal(t, []int{2, 1000}, y.Shape())
		var maxAbs, maxDiff float64
		for i, v := range y.Data() {
			maxAbs = max(maxAbs, math.Abs(float64(ref[i])))
			maxDiff = max(maxDiff, math.Abs(float64(v-ref[i])))
		}
		t.Logf("%s: max |torchvision| %.4g, max |oar - torchvision| %.3g (%.3g relative)", c.name, maxAbs, maxDiff, maxDiff/maxAbs)
		require.LessOrEqual(t, maxDiff/maxAbs, 1e-4, c.name)
	}
}

func assertSameKeys(t *testing.T, name string, want, got map[string][]int) {
	var missing, extra []string
	for k, s := range want {
		g, ok := got[k]
		if !ok {
			missing = append(missing, k)
		} else {
			require.Equal(t, s, g, name+" "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	require.Empty(t, missing, name+": torchvision keys oar lacks")
	require.Empty(t, extra, name+": oar keys torchvision lacks")
}
