// Package tutorial holds what the tutorial's MNIST examples share: the command wrapper that
// turns an interrupt into exit status 130 (Main), the tutorial's mnist.json.gz, created once in
// the data cache and read into its three splits (JSONFile, ReadData, PrintCounts), the
// generator-style load_data of section 1 (LoadData), and the whole regression flow of sections 1
// and 3.2 (train with the square error and SGD, evaluate, save, load and predict one image), in
// which only the network differs (RunRegression). Everything prints on the writer it is given,
// so that the examples' tests can check the lines; tutorialtest holds the tiny data sets and the
// line check those tests use.
//
// It is internal to examples/: the commands examples/linear, examples/mlp, examples/cnn and
// examples/loader use it, and each keeps its own doc comment, flags and network.
package tutorial
