// Package atomicfile writes files so that a crash at any moment leaves either the old file or
// the new one, never a mix: the one implementation behind checkpoints, optimizer state and the
// data-set cache.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write calls write with a temporary file in path's directory, then syncs it, closes it, makes
// it readable (0644), renames it over path and syncs the directory. On error the temporary file
// is removed and path is untouched. A crash can leave a temporary file named
// ".<base>.tmp<random>" behind, never a partial path.
func Write(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes 0600; these are ordinary files
		return err
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}
