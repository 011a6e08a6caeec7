package oar

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// How Save switches a checkpoint's pair of files at once (see Save's doc for the layout):
//
//  1. write the new optimizer and parameters files to temporary files named for the save,
//     .<base>.opt.safetensors.<id>.tmp and .<base>.safetensors.<id>.tmp, and fsync them;
//  2. write the pair manifest .<base>.pair, naming those temporary files and the files they
//     replace, to .<base>.pair.<id>.tmp, fsync it and rename it into place: the commit point;
//  3. rename the temporary files over <base>.safetensors and <base>.opt.safetensors;
//  4. remove the manifest.
//
// Load reads through a valid manifest (a temporary file it names, while it exists, in place of
// the file it replaces), so a crash before step 2 leaves the old pair and one after it the new
// pair; the next Save completes steps 3 and 4 of a committed manifest before anything else.

// manifestExt names the pair manifest, .<base>.pair, beside <base>.safetensors.
const manifestExt = ".pair"

// manifestMagic is the first line of a pair manifest.
const manifestMagic = "oar checkpoint pair v1"

// saveIDLen is the length of a save identifier in hex digits.
const saveIDLen = 16

// pairManifest is what a manifest holds: the save's identifier, the renames that install its
// files (temporary name to final name, both base names in the checkpoint's directory) and the
// final files it removes (the optimizer file of an earlier save, when this one has none).
type pairManifest struct {
	ID     string      `json:"id"`
	Rename [][2]string `json:"rename"`
	Remove []string    `json:"remove,omitempty"`
}

// fileSystem is what Save writes through; tests replace saveFS to inject full disks and crashes.
type fileSystem interface {
	Create(name string) (writeFile, error) // a new file, mode 0644; an error if it exists
	Rename(from, to string) error
	Remove(name string) error
	SyncDir(dir string) error
}

type writeFile interface {
	io.Writer
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) Create(name string) (writeFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}
func (osFS) Rename(from, to string) error { return os.Rename(from, to) }
func (osFS) Remove(name string) error     { return os.Remove(name) }

// SyncDir makes the directory's entries durable where the system can: as atomicfile does, it
// ignores the errors of systems that cannot sync a directory (Windows, some network file
// systems), where renames are as durable as they get.
func (osFS) SyncDir(dir string) error {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

var saveFS fileSystem = osFS{}

func newSaveID() string {
	var id [saveIDLen / 2]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// tempName is the temporary file of save id for the file name (a base name).
func tempName(name, id string) string { return "." + name + "." + id + ".tmp" }

// isTemp reports whether name (a base name) is a temporary file Save makes for the final file
// final: .<final>.<16 hex digits>.tmp or, with legacy, .<final>.tmp<digits>, the temporary
// files of atomicfile that the Save of earlier versions left when it was killed.
func isTemp(name, final string, legacy bool) bool {
	rest, ok := strings.CutPrefix(name, "."+final+".")
	if !ok {
		return false
	}
	if id, ok := strings.CutSuffix(rest, ".tmp"); ok && len(id) == saveIDLen && isHex(id) {
		return true
	}
	digits, ok := strings.CutPrefix(rest, "tmp")
	return ok && legacy && digits != "" && strings.Trim(digits, "0123456789") == ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func manifestName(base string) string { return "." + base + manifestExt }

// writeNew writes a new file name through fs with write, syncs and closes it; on error it
// removes what it wrote.
func writeNew(fs fileSystem, name string, write func(io.Writer) error) (err error) {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			fs.Remove(name)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// encodeManifest returns the manifest's bytes: the magic line, one line of JSON and a line
// "crc32 <hex>" of the bytes before it, so that a torn manifest is recognised.
func encodeManifest(m pairManifest) []byte {
	js, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings only
	}
	b := []byte(manifestMagic + "\n" + string(js) + "\n")
	return fmt.Appendf(b, "crc32 %08x\n", crc32.ChecksumIEEE(b))
}

// readManifest reads the manifest of the checkpoint base in dir. It returns nil when there is
// none or when it is not a complete, valid manifest of this checkpoint (a torn write): the
// renames it would name cannot have started, since Save renames only after the manifest is
// durable.
func readManifest(dir, base string) *pairManifest {
	b, err := os.ReadFile(filepath.Join(dir, manifestName(base)))
	if err != nil {
		return nil
	}
	body, sum, ok := bytes.Cut(bytes.TrimSuffix(b, []byte("\n")), []byte("\ncrc32 "))
	if !ok || len(b) == 0 || b[len(b)-1] != '\n' || string(sum) != fmt.Sprintf("%08x", crc32.ChecksumIEEE(append(body, '\n'))) {
		return nil
	}
	js, ok := bytes.CutPrefix(body, []byte(manifestMagic+"\n"))
	if !ok {
		return nil
	}
	var m pairManifest
	if json.Unmarshal(js, &m) != nil || len(m.ID) != saveIDLen || !isHex(m.ID) {
		return nil
	}
	finals := map[string]bool{base + paramsExt: true, base + optExt: true}
	for _, r := range m.Rename {
		if !finals[r[1]] || r[0] != tempName(r[1], m.ID) {
			return nil
		}
	}
	for _, r := range m.Remove {
		if !finals[r] {
			return nil
		}
	}
	return &m
}

// pairFiles returns the files that hold the checkpoint path's last complete pair: its
// parameters file and its optimizer file ("" when the last save removed it).
func pairFiles(path string) (params, opt string) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	params, opt = path+paramsExt, path+optExt
	m := readManifest(dir, base)
	if m == nil {
		return params, opt
	}
	for _, r := range m.Remove {
		if r == base+optExt {
			opt = ""
		}
	}
	for _, r := range m.Rename {
		tmp := filepath.Join(dir, r[0])
		if _, err := os.Lstat(tmp); err != nil {
			continue // renamed already
		}
		switch r[1] {
		case base + paramsExt:
			params = tmp
		case base + optExt:
			opt = tmp
		}
	}
	return params, opt
}

// finishPair completes the switch of a committed manifest at path, if there is one, and removes
// a torn one.
func finishPair(fs fileSystem, path string) error {
	dir, base := filepath.Dir(path), filepath.Base(path)
	manifest := filepath.Join(dir, manifestName(base))
	if _, err := os.Lstat(manifest); err != nil {
		return nil
	}
	if m := readManifest(dir, base); m != nil {
		if err := applyPair(fs, dir, m); err != nil {
			return err
		}
	}
	if err := fs.Remove(manifest); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return fs.SyncDir(dir)
}

// applyPair does the renames and removals of a committed manifest that are not done yet and
// makes them durable.
func applyPair(fs fileSystem, dir string, m *pairManifest) error {
	for _, r := range m.Rename {
		tmp := filepath.Join(dir, r[0])
		if _, err := os.Lstat(tmp); err != nil {
			continue
		}
		if err := fs.Rename(tmp, filepath.Join(dir, r[1])); err != nil {
			return err
		}
	}
	for _, r := range m.Remove {
		if err := fs.Remove(filepath.Join(dir, r)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return fs.SyncDir(dir)
}

// removeStaleTemps removes the temporary files of earlier, killed saves of the checkpoint base
// in dir: only names of Save's own patterns for this base. Call it after finishPair, when no
// manifest names any of them.
func removeStaleTemps(fs fileSystem, dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (isTemp(n, base+paramsExt, true) || isTemp(n, base+optExt, true) || isTemp(n, base+manifestExt, false)) {
			fs.Remove(filepath.Join(dir, n))
		}
	}
}
