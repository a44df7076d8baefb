package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the products that matter: square ones for the peer
// comparison and the im2col shapes of the CycleGAN convolutions: forward
// (weight × columns), weight gradients (gradient × columnsᵀ, transB, long
// K) and input gradients (weightᵀ × gradient, transA).
var benchShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"sq1024", false, false, 1024, 1024, 1024},
	{"sq2048", false, false, 2048, 2048, 2048},
	{"m128n256k1152", false, false, 128, 256, 1152},
	{"m64n1024k576", false, false, 64, 1024, 576},
	{"m256n64k2304", false, false, 256, 64, 2304},
	{"m3n4096k1568", false, false, 3, 4096, 1568},
	{"m32n4096k147", false, false, 32, 4096, 147},
	{"m128n1152k256tB", false, true, 128, 1152, 256},
	{"m1152n256k128tA", true, false, 1152, 256, 128},
	{"m64n576k1024tB", false, true, 64, 576, 1024},
	{"m64n576k4096tB", false, true, 64, 576, 4096},
	{"m576n4096k64tA", true, false, 576, 4096, 64},
}

func benchGemm[T Float](b *testing.B, f func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 1))
	a, bm, c := make([]T, m*k), make([]T, k*n), make([]T, m*n)
	for i := range a {
		a[i] = T(rng.Float32())
	}
	for i := range bm {
		bm[i] = T(rng.Float32())
	}
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	f(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// BenchmarkGemm is the public float32 Gemm with Threads() goroutines (set
// with -cpu or GOMAXPROCS).
func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, Gemm[float32], s.transA, s.transB, s.m, s.n, s.k) })
	}
}

// BenchmarkGemmSerial is float32 Gemm on one thread.
func BenchmarkGemmSerial(b *testing.B) {
	SetThreads(1)
	defer SetThreads(0)
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, Gemm[float32], s.transA, s.transB, s.m, s.n, s.k) })
	}
}

// BenchmarkGemmPureGo is the portable float32 path (what -tags purego
// and CPUs without AVX2+FMA get), on Threads() goroutines.
func BenchmarkGemmPureGo(b *testing.B) {
	f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
		gemmGo(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, Threads())
	}
	for _, s := range benchShapes[:1] {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, f, s.transA, s.transB, s.m, s.n, s.k) })
	}
	for _, s := range benchShapes[2:] {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, f, s.transA, s.transB, s.m, s.n, s.k) })
	}
}

// BenchmarkGemmFloat64 is the (portable) float64 Gemm.
func BenchmarkGemmFloat64(b *testing.B) {
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprintf("sq%d", n), func(b *testing.B) { benchGemm(b, Gemm[float64], false, false, n, n, n) })
	}
}
