package oar

import "github.com/oarlab/oar/nn"

// Seed makes runs repeatable, as paddle.seed: it reseeds the source that parameter initializers
// and new Dropout layers draw from. Call it before building the network; data loaders take their
// own Seed field.
func Seed(n uint64) { nn.Seed(n) }
