package tutorial

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/losses"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/optim"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/datasets"
)

// Main runs the command name: it calls run with a context canceled on SIGINT or SIGTERM and
// exits with status 130, printing "<name>: interrupted" to stderr, if run returns an error that
// is context.Canceled, and with status 1, printing "<name>: <err>", if run returns another error.
// Main returns if run returns nil.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if code := report(os.Stderr, name, err); code != 0 {
		os.Exit(code)
	}
}

// report writes to w what Main prints for run's error err and returns Main's exit status: 0 for
// nil, 130 for context.Canceled, 1 otherwise.
func report(w io.Writer, name string, err error) int {
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(w, name+": interrupted")
		return 130
	case err != nil:
		fmt.Fprintln(w, name+":", err)
		return 1
	}
	return 0
}

// JSONFile returns the path of the tutorial's mnist.json.gz: the given one, or the one in the
// data cache, which it creates from the MNIST IDX files (in dataDir, or the cache) if absent,
// saying so on w.
func JSONFile(w io.Writer, path, dataDir string) (string, error) {
	if path != "" {
		return path, nil
	}
	path = filepath.Join(datasets.DataHome(), "mnist", "mnist.json.gz")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	train, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "train", Dir: dataDir})
	if err != nil {
		return "", err
	}
	test, err := datasets.NewMNIST(datasets.MNISTOptions{Mode: "test", Dir: dataDir})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "creating %s from the MNIST IDX files ......\n", path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := datasets.SaveMNISTJSON(path, train.Slice(0, 50000), train.Slice(50000, 60000), test); err != nil {
		return "", err
	}
	return path, nil
}

// ReadData prints "loading mnist dataset from <path> ......" on w, reads the tutorial's
// mnist.json.gz at path, the splits train, valid and eval (train_set, val_set, eval_set = data),
// and prints "mnist dataset load done". LoadMNISTJSON checks the file as it reads it, the
// tutorial's assert included (as many images as labels in each split).
func ReadData(w io.Writer, path string) ([3]*datasets.JSONSplit, error) {
	fmt.Fprintf(w, "loading mnist dataset from %s ......\n", path)
	train, valid, eval, err := datasets.LoadMNISTJSON(path)
	if err != nil {
		return [3]*datasets.JSONSplit{}, err
	}
	fmt.Fprintln(w, "mnist dataset load done")
	return [3]*datasets.JSONSplit{train, valid, eval}, nil
}

// PrintCounts prints the number of samples of each split, as section 1.2 does after reading
// the file: "train samples: 50000", "valid samples: 10000", "eval samples: 10000".
func PrintCounts(w io.Writer, splits [3]*datasets.JSONSplit) {
	for i, mode := range []string{"train", "valid", "eval"} {
		fmt.Fprintf(w, "%s samples: %d\n", mode, splits[i].Len())
	}
}

// LoadData is the tutorial's load_data(mode) on the splits ReadData returned: it prints
// "load_data(<mode>): <n> samples in batches of <batchSize>" on w and returns data_generator, a
// function whose every call starts one pass over the split mode ("train", "valid" or "eval") in
// batches of images [B,784] and labels [B], as float32 tensors: one label per image, as the
// tutorial's np.array(labels[i]) is a number and its batch has the shape (100,). In train mode
// each pass visits the items in a new random order, drawn from seed. The last batch may be
// smaller.
func LoadData(w io.Writer, splits [3]*datasets.JSONSplit, mode string, batchSize int, seed uint64) (func() iter.Seq2[*tensor.Tensor, *tensor.Tensor], error) {
	var split *datasets.JSONSplit
	switch mode {
	case "train":
		split = splits[0]
	case "valid":
		split = splits[1]
	case "eval":
		split = splits[2]
	default:
		return nil, fmt.Errorf("mode can only be one of [train, valid, eval], not %q", mode)
	}
	fmt.Fprintf(w, "load_data(%s): %d samples in batches of %d\n", mode, split.Len(), batchSize)
	indexList := make([]int, split.Len())
	for i := range indexList {
		indexList[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6e697374))
	dataGenerator := func() iter.Seq2[*tensor.Tensor, *tensor.Tensor] {
		if mode == "train" {
			rng.Shuffle(len(indexList), func(i, j int) { indexList[i], indexList[j] = indexList[j], indexList[i] })
		}
		order := slices.Clone(indexList)
		return func(yield func(*tensor.Tensor, *tensor.Tensor) bool) {
			for start := 0; start < len(order); start += batchSize {
				b := split.GetBatch(order[start:min(start+batchSize, len(order))])
				if !yield(b[0], b[1].Reshape(-1)) { // labels [B,1] → [B]
					return
				}
			}
		}
	}
	return dataGenerator, nil
}

// Regression configures RunRegression; the commands set its fields from their flags.
type Regression struct {
	Epochs   int     // training epochs (the tutorial's EPOCH_NUM)
	Batch    int     // batch size (the tutorial's BATCHSIZE)
	LogEvery int     // print the loss every this many batches
	Index    int     // the eval-split image to predict after training
	LR       float64 // SGD's learning rate
	JSONPath string  // the tutorial's mnist.json.gz; "" for the one in the data cache (see JSONFile)
	DataDir  string  // directory holding the MNIST IDX files to create the json.gz from; "" for the cache
	Out      string  // directory for the saved parameters
	Seed     uint64  // seed of the initial weights and of the shuffling
}

// RegressionFlags defines the command-line flags of the regression examples on fs (the
// tutorial's EPOCH_NUM, BATCHSIZE, learning rate, ...) and returns the settings they fill when fs
// is parsed.
func RegressionFlags(fs *flag.FlagSet) *Regression {
	c := &Regression{}
	fs.IntVar(&c.Epochs, "epochs", 10, "training epochs (the tutorial's EPOCH_NUM)")
	fs.IntVar(&c.Batch, "batch", 100, "batch size (the tutorial's BATCHSIZE)")
	fs.Float64Var(&c.LR, "lr", 0.001, "SGD's learning rate")
	fs.IntVar(&c.LogEvery, "log", 200, "print the loss every this many batches")
	fs.IntVar(&c.Index, "index", 0, "the eval-split image to predict after training")
	fs.StringVar(&c.JSONPath, "json", "", "the tutorial's mnist.json.gz (default: created once in the data cache)")
	fs.StringVar(&c.DataDir, "data", "", "directory holding the MNIST IDX files, to create the json.gz from (default: the cache, acquired if absent)")
	fs.StringVar(&c.Out, "out", "out", "directory for the saved parameters")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the initial weights and of the shuffling")
	return c
}

// RunRegression is the regression of the tutorial's sections 1 and 3.2 with the network newNet
// returns, which maps images [B,784] to values [B,1]. It prints on w:
//
//  1. section 1.2: reading mnist.json.gz (JSONFile, ReadData), "mnist dataset load done" and the
//     samples in each split ("train samples: 50000", ...);
//  2. sections 1.3-1.5: load_data('train') (LoadData) and its first batch's shapes and types,
//     as the tutorial's check of the data ("image shape: [100 784], label shape: [100], image
//     type: *tensor.Tensor, label type: *tensor.Tensor");
//  3. section 1.6: seed with c.Seed, build the network and train it for c.Epochs epochs with SGD
//     on the mean square error, printing the loss every c.LogEvery batches ("epoch: 0, batch:
//     200, loss is: [...]"), until ctx is done (it then returns ctx.Err());
//  4. the mean square error on the eval split and how often the prediction rounds to the true
//     digit (not in the tutorial);
//  5. save the parameters to c.Out/mnist_<name>.safetensors, load them into a new network from
//     newNet and print its prediction of the eval image c.Index.
func RunRegression(ctx context.Context, w io.Writer, name string, newNet func() nn.Layer, c Regression) error {
	if c.Epochs < 1 || c.Batch < 1 || c.LogEvery < 1 || !(c.LR > 0) {
		return fmt.Errorf("-epochs %d, -batch %d, -log %d and -lr %v must be positive", c.Epochs, c.Batch, c.LogEvery, c.LR)
	}
	path, err := JSONFile(w, c.JSONPath, c.DataDir)
	if err != nil {
		return err
	}
	splits, err := ReadData(w, path)
	if err != nil {
		return err
	}
	PrintCounts(w, splits)
	trainLoader, err := LoadData(w, splits, "train", c.Batch, c.Seed)
	if err != nil {
		return err
	}

	// The tutorial's check of the data (1.3, 1.4): the first batch's shapes and types.
	for images, labels := range trainLoader() {
		fmt.Fprintln(w, "the first batch's shapes and types:")
		fmt.Fprintf(w, "image shape: %v, label shape: %v, image type: %T, label type: %T\n",
			images.Shape(), labels.Shape(), images, labels)
		break
	}

	// The network: the tutorial's class MNIST(paddle.nn.Layer).
	oar.Seed(c.Seed)
	model := newNet()
	nn.Train(model)
	opt := optim.NewSGD(model.Params(), float32(c.LR))
	for epoch := range c.Epochs {
		batchID := 0
		for images, labels := range trainLoader() {
			if err := ctx.Err(); err != nil {
				return err
			}
			predicts := model.Forward(images)
			// predicts are [B,1] and labels [B]: Paddle would broadcast them to [B,B], comparing
			// every prediction with every label; each is compared with its own label here.
			loss := losses.SquareErrorCost(predicts, labels.Reshape(-1, 1))
			avgLoss := loss.Mean()
			if batchID%c.LogEvery == 0 {
				fmt.Fprintf(w, "epoch: %d, batch: %d, loss is: %v\n", epoch, batchID, []float32{avgLoss.Item()})
			}
			avgLoss.Backward()
			opt.Step()
			opt.ClearGrad()
			batchID++
		}
	}

	evalLoader, err := LoadData(w, splits, "eval", c.Batch, c.Seed)
	if err != nil {
		return err
	}
	mse, acc := evaluate(model, evalLoader)
	fmt.Fprintf(w, "eval split: mean square error %.4f, predictions rounding to the true digit %.4f\n", mse, acc)

	// Save the parameters, then load them into a new network to predict, as the tutorial does.
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	params := filepath.Join(c.Out, "mnist_"+name+".safetensors")
	if err := nn.Save(params, model); err != nil {
		return err
	}
	fmt.Fprintln(w, "saved", params)
	loaded := newNet()
	if _, err := nn.Load(params, loaded); err != nil {
		return err
	}
	nn.Eval(loaded)
	eval := splits[2]
	if c.Index < 0 || c.Index >= eval.Len() {
		return fmt.Errorf("-index %d outside the eval split [0, %d)", c.Index, eval.Len())
	}
	img := eval.Get(c.Index)[0].Reshape(1, 784)
	pred := loaded.Forward(img.NoGrad()).Item()
	fmt.Fprintf(w, "eval image %d: predicted %.3f (digit %d), true digit %d\n",
		c.Index, pred, nearestDigit(pred), eval.Label(c.Index))
	return nil
}

// evaluate returns the mean square error of net over one pass of loader and the fraction of
// predictions that round to the true digit.
func evaluate(net nn.Layer, loader func() iter.Seq2[*tensor.Tensor, *tensor.Tensor]) (mse, acc float64) {
	n := 0
	for images, labels := range loader() {
		pred := net.Forward(images.NoGrad())
		mse += float64(losses.SquareErrorCost(pred, labels.Reshape(-1, 1)).Sum().Item())
		for i, v := range pred.Data() {
			if nearestDigit(v) == int(labels.Data()[i]) {
				acc++
			}
		}
		n += labels.Len()
	}
	return mse / float64(n), acc / float64(n)
}

// nearestDigit rounds a regressed value to the nearest digit 0..9.
func nearestDigit(v float32) int {
	return int(math.Round(math.Max(0, math.Min(9, float64(v)))))
}
