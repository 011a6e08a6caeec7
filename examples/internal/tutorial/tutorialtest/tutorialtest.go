// Package tutorialtest helps the examples' tests run them at small settings: tiny data sets in
// the tutorial's formats and a check of the printed lines.
package tutorialtest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// JSON returns a document in the format of the tutorial's mnist.json.gz (uncompressed) with n
// items per split; item i of every split has all pixels i/100 and label i%10.
func JSON(n int) string {
	var split strings.Builder
	split.WriteString("[[")
	for i := range n {
		if i > 0 {
			split.WriteString(",")
		}
		px := strings.Repeat(fmt.Sprintf("%g,", float32(i)/100), 784)
		split.WriteString("[" + strings.TrimSuffix(px, ",") + "]")
	}
	split.WriteString("],[")
	for i := range n {
		if i > 0 {
			split.WriteString(",")
		}
		fmt.Fprint(&split, i%10)
	}
	split.WriteString("]]")
	s := split.String()
	return "[" + s + "," + s + "," + s + "]"
}

// JSONFile writes JSON(n) to a file in a temporary directory and returns its path.
func JSONFile(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mnist.json")
	if err := os.WriteFile(path, []byte(JSON(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// IDXDir writes the four MNIST IDX files, uncompressed, with nTrain training and nTest test
// images, to a temporary directory and returns it. Image i of a split shows a bar whose position
// depends on its label i%10.
func IDXDir(t testing.TB, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, magic uint32, dims []int, data []byte) {
		var b []byte
		b = binary.BigEndian.AppendUint32(b, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, uint32(d))
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, data...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		images := make([]byte, s.n*784)
		labels := make([]byte, s.n)
		for i := range s.n {
			labels[i] = byte(i % 10)
			for y := 4; y < 24; y++ {
				images[i*784+y*28+4+2*(i%10)] = 255
				images[i*784+y*28+5+2*(i%10)] = byte(100 + i%100)
			}
		}
		write(s.prefix+"-images-idx3-ubyte", 0x803, []int{s.n, 28, 28}, images)
		write(s.prefix+"-labels-idx1-ubyte", 0x801, []int{s.n}, labels)
	}
	return dir
}

// RequireLines checks that out has, in this order, a line matching each of the regular
// expressions want (each anchored at both ends), and returns the lines that matched.
func RequireLines(t testing.TB, out string, want ...string) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	var got []string
	i := 0
	for _, w := range want {
		re := regexp.MustCompile("^(?:" + w + ")$")
		for ; i < len(lines) && !re.MatchString(lines[i]); i++ {
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q after %q in the output:\n%s", w, got, out)
		}
		got = append(got, lines[i])
		i++
	}
	return got
}
