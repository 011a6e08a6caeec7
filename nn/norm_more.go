package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/oarlab/oar/tensor"
)

// NormOptions are the optional settings of NewLayerNorm, NewGroupNorm and NewInstanceNorm2D:
// Paddle's epsilon, weight_attr and bias_attr. The zero value is Paddle's default: epsilon 1e-5,
// a weight of ones and a bias of zeros, both trained.
type NormOptions struct {
	Epsilon    float32    // 0: 1e-5. (An epsilon of exactly 0 is not available; use a tiny one.)
	NoWeight   bool       // no weight (Paddle's weight_attr=False): the output is not scaled
	NoBias     bool       // no bias (Paddle's bias_attr=False): the output is not shifted
	WeightInit Init       // nil: Constant(1)
	BiasInit   Init       // nil: Constant(0)
	Rand       *rand.Rand // draw random initial values from Rand; nil: the shared source that Seed sets
}

// affine returns the weight and bias of a normalisation layer with n values each, as o says.
func (o NormOptions) affine(n int) (w, b *tensor.Tensor) {
	if o.WeightInit == nil {
		o.WeightInit = Constant(1)
	}
	if o.BiasInit == nil {
		o.BiasInit = Constant(0)
	}
	if !o.NoWeight {
		w = newParam(o.Rand, o.WeightInit, n, n, n)
	}
	if !o.NoBias {
		b = newParam(o.Rand, o.BiasInit, n, n, n)
	}
	return w, b
}

func (o NormOptions) epsilon() float32 {
	if o.Epsilon == 0 {
		return 1e-5
	}
	return o.Epsilon
}

// normLayerParams returns "weight" and "bias", those that are not nil.
func normLayerParams(w, b *tensor.Tensor) []Param {
	var ps []Param
	if w != nil {
		ps = append(ps, Param{"weight", w})
	}
	if b != nil {
		ps = append(ps, Param{"bias", b})
	}
	return ps
}

// LayerNorm normalises each sample over its trailing axes, as paddle.nn.LayerNorm: every slice
// of the last len(NormalizedShape) axes becomes (x - mean)/sqrt(var + Epsilon)*Weight + Bias,
// with the slice's mean and biased variance, in training and evaluation alike. Weight and Bias
// hold prod(NormalizedShape) values as a 1-D tensor, Paddle's layout (PyTorch's has the shape
// NormalizedShape); either may be nil (Paddle's weight_attr/bias_attr=False, PyTorch's
// elementwise_affine=False drops both). It runs as one op, tensor.LayerNorm.
type LayerNorm struct {
	Hooks
	NormalizedShape []int
	Weight, Bias    *tensor.Tensor // [prod(NormalizedShape)] or nil; ones and zeros at first
	Epsilon         float32
}

// NewLayerNorm returns a LayerNorm over the trailing axes normalizedShape (Paddle's
// normalized_shape: []int{d} for the last axis) with Paddle's defaults, epsilon 1e-5 and a
// trained weight of ones and bias of zeros; opts (at most one) changes them. It panics if
// normalizedShape is empty or has a dimension below 1.
func NewLayerNorm(normalizedShape []int, opts ...NormOptions) *LayerNorm {
	if len(normalizedShape) == 0 || slices.Min(normalizedShape) < 1 {
		panic(&Error{Layer: "LayerNorm", Msg: fmt.Sprintf("normalized shape %v: want one or more dimensions, each at least 1", normalizedShape)})
	}
	o := oneOptions("LayerNorm", opts)
	d := 1
	for _, v := range normalizedShape {
		d *= v
	}
	l := &LayerNorm{NormalizedShape: slices.Clone(normalizedShape), Epsilon: o.epsilon()}
	l.Weight, l.Bias = o.affine(d)
	return l
}

// Forward normalises x [..., NormalizedShape...]. It panics if x's trailing axes are not
// NormalizedShape.
func (l *LayerNorm) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	s, k := x.Shape(), len(l.NormalizedShape)
	if len(s) < k || !slices.Equal(s[len(s)-k:], l.NormalizedShape) {
		panicf(l, "input %v, want [..., %s]", s, joinDims(l.NormalizedShape))
	}
	return x.LayerNorm(l.NormalizedShape, l.Weight, l.Bias, l.Epsilon)
}

// Params returns "weight" and "bias", those that are present.
func (l *LayerNorm) Params() []Param { return normLayerParams(l.Weight, l.Bias) }

// joinDims formats a shape's dimensions without brackets: "3, 4".
func joinDims(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	return s
}

// GroupNorm is paddle.nn.GroupNorm over NCHW input (channels on axis 1, any number of spatial
// axes after them): the channels are split into NumGroups groups, each sample's group is
// normalised with its own mean and biased variance, and channel c is then scaled by Weight[c]
// and shifted by Bias[c]. It behaves alike in training and evaluation (no running statistics).
// It runs as one op, tensor.GroupNorm. Paddle's NHWC data format is not supported.
//
// Without a weight or bias (NoWeight, NoBias: Paddle's weight_attr/bias_attr=False) the field is
// nil and the state dict has no such key; Paddle instead keeps a frozen parameter of ones or
// zeros under that key, which gives the same output.
type GroupNorm struct {
	Hooks
	NumGroups    int
	Weight, Bias *tensor.Tensor // [channels] or nil; ones and zeros at first
	Epsilon      float32
	channels     int
}

// NewGroupNorm returns a GroupNorm of numChannels channels in numGroups groups, in Paddle's
// argument order (num_groups, num_channels), with Paddle's defaults: epsilon 1e-5, weight ones
// and bias zeros, both trained. It panics if numGroups < 1 or does not divide numChannels.
func NewGroupNorm(numGroups, numChannels int, opts ...NormOptions) *GroupNorm {
	if numGroups < 1 || numChannels < 1 || numChannels%numGroups != 0 {
		panic(&Error{Layer: "GroupNorm", Msg: fmt.Sprintf("%d groups do not divide %d channels", numGroups, numChannels)})
	}
	o := oneOptions("GroupNorm", opts)
	l := &GroupNorm{NumGroups: numGroups, Epsilon: o.epsilon(), channels: numChannels}
	l.Weight, l.Bias = o.affine(numChannels)
	return l
}

// Forward normalises x [N, C, *]. It panics if x has rank below 2 or not C channels.
func (l *GroupNorm) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if x.Rank() < 2 || x.Dim(1) != l.channels {
		panicf(l, "input %v, want [N, %d, *]", x.Shape(), l.channels)
	}
	return x.GroupNorm(l.NumGroups, l.Weight, l.Bias, l.Epsilon)
}

// Params returns "weight" and "bias", those that are present.
func (l *GroupNorm) Params() []Param { return normLayerParams(l.Weight, l.Bias) }

// InstanceNorm2D is paddle.nn.InstanceNorm2D: each channel of each NCHW sample is normalised over
// its H×W positions with its own mean and biased variance, then scaled by Scale[c] and shifted by
// Bias[c]. As Paddle's, it has the affine parameters by default (PyTorch's InstanceNorm2d has
// affine=False by default) and keeps no running statistics in training or evaluation (PyTorch's
// track_running_stats=False, its default); Paddle's momentum argument is unused there and absent
// here. The state-dict keys are Paddle's, "scale" and "bias" (PyTorch's: "weight" and "bias").
// It runs as one op, tensor.GroupNorm with one group per channel.
type InstanceNorm2D struct {
	Hooks
	Scale, Bias *tensor.Tensor // [channels], or both nil; ones and zeros at first
	Epsilon     float32
	channels    int
}

// NewInstanceNorm2D returns an InstanceNorm2D over numFeatures channels with Paddle's defaults:
// epsilon 1e-5, a trained scale of ones and bias of zeros. It panics if numFeatures < 1 or if
// opts drops only one of the scale and bias (Paddle requires both or neither).
func NewInstanceNorm2D(numFeatures int, opts ...NormOptions) *InstanceNorm2D {
	if numFeatures < 1 {
		panic(&Error{Layer: "InstanceNorm2D", Msg: fmt.Sprintf("num_features %d < 1", numFeatures)})
	}
	o := oneOptions("InstanceNorm2D", opts)
	if o.NoWeight != o.NoBias {
		panic(&Error{Layer: "InstanceNorm2D", Msg: "NoWeight and NoBias must be set together, as Paddle's weight_attr and bias_attr"})
	}
	l := &InstanceNorm2D{Epsilon: o.epsilon(), channels: numFeatures}
	l.Scale, l.Bias = o.affine(numFeatures)
	return l
}

// Forward normalises x [N, C, H, W]. It panics if x is not 4-D with C channels.
func (l *InstanceNorm2D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer l.Done(l, x, &y)
	if x.Rank() != 4 || x.Dim(1) != l.channels {
		panicf(l, "input %v, want [N, %d, H, W]", x.Shape(), l.channels)
	}
	return x.GroupNorm(l.channels, l.Scale, l.Bias, l.Epsilon)
}

// Params returns "scale" and "bias" (Paddle's keys), if present.
func (l *InstanceNorm2D) Params() []Param {
	if l.Scale == nil {
		return nil
	}
	return []Param{{"scale", l.Scale}, {"bias", l.Bias}}
}

// BatchNorm1DOptions are NewBatchNorm1D's optional settings, Paddle's data_format and
// use_global_stats. The zero value is Paddle's default.
type BatchNorm1DOptions struct {
	// DataFormat is "NCL" ("" means it; "NC" is the same), with channels on axis 1 of [N, C] or
	// [N, C, L] input, or "NLC" for channels last in [N, L, C] (or [N, C]).
	DataFormat string
	// UseGlobalStats normalises with the running statistics in training too, and leaves them
	// unchanged (Paddle's use_global_stats=True). Unset is Paddle's default, None: batch
	// statistics in training, running ones in evaluation. (Paddle's use_global_stats=False, batch
	// statistics even in evaluation, has no equivalent.)
	UseGlobalStats bool
}

// BatchNorm1D is paddle.nn.BatchNorm1D: it normalises each channel of [N, C] or [N, C, L] input
// (or [N, L, C] with DataFormat "NLC") over the batch and length axes, and keeps running
// statistics exactly as BatchNorm2D does: in training it uses the batch's mean and biased
// variance and updates running = running*Momentum + batch*(1-Momentum) (Paddle's momentum 0.9;
// PyTorch's 0.1 means the same), with the biased variance as Paddle's CPU kernel (PyTorch updates
// its running variance with the unbiased one); in evaluation it uses the running statistics. Its
// state-dict keys are Paddle's: weight, bias, _mean, _variance.
type BatchNorm1D struct {
	Hooks
	Weight, Bias            *tensor.Tensor // [C], trained; ones and zeros at first
	RunningMean, RunningVar *tensor.Tensor // [C], buffers; zeros and ones at first
	Momentum, Epsilon       float32
	UseGlobalStats          bool
	channelLast             bool
	eval                    bool
}

// ChannelLast reports whether b reads [N, L, C] (DataFormat "NLC") rather than [N, C, L].
func (b *BatchNorm1D) ChannelLast() bool { return b.channelLast }

// NewBatchNorm1D returns a BatchNorm1D over numFeatures channels with Paddle's defaults (momentum
// 0.9, epsilon 1e-5, NCL data). It panics if numFeatures < 1 or DataFormat is not "", "NC",
// "NCL" or "NLC".
func NewBatchNorm1D(numFeatures int, opts ...BatchNorm1DOptions) *BatchNorm1D {
	if numFeatures < 1 {
		panic(&Error{Layer: "BatchNorm1D", Msg: fmt.Sprintf("num_features %d < 1", numFeatures)})
	}
	o := oneOptions("BatchNorm1D", opts)
	b := &BatchNorm1D{
		Weight:         tensor.Ones(numFeatures).SetRequiresGrad(true),
		Bias:           tensor.Zeros(numFeatures).SetRequiresGrad(true),
		RunningMean:    tensor.Zeros(numFeatures),
		RunningVar:     tensor.Ones(numFeatures),
		Momentum:       0.9,
		Epsilon:        1e-5,
		UseGlobalStats: o.UseGlobalStats,
	}
	switch o.DataFormat {
	case "", "NC", "NCL":
	case "NLC":
		b.channelLast = true
	default:
		panic(&Error{Layer: "BatchNorm1D", Msg: fmt.Sprintf("data format %q: want NC, NCL or NLC", o.DataFormat)})
	}
	return b
}

// SetTraining switches between batch statistics (training) and running statistics.
func (b *BatchNorm1D) SetTraining(training bool) { b.eval = !training }

// Training reports whether b is in training mode.
func (b *BatchNorm1D) Training() bool { return !b.eval }

// Forward normalises x [N, C] or [N, C, L] ([N, L, C] for NLC). It panics if x has another rank
// or not C channels.
func (b *BatchNorm1D) Forward(x *tensor.Tensor) (y *tensor.Tensor) {
	defer b.Done(b, x, &y)
	c := b.Weight.Len()
	ax := 1
	if b.channelLast {
		ax = x.Rank() - 1
	}
	if (x.Rank() != 2 && x.Rank() != 3) || x.Dim(ax) != c {
		want := "[N, %d] or [N, %d, L]"
		if b.channelLast {
			want = "[N, %d] or [N, L, %d]"
		}
		panicf(b, "input %v, want "+want, x.Shape(), c, c)
	}
	return batchNorm(x, b.Weight, b.Bias, b.RunningMean, b.RunningVar, b.Momentum, b.Epsilon,
		b.eval || b.UseGlobalStats, ax)
}

// Params returns "weight" and "bias".
func (b *BatchNorm1D) Params() []Param { return weightBias(b.Weight, b.Bias) }

// Buffers returns the running statistics as "_mean" and "_variance", Paddle's keys.
func (b *BatchNorm1D) Buffers() []Param {
	return []Param{{"_mean", b.RunningMean}, {"_variance", b.RunningVar}}
}
