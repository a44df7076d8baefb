package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is the naive triple loop in float64. It also returns, for each
// element of C, the magnitude |alpha|·Σ|a||b| + |beta|·|c| that bounds the
// rounding error of any summation order.
func refGemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				s += av * bv
				sa += math.Abs(av * bv)
			}
			w := float64(alpha) * s
			g := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				cv := float64(c[i*ldc+j])
				w += float64(beta) * cv
				g += math.Abs(float64(beta) * cv)
			}
			want[i*n+j], mag[i*n+j] = w, g
		}
	}
	return want, mag
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float64
	padA, padB     int // extra row stride
	padC           int
	nanC           bool // fill C with NaN (only meaningful with beta 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%g beta=%g pad=%d,%d,%d nan=%v",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC, tc.nanC)
}

type gemmFn[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// runCase runs one case through f and checks every element of C,
// including that the padding between rows of C is left untouched.
func runCase[T Float](t *testing.T, name string, f gemmFn[T], tc gemmCase, rng *rand.Rand) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	fill := func(rows, ld int) []T {
		s := make([]T, max(rows*ld, 1))
		for i := range s {
			s[i] = T(rng.Float64()*2 - 1)
		}
		return s
	}
	a, b, c := fill(ar, lda), fill(br, ldb), fill(tc.m, ldc)
	if tc.nanC {
		for i := range c {
			c[i] = T(math.NaN())
		}
	}
	// Mark the padding of C so that writes outside the matrix show.
	const marker = 12345
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < ldc; j++ {
			c[i*ldc+j] = marker
		}
	}
	want, mag := refGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, T(tc.alpha), a, lda, b, ldb, T(tc.beta), c, ldc)
	f(tc.transA, tc.transB, tc.m, tc.n, tc.k, T(tc.alpha), a, lda, b, ldb, T(tc.beta), c, ldc)
	eps := 1.0 / (1 << 23)
	var zero T
	if any(zero) == any(float64(0)) {
		eps = 1.0 / (1 << 52)
	}
	tol := 2 * float64(tc.k+4) * eps
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			got := float64(c[i*ldc+j])
			w := want[i*tc.n+j]
			if !(math.Abs(got-w) <= tol*mag[i*tc.n+j]+1e-30) {
				t.Fatalf("%s %v: C[%d][%d] = %g, want %g (mag %g)", name, tc, i, j, got, w, mag[i*tc.n+j])
			}
		}
		for j := tc.n; j < ldc; j++ {
			if c[i*ldc+j] != marker {
				t.Fatalf("%s %v: padding C[%d][%d] overwritten with %g", name, tc, i, j, float64(c[i*ldc+j]))
			}
		}
	}
}

// impls32 lists every float32 implementation: the public entry, the
// portable code and, where the CPU has it, the assembly path, each with
// one and with several threads.
func impls32() map[string]gemmFn[float32] {
	fs := map[string]gemmFn[float32]{
		"Gemm": Gemm[float32],
	}
	for _, th := range []int{1, 2, 3} {
		fs[fmt.Sprintf("go/t%d", th)] = func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			gemmGo(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, th)
		}
		if haveAsm {
			fs[fmt.Sprintf("asm/t%d", th)] = func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				sgemmAsm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, th)
			}
		}
	}
	return fs
}

func impls64() map[string]gemmFn[float64] {
	fs := map[string]gemmFn[float64]{"Gemm": Gemm[float64]}
	for _, th := range []int{1, 3} {
		fs[fmt.Sprintf("go/t%d", th)] = func(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
			gemmGo(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, th)
		}
	}
	return fs
}

var edgeSizes = []int{1, 3, 7, 16, 17, 63, 65, 127, 129}

// randomCases draws cases over the edge sizes, all transpositions,
// several alpha and beta, padded strides and NaN-filled C.
func randomCases(rng *rand.Rand, count int) []gemmCase {
	alphas := []float64{1, -0.75, 2.5}
	betas := []float64{0, 1, 0.5, -1.25}
	var cs []gemmCase
	for i := 0; i < count; i++ {
		tc := gemmCase{
			transA: i&1 != 0, transB: i&2 != 0,
			m:     edgeSizes[rng.IntN(len(edgeSizes))],
			n:     edgeSizes[rng.IntN(len(edgeSizes))],
			k:     edgeSizes[rng.IntN(len(edgeSizes))],
			alpha: alphas[rng.IntN(len(alphas))],
			beta:  betas[rng.IntN(len(betas))],
		}
		if rng.IntN(2) == 0 {
			tc.padA, tc.padB, tc.padC = rng.IntN(5), rng.IntN(20), rng.IntN(3)
		}
		tc.nanC = tc.beta == 0 && rng.IntN(2) == 0
		cs = append(cs, tc)
	}
	return cs
}

// specialCases cover block boundaries (MC, KC, NC of both paths), the
// in-place B path for few rows, parallel splits and degenerate sizes.
func specialCases() []gemmCase {
	var cs []gemmCase
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			add := func(m, n, k int, alpha, beta float64, pad int, nan bool) {
				cs = append(cs, gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, padA: pad, padB: pad, padC: pad, nanC: nan})
			}
			add(150, 33, 300, 1, 0, 1, true)       // two MC and two KC blocks
			add(3, 4100, 5, 0.5, 1, 0, false)      // past asmNC, tiny M (B read in place)
			add(12, 2050, 7, 1, 0.5, 3, false)     // past goNC
			add(5, 37, 600, -1, 0, 2, true)        // few rows, long K, ragged N
			add(130, 70, 130, 1.5, 0.25, 1, false) // big enough to split
			add(20, 300, 200, 1, 1, 0, false)      // split over columns
			add(300, 20, 200, 1, 0, 0, true)       // split over rows
			add(4, 5, 0, 1, 0.5, 0, false)         // k = 0 scales C
			add(4, 5, 0, 1, 0, 1, true)            // k = 0, beta 0 clears NaN
			add(6, 16, 9, 0, 2, 0, false)          // alpha = 0
		}
	}
	return cs
}

func TestGemmFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 160
	if testing.Short() {
		n = 48
	}
	cases := append(randomCases(rng, n), specialCases()...)
	for name, f := range impls32() {
		for _, tc := range cases {
			runCase(t, name, f, tc, rng)
		}
	}
}

func TestGemmFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 80
	if testing.Short() {
		n = 24
	}
	cases := append(randomCases(rng, n), specialCases()...)
	for name, f := range impls64() {
		for _, tc := range cases {
			runCase(t, name, f, tc, rng)
		}
	}
}

// A Float type that is not float32 itself still takes the fast path.
type myFloat32 float32
type myFloat64 float64

func TestGemmNamedTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range randomCases(rng, 8) {
		runCase(t, "myFloat32", Gemm[myFloat32], tc, rng)
		runCase(t, "myFloat64", Gemm[myFloat64], tc, rng)
	}
}

func TestGemmPanicsOnShortSlices(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"short A", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"short B", func() {
			Gemm(false, true, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 3), 2, 0, make([]float32, 4), 2)
		}},
		{"short C", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}},
		{"small lda", func() {
			Gemm(false, false, 2, 2, 2, 1, make([]float64, 8), 1, make([]float64, 4), 2, 0, make([]float64, 4), 2)
		}},
		{"negative m", func() { Gemm(false, false, -1, 2, 2, 1, nil, 2, make([]float64, 4), 2, 0, nil, 2) }},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Gemm did not panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
	// Empty products are fine with empty slices.
	Gemm[float32](false, false, 0, 5, 3, 1, nil, 3, make([]float32, 15), 5, 0, nil, 5)
	Gemm[float32](false, false, 5, 0, 3, 1, make([]float32, 15), 3, nil, 1, 0, nil, 1)
}

// Gemm called from inside ParallelFor bodies and from several goroutines
// at once gives the same results as alone.
func TestGemmNestedAndConcurrent(t *testing.T) {
	const m, n, k = 96, 80, 144
	rng := rand.New(rand.NewPCG(9, 10))
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = rng.Float32()
	}
	for i := range b {
		b[i] = rng.Float32()
	}
	want := make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	const jobs = 8
	outs := make([][]float32, jobs)
	for i := range outs {
		outs[i] = make([]float32, m*n)
	}
	done := make(chan struct{})
	for g := 0; g < 2; g++ {
		go func() {
			ParallelFor(jobs/2, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					Gemm(false, false, m, n, k, 1, a, k, b, n, 0, outs[g*jobs/2+i], n)
				}
			})
			done <- struct{}{}
		}()
	}
	<-done
	<-done
	for i, o := range outs {
		for j := range o {
			if o[j] != want[j] {
				t.Fatalf("output %d differs at %d: %g vs %g", i, j, o[j], want[j])
			}
		}
	}
}

// Steady-state calls allocate nothing. The pool grows once (a packing
// buffer the first time a worker joins a call, say), so each function is
// warmed up first and measured over many calls: a one-off allocation
// then rounds away, one per call would not.
func TestGemmNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	allocs := func(f func()) float64 {
		for i := 0; i < 10; i++ {
			f()
		}
		return testing.AllocsPerRun(30, f)
	}
	for _, sh := range [][3]int{{8, 8, 8}, {128, 128, 128}, {3, 4096, 64}, {64, 1030, 100}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		a64, b64, c64 := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		for _, tr := range [][2]bool{{false, false}, {true, true}} {
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			if got := allocs(func() { Gemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0.5, c, n) }); got != 0 {
				t.Errorf("float32 %v trans=%v: %v allocs per call", sh, tr, got)
			}
			if got := allocs(func() { Gemm(tr[0], tr[1], m, n, k, 1, a64, lda, b64, ldb, 0, c64, n) }); got != 0 {
				t.Errorf("float64 %v trans=%v: %v allocs per call", sh, tr, got)
			}
			if got := allocs(func() { gemmGo(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n, 2) }); got != 0 {
				t.Errorf("portable float32 %v trans=%v: %v allocs per call", sh, tr, got)
			}
		}
	}
}

func TestPlanSplit(t *testing.T) {
	for _, tc := range []struct {
		m, n, k, threads int
		tm, tn           int // 0, 0: any grid of blocks tasks
		blocks           int
	}{
		{1024, 1024, 1025, 2, 0, 0, 4}, // big: 2 blocks per thread
		{3, 4096, 1568, 2, 1, 2, 2},    // one row panel: split columns
		{8, 8, 8, 2, 1, 1, 1},          // too small to split
		{256, 64, 2304, 2, 2, 1, 2},    // few columns: split rows
		{1024, 1024, 1024, 1, 1, 1, 1},
		{600, 600, 600, 3, 0, 0, 6},
	} {
		sp := planSplit(tc.m, tc.n, tc.k, 6, 16, tc.threads)
		if sp.tm*sp.tn != tc.blocks || (tc.tm > 0 && (sp.tm != tc.tm || sp.tn != tc.tn)) {
			t.Errorf("planSplit(%d,%d,%d,threads=%d) = %d×%d blocks, want %d (%d×%d)", tc.m, tc.n, tc.k, tc.threads, sp.tm, sp.tn, tc.blocks, tc.tm, tc.tn)
		}
		if sp.rowStep*sp.tm < tc.m || sp.colSt*sp.tn < tc.n || sp.rowStep*(sp.tm-1) >= tc.m || sp.colSt*(sp.tn-1) >= tc.n {
			t.Errorf("split %+v does not tile %d×%d", sp, tc.m, tc.n)
		}
		if sp.rowStep%6 != 0 && sp.tm > 1 || sp.colSt%16 != 0 && sp.tn > 1 {
			t.Errorf("split %+v not aligned to 6×16 tiles", sp)
		}
	}
}
