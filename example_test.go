package oar_test

import (
	"fmt"
	"strings"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/vision/models"
)

func ExampleSummary() {
	var table strings.Builder
	info := oar.SummaryTo(&table, models.LeNet(10), []int{1, 1, 28, 28})
	// Summary prints to standard output; the trimming is only for this example's comparison, as
	// Paddle's centred columns leave trailing spaces.
	for line := range strings.Lines(table.String()) {
		fmt.Println(strings.TrimRight(line, " \n"))
	}
	fmt.Println(info.TotalParams, info.TrainableParams)
	// Output:
	// ---------------------------------------------------------------------------
	//  Layer (type)       Input Shape          Output Shape         Param #
	// ===========================================================================
	//    Conv2D-1       [[1, 1, 28, 28]]      [1, 6, 28, 28]          60
	//     ReLU-1        [[1, 6, 28, 28]]      [1, 6, 28, 28]           0
	//   MaxPool2D-1     [[1, 6, 28, 28]]      [1, 6, 14, 14]           0
	//    Conv2D-2       [[1, 6, 14, 14]]     [1, 16, 10, 10]         2,416
	//     ReLU-2       [[1, 16, 10, 10]]     [1, 16, 10, 10]           0
	//   MaxPool2D-2    [[1, 16, 10, 10]]      [1, 16, 5, 5]            0
	//    Linear-1          [[1, 400]]            [1, 120]           48,120
	//    Linear-2          [[1, 120]]            [1, 84]            10,164
	//    Linear-3          [[1, 84]]             [1, 10]              850
	// ===========================================================================
	// Total params: 61,610
	// Trainable params: 61,610
	// Non-trainable params: 0
	// ---------------------------------------------------------------------------
	// Input size (MB): 0.00
	// Forward/backward pass size (MB): 0.11
	// Params size (MB): 0.24
	// Estimated Total Size (MB): 0.35
	// ---------------------------------------------------------------------------
	// 61610 61610
}
