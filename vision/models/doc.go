// Package models has ready networks, as paddle.vision.models: LeNet exactly as Paddle's, and a
// configurable MLP.
package models
