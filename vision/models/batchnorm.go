package models

import (
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
)

// bn runs b on x [N, C, H, W] as b.Forward does (the same values up to float32 rounding, the
// same running-statistics update, b's hooks and error path), but faster: nn.BatchNorm2D's
// training pass is a chain of about ten broadcasting tensor ops, which took about half of a
// ResNet-18 training step. Here training is one fused tensor.GroupNorm over the channels of x
// laid out as [1, C, N·H·W] (the normalization BatchNorm does: per channel over batch and
// positions, biased variance), between two Permutes, and the running statistics are updated from
// x's values directly; evaluation is one Mul and one Add by per-channel constants
// (weight/sqrt(var+eps) and bias - mean·that). The models call it for every BatchNorm2D; the
// layers stay *nn.BatchNorm2D, so keys, Summary rows and nn.LoadPyTorch see them as such.
func bn(b *nn.BatchNorm2D, x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	c := b.Weight.Len()
	if x.Rank() != 4 || x.Dim(1) != c {
		panic(&nn.Error{Layer: nn.TypeName(b), Msg: "input " + shapeString(x.Shape()) + ", want [N, " + itoa(c) + ", H, W]"})
	}
	n, h, w := x.Dim(0), x.Dim(2), x.Dim(3)
	if !b.Training() {
		mean, variance := b.RunningMean.Data(), b.RunningVar.Data()
		scale := tensor.Zeros(c)
		sd := scale.Data()
		for i := range sd {
			sd[i] = 1 / sqrt32(variance[i]+b.Epsilon)
		}
		// weight/std and bias - mean·weight/std, kept differentiable in weight and bias
		s := b.Weight.Mul(scale)
		shift := b.Bias.Sub(s.Mul(tensor.New(append([]float32(nil), mean...), c)))
		return x.Mul(s.Reshape(1, c, 1, 1)).Add(shift.Reshape(1, c, 1, 1))
	}
	// [N, C, H·W] → [C, N, H·W]: the permute copies runs of H·W values (a 2-D transpose when
	// H·W is 1, as in ResNet's last stage on 32×32 images)
	var xt *tensor.Tensor
	if h*w == 1 {
		xt = x.Reshape(n, c).Permute(1, 0)
	} else {
		xt = x.Reshape(n, c, h*w).Permute(1, 0, 2)
	}
	yt := xt.Reshape(1, c, n*h*w).GroupNorm(c, b.Weight, b.Bias, b.Epsilon)
	if h*w == 1 {
		y = yt.Reshape(c, n).Permute(1, 0).Reshape(n, c, h, w)
	} else {
		y = yt.Reshape(c, n, h*w).Permute(1, 0, 2).Reshape(n, c, h, w)
	}
	// running statistics from the batch's (biased) mean and variance, as nn.BatchNorm2D
	xd, hw, cnt := x.Data(), h*w, float64(n*h*w)
	m := b.Momentum
	for ch := range c {
		var sum float64
		for i := range n {
			for _, v := range xd[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				sum += float64(v)
			}
		}
		mu := sum / cnt
		var sq float64
		for i := range n {
			for _, v := range xd[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				d := float64(v) - mu
				sq += d * d
			}
		}
		b.RunningMean.Data()[ch] = b.RunningMean.Data()[ch]*m + float32(mu)*(1-m)
		b.RunningVar.Data()[ch] = b.RunningVar.Data()[ch]*m + float32(sq/cnt)*(1-m)
	}
	return y
}

// run is s.Forward with every *nn.BatchNorm2D in it (and in Sequentials inside it) run by bn:
// the same values, hooks and error paths.
func run(s *nn.Sequential, x *tensor.Tensor) (y *tensor.Tensor) {
	defer s.Done(s, x, &y)
	for i := range s.Len() {
		switch l := s.At(i).(type) {
		case *nn.BatchNorm2D:
			x = bn(l, x)
		case *nn.Sequential:
			x = run(l, x)
		default:
			x = l.Forward(x)
		}
	}
	return x
}
