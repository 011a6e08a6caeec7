package models_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oarlab/oar"
	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func must[T any](m T, err error) T {
	if err != nil {
		panic(err)
	}
	return m
}

func numParams(l nn.Layer) int {
	n := 0
	for _, p := range l.Params() {
		n += p.Len()
	}
	return n
}

// The counts are torchvision 0.14's sum(p.numel() for p in model.parameters()) for the same
// architecture (torchvision's resnet*, wide_resnet50_2, resnext50_32x4d, vgg*, vgg*_bn,
// mobilenet_v2, mobilenet_v3_small/large with width_mult = scale, alexnet, squeezenet1_0/1_1),
// and for MobileNetV1, which torchvision lacks, the sum over Paddle's layers by hand
// (conv 3·32·9 + BN 2·32, then per block in·9 + 2·in + in·out + 2·out, then fc 1024·1000 + 1000).
func TestParameterCounts(t *testing.T) {
	cases := []struct {
		name string
		net  func() nn.Layer // built one at a time, so that the collector frees each
		want int
	}{
		{"resnet18", func() nn.Layer { return must(models.ResNet18()) }, 11_689_512},
		{"resnet34", func() nn.Layer { return must(models.ResNet34()) }, 21_797_672},
		{"resnet50", func() nn.Layer { return must(models.ResNet50()) }, 25_557_032},
		{"resnet101", func() nn.Layer { return must(models.ResNet101()) }, 44_549_160},
		{"resnet152", func() nn.Layer { return must(models.ResNet152()) }, 60_192_808},
		{"wide_resnet50_2", func() nn.Layer { return must(models.ResNet50(models.ResNetOptions{Width: 128})) }, 68_883_240},
		{"resnext50_32x4d", func() nn.Layer { return must(models.ResNet50(models.ResNetOptions{Width: 4, Groups: 32})) }, 25_028_904},
		{"resnet18/10", func() nn.Layer { return must(models.ResNet18(models.ResNetOptions{NumClasses: 10})) }, 11_181_642},
		{"vgg11", func() nn.Layer { return must(models.VGG11()) }, 132_863_336},
		{"vgg13", func() nn.Layer { return must(models.VGG13()) }, 133_047_848},
		{"vgg16", func() nn.Layer { return must(models.VGG16()) }, 138_357_544},
		{"vgg19", func() nn.Layer { return must(models.VGG19()) }, 143_667_240},
		{"vgg11_bn", func() nn.Layer { return must(models.VGG11(models.VGGOptions{BatchNorm: true})) }, 132_868_840},
		{"vgg13_bn", func() nn.Layer { return must(models.VGG13(models.VGGOptions{BatchNorm: true})) }, 133_053_736},
		{"vgg16_bn", func() nn.Layer { return must(models.VGG16(models.VGGOptions{BatchNorm: true})) }, 138_365_992},
		{"vgg19_bn", func() nn.Layer { return must(models.VGG19(models.VGGOptions{BatchNorm: true})) }, 143_678_248},
		{"mobilenetv1", func() nn.Layer { return must(models.NewMobileNetV1()) }, 4_231_976},
		{"mobilenetv1/0.5", func() nn.Layer { return must(models.NewMobileNetV1(models.MobileNetOptions{Scale: 0.5})) }, 1_331_592},
		{"mobilenetv1/0.25", func() nn.Layer { return must(models.NewMobileNetV1(models.MobileNetOptions{Scale: 0.25})) }, 470_072},
		{"mobilenetv2", func() nn.Layer { return must(models.NewMobileNetV2()) }, 3_504_872},
		{"mobilenetv2/0.5", func() nn.Layer { return must(models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.5})) }, 1_968_680},
		{"mobilenet_v3_small", func() nn.Layer { return must(models.NewMobileNetV3Small()) }, 2_542_856},
		{"mobilenet_v3_small/0.75", func() nn.Layer { return must(models.NewMobileNetV3Small(models.MobileNetOptions{Scale: 0.75})) }, 1_653_920},
		{"mobilenet_v3_large", func() nn.Layer { return must(models.NewMobileNetV3Large()) }, 5_483_032},
		{"mobilenet_v3_large/0.5", func() nn.Layer { return must(models.NewMobileNetV3Large(models.MobileNetOptions{Scale: 0.5})) }, 1_734_576},
		{"alexnet", func() nn.Layer { return must(models.NewAlexNet()) }, 61_100_840},
		{"squeezenet1_0", func() nn.Layer { return must(models.NewSqueezeNet("1.0")) }, 1_248_424},
		{"squeezenet1_1", func() nn.Layer { return must(models.NewSqueezeNet("1.1")) }, 1_235_496},
	}
	for _, c := range cases {
		if testing.Short() && c.want > 50_000_000 {
			continue // VGG, AlexNet, ResNet-101/152: seconds each to initialize
		}
		require.Equal(t, c.want, numParams(c.net()), c.name)
	}
}

func keys(l nn.Layer) []string {
	var out []string
	for _, p := range nn.StateDict(l) {
		out = append(out, p.Name)
	}
	return out
}

func shapeOf(l nn.Layer, key string) []int {
	for _, p := range nn.StateDict(l) {
		if p.Name == key {
			return p.Shape()
		}
	}
	return nil
}

// Paddle's state-dict keys, read from Paddle's python/paddle/vision/models/*.py.
func TestPaddleKeys(t *testing.T) {
	r18 := must(models.ResNet18())
	k := keys(r18)
	require.Equal(t, []string{"conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.weight"}, k[:5])
	for _, want := range []string{"layer2.0.downsample.0.weight", "layer2.0.downsample.1._variance", "layer4.1.bn2._mean", "fc.weight", "fc.bias", "bn1._mean"} {
		require.Contains(t, k, want)
	}
	require.Equal(t, []int{512, 1000}, shapeOf(r18, "fc.weight"), "Paddle's Linear weight is [in, out]")
	require.Len(t, k, 62+2*20) // 62 parameters, 20 BatchNorms with two buffers each
	r50 := keys(must(models.ResNet50()))
	require.Contains(t, r50, "layer3.5.conv3.weight")
	require.Contains(t, r50, "layer1.0.downsample.1._mean")

	v := must(models.VGG11(models.VGGOptions{BatchNorm: true, NumClasses: 2}))
	require.Equal(t, []string{"features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.4.weight"}, keys(v)[:5])
	require.Contains(t, keys(v), "classifier.6.bias")
	require.Contains(t, keys(v), "features.1._mean")

	m1 := keys(must(models.NewMobileNetV1()))
	for _, want := range []string{"conv1.0.weight", "conv1.1._mean", "conv2_1._depthwise_conv.0.weight", "conv5_5._pointwise_conv.1.bias", "conv6._pointwise_conv.0.weight", "fc.weight"} {
		require.Contains(t, m1, want)
	}
	m2 := keys(must(models.NewMobileNetV2()))
	for _, want := range []string{"features.0.0.weight", "features.1.conv.0.0.weight", "features.1.conv.1.weight", "features.2.conv.3._variance", "features.18.1.weight", "classifier.1.weight"} {
		require.Contains(t, m2, want)
	}
	m3 := keys(must(models.NewMobileNetV3Small()))
	for _, want := range []string{"conv.0.weight", "blocks.0.bottleneck_conv.0.weight", "blocks.0.mid_se.fc1.weight", "blocks.0.mid_se.fc2.bias",
		"blocks.1.expand_conv.1._mean", "blocks.10.linear_conv.1.weight", "lastconv.0.weight", "classifier.0.weight", "classifier.3.bias"} {
		require.Contains(t, m3, want)
	}
	require.NotContains(t, m3, "blocks.0.expand_conv.0.weight", "no expansion when the channels stay 16")
	a := keys(must(models.NewAlexNet(models.AlexNetOptions{NumClasses: 2})))
	require.Equal(t, []string{"_conv1._conv.weight", "_conv1._conv.bias", "_conv2._conv.weight", "_conv2._conv.bias", "_conv3.weight", "_conv3.bias",
		"_conv4.weight", "_conv4.bias", "_conv5._conv.weight", "_conv5._conv.bias", "_fc6.weight", "_fc6.bias", "_fc7.weight", "_fc7.bias", "_fc8.weight", "_fc8.bias"}, a)
	s := keys(must(models.NewSqueezeNet("1.1")))
	require.Equal(t, []string{"_conv.weight", "_conv.bias", "_conv1._conv._conv.weight", "_conv1._conv._conv.bias", "_conv1._conv_path1._conv.weight"}, s[:5])
	require.Equal(t, "_conv9.bias", s[len(s)-1])
}

// Each constructor's shapes for each option, on small inputs.
func TestOutputShapes(t *testing.T) {
	x := tensor.Zeros(2, 3, 64, 64)
	eval := func(l nn.Layer) nn.Layer { nn.Eval(l); return l }
	cases := []struct {
		name string
		net  nn.Layer
		in   *tensor.Tensor
		want []int
	}{
		{"resnet18", must(models.ResNet18(models.ResNetOptions{NumClasses: 10})), x, []int{2, 10}},
		{"resnet18/nofc", must(models.ResNet18(models.ResNetOptions{NumClasses: -1})), x, []int{2, 512, 1, 1}},
		{"resnet18/nopool", must(models.ResNet18(models.ResNetOptions{NumClasses: -1, NoPool: true})), x, []int{2, 512, 2, 2}},
		{"resnet50/nofc", must(models.ResNet50(models.ResNetOptions{NumClasses: -1})), x, []int{2, 2048, 1, 1}},
		{"vgg11", must(models.VGG11(models.VGGOptions{NumClasses: 7})), tensor.Zeros(1, 3, 32, 32), []int{1, 7}},
		{"vgg11/nofc", must(models.VGG11(models.VGGOptions{NumClasses: -1})), tensor.Zeros(1, 3, 32, 32), []int{1, 512, 7, 7}},
		{"vgg11/nopool", must(models.VGG11(models.VGGOptions{NumClasses: -1, NoPool: true})), tensor.Zeros(1, 3, 64, 64), []int{1, 512, 2, 2}},
		{"mobilenetv1", must(models.NewMobileNetV1(models.MobileNetOptions{Scale: 0.25, NumClasses: 5})), x, []int{2, 5}},
		{"mobilenetv1/nopool", must(models.NewMobileNetV1(models.MobileNetOptions{Scale: 0.25, NumClasses: -1, NoPool: true})), x, []int{2, 256, 2, 2}},
		{"mobilenetv2", must(models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.5, NumClasses: 5})), x, []int{2, 5}},
		{"mobilenetv2/nofc", must(models.NewMobileNetV2(models.MobileNetOptions{NumClasses: -1})), x, []int{2, 1280, 1, 1}},
		{"mobilenetv3s", must(models.NewMobileNetV3Small(models.MobileNetOptions{NumClasses: 5})), x, []int{2, 5}},
		{"mobilenetv3l/nofc", must(models.NewMobileNetV3Large(models.MobileNetOptions{NumClasses: -1})), x, []int{2, 960, 1, 1}},
		{"alexnet/nofc", must(models.NewAlexNet(models.AlexNetOptions{NumClasses: -1})), tensor.Zeros(1, 3, 224, 224), []int{1, 256, 6, 6}},
		{"squeezenet1_0", must(models.NewSqueezeNet("1.0", models.SqueezeNetOptions{NumClasses: 4})), x, []int{2, 4}},
		{"squeezenet1_1/nopool", must(models.NewSqueezeNet("1.1", models.SqueezeNetOptions{NumClasses: 4, NoPool: true})), x, []int{2, 4, 3, 3}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, eval(c.net).Forward(c.in).Shape(), c.name)
	}
}

// Paddle's AlexNet and SqueezeNet dropouts are downscale_in_infer: evaluation scales by 0.5.
func TestDownscaleInInferDropout(t *testing.T) {
	a := must(models.NewAlexNet(models.AlexNetOptions{NumClasses: 2}))
	require.Equal(t, nn.DownscaleInInfer, a.Drop1.Mode)
	require.Equal(t, nn.DownscaleInInfer, a.Drop2.Mode)
	s := must(models.NewSqueezeNet("1.0"))
	require.Equal(t, nn.DownscaleInInfer, s.Drop.Mode)
	nn.Eval(s)
	x := tensor.Ones(1, 512, 1, 1)
	require.InDelta(t, 0.5, s.Drop.Forward(x).Data()[0], 0)
}

func TestBadInputNamesLayer(t *testing.T) {
	r := must(models.ResNet18())
	defer func() {
		require.EqualError(t, recover().(error), "nn: conv1 (Conv2D): input [1 1 32 32], weight [64 3 7 7]: want [N, 3, H, W]")
	}()
	r.Forward(tensor.Zeros(1, 1, 32, 32))
}

func TestConstructorPanics(t *testing.T) {
	require.Panics(t, func() { models.NewResNet(models.BlockBasic, 20) })
	require.Panics(t, func() { models.ResNet18(models.ResNetOptions{Groups: 2}) })
	require.Panics(t, func() { models.NewSqueezeNet("2.0") })
	require.Panics(t, func() { models.NewMobileNetV2(models.MobileNetOptions{Scale: -1}) })
	require.Panics(t, func() { models.ResNet18(models.ResNetOptions{}, models.ResNetOptions{}) })
}

func TestPretrainedMissingFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OAR_WEIGHTS", dir)
	_, err := models.ResNet18(models.ResNetOptions{Pretrained: true})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{filepath.Join(dir, "resnet18.pdparams"), filepath.Join(dir, "resnet18.safetensors"),
		"https://paddle-hapi.bj.bcebos.com/models/resnet18.pdparams", "cf548f46534aa3560945be4b95cd11c4"} {
		require.Contains(t, msg, want)
	}
	_, err = models.NewMobileNetV3Small(models.MobileNetOptions{Pretrained: true})
	require.ErrorContains(t, err, filepath.Join(dir, "mobilenet_v3_small_x1.0.safetensors"))
	_, err = models.NewMobileNetV2(models.MobileNetOptions{Pretrained: true, Scale: 0.5})
	require.ErrorContains(t, err, "Paddle publishes no pretrained weights for mobilenetv2_0.5")
	_, err = models.VGG11(models.VGGOptions{Pretrained: true, BatchNorm: true, NumClasses: -1})
	require.ErrorContains(t, err, "vgg11_bn.pdparams")
	_, err = models.NewAlexNet(models.AlexNetOptions{Pretrained: true, NumClasses: -1, WeightsPath: filepath.Join(dir, "nope.safetensors")})
	require.ErrorContains(t, err, "nope.safetensors")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.pdparams"), []byte("x"), 0o644))
	_, err = models.NewSqueezeNet("1.1", models.SqueezeNetOptions{Pretrained: true, WeightsPath: filepath.Join(dir, "x.pdparams")})
	require.ErrorContains(t, err, "x.pdparams")
	_, err = models.NewSqueezeNet("1.1", models.SqueezeNetOptions{Pretrained: true, WeightsPath: filepath.Join(dir, "x.bin")})
	require.ErrorContains(t, err, "want .safetensors or .pdparams")
}

// A state dict saved as Paddle's .pdparams, in oar's (Paddle's) safetensors layout or in
// PyTorch's loads from the default path.
func TestPretrainedLoads(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OAR_WEIGHTS", dir)
	src := must(models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.5, NumClasses: 10}))
	for _, p := range nn.StateDict(src) { // make the buffers differ from a fresh model's
		for i := range p.Data() {
			p.Data()[i] = float32(i%7) * 0.25
		}
	}
	for _, layout := range []string{"paddle", "oar", "torch"} {
		path := filepath.Join(dir, "mobilenetv2_0.5.safetensors")
		switch layout {
		case "paddle":
			require.NoError(t, nn.SavePaddle(filepath.Join(dir, "mobilenetv2_0.5.pdparams"), src))
		case "oar":
			require.NoError(t, os.Remove(filepath.Join(dir, "mobilenetv2_0.5.pdparams")))
			require.NoError(t, nn.Save(path, src))
		default:
			require.NoError(t, nn.SavePyTorch(path, src))
		}
		dst, err := models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.5, NumClasses: 10, Pretrained: true})
		require.NoError(t, err, layout)
		for i, p := range nn.StateDict(dst) {
			require.Equal(t, nn.StateDict(src)[i].Data(), p.Data(), layout+" "+p.Name)
		}
	}
	// a file of another network is an error naming the file, and the model is unchanged
	other := filepath.Join(dir, "other.safetensors")
	require.NoError(t, nn.Save(other, must(models.NewSqueezeNet("1.1"))))
	err := models.LoadPretrained(must(models.ResNet18()), other)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), other), err.Error())
}

// A training step reaches every parameter of each family (BatchNorm through the fused path);
// ResNeXt's grouped bottleneck and VGG-BN's feature stack too unless -short.
func TestTrainingStepReachesEveryParam(t *testing.T) {
	x := tensor.Randn(rand.New(rand.NewPCG(1, 1)), 2, 3, 32, 32)
	nets := []nn.Layer{
		must(models.ResNet18(models.ResNetOptions{NumClasses: 3})),
		must(models.NewMobileNetV1(models.MobileNetOptions{Scale: 0.25, NumClasses: 3})),
		must(models.NewMobileNetV2(models.MobileNetOptions{Scale: 0.35, NumClasses: 3})),
		must(models.NewMobileNetV3Small(models.MobileNetOptions{Scale: 0.5, NumClasses: 3})),
		must(models.NewSqueezeNet("1.1", models.SqueezeNetOptions{NumClasses: 3})),
	}
	if !testing.Short() {
		vgg := must(models.VGG11(models.VGGOptions{BatchNorm: true, NumClasses: -1, NoPool: true}))
		nets = append(nets, must(models.ResNet50(models.ResNetOptions{NumClasses: 3, Width: 4, Groups: 8})),
			nn.NewSequential(vgg, nn.NewFlatten(), nn.NewLinear(512, 3))) // 32×32 gives VGG a 1×1 map
	}
	for _, net := range nets {
		nn.Train(net)
		y := net.Forward(x)
		require.Equal(t, []int{2, 3}, y.Shape(), nn.TypeName(net))
		y.Square().Mean().Backward()
		for _, p := range net.Params() {
			require.NotNil(t, p.Grad(), nn.TypeName(net)+" "+p.Name)
		}
	}
}

// paddle.summary's table of ResNet-18 has a row per layer, BatchNorm2D included, and Paddle's
// totals (BatchNorm's running statistics are not parameters).
func TestResNetSummary(t *testing.T) {
	var buf strings.Builder
	info := oar.SummaryTo(&buf, must(models.ResNet18()), []int{1, 3, 224, 224})
	require.Equal(t, 11_689_512, info.TotalParams)
	require.Contains(t, buf.String(), "BatchNorm2D-20")
	require.Contains(t, buf.String(), "[1, 512, 7, 7]")
}
