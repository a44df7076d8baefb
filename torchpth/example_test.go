package torchpth_test

import (
	"fmt"

	"github.com/doggogan/doggogan/torchpth"
)

func ExampleLoad() {
	// testdata/checkpoint.pth was written by
	// torch.save({"epoch": 3, "state_dict": model.state_dict(), ...}, path).
	tensors, err := torchpth.Load("testdata/checkpoint.pth")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range tensors[:3] {
		fmt.Println(t.Name, t.DType, t.Shape, len(t.Data))
	}
	w := torchpth.ByName(tensors)["transposed"] // saved as a transposed view
	fmt.Println(w.Shape, w.Data[:4])
	// Output:
	// model.1.weight float32 [3 2 3 3] 54
	// model.1.bias float32 [3] 3
	// transposed float32 [4 3] 12
	// [4 3] [-1 0 1 -0.75]
}
