//go:build !amd64 || purego

package kernels

// This build has no assembly transforms: winoAsm is false and these are
// never called.

func winoInput8(n8 int, d0, d1, d2, d3 *float32, v *float32, vs uintptr) {
	panic("kernels: no assembly")
}

func winoOutput8(n8 int, m *float32, ms uintptr, y0, y1 *float32, two int) {
	panic("kernels: no assembly")
}

func winoGradOut8(n8 int, g0, g1 *float32, m *float32, ms uintptr) {
	panic("kernels: no assembly")
}

func winoScatter8(n8 int, v *float32, vs uintptr, p0, p1, p2, p3 *float32, carry *[8]float32) {
	panic("kernels: no assembly")
}

func winoWeight8(n8 int, wt *float32, ws uintptr, u *float32, us uintptr) {
	panic("kernels: no assembly")
}

func winoWeightGrad8(n8 int, u *float32, us uintptr, wt *float32, ws uintptr) {
	panic("kernels: no assembly")
}
