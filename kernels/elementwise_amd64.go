//go:build amd64 && !purego

package kernels

// The AVX2 twins of elementwise.go, in elementwise_amd64.s. Each takes
// slices whose length is a multiple of 8.

//go:noescape
func sumAsm(x []float32) float64

//go:noescape
func sumSqDevAsm(x []float32, m float32) float64

//go:noescape
func affineLeakyAsm(o, x []float32, a, b, slope float32)

//go:noescape
func leakyGradSumsAsm(o, g, x []float32, a, b, slope float32) (s, sy float64)

//go:noescape
func axpbycAsm(o, x []float32, p, q, r float32)

//go:noescape
func binaryAsm(op int, o, a, b []float32)

//go:noescape
func scalarAsm(o, a []float32, p, q float32)

//go:noescape
func adamAsm(p, g, m, v []float32, b1, c1, b2, c2, eps, step, s float32)
