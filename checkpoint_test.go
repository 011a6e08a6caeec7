package oar

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar/internal/atomicfile"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
)

// pairModel is version v of a checkpoint: a Linear(in, out) with Adam after v+1 training steps
// and v+1 epochs, every value a function of v, so that a pair read back can be told apart.
func pairModel(v, in, out int) *Model {
	net := nn.NewLinear(in, out, nn.LinearOptions{Rand: rand.New(rand.NewPCG(uint64(v), 9))})
	m := NewModel(net)
	m.Prepare(optim.NewAdam(m.Params(), 0.01), losses.NewMSE())
	rng := rand.New(rand.NewPCG(uint64(v), 10))
	x, y := make([]float32, 4*in), make([]float32, 4*out)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range y {
		y[i] = rng.Float32()
	}
	for range v + 1 {
		m.TrainBatch(tensor.New(x, 4, in), tensor.New(y, 4, out))
	}
	m.epochs = v + 1
	return m
}

// blankModel is the model a checkpoint is loaded into: other weights, a fresh optimizer.
func blankModel(in, out int) *Model {
	m := NewModel(nn.NewLinear(in, out, nn.LinearOptions{Rand: rand.New(rand.NewPCG(99, 9))}))
	m.Prepare(optim.NewAdam(m.Params(), 0.01), losses.NewMSE())
	return m
}

// digest is a hash of everything a pair restores, bit for bit: the parameters and their names,
// the optimizer's tensors and metadata (without the save id) and the epochs.
func digest(m *Model) string {
	h := sha256.New()
	put := func(name string, data []float32) {
		fmt.Fprintf(h, "%s %d:", name, len(data))
		if len(data) > 0 { // the bits as they are in memory (little-endian on every platform CI runs)
			h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data)))
		}
	}
	for _, p := range nn.StateDict(m.Network) {
		put(p.Name, p.Data())
	}
	st := m.opt.State()
	for _, p := range st.Tensors {
		put("opt."+p.Name, p.Data())
	}
	meta := maps.Clone(st.Meta)
	delete(meta, metaSaveID)
	keys := slices.Sorted(maps.Keys(meta))
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s;", k, meta[k])
	}
	fmt.Fprintf(h, "epochs=%d", m.epochs)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// loadDigest loads the checkpoint at path into a blank model and returns its digest.
func loadDigest(path string, in, out int) (string, error) {
	m := blankModel(in, out)
	if err := m.Load(path); err != nil {
		return "", err
	}
	return digest(m), nil
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

const killIn, killOut = 256, 1024

// TestSavePairSurvivesSIGKILL saves a checkpoint (1 MB of parameters, 2 MB of Adam moments) over
// another in a child process and kills it with SIGKILL at a random moment of the save, 110
// times (20 with -short, 10 under -race). The moments are spread over the save's duration,
// estimated as the median of the saves that ran to their end (it varies with the machine's
// load). After each kill Load must find the complete old pair or the complete new one, bit for
// bit, and the new one exactly when the kill came after the commit (the manifest in place).
func TestSavePairSurvivesSIGKILL(t *testing.T) {
	trials := 110
	switch {
	case raceEnabled: // the race detector sees nothing in the children, and slows them: the files are the point
		trials = 10
	case testing.Short():
		trials = 20
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	versions := map[int]string{}
	var times []time.Duration
	for i := range 6 { // versions 0 and 1, three times: 1 is current; the median save time spreads the kills
		m := pairModel(i%2, killIn, killOut)
		versions[i%2] = digest(m)
		start := time.Now()
		require.NoError(t, m.Save(path))
		times = append(times, time.Since(start))
	}
	median := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	saveTime := median(times)
	require.NotEqual(t, versions[0], versions[1])
	got, err := loadDigest(path, killIn, killOut)
	require.NoError(t, err)
	require.Equal(t, versions[1], got)
	current := 1

	rng := rand.New(rand.NewPCG(1, 2))
	phases := map[string]int{}
	outcomes := map[string]int{}
	manifest := filepath.Join(dir, manifestName("m"))
	for trial := range trials {
		next := 1 - current
		before := map[string]bool{}
		for _, n := range dirNames(t, dir) {
			before[n] = true
		}
		oldManifest, _ := os.ReadFile(manifest)
		cmd := exec.Command(os.Args[0], "-test.run=^TestSavePairKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OAR_PAIR_KILL_PATH="+path, "OAR_PAIR_KILL_VERSION="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "saving\n", line)
		start := time.Now()
		saved := make(chan time.Duration, 1)
		go func() { // the child says when its save ended, if the kill came later
			if line, _ := r.ReadString('\n'); line == "saved\n" {
				saved <- time.Since(start)
			}
			close(saved)
		}()
		time.Sleep(time.Duration(rng.Float64() * float64(saveTime*6/5)))
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		if d, ok := <-saved; ok {
			times = append(times, d)
			saveTime = median(times[max(len(times)-15, 0):])
		}

		// Where the kill landed, from what the save left: a new manifest means it was committed.
		newManifest, err := os.ReadFile(manifest)
		committed := err == nil && string(newManifest) != string(oldManifest)
		var fresh []string
		for _, n := range dirNames(t, dir) {
			if !before[n] {
				fresh = append(fresh, n)
			}
		}
		phase := "before its first write"
		switch {
		case committed:
			phase = "committed, switching the files"
		case slices.ContainsFunc(fresh, func(n string) bool { return strings.HasPrefix(n, ".m.pair.") }):
			phase = "writing the manifest"
		case slices.ContainsFunc(fresh, func(n string) bool { return strings.HasPrefix(n, ".m.safetensors.") }):
			phase = "writing the parameters"
		case slices.ContainsFunc(fresh, func(n string) bool { return strings.HasPrefix(n, ".m.opt.safetensors.") }):
			phase = "writing the optimizer state"
		}
		got, err := loadDigest(path, killIn, killOut)
		require.NoError(t, err, "trial %d (%s): the checkpoint must load after a kill", trial, phase)
		switch got {
		case versions[current]:
			outcomes["old"]++
			require.False(t, committed, "trial %d: the save was committed, yet Load found the old pair", trial)
		case versions[next]:
			outcomes["new"]++
			if phase == "before its first write" {
				phase = "after its end"
			}
			require.NotEqual(t, "writing the optimizer state", phase)
			require.NotEqual(t, "writing the parameters", phase)
			require.NotEqual(t, "writing the manifest", phase)
			current = next
		default:
			t.Fatalf("trial %d (%s): the checkpoint is neither the old nor the new pair", trial, phase)
		}
		phases[phase]++
	}
	leftover := len(dirNames(t, dir)) - 2
	t.Logf("%d kills over a save of %v (median of the last complete saves): phases %v; loaded %v; %d temporary files left before the last save",
		trials, saveTime.Round(time.Millisecond), phases, outcomes, leftover)
	require.Positive(t, phases["writing the optimizer state"]+phases["writing the parameters"], "some kills must land mid-write")
	require.Positive(t, outcomes["new"], "some saves must complete or commit")

	// A last save completes or cleans up what the kills left: the pair alone remains.
	require.NoError(t, pairModel(current, killIn, killOut).Save(path))
	require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir))
}

// TestSavePairKillChild is the child of TestSavePairSurvivesSIGKILL: it saves one version.
func TestSavePairKillChild(t *testing.T) {
	path := os.Getenv("OAR_PAIR_KILL_PATH")
	if path == "" {
		t.Skip("run by TestSavePairSurvivesSIGKILL")
	}
	v, err := strconv.Atoi(os.Getenv("OAR_PAIR_KILL_VERSION"))
	require.NoError(t, err)
	m := pairModel(v, killIn, killOut)
	os.Stdout.WriteString("saving\n")
	require.NoError(t, m.Save(path))
	os.Stdout.WriteString("saved\n")
}

// noSyncFS is the OS file system without fsync, for tests that simulate crashes themselves.
type noSyncFS struct{ osFS }

type noSyncFile struct{ *os.File }

func (noSyncFile) Sync() error { return nil }

func (fs noSyncFS) Create(name string) (writeFile, error) {
	f, err := fs.osFS.Create(name)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f.(*os.File)}, nil
}
func (noSyncFS) SyncDir(string) error { return nil }

// crashFS lets Save run for budget units (a byte written, a rename or a removal each cost one)
// and then loses everything after, as a power cut: the file being written keeps the bytes that
// fit, later calls succeed without effect. Syncs are free: the test simulates what they make
// durable.
type crashFS struct {
	noSyncFS
	budget int
	used   int
}

type crashFile struct {
	fs *crashFS
	f  writeFile
}

func (c *crashFile) Write(p []byte) (int, error) {
	n := min(len(p), max(c.fs.budget-c.fs.used, 0))
	c.fs.used += n
	if c.f != nil && n > 0 {
		if _, err := c.f.Write(p[:n]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
func (c *crashFile) Sync() error { return nil }
func (c *crashFile) Close() error {
	if c.f != nil {
		return c.f.Close()
	}
	return nil
}

func (c *crashFS) step() bool {
	if c.used >= c.budget {
		return false
	}
	c.used++
	return true
}

func (c *crashFS) Create(name string) (writeFile, error) {
	if c.used >= c.budget {
		return &crashFile{fs: c}, nil
	}
	f, err := c.noSyncFS.Create(name)
	if err != nil {
		return nil, err
	}
	return &crashFile{fs: c, f: f}, nil
}
func (c *crashFS) Rename(from, to string) error {
	if !c.step() {
		return nil
	}
	return c.noSyncFS.Rename(from, to)
}
func (c *crashFS) Remove(name string) error {
	if !c.step() {
		return nil
	}
	return c.noSyncFS.Remove(name)
}

func withSaveFS(t *testing.T, fs fileSystem) {
	old := saveFS
	saveFS = fs
	t.Cleanup(func() { saveFS = old })
}

// TestSavePairCrashAtEveryByte stops a save of a small checkpoint over another at every byte of
// every file it writes and at every rename and removal, as a power cut would, then loads: before
// the manifest is renamed into place Load must find the old pair, after it the new one, bit for
// bit. The manifest itself, renamed but torn by the power cut, is truncated at every byte
// boundary: Load must find the old pair. From the states near the commit and a sample of the
// others, a further save must succeed and leave only its pair.
func TestSavePairCrashAtEveryByte(t *testing.T) {
	const in, out = 3, 2
	withSaveFS(t, noSyncFS{})
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	old, next, third := pairModel(0, in, out), pairModel(1, in, out), pairModel(2, in, out)
	want := []string{digest(old), digest(next), digest(third)}

	// The old pair's files, and the cost of a whole save over them.
	require.NoError(t, old.Save(path))
	oldFiles := map[string][]byte{}
	for _, n := range dirNames(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		oldFiles[n] = b
	}
	reset := func() {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for n, b := range oldFiles {
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
		}
	}
	full := &crashFS{budget: math.MaxInt}
	withSaveFS(t, full)
	reset()
	require.NoError(t, next.Save(path))
	total := full.used

	manifest := filepath.Join(dir, manifestName("m"))
	commit := -1 // the first budget at which the manifest is in place
	states := 0
	recovered := 0
	check := func(what string, wantVersion int, saveAgain bool) {
		t.Helper()
		got, err := loadDigest(path, in, out)
		require.NoError(t, err, what)
		require.Equal(t, want[wantVersion], got, "%s: want version %d", what, wantVersion)
		states++
		if !saveAgain {
			return
		}
		// A save from this state succeeds and leaves only its pair.
		recovered++
		withSaveFS(t, noSyncFS{})
		require.NoError(t, third.Save(path), what)
		got, err = loadDigest(path, in, out)
		require.NoError(t, err, what)
		require.Equal(t, want[2], got, "%s: the next save", what)
		require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir), what)
	}
	for budget := 0; budget <= total; budget++ {
		reset()
		fs := &crashFS{budget: budget}
		withSaveFS(t, fs)
		require.NoError(t, next.Save(path))
		_, err := os.Stat(manifest)
		if commit < 0 && (err == nil || budget == total) {
			commit = budget
		}
		v := 0
		if commit >= 0 {
			v = 1
		}
		// The further save from every 8th state and from every state of the last 32 units.
		check(fmt.Sprintf("crash after %d of %d units", budget, total), v, budget%8 == 0 || budget > total-32)
	}
	require.Positive(t, commit)

	// The manifest renamed into place but torn: truncated at every byte.
	reset()
	withSaveFS(t, &crashFS{budget: commit})
	require.NoError(t, next.Save(path))
	manifestBytes, err := os.ReadFile(manifest)
	require.NoError(t, err)
	for k := range len(manifestBytes) {
		reset()
		withSaveFS(t, &crashFS{budget: commit})
		require.NoError(t, next.Save(path))
		require.NoError(t, os.WriteFile(manifest, manifestBytes[:k], 0o644))
		check(fmt.Sprintf("manifest torn at byte %d of %d", k, len(manifestBytes)), 0, true)
	}
	t.Logf("%d crash states over a save of %d units (commit at unit %d), %d torn manifests; saved again from %d", states, total, commit, len(manifestBytes), recovered)
}

// enospcFS fails every write with ENOSPC once limit bytes have been written in all, as a full
// disk does.
type enospcFS struct {
	osFS
	limit, used int
	failSync    int // with n > 0, the n-th file's Sync fails with ENOSPC
	synced      int
}

func (f enospcFile) Sync() error {
	f.fs.synced++
	if f.fs.synced == f.fs.failSync {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Sync()
}

type enospcFile struct {
	fs *enospcFS
	*os.File
}

func (f enospcFile) Write(p []byte) (int, error) {
	n := min(len(p), max(f.fs.limit-f.fs.used, 0))
	f.fs.used += n
	f.File.Write(p[:n])
	if n < len(p) {
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, nil
}

func (fs *enospcFS) Create(name string) (writeFile, error) {
	f, err := fs.osFS.Create(name)
	if err != nil {
		return nil, err
	}
	return enospcFile{fs, f.(*os.File)}, nil
}

// TestSavePairFullDisk fills the disk at points spread over a save (in the optimizer file, the
// parameters file and the manifest), and then makes the fsync of each file fail: Save must return an error wrapping ENOSPC that names the
// file it was writing, leave the old pair loadable bit for bit and remove what it wrote.
func TestSavePairFullDisk(t *testing.T) {
	const in, out = 3, 2
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	old, next := pairModel(0, in, out), pairModel(1, in, out)
	require.NoError(t, old.Save(path))
	sizes := map[string]int{}
	for _, n := range []string{"m.opt.safetensors", "m.safetensors"} {
		info, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
		sizes[n] = int(info.Size())
	}
	manifestLen := len(encodeManifest(pairManifest{ID: strings.Repeat("0", saveIDLen),
		Rename: [][2]string{{tempName("m.opt.safetensors", strings.Repeat("0", saveIDLen)), "m.opt.safetensors"},
			{tempName("m.safetensors", strings.Repeat("0", saveIDLen)), "m.safetensors"}}}))
	total := sizes["m.opt.safetensors"] + sizes["m.safetensors"] + manifestLen
	seen := map[string]int{}
	for limit := 0; limit < total; limit += 7 {
		fs := &enospcFS{limit: limit}
		withSaveFS(t, fs)
		err := next.Save(path)
		require.Error(t, err, "limit %d", limit)
		require.ErrorIs(t, err, syscall.ENOSPC)
		file := "m.opt.safetensors"
		switch {
		case limit >= sizes["m.opt.safetensors"]+sizes["m.safetensors"]:
			file = ".m.pair"
		case limit >= sizes["m.opt.safetensors"]:
			file = "m.safetensors"
		}
		require.ErrorContains(t, err, "oar: save "+filepath.Join(dir, file)+": ")
		require.ErrorContains(t, err, "no space left on device")
		seen[file]++
		got, err := loadDigest(path, in, out)
		require.NoError(t, err)
		require.Equal(t, digest(old), got, "limit %d: the old pair must survive", limit)
		require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir), "limit %d: the save's files must go", limit)
	}
	require.Len(t, seen, 3, "every file must run out of space in some trial")

	// A file system that reports the full disk at fsync (delayed allocation, network file systems).
	for n, file := range []string{"m.opt.safetensors", "m.safetensors", ".m.pair"} {
		withSaveFS(t, &enospcFS{limit: math.MaxInt, failSync: n + 1})
		err := next.Save(path)
		require.ErrorIs(t, err, syscall.ENOSPC)
		require.ErrorContains(t, err, "oar: save "+filepath.Join(dir, file)+": ")
		got, err := loadDigest(path, in, out)
		require.NoError(t, err)
		require.Equal(t, digest(old), got, "sync %d: the old pair must survive", n)
		require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir))
	}
	withSaveFS(t, osFS{})
	require.NoError(t, next.Save(path))
	got, err := loadDigest(path, in, out)
	require.NoError(t, err)
	require.Equal(t, digest(next), got)
}

// saveAtHEAD is Model.Save as it was before pairs were switched together (commit 20147ab): the
// optimizer file, then the parameters file, each through atomicfile, with a shared save id.
func saveAtHEAD(m *Model, path string) error {
	id := newSaveID()
	st := m.opt.State()
	meta := maps.Clone(st.Meta)
	meta[metaSaveID] = id
	if err := atomicfile.Write(path+optExt, func(w io.Writer) error { return nn.WriteSafetensors(w, st.Tensors, meta) }); err != nil {
		return err
	}
	return nn.Save(path+paramsExt, m.Network, map[string]string{metaEpochs: strconv.Itoa(m.epochs), metaSaveID: id})
}

// TestLoadReadsEarlierCheckpoints loads a pair written the way Save wrote it before manifests,
// then saves over it: the old files load, and the temporary files an earlier killed save left
// (atomicfile's pattern) go.
func TestLoadReadsEarlierCheckpoints(t *testing.T) {
	const in, out = 3, 2
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	old := pairModel(0, in, out)
	require.NoError(t, saveAtHEAD(old, path))
	got, err := loadDigest(path, in, out)
	require.NoError(t, err)
	require.Equal(t, digest(old), got)

	for _, n := range []string{".m.opt.safetensors.tmp123456", ".m.safetensors.tmp987"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o600))
	}
	next := pairModel(1, in, out)
	require.NoError(t, next.Save(path))
	got, err = loadDigest(path, in, out)
	require.NoError(t, err)
	require.Equal(t, digest(next), got)
	require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir))
}

// TestSaveRemovesOnlyItsStaleTemps puts the temporary files of killed saves of the checkpoint
// beside files that merely look like them: Save removes the first, keeps every other file.
func TestSaveRemovesOnlyItsStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	id := "0123456789abcdef"
	stale := []string{
		".m.safetensors." + id + ".tmp", ".m.opt.safetensors." + id + ".tmp", ".m.pair." + id + ".tmp",
		".m.safetensors.tmp42", ".m.opt.safetensors.tmp1234567890",
	}
	kept := []string{
		".m.safetensors.0123456789ABCDEF.tmp", // not Save's hex
		".m.safetensors.0123456789abcde.tmp",  // 15 digits
		".m.safetensors.0123456789abcdefa.tmp",
		".m.safetensors.tmp", ".m.safetensors.tmpx1", ".m.pair.tmp42",
		".mm.safetensors." + id + ".tmp", ".other.opt.safetensors." + id + ".tmp", ".m2.pair." + id + ".tmp",
		"m.safetensors." + id + ".tmp", ".m.safetensors." + id + ".tmp.bak", "m.safetensors.bak", "notes.txt",
	}
	for _, n := range append(slices.Clone(stale), kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".m.safetensors.fedcba9876543210.tmp"), 0o755))
	kept = append(kept, ".m.safetensors.fedcba9876543210.tmp") // a directory is never Save's

	m := pairModel(0, 3, 2)
	require.NoError(t, m.Save(path))
	want := append(slices.Clone(kept), "m.opt.safetensors", "m.safetensors")
	sort.Strings(want)
	require.Equal(t, want, dirNames(t, dir))
	for _, n := range kept {
		if n != ".m.safetensors.fedcba9876543210.tmp" {
			b, err := os.ReadFile(filepath.Join(dir, n))
			require.NoError(t, err)
			require.Equal(t, "x", string(b), "%s changed", n)
		}
	}
}

// TestSaveWithoutOptimizerRemovesTheOldOne: a model without an optimizer saved over a pair
// replaces it with its parameters alone, so that Load does not mix the old optimizer state in.
func TestSaveWithoutOptimizerRemovesTheOldOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	require.NoError(t, pairModel(0, 3, 2).Save(path))
	bare := pairModel(1, 3, 2)
	bare.opt = nil
	require.NoError(t, bare.Save(path))
	require.Equal(t, []string{"m.safetensors"}, dirNames(t, dir))
	m := blankModel(3, 2)
	require.NoError(t, m.Load(path))
	require.Equal(t, 2, m.Epochs())
	require.Equal(t, nn.StateDict(bare.Network)[0].Data(), nn.StateDict(m.Network)[0].Data())
}

// TestSaveErrorAfterCommit: a save that fails after its commit (a rename refused) has still
// replaced the pair, and the next save completes the switch.
func TestSaveErrorAfterCommit(t *testing.T) {
	const in, out = 3, 2
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	require.NoError(t, pairModel(0, in, out).Save(path))
	next := pairModel(1, in, out)
	withSaveFS(t, &failRenameFS{to: filepath.Join(dir, "m.safetensors")})
	require.ErrorContains(t, next.Save(path), "oar: save "+filepath.Join(dir, "m.safetensors")+": refused")
	got, err := loadDigest(path, in, out)
	require.NoError(t, err)
	require.Equal(t, digest(next), got)
	withSaveFS(t, osFS{})
	third := pairModel(2, in, out)
	require.NoError(t, third.Save(path))
	got, err = loadDigest(path, in, out)
	require.NoError(t, err)
	require.Equal(t, digest(third), got)
	require.Equal(t, []string{"m.opt.safetensors", "m.safetensors"}, dirNames(t, dir))
}

type failRenameFS struct {
	osFS
	to string
}

func (f *failRenameFS) Rename(from, to string) error {
	if to == f.to {
		return errors.New("refused")
	}
	return f.osFS.Rename(from, to)
}

// TestLoadDuringSaves loads a checkpoint over and over while another goroutine saves the two
// versions over it in turn: every Load must succeed with one complete version, even when the
// files move between its two reads.
func TestLoadDuringSaves(t *testing.T) {
	const in, out = 64, 64
	withSaveFS(t, noSyncFS{}) // many saves, quickly: what matters is the renames
	dir := t.TempDir()
	path := filepath.Join(dir, "m")
	models := []*Model{pairModel(0, in, out), pairModel(1, in, out)}
	want := []string{digest(models[0]), digest(models[1])}
	require.NoError(t, models[0].Save(path))
	stop := make(chan struct{})
	saved := make(chan error)
	go func() {
		n := 0
		for ; ; n++ {
			select {
			case <-stop:
				saved <- nil
				return
			default:
			}
			if err := models[(n+1)%2].Save(path); err != nil {
				saved <- err
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	seen := map[string]int{}
	for range 300 {
		got, err := loadDigest(path, in, out)
		require.NoError(t, err)
		require.Contains(t, want, got)
		seen[got]++
	}
	close(stop)
	require.NoError(t, <-saved)
	t.Logf("300 loads during saves: %d of version 0, %d of version 1", seen[want[0]], seen[want[1]])
}
