package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oldLowering is the lowering the convolution kernels chose before
// Winograd: kn2row (2) when it moves less data, else im2col (1).
func oldLowering(p ConvParams) int {
	if p.K*p.H*p.W < p.C*p.OH*p.OW {
		return 2
	}
	return 1
}

// benchConvOps times Conv2d, Conv2dBackwardData and Conv2dBackwardWeight
// in float32 on p with the given lowering (forceLowering's values), as
// sub-benchmarks fwd, data and weight. GFLOPS counts the direct
// convolution's 2·N·K·C·9·OH·OW per call, whatever the algorithm.
func benchConvOps(b *testing.B, name string, p ConvParams, lowering int) {
	if err := p.Validate(); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	x := toT[float32](randSlice(r, p.InputLen()))
	w := toT[float32](randSlice(r, p.WeightLen()))
	y := toT[float32](randSlice(r, p.OutputLen()))
	gw := make([]float32, p.WeightLen())
	for _, k := range []struct {
		name string
		fn   func()
	}{
		{"fwd", func() { Conv2d(p, x, w, y) }},
		{"data", func() { Conv2dBackwardData(p, y, w, x) }},
		{"weight", func() { Conv2dBackwardWeight(p, x, y, gw) }},
	} {
		b.Run(name+"/"+k.name, func(b *testing.B) {
			defer func(fl int) { forceLowering = fl }(forceLowering)
			forceLowering = lowering
			k.fn() // warm the scratch
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k.fn()
			}
			b.ReportMetric(p.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

// winoBenchShapes are the residual blocks' 3×3 convolutions (reflection
// padding 1) of R1 (64 px, ngf 32: C = K = 128 at 16×16, batch 1 and 2
// in training), R2 (128 px, ngf 64: 256 at 32×32) and I256 (256 px
// inference, ngf 64: 256 at 64×64).
var winoBenchShapes = []struct {
	name string
	p    ConvParams
}{
	{"R1_N1", geom(1, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, true)},
	{"R1_N2", geom(2, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, true)},
	{"R2_N1", geom(1, 256, 32, 32, 256, 3, 3, 1, 1, 1, 1, true)},
	{"R2_N2", geom(2, 256, 32, 32, 256, 3, 3, 1, 1, 1, 1, true)},
	{"I256", geom(1, 256, 64, 64, 256, 3, 3, 1, 1, 1, 1, true)},
}

// BenchmarkWinograd compares, in float32 on Threads() goroutines, the
// previous lowering (old: im2col or kn2row) with Winograd (wino) on the
// residual-block shapes.
func BenchmarkWinograd(b *testing.B) {
	for _, s := range winoBenchShapes {
		benchConvOps(b, s.name+"/old", s.p, oldLowering(s.p))
		benchConvOps(b, s.name+"/wino", s.p, 3)
	}
}

// TestWinoTune compares lowerings on SHAPES ("N,C,H,W,K;..." 3×3
// convolutions with reflection padding 1, or N,C,H,W,K,pad,reflect) for
// the kernels in OPS (fwd,data,weight), interleaving the variants
// round-robin REPS times so that a shared machine's load falls on all
// alike, and prints the best and median time of each. Variants: old
// (im2col or kn2row as before), wino, winopg (Winograd with each product
// split by Gemm). FLOAT=64 times float64 instead of float32; THREADS
// and WINOTARGET set those.
func TestWinoTune(t *testing.T) {
	if os.Getenv("SHAPES") == "" {
		t.Skip("tuning run only")
	}
	if os.Getenv("FLOAT") == "64" {
		winoTune[float64](t)
	} else {
		winoTune[float32](t)
	}
}

func winoTune[T Float](t *testing.T) {
	reps := 20
	if r, err := strconv.Atoi(os.Getenv("REPS")); err == nil {
		reps = r
	}
	if th, err := strconv.Atoi(os.Getenv("THREADS")); err == nil {
		defer SetThreads(Threads())
		SetThreads(th)
	}
	if tg, err := strconv.Atoi(os.Getenv("WINOTARGET")); err == nil {
		defer func(v int) { winoTarget = v }(winoTarget)
		winoTarget = tg
	}
	ops := strings.Split(os.Getenv("OPS"), ",")
	if ops[0] == "" {
		ops = []string{"fwd", "data", "weight"}
	}
	defer func(fl int, pg bool) { forceLowering, winoParallelGemm = fl, pg }(forceLowering, winoParallelGemm)
	for _, shs := range strings.Split(os.Getenv("SHAPES"), ";") {
		var f [7]int
		f[5], f[6] = 1, 1
		for i, s := range strings.Split(shs, ",") {
			f[i], _ = strconv.Atoi(s)
		}
		p := geom(f[0], f[1], f[2], f[3], f[4], 3, 3, 1, 1, f[5], f[5], f[6] == 1)
		r := rand.New(rand.NewPCG(1, 1))
		x := toT[T](randSlice(r, p.InputLen()))
		w := toT[T](randSlice(r, p.WeightLen()))
		y := toT[T](randSlice(r, p.OutputLen()))
		gw := make([]T, p.WeightLen())
		for _, op := range ops {
			fn := map[string]func(){
				"fwd":    func() { Conv2d(p, x, w, y) },
				"data":   func() { Conv2dBackwardData(p, y, w, x) },
				"weight": func() { Conv2dBackwardWeight(p, x, y, gw) },
			}[op]
			variants := []struct {
				name string
				fl   int
				pg   bool
			}{{"old", oldLowering(p), false}, {"wino", 3, false}, {"winopg", 3, true}}
			times := make([][]float64, len(variants))
			for rep := 0; rep <= reps; rep++ {
				for vi, v := range variants {
					forceLowering, winoParallelGemm = v.fl, v.pg
					t0 := time.Now()
					fn()
					if rep > 0 {
						times[vi] = append(times[vi], time.Since(t0).Seconds())
					}
				}
			}
			for vi, v := range variants {
				ts := times[vi]
				sort.Float64s(ts)
				fmt.Printf("%-22s %-6s %-6s best %7.3f ms median %7.3f ms  %6.1f GFLOPS (median, direct-conv FLOPs)\n",
					shs, op, v.name, ts[0]*1e3, ts[len(ts)/2]*1e3, p.FLOPs()/ts[len(ts)/2]/1e9)
			}
		}
	}
}
