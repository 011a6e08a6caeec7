package data_test

import (
	"context"
	"fmt"

	"github.com/oarlab/oar/data"
	"github.com/oarlab/oar/tensor"
)

func ExampleLoader() {
	// Ten items: x [1] holding the item's number, and a label [1], its parity.
	x := tensor.Arange(10).Reshape(10, 1)
	y := tensor.New([]float32{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 10, 1)
	ds := data.NewTensorDataset(x, y)

	loader := &data.Loader{Dataset: ds, BatchSize: 4, Shuffle: true, Seed: 1, Workers: 2}
	fmt.Println("batches per epoch:", loader.Len())
	for epoch := range 2 {
		for b := range loader.All(context.Background()) {
			fmt.Println("epoch", epoch, b[0].Shape(), b[1].Shape(), "x:", b[0].Data(), "labels:", b[1].Data())
		}
		if err := loader.Err(); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// batches per epoch: 3
	// epoch 0 [4 1] [4 1] x: [6 3 1 9] labels: [0 1 1 1]
	// epoch 0 [4 1] [4 1] x: [7 4 8 2] labels: [1 0 0 0]
	// epoch 0 [2 1] [2 1] x: [0 5] labels: [0 1]
	// epoch 1 [4 1] [4 1] x: [3 5 8 2] labels: [1 1 0 0]
	// epoch 1 [4 1] [4 1] x: [7 1 6 4] labels: [1 1 0 0]
	// epoch 1 [2 1] [2 1] x: [0 9] labels: [0 1]
}

func ExampleRandomSplit() {
	ds := data.NewTensorDataset(tensor.Arange(10).Reshape(10, 1))
	parts := data.RandomSplit(ds, []float64{0.8, 0.2}, 42)
	fmt.Println(parts[0].Len(), parts[1].Len())
	// Output:
	// 8 2
}
