package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchLayer is one convolution of the CycleGAN models at batch 1.
type benchLayer struct {
	name string
	p    ConvParams
	// transposed marks a ConvTranspose2d: its forward pass is
	// Conv2dBackwardData and its input gradient is Conv2d.
	transposed bool
}

// cycleganLayers returns the convolutions of the ResNet generator and the
// 70×70 PatchGAN critic for size×size images with ngf = ndf = f.
func cycleganLayers(size, f int) []benchLayer {
	s2, s4 := size/2, size/4
	return []benchLayer{
		{"gen.in7x7", geom(1, 3, size, size, f, 7, 7, 1, 1, 3, 3, true), false},
		{"gen.down1", geom(1, f, size, size, 2*f, 3, 3, 2, 2, 1, 1, false), false},
		{"gen.down2", geom(1, 2*f, s2, s2, 4*f, 3, 3, 2, 2, 1, 1, false), false},
		{"gen.res3x3", geom(1, 4*f, s4, s4, 4*f, 3, 3, 1, 1, 1, 1, true), false},
		{"gen.up1T", transposed(1, 4*f, 2*f, s4, s4, 3, 2, 1, 1), true},
		{"gen.up2T", transposed(1, 2*f, f, s2, s2, 3, 2, 1, 1), true},
		{"gen.out7x7", geom(1, f, size, size, 3, 7, 7, 1, 1, 3, 3, true), false},
		{"critic.c1", geom(1, 3, size, size, f, 4, 4, 2, 2, 1, 1, false), false},
		{"critic.c2", geom(1, f, s2, s2, 2*f, 4, 4, 2, 2, 1, 1, false), false},
		{"critic.c3", geom(1, 2*f, s4, s4, 4*f, 4, 4, 2, 2, 1, 1, false), false},
		{"critic.c4", geom(1, 4*f, size/8, size/8, 8*f, 4, 4, 1, 1, 1, 1, false), false},
		{"critic.c5", geom(1, 8*f, size/8-1, size/8-1, 1, 4, 4, 1, 1, 1, 1, false), false},
	}
}

// BenchmarkConv times the three kernels in float32 on every convolution
// of the CycleGAN generator and critic at batch 1: 64 px with 32 filters
// (the R1 configuration) and 128 px with 64 (R2). GFLOPS counts
// 2·K·C·KH·KW·OH·OW per kernel call. For the transposed convolutions
// (…T), "fwd" is the layer's forward pass (Conv2dBackwardData) and
// "data" its input gradient (Conv2d).
func BenchmarkConv(b *testing.B) {
	for _, cfg := range []struct{ size, f int }{{64, 32}, {128, 64}} {
		for _, l := range cycleganLayers(cfg.size, cfg.f) {
			p := l.p
			if err := p.Validate(); err != nil {
				b.Fatalf("%s: %v", l.name, err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			x := toT[float32](randSlice(r, p.InputLen()))
			w := toT[float32](randSlice(r, p.WeightLen()))
			y := toT[float32](randSlice(r, p.OutputLen()))
			gw := make([]float32, p.WeightLen())
			conv := func() { Conv2d(p, x, w, y) }
			backData := func() { Conv2dBackwardData(p, y, w, x) }
			backWeight := func() { Conv2dBackwardWeight(p, x, y, gw) }
			fwd, data := conv, backData
			if l.transposed {
				fwd, data = backData, conv
			}
			for _, k := range []struct {
				name string
				fn   func()
			}{{"fwd", fwd}, {"data", data}, {"weight", backWeight}} {
				b.Run(fmt.Sprintf("%dpx/%s/%s", cfg.size, l.name, k.name), func(b *testing.B) {
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
	}
}
