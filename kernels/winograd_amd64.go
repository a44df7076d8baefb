//go:build amd64 && !purego

package kernels

// The AVX2 float32 transform kernels of winograd_amd64.s: each handles
// n8 blocks of eight tiles (or eight 3×3 kernels). Strides are in bytes.
// They do no bounds checking; their Go callers check the extents first.

//go:noescape
func winoInput8(n8 int, d0, d1, d2, d3 *float32, v *float32, vs uintptr)

//go:noescape
func winoOutput8(n8 int, m *float32, ms uintptr, y0, y1 *float32, two int)

//go:noescape
func winoGradOut8(n8 int, g0, g1 *float32, m *float32, ms uintptr)

//go:noescape
func winoScatter8(n8 int, v *float32, vs uintptr, p0, p1, p2, p3 *float32, carry *[8]float32)

//go:noescape
func winoWeight8(n8 int, wt *float32, ws uintptr, u *float32, us uintptr)

//go:noescape
func winoWeightGrad8(n8 int, u *float32, us uintptr, wt *float32, ws uintptr)
