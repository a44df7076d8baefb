package kernels_test

import (
	"fmt"

	"github.com/doggogan/doggogan/kernels"
)

// A 3×3 box-sum filter over a 3×3 image with reflection padding, as
// PyTorch's ReflectionPad2d(1) followed by Conv2d(1, 1, 3) would compute.
func ExampleConv2d() {
	p := kernels.ConvParams{N: 1, C: 1, H: 3, W: 3, K: 1, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1, Reflect: true}
	p.OH, p.OW = kernels.ConvOutSize(p.H, p.KH, p.SH, p.PH), kernels.ConvOutSize(p.W, p.KW, p.SW, p.PW)
	if err := p.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	x := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	w := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	y := make([]float32, p.OutputLen())
	kernels.Conv2d(p, x, w, y)
	for i := 0; i < p.OH; i++ {
		fmt.Println(y[i*p.OW : (i+1)*p.OW])
	}
	// Output:
	// [33 36 39]
	// [42 45 48]
	// [51 54 57]
}

// Conv2dBackwardData is the forward pass of a transposed convolution: here
// ConvTranspose2d(1, 1, kernel 2, stride 2) with a weight of ones, which
// upsamples a 2×2 image to 4×4 by repeating each pixel. The geometry is
// that of the convolution going the other way, from 4×4 to 2×2.
func ExampleConv2dBackwardData() {
	p := kernels.ConvParams{N: 1, C: 1, H: 4, W: 4, K: 1, KH: 2, KW: 2, SH: 2, SW: 2, OH: 2, OW: 2}
	if err := p.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	in := []float64{
		1, 2,
		3, 4,
	}
	w := []float64{1, 1, 1, 1}
	out := make([]float64, p.InputLen())
	kernels.Conv2dBackwardData(p, in, w, out)
	for i := 0; i < p.H; i++ {
		fmt.Println(out[i*p.W : (i+1)*p.W])
	}
	// Output:
	// [1 1 2 2]
	// [1 1 2 2]
	// [3 3 4 4]
	// [3 3 4 4]
}

// Validate reports an inconsistent geometry as an error instead of a
// panic in the kernels.
func ExampleConvParams_Validate() {
	p := kernels.ConvParams{N: 1, C: 3, H: 64, W: 64, K: 32, KH: 7, KW: 7, SH: 1, SW: 1, PH: 3, PW: 3, OH: 64, OW: 64, Reflect: true}
	fmt.Println(p.Validate())
	p.OW = 58
	fmt.Println(p.Validate())
	// Output:
	// <nil>
	// kernels: conv geometry: OW = 58, want (W+2·PW−KW)/SW+1 = (64+2·3−7)/1+1 = 64
}
