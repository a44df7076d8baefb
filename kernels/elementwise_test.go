package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float32 elementwise kernels (assembly where available) agree with
// their Go twins, for lengths around the 8-wide vector step.
func TestElementwiseKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 256, 1000} {
		x := make([]float32, n)
		g := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			g[i] = float32(rng.NormFloat64())
		}
		if i := n / 2; n > 0 {
			x[i] = 0 // the kink
		}
		close := func(name string, a, b float64) {
			t.Helper()
			if math.Abs(a-b) > 1e-6*(1+math.Abs(b)) {
				t.Fatalf("n=%d %s: %g, Go %g", n, name, a, b)
			}
		}
		close("Sum", Sum(x), sumGo(x))
		close("SumSqDev", SumSqDev(x, 0.3), sumSqDevGo(x, float32(0.3)))
		for _, slope := range []float32{0, 0.2, 1} {
			o1, o2 := make([]float32, n), make([]float32, n)
			AffineLeaky(o1, x, 1.5, -0.25, slope)
			affineLeakyGo(o2, x, 1.5, -0.25, slope)
			// The assembly fuses x·a + b (one rounding): allow an ulp.
			for i := range o1 {
				scale := math.Abs(float64(x[i])*1.5) + 0.25
				if math.Abs(float64(o1[i]-o2[i])) > 2e-7*scale {
					t.Fatalf("n=%d AffineLeaky slope %g [%d]: %g, Go %g", n, slope, i, o1[i], o2[i])
				}
			}
			// x·1 + 0 puts an exact zero at the kink: both must take slope there.
			s1, sy1 := LeakyGradSums(o1, g, x, 1, 0, slope)
			s2, sy2 := leakyGradSumsGo(o2, g, x, 1, 0, slope)
			close("LeakyGradSums s", s1, s2)
			close("LeakyGradSums sy", sy1, sy2)
			for i := range o1 {
				if o1[i] != o2[i] {
					t.Fatalf("n=%d LeakyGradSums slope %g [%d]: %g, Go %g", n, slope, i, o1[i], o2[i])
				}
			}
			// In place (o is g).
			gg := append([]float32(nil), g...)
			LeakyGradSums(gg, gg, x, 1, 0, slope)
			for i := range gg {
				if gg[i] != o2[i] {
					t.Fatalf("in place differs")
				}
			}
		}
		o1, o2 := append([]float32(nil), g...), append([]float32(nil), g...)
		Axpbyc(o1, x, 0.5, -2, 0.125)
		axpbycGo(o2, x, 0.5, -2, 0.125)
		for i := range o1 {
			if math.Abs(float64(o1[i]-o2[i])) > 1e-6*(1+math.Abs(float64(o2[i]))) {
				t.Fatalf("n=%d Axpbyc [%d]: %g, Go %g", n, i, o1[i], o2[i])
			}
		}
	}
}

func TestElementwiseFloat64(t *testing.T) {
	x := []float64{1, -2, 3, 0}
	if s := Sum(x); s != 2 {
		t.Fatalf("Sum %g", s)
	}
	if s := SumSqDev(x, 0.5); s != 0.25+6.25+6.25+0.25 {
		t.Fatalf("SumSqDev %g", s)
	}
	o := make([]float64, 4)
	AffineLeaky(o, x, 2, 0, 0.1)
	if o[0] != 2 || o[1] != -0.4 || o[3] != 0 {
		t.Fatalf("AffineLeaky %v", o)
	}
}

func BenchmarkElementwise(b *testing.B) {
	x := make([]float32, 32768)
	o := make([]float32, 32768)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	b.Run("SumSqDev", func(b *testing.B) {
		b.SetBytes(4 * 32768)
		for i := 0; i < b.N; i++ {
			SumSqDev(x, 0.5)
		}
	})
	b.Run("AffineLeaky", func(b *testing.B) {
		b.SetBytes(4 * 32768)
		for i := 0; i < b.N; i++ {
			AffineLeaky(o, x, 0.5, 0.1, 0.2)
		}
	})
	b.Run("LeakyGradSums", func(b *testing.B) {
		b.SetBytes(4 * 32768)
		for i := 0; i < b.N; i++ {
			LeakyGradSums(o, o, x, 0.5, 0.1, 0.2)
		}
	})
}

func TestBinaryScalarAdamMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 100} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
			b[i] = float32(rng.NormFloat64())
		}
		for op := OpAdd; op <= OpMul; op++ {
			o1, o2 := make([]float32, n), make([]float32, n)
			BinaryOp(op, o1, a, b)
			binaryGo(op, o2, a, b)
			for i := range o1 {
				if o1[i] != o2[i] {
					t.Fatalf("n=%d op %d [%d]: %g, Go %g", n, op, i, o1[i], o2[i])
				}
			}
		}
		o1, o2 := make([]float32, n), make([]float32, n)
		ScalarOp(o1, a, 1.5, -0.25)
		scalarGo(o2, a, 1.5, -0.25)
		for i := range o1 {
			if d := math.Abs(float64(o1[i] - o2[i])); d > 2e-7*(math.Abs(float64(a[i])*1.5)+0.25) {
				t.Fatalf("n=%d ScalarOp [%d]: %g, Go %g", n, i, o1[i], o2[i])
			}
		}
		// Adam: the same three steps, assembly and Go.
		p1, p2 := append([]float32(nil), a...), append([]float32(nil), a...)
		m1, m2, v1, v2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for s := 1; s <= 3; s++ {
			bc1, bc2 := 1-math.Pow(0.5, float64(s)), 1-math.Pow(0.999, float64(s))
			step, sc := float32(1e-3/bc1), float32(1/math.Sqrt(bc2))
			AdamStep(p1, b, m1, v1, 0.5, 0.999, 1e-8, step, sc)
			adamGo(p2, b, m2, v2, 0.5, 0.999, 1e-8, step, sc)
		}
		for i := range p1 {
			if d := math.Abs(float64(p1[i] - p2[i])); d > 1e-6*(1+math.Abs(float64(p2[i]))) {
				t.Fatalf("n=%d Adam [%d]: %g, Go %g", n, i, p1[i], p2[i])
			}
		}
	}
}
