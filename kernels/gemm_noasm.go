//go:build !amd64 || purego

package kernels

// haveAsm is false: this build has no assembly kernels.
const haveAsm = false

// sgemmAsm is never called in this build; it keeps sgemm compiling.
func sgemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, threads int) {
	gemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads)
}
