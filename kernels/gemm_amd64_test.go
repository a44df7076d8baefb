//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly kernels for every tile height against a direct loop, with
// packed and in-place strides.
func TestSgemmKernels(t *testing.T) {
	if !haveAsm {
		t.Skip("this CPU lacks AVX2 or FMA")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for mr := 1; mr <= asmMR; mr++ {
		for _, kc := range []int{1, 2, 3, 4, 5, 8, 13, 256} {
			for _, beta := range []float32{0, 1, -0.5} {
				lda, ldb, ldc := kc+3, 16+5, 16+2
				a := make([]float32, mr*lda)
				b := make([]float32, kc*ldb)
				c := make([]float32, mr*ldc)
				for i := range a {
					a[i] = rng.Float32() - 0.5
				}
				for i := range b {
					b[i] = rng.Float32() - 0.5
				}
				for i := range c {
					c[i] = rng.Float32() - 0.5
				}
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				want, mag := refGemm(false, false, mr, 16, kc, 1.5, a, lda, b, ldb, beta, c, ldc)
				sgemmKerns[mr](kc, &a[0], uintptr(lda*4), 4, &b[0], uintptr(ldb*4), &c[0], uintptr(ldc*4), 1.5, beta)
				for i := 0; i < mr; i++ {
					for j := 0; j < 16; j++ {
						got := float64(c[i*ldc+j])
						if !(math.Abs(got-want[i*16+j]) <= 1e-5*mag[i*16+j]) {
							t.Fatalf("mr=%d kc=%d beta=%g: C[%d][%d] = %g, want %g", mr, kc, beta, i, j, got, want[i*16+j])
						}
					}
				}
			}
		}
	}
}

// BenchmarkSgemmKernelL1 runs the 6×16 kernel on panels that stay in L1:
// the compute ceiling of one core.
func BenchmarkSgemmKernelL1(b *testing.B) {
	if !haveAsm {
		b.Skip("no asm")
	}
	const kc = 256
	a := make([]float32, kc*6)
	bp := make([]float32, kc*16)
	c := make([]float32, 6*16)
	for i := range a {
		a[i] = 1
	}
	for b.Loop() {
		sgemmKern6x16(kc, &a[0], 4, 24, &bp[0], 64, &c[0], 64, 1, 1)
	}
	b.ReportMetric(2*6*16*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
