//go:build !amd64 || purego

package kernels

// Without assembly the elementwise kernels run their Go twins; these
// keep the dispatching code compiling and are never called.

func sumAsm(x []float32) float64                     { return sumGo(x) }
func sumSqDevAsm(x []float32, m float32) float64     { return sumSqDevGo(x, m) }
func affineLeakyAsm(o, x []float32, a, b, s float32) { affineLeakyGo(o, x, a, b, s) }
func leakyGradSumsAsm(o, g, x []float32, a, b, slope float32) (float64, float64) {
	return leakyGradSumsGo(o, g, x, a, b, slope)
}
func axpbycAsm(o, x []float32, p, q, r float32) { axpbycGo(o, x, p, q, r) }
