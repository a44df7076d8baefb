package tensor_test

import (
	"fmt"

	"github.com/doggogan/doggogan/tensor"
)

// The derivative of x³ and its derivative, as torch.autograd.grad with
// create_graph computes them.
func ExampleGrad() {
	x := tensor.FromFloat64([]float64{2}, 1).SetRequiresGrad(true)
	y := tensor.Sum(tensor.Mul(tensor.Mul(x, x), x))
	dy := tensor.Grad([]*tensor.Tensor{y}, []*tensor.Tensor{x}, nil, true)[0]
	d2y := tensor.Grad([]*tensor.Tensor{tensor.Sum(dy)}, []*tensor.Tensor{x}, nil, false)[0]
	fmt.Println(dy.Item(), d2y.Item())
	// Output: 12 12
}

// A gradient penalty in the style of WGAN-GP: the gradient of a critic's
// output with respect to its input is itself differentiated with respect
// to the critic's weights. PyTorch gives the same values for
// ((autograd.grad(d, x, create_graph=True)[0].norm() − 1)²).backward().
func ExampleGrad_gradientPenalty() {
	w := tensor.FromFloat64([]float64{0.5, -1, 2}, 3, 1, 1, 1).SetRequiresGrad(true)
	x := tensor.FromFloat64([]float64{1, 2, 3, 4}, 1, 1, 2, 2).SetRequiresGrad(true)
	d := tensor.Sum(tensor.Tanh(tensor.Conv2d(x, w, nil, tensor.ConvOptions{})))
	g := tensor.Grad([]*tensor.Tensor{d}, []*tensor.Tensor{x}, nil, true)[0]
	penalty := tensor.Square(tensor.AddScalar(tensor.NormPerSample(g), -1))
	tensor.Sum(penalty).Backward()
	fmt.Printf("%.4f\n", w.Grad().Values())
	// Output: [0.1149 0.4581 0.1929]
}

// An arena recycles the storage of each step's tensors.
func ExampleArena() {
	w := tensor.Full(tensor.Float32, 0.5, 4).SetRequiresGrad(true)
	arena := tensor.NewArena()
	for step := 0; step < 3; step++ {
		x := arena.Copy(tensor.Full(tensor.Float32, float64(step), 4))
		loss := tensor.Sum(tensor.Square(tensor.Mul(x, w)))
		fmt.Println(loss.Item())
		tensor.BackwardAndRecycle(loss)
		w.SetGrad(nil)
		arena.Reset() // every tensor computed from x is now invalid
	}
	// Output:
	// 0
	// 1
	// 4
}
