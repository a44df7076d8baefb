package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/doggogan/doggogan/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "safetensors-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ckpt.safetensors")

	// Write a checkpoint: an OIHW convolution weight and its bias.
	weight := make([]float32, 2*1*3*3)
	for i := range weight {
		weight[i] = float32(i) / 8
	}
	tensors := []safetensors.Tensor{
		safetensors.Float32Tensor("model.1.weight", []int{2, 1, 3, 3}, weight),
		safetensors.Float32Tensor("model.1.bias", []int{2}, []float32{0.5, -0.5}),
	}
	if err := safetensors.WriteFile(path, tensors, map[string]string{"epoch": "3"}); err != nil {
		fmt.Println(err)
		return
	}

	// Read it back.
	f, err := safetensors.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	for _, name := range f.Names() {
		in, _ := f.Info(name)
		fmt.Println(name, in.DType, in.Shape)
	}
	bias, err := f.Float32("model.1.bias")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bias:", bias, "epoch:", f.Metadata()["epoch"])
	// Output:
	// model.1.bias F32 [2]
	// model.1.weight F32 [2 1 3 3]
	// bias: [0.5 -0.5] epoch: 3
}
