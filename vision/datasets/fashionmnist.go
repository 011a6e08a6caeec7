package datasets

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/oarlab/oar/vision/transforms"
)

// Where the Fashion-MNIST files come from: Zalando Research's own copy (the data set's home,
// https://github.com/zalandoresearch/fashion-mnist) and Paddle's mirror, which
// paddle.vision.datasets.FashionMNIST downloads. Both serve the same four files, named as MNIST's.
const (
	fashionURL       = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	fashionPaddleURL = "https://dataset.bj.bcebos.com/fashion_mnist/"
)

// fashionSHA256 holds the SHA-256 of each Fashion-MNIST file as Zalando published it. Zalando's
// README and Paddle's mnist.py give only MD5s (8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...,
// in the order below); these SHA-256s are the ones two independent loaders publish for the same
// files (one of which lists MNIST's beside them, equal to mnistSHA256). No Fashion-MNIST file was
// available here to hash.
var fashionSHA256 = map[string]string{
	TrainImagesFile: "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
	TrainLabelsFile: "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
	TestImagesFile:  "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
	TestLabelsFile:  "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
}

// fashionMD5 holds the MD5 of each file, as Zalando's README and Paddle's FashionMNIST give them;
// the error for a missing file quotes them so that the user can check a download either way.
var fashionMD5 = map[string]string{
	TrainImagesFile: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
	TrainLabelsFile: "25c81989df183df01b3e8a0aad5dffbe",
	TestImagesFile:  "bef4ecab320f06d8554ea6380940ec79",
	TestLabelsFile:  "bb300cfdad3c16e7a12a480ee83cd310",
}

// FashionMNISTOptions choose a Fashion-MNIST split and where its files are. The zero value is the
// training split, raw 0..255 pixels, read from DataHome()/fashion-mnist.
type FashionMNISTOptions struct {
	// Mode is "train" (60,000 items; the default when empty) or "test" (10,000 items).
	Mode string
	// Dir is a directory holding the mode's two IDX files (gzip or raw), which are then read
	// without a checksum (any data in the format works, as with Paddle's image_path and
	// label_path). When empty, they are read from DataHome()/fashion-mnist, and the gzip files
	// there must have the SHA-256 of Zalando's.
	Dir string
	// Transform is applied to each image [1,28,28] of 0..255 values, as MNISTOptions.Transform.
	Transform transforms.Transform
	// MaxBytes bounds the decompressed size of one IDX file, as MNISTOptions.MaxBytes (by default
	// DefaultMNISTMaxBytes, which Fashion-MNIST's largest file also has).
	MaxBytes int64
}

// FashionDir returns the directory in which NewFashionMNIST looks for the files when
// FashionMNISTOptions.Dir is empty: DataHome()/fashion-mnist (Paddle's cache directory is
// ~/.cache/paddle/dataset/fashion-mnist, which works as a Dir).
func FashionDir() string { return filepath.Join(DataHome(), "fashion-mnist") }

// NewFashionMNIST loads a split of Zalando's Fashion-MNIST (paddle.vision.datasets.FashionMNIST):
// 28x28 grayscale images of ten kinds of clothing (0 T-shirt/top, 1 trouser, 2 pullover, 3 dress,
// 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot) in MNIST's IDX format and file names.
// Its items are MNIST's, {image [1,28,28], label [1]}, and it returns an *MNIST (Paddle's
// FashionMNIST is a subclass of its MNIST too), with the same checks on the files.
//
// Nothing is downloaded: unlike Paddle's (download=True), a missing file is an error naming the
// path where it was expected, the addresses it can be fetched from and its SHA-256 and MD5. Files
// read from DataHome()/fashion-mnist are checked against the SHA-256 of Zalando's gzip files
// (uncompressed files there are read unchecked: no digest of them is published); a mismatch says
// to delete the file and fetch it again.
func NewFashionMNIST(opt FashionMNISTOptions) (*MNIST, error) {
	imagesName, labelsName, err := mnistFiles(opt.Mode)
	if err != nil {
		return nil, fmt.Errorf("fashion-%w", err)
	}
	dir, src := opt.Dir, digester(fromDir)
	if dir == "" {
		dir, src = FashionDir(), fashionCache{}
	}
	var paths []string
	var missing []string
	for _, name := range []string{imagesName, labelsName} {
		p, err := locate(dir, name)
		if err != nil {
			missing = append(missing, fmt.Sprintf("\t%s (or %s uncompressed): get %s%s or %s%s (SHA-256 %s, MD5 %s)",
				filepath.Join(dir, name), strings.TrimSuffix(name, ".gz"), fashionURL, name, fashionPaddleURL, name,
				fashionSHA256[name], fashionMD5[name]))
			continue
		}
		paths = append(paths, p)
	}
	if len(missing) > 0 {
		where := "set FashionMNISTOptions.Dir to the directory that holds them, or place them in " + FashionDir()
		if opt.Dir != "" {
			where = "place them in " + opt.Dir
		}
		return nil, fmt.Errorf("fashion-mnist: missing files (nothing is downloaded):\n%s\n%s", strings.Join(missing, "\n"), where)
	}
	images, labels, err := loadMNIST(paths[0], paths[1], mnistMaxBytes(opt.MaxBytes), src)
	if err != nil {
		// MNIST's readers name the file; say which data set it is ("fashion-mnist: read ...").
		return nil, fmt.Errorf("fashion-%w", err)
	}
	return newMNIST(images, labels, opt.Transform), nil
}

// fashionCache is the digester of the files in FashionDir: the gzip files are Zalando's.
type fashionCache struct{}

func (fashionCache) digest(path string) (sha, fix string) {
	return fashionSHA256[filepath.Base(path)], fmt.Sprintf("the file is damaged or is not Zalando's: delete %s and fetch it again "+
		"from %s or %s (for other data in this format, set FashionMNISTOptions.Dir to its directory instead)", path, fashionURL, fashionPaddleURL)
}
