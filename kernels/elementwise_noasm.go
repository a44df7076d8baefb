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
func binaryAsm(op int, o, a, b []float32)       { binaryGo(op, o, a, b) }
func scalarAsm(o, a []float32, p, q float32)    { scalarGo(o, a, p, q) }
func adamAsm(p, g, m, v []float32, b1, c1, b2, c2, eps, step, s float32) {
	adamGo(p, g, m, v, b1, b2, eps, step, s)
}
