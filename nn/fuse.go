package nn

import "github.com/oarlab/oar/tensor"

// ConvReLUPool is a Conv2D, a ReLU and a MaxPool2D run as one op, tensor.Conv2DReLUMaxPool: its
// output and gradients are bit for bit those of the three layers, but each chunk of images is
// convolved, rectified and pooled while it is in cache, so the convolution's and the ReLU's
// full-size outputs [N, out, H, W] are never stored, and the backward pass rebuilds their
// gradient chunk by chunk from the pooled one. Fuse puts it in place of the three layers; it is a layer like any other
// (Summary shows it as one row, ConvReLUPool-k). Its parameters are Conv's, named as Conv's
// ("weight", "bias"), so a state dict saved before fusing loads after it and the reverse.
type ConvReLUPool struct {
	Hooks
	Conv *Conv2D
	Pool *MaxPool2D
}

// Forward convolves, rectifies and pools x [N, in, H, W]. It panics as Conv2D and MaxPool2D do,
// naming the ConvReLUPool.
func (l *ConvReLUPool) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	l.Conv.checkInput(l, x)
	return x.Conv2DReLUMaxPool(l.Conv.Weight, l.Conv.Bias, l.Conv.Options, l.Pool.Options)
}

// Params returns the convolution's "weight" and, if present, "bias".
func (l *ConvReLUPool) Params() []Param { return l.Conv.Params() }

// Fuse is oar's one graph optimization, and an explicit one: in every Sequential in root (root
// included) it replaces each run of a *Conv2D, a *ReLU and a *MaxPool2D by one *ConvReLUPool
// that holds the Conv2D and the MaxPool2D and takes the Conv2D's name, and it returns the number
// of runs replaced. The network computes the same values and gradients bit for bit, with the
// same state-dict keys (LeNet's "features.0.weight", "features.3.weight"), in less time and
// memory. Runs where one of the three layers has forward post-hooks are left alone (the hooks
// would stop firing). Layers run by a struct layer's own Forward are not touched: fuse those by
// calling x.Conv2DReLUMaxPool, or hold them in a Sequential.
//
// Not calling Fuse turns the optimization off: nothing in nn fuses on its own. Call it after
// building the network and before making the optimizer or training; Summary shows whichever
// network it is given.
func Fuse(root Layer) int {
	n := 0
	Walk(root, func(_ string, l Layer) {
		s, ok := l.(*Sequential)
		if !ok {
			return
		}
		layers := make([]Named, 0, len(s.layers))
		for i := 0; i < len(s.layers); i++ {
			if f := fusible(s.layers[i:]); f != nil {
				layers = append(layers, Named{s.layers[i].Name, f})
				i += 2
				n++
				continue
			}
			layers = append(layers, s.layers[i])
		}
		s.layers = layers
	})
	return n
}

// fusible returns layers[:3] as one ConvReLUPool if they are a Conv2D, a ReLU and a MaxPool2D
// without hooks, or nil.
func fusible(layers []Named) *ConvReLUPool {
	if len(layers) < 3 {
		return nil
	}
	conv, ok1 := layers[0].Layer.(*Conv2D)
	relu, ok2 := layers[1].Layer.(*ReLU)
	pool, ok3 := layers[2].Layer.(*MaxPool2D)
	if !ok1 || !ok2 || !ok3 || conv == nil || relu == nil || pool == nil ||
		len(conv.post)+len(relu.post)+len(pool.post) > 0 {
		return nil
	}
	return &ConvReLUPool{Conv: conv, Pool: pool}
}
