// Package nn has the layers networks are built from, as paddle.nn: Layer and Param, containers,
// Linear, Conv2D, pooling, BatchNorm2D, Dropout, Flatten, activations, initializers, state dicts
// and checkpoints.
package nn
