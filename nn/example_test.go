package nn_test

import (
	"fmt"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// A small network, its PyTorch-style parameter names, and one Adam step.
func Example() {
	net := nn.NewSequential(
		&nn.ReflectionPad2d{P: 1},
		nn.NewConv2d(3, 8, 3, 1, 0, true),
		nn.NewInstanceNorm2d(8, false),
		nn.ReLU{},
		nn.NewConv2d(8, 1, 3, 1, 1, true),
	)
	rng := tensor.NewRNG(1)
	nn.InitNormal(net, 0.02, rng)
	for _, p := range nn.Params(net, "model") {
		fmt.Println(p.Name, p.T.Shape())
	}
	params := nn.Params(net, "")
	opt := nn.NewAdam(params, 2e-4, 0.5, 0.999)
	x := rng.Uniform(tensor.Float32, -1, 1, 2, 3, 16, 16)
	tensor.Mean(tensor.Square(net.Forward(x))).Backward()
	opt.Update(1)
	nn.ZeroGrad(params)
	fmt.Println("steps:", opt.Step)
	// Output:
	// model.1.weight [8 3 3 3]
	// model.1.bias [8]
	// model.4.weight [1 8 3 3]
	// model.4.bias [1]
	// steps: 1
}
