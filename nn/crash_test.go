package nn_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/nn"
)

// crashNet is a 16 MB checkpoint whose values are a function of version, so that a file read
// back can be recognised as one version or the other.
func crashNet(version int) *nn.Linear {
	l := nn.NewLinear(2048, 2048, nn.LinearOptions{Rand: rand.New(rand.NewPCG(uint64(version), 9))})
	return l
}

// TestSaveSurvivesSIGKILL starts a child process that saves a large checkpoint over an existing
// one and kills it with SIGKILL at a random moment, 60 times. After each kill the file must load
// and hold exactly the old or the new version.
func TestSaveSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 60 child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	versions := map[int][]float32{}
	for v := range 2 {
		versions[v] = crashNet(v).Weight.Data()
	}
	require.NoError(t, nn.Save(path, crashNet(0)))
	current := 0

	// Time one save to spread the kills over it.
	start := time.Now()
	require.NoError(t, nn.Save(filepath.Join(dir, "timing.safetensors"), crashNet(1)))
	saveTime := time.Since(start)

	rng := rand.New(rand.NewPCG(1, 2))
	outcomes := map[string]int{}
	for trial := range 60 {
		next := 1 - current
		cmd := exec.Command(os.Args[0], "-test.run=^TestSaveCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OAR_CRASH_PATH="+path, "OAR_CRASH_VERSION="+string(rune('0'+next)))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// The child says when it starts saving; the kill lands at a random moment of the save
		// (or just after it).
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "saving\n", line)
		time.Sleep(time.Duration(rng.Float64() * float64(saveTime*3/2)))
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()

		got := crashNet(0)
		_, err = nn.Load(path, got)
		require.NoError(t, err, "trial %d: the checkpoint must load after a kill", trial)
		switch {
		case slices.Equal(got.Weight.Data(), versions[current]):
			outcomes["old"]++
		case slices.Equal(got.Weight.Data(), versions[next]):
			outcomes["new"]++
			current = next
		default:
			t.Fatalf("trial %d: the checkpoint is neither the old nor the new version", trial)
		}
	}
	// A killed save leaves its temporary file behind: their count is the kills that landed while
	// the new version was being written.
	partial, err := filepath.Glob(filepath.Join(dir, ".model.safetensors.tmp*"))
	require.NoError(t, err)
	t.Logf("60 kills: %v; %d during a write", outcomes, len(partial))
	require.Positive(t, len(partial), "some kills must land mid-write")
}

// TestSaveCrashChild is the child of TestSaveSurvivesSIGKILL: it saves one version and exits.
func TestSaveCrashChild(t *testing.T) {
	path := os.Getenv("OAR_CRASH_PATH")
	if path == "" {
		t.Skip("run by TestSaveSurvivesSIGKILL")
	}
	version := int(os.Getenv("OAR_CRASH_VERSION")[0] - '0')
	net := crashNet(version)
	os.Stdout.WriteString("saving\n")
	require.NoError(t, nn.Save(path, net))
}
