package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oarlab/oar/nn"
)

// paddleWeights lists the pretrained files of paddle.vision.models (model_urls in each of
// Paddle's model files): the URL and its MD5, for the error message that tells where to get one.
var paddleWeights = map[string][2]string{
	"resnet18":                {"https://paddle-hapi.bj.bcebos.com/models/resnet18.pdparams", "cf548f46534aa3560945be4b95cd11c4"},
	"resnet34":                {"https://paddle-hapi.bj.bcebos.com/models/resnet34.pdparams", "8d2275cf8706028345f78ac0e1d31969"},
	"resnet50":                {"https://paddle-hapi.bj.bcebos.com/models/resnet50.pdparams", "ca6f485ee1ab0492d38f323885b0ad80"},
	"resnet101":               {"https://paddle-hapi.bj.bcebos.com/models/resnet101.pdparams", "02f35f034ca3858e1e54d4036443c92d"},
	"resnet152":               {"https://paddle-hapi.bj.bcebos.com/models/resnet152.pdparams", "7ad16a2f1e7333859ff986138630fd7a"},
	"resnext50_32x4d":         {"https://paddle-hapi.bj.bcebos.com/models/resnext50_32x4d.pdparams", "dc47483169be7d6f018fcbb7baf8775d"},
	"resnext50_64x4d":         {"https://paddle-hapi.bj.bcebos.com/models/resnext50_64x4d.pdparams", "063d4b483e12b06388529450ad7576db"},
	"resnext101_32x4d":        {"https://paddle-hapi.bj.bcebos.com/models/resnext101_32x4d.pdparams", "967b090039f9de2c8d06fe994fb9095f"},
	"resnext101_64x4d":        {"https://paddle-hapi.bj.bcebos.com/models/resnext101_64x4d.pdparams", "98e04e7ca616a066699230d769d03008"},
	"resnext152_32x4d":        {"https://paddle-hapi.bj.bcebos.com/models/resnext152_32x4d.pdparams", "18ff0beee21f2efc99c4b31786107121"},
	"resnext152_64x4d":        {"https://paddle-hapi.bj.bcebos.com/models/resnext152_64x4d.pdparams", "77c4af00ca42c405fa7f841841959379"},
	"wide_resnet50_2":         {"https://paddle-hapi.bj.bcebos.com/models/wide_resnet50_2.pdparams", "0282f804d73debdab289bd9fea3fa6dc"},
	"wide_resnet101_2":        {"https://paddle-hapi.bj.bcebos.com/models/wide_resnet101_2.pdparams", "d4360a2d23657f059216f5d5a1a9ac93"},
	"vgg16":                   {"https://paddle-hapi.bj.bcebos.com/models/vgg16.pdparams", "89bbffc0f87d260be9b8cdc169c991c4"},
	"vgg19":                   {"https://paddle-hapi.bj.bcebos.com/models/vgg19.pdparams", "23b18bb13d8894f60f54e642be79a0dd"},
	"mobilenetv1_1.0":         {"https://paddle-hapi.bj.bcebos.com/models/mobilenetv1_1.0.pdparams", "3033ab1975b1670bef51545feb65fc45"},
	"mobilenetv2_1.0":         {"https://paddle-hapi.bj.bcebos.com/models/mobilenet_v2_x1.0.pdparams", "0340af0a901346c8d46f4529882fb63d"},
	"mobilenet_v3_small_x1.0": {"https://paddle-hapi.bj.bcebos.com/models/mobilenet_v3_small_x1.0.pdparams", "34fe0e7c1f8b00b2b056ad6788d0590c"},
	"mobilenet_v3_large_x1.0": {"https://paddle-hapi.bj.bcebos.com/models/mobilenet_v3_large_x1.0.pdparams", "118db5792b4e183b925d8e8e334db3df"},
	"alexnet":                 {"https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/AlexNet_pretrained.pdparams", "7f0f9f737132e02732d75a1459d98a43"},
	"squeezenet1_0":           {"https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/SqueezeNet1_0_pretrained.pdparams", "30b95af60a2178f03cf9b66cd77e1db1"},
	"squeezenet1_1":           {"https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/SqueezeNet1_1_pretrained.pdparams", "a11250d3a1f91d7131fd095ebbf09eee"},
}

// WeightsDir is where the constructors look for pretrained weights: $OAR_WEIGHTS if set, else
// the "oar/weights" directory under os.UserCacheDir (~/.cache/oar/weights on Linux), else
// "oar-weights" in the working directory.
func WeightsDir() string {
	if d := os.Getenv("OAR_WEIGHTS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "oar", "weights")
	}
	return "oar-weights"
}

// DefaultWeightsPath returns the files a constructor with Pretrained reads for arch (Paddle's
// name: "resnet18", "vgg16", "mobilenetv2_1.0", "mobilenet_v3_small_x1.0", "squeezenet1_1", ...):
// WeightsDir()/arch.pdparams and WeightsDir()/arch.safetensors, in that order of preference.
func DefaultWeightsPath(arch string) []string {
	d := WeightsDir()
	return []string{filepath.Join(d, arch+".pdparams"), filepath.Join(d, arch+".safetensors")}
}

// loadPretrained loads the weights of arch into net from path, or from the first of
// DefaultWeightsPath(arch) that exists. If there is no such file, the error says where to put
// one and, for the architectures Paddle publishes, where Paddle downloads it from.
func loadPretrained(arch string, net nn.Layer, path string) error {
	if path != "" {
		if err := LoadPretrained(net, path); err != nil {
			return fmt.Errorf("models: %s: %w", arch, err)
		}
		return nil
	}
	candidates := DefaultWeightsPath(arch)
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			if err := LoadPretrained(net, p); err != nil {
				return fmt.Errorf("models: %s: %w", arch, err)
			}
			return nil
		}
	}
	msg := fmt.Sprintf("models: %s: pretrained weights are not downloaded by oar: put a Paddle state dict at %s or a safetensors state dict at %s (or set WeightsPath, or $OAR_WEIGHTS for the directory)",
		arch, candidates[0], candidates[1])
	if w, ok := paddleWeights[arch]; ok {
		msg += fmt.Sprintf("; Paddle's file is %s (MD5 %s)", w[0], w[1])
	} else {
		msg += "; Paddle publishes no pretrained weights for " + arch
	}
	return errors.New(msg)
}

// LoadPretrained loads the state dict in the file path into net, matching keys by name, as
// Paddle's model.set_dict(paddle.load(path)); on error net is unchanged. A ".safetensors" file
// is read in oar's layout (Paddle's keys and layouts: what nn.Save writes, Linear weights
// [in, out], BatchNorm "_mean"/"_variance") and, if that does not fit, in PyTorch's (what
// safetensors.torch.save_file(model.state_dict()) writes for a torchvision model with the same
// keys, such as ResNet, VGG and MobileNetV2: nn.LoadPyTorch). A ".pdparams" file is what
// paddle.save(model.state_dict(), path) writes, Paddle's published weights among them
// (nn.LoadPaddle). Another extension is an error.
func LoadPretrained(net nn.Layer, path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("models: weights: %w", err)
		}
		_, errOar := nn.Load(path, net)
		if errOar == nil {
			return nil
		}
		errTorch := nn.LoadPyTorch(path, net)
		if errTorch == nil {
			return nil
		}
		return fmt.Errorf("models: %s fits neither oar's (Paddle's) layout nor PyTorch's: %w", path, errors.Join(errOar, errTorch))
	case ".pdparams":
		return nn.LoadPaddle(path, net)
	}
	return fmt.Errorf("models: %s: unknown weights format %q: want .safetensors or .pdparams", path, filepath.Ext(path))
}
