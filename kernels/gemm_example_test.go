package kernels_test

import (
	"fmt"

	"github.com/doggogan/doggogan/kernels"
)

// C = A·B for a 2×3 A and a 3×2 B, all row-major with rows stored back
// to back (strides equal to the row lengths).
func ExampleGemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		7, 8,
		9, 10,
		11, 12,
	}
	c := make([]float32, 2*2)
	kernels.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [58 64 139 154]
}

// Accumulating a transposed product: C += Aᵀ·A, where A is stored 3×2 and
// Aᵀ is read from it through transA without copying.
func ExampleGemm_transposed() {
	a := []float64{
		1, 2,
		3, 4,
		5, 6,
	}
	c := []float64{
		1, 0,
		0, 1,
	}
	kernels.Gemm(true, false, 2, 2, 3, 1, a, 2, a, 2, 1, c, 2)
	fmt.Println(c)
	// Output: [36 44 44 57]
}

// One weight (a 2×3 matrix, shared through strideA = 0) times the 3×2
// column matrices of two images, as in a convolution by im2col.
func ExampleGemmStrided() {
	w := []float32{
		1, 0, -1,
		2, 1, 0,
	}
	cols := []float32{
		// image 0
		1, 2,
		3, 4,
		5, 6,
		// image 1
		0, 1,
		1, 0,
		2, 2,
	}
	out := make([]float32, 2*2*2)
	kernels.GemmStrided(false, false, 2, 2, 3, 1, w, 3, 0, cols, 2, 6, 0, out, 2, 4, 2)
	fmt.Println(out[:4], out[4:])
	// Output: [-4 -4 5 8] [-2 -1 1 2]
}
