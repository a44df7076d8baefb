package tensor

import (
	"fmt"
	"testing"
)

func BenchmarkInstanceNormReLU(b *testing.B) {
	for _, sh := range [][4]int{{2, 128, 16, 16}, {2, 32, 64, 64}} {
		x := NewRNG(1).Uniform(Float32, -1, 1, sh[:]...)
		b.Run(fmt.Sprint(sh), func(b *testing.B) {
			b.SetBytes(int64(4 * x.Numel()))
			for i := 0; i < b.N; i++ {
				InstanceNormReLU(x, 1e-5)
			}
		})
		b.Run(fmt.Sprint("backward", sh), func(b *testing.B) {
			xx := x.Clone().SetRequiresGrad(true)
			y := InstanceNormReLU(xx, 1e-5)
			g := NewRNG(2).Uniform(Float32, -1, 1, sh[:]...)
			b.SetBytes(int64(4 * x.Numel()))
			for i := 0; i < b.N; i++ {
				y.node.backward(&bctx{n: y.node, need: []bool{true}}, g)
			}
		})
	}
}
