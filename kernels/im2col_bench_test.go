package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkIm2col times the column-matrix fill and its adjoint alone,
// single-threaded, in ns per column-matrix element.
func BenchmarkIm2col(b *testing.B) {
	defer SetThreads(Threads())
	SetThreads(1)
	for _, c := range []struct {
		name string
		p    ConvParams
	}{
		{"res3x3_s1_reflect", geom(1, 256, 32, 32, 256, 3, 3, 1, 1, 1, 1, true)},
		{"down3x3_s2", geom(1, 64, 128, 128, 128, 3, 3, 2, 2, 1, 1, false)},
		{"critic4x4_s2", geom(1, 64, 64, 64, 128, 4, 4, 2, 2, 1, 1, false)},
		{"in7x7_s1_reflect", geom(1, 3, 128, 128, 64, 7, 7, 1, 1, 3, 3, true)},
		{"up3x3T", transposed(1, 128, 64, 64, 64, 3, 2, 1, 1)},
	} {
		p := c.p
		wk := getConvWork[float32]()
		x := make([]float32, p.InputLen())
		wk.begin(&p, x)
		g1 := wk.chunkEnd(0)
		ncols := wk.setChunk(0, g1)
		elems := float64(p.C * p.KH * p.KW * ncols)
		b.Run(fmt.Sprintf("%s/im2col", c.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				wk.im2col()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/elems, "ns/elem")
		})
		b.Run(fmt.Sprintf("%s/col2im", c.name), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				wk.col2im()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/elems, "ns/elem")
		})
		putConvWork(wk)
	}
}
