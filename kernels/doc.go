// Package kernels holds doggogan's numeric kernels: matrix products,
// convolutions and the worker pool they run on. Kernels work on plain
// row-major slices, know nothing of autodiff, and come in float32 (the
// working precision, with assembly on amd64) and float64 (used to verify
// gradients against finite differences).
//
// Every kernel with an assembly implementation has a pure-Go twin; the
// twin is used on CPUs without the needed features and in builds with the
// purego tag, and tests compare the two.
package kernels

// Float is the set of element types the kernels work on.
type Float interface{ ~float32 | ~float64 }
