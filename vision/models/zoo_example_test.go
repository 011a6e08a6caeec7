package models_test

import (
	"fmt"
	"os"

	"github.com/oarlab/oar/nn"
	"github.com/oarlab/oar/tensor"
	"github.com/oarlab/oar/vision/models"
)

func ExampleResNet18() {
	net, err := models.ResNet18(models.ResNetOptions{NumClasses: 10})
	if err != nil {
		panic(err)
	}
	total := 0
	for _, p := range net.Params() {
		total += p.Len()
	}
	sd := nn.StateDict(net)
	fmt.Println(total, "parameters;", len(sd), "state-dict tensors, e.g.", sd[0].Name, sd[len(sd)-1].Name)
	nn.Eval(net)
	fmt.Println(net.Forward(tensor.Zeros(2, 3, 32, 32).NoGrad()).Shape())
	// Output:
	// 11181642 parameters; 102 state-dict tensors, e.g. conv1.weight layer4.1.bn2._variance
	// [2 10]
}

func ExampleNewMobileNetV2_pretrained() {
	os.Setenv("OAR_WEIGHTS", "/nonexistent/weights")
	defer os.Unsetenv("OAR_WEIGHTS")
	_, err := models.NewMobileNetV2(models.MobileNetOptions{Pretrained: true})
	fmt.Println(err)
	// Output:
	// models: mobilenetv2_1.0: pretrained weights are not downloaded by oar: put a Paddle state dict at /nonexistent/weights/mobilenetv2_1.0.pdparams or a safetensors state dict at /nonexistent/weights/mobilenetv2_1.0.safetensors (or set WeightsPath, or $OAR_WEIGHTS for the directory); Paddle's file is https://paddle-hapi.bj.bcebos.com/models/mobilenet_v2_x1.0.pdparams (MD5 0340af0a901346c8d46f4529882fb63d)
}
