package kernels_test

import (
	"fmt"
	"math"

	"github.com/doggogan/doggogan/kernels"
)

// ParallelFor hands contiguous chunks of an index range to the worker
// pool; each chunk writes its own part of the output, so no locking is
// needed.
func ExampleParallelFor() {
	x := make([]float64, 1000)
	for i := range x {
		x[i] = float64(i)
	}
	y := make([]float64, len(x))
	kernels.ParallelFor(len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = math.Sqrt(x[i])
		}
	})
	fmt.Println(y[0], y[4], y[999] > 31.6)
	// Output: 0 2 true
}

// SetThreads(1) makes every kernel run on the calling goroutine, which
// helps when the caller parallelises at a higher level itself.
func ExampleSetThreads() {
	kernels.SetThreads(1)
	defer kernels.SetThreads(0) // back to GOMAXPROCS
	fmt.Println(kernels.Threads())
	// Output: 1
}
