package cyclegan

import (
	"fmt"
	"image"

	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// minTranslateSide is the smallest side the generator can work on: its
// residual blocks reflect-pad a map a quarter of the input's size by one.
const minTranslateSide = 8

// mirror maps index i of a padded axis onto [0, n) by reflecting about the
// edges (repeatedly, for pads wider than the image).
func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

// TranslateCHW translates one 3×h×w image in [−1, 1] of any size: it is
// padded by reflection at the bottom and right to a multiple of 4 (at least
// 8), translated, and cropped back.
func (g *Generator) TranslateCHW(src []float32, h, w int) ([]float32, error) {
	if h < 1 || w < 1 || len(src) != 3*h*w {
		return nil, fmt.Errorf("translate: %d values for a 3×%d×%d image", len(src), h, w)
	}
	ph, pw := max(minTranslateSide, (h+3)/4*4), max(minTranslateSide, (w+3)/4*4)
	in := tensor.Zeros(1, 3, ph, pw)
	d := in.Float32s()
	for c := 0; c < 3; c++ {
		for y := 0; y < ph; y++ {
			sy := mirror(y, h)
			for x := 0; x < pw; x++ {
				d[(c*ph+y)*pw+x] = src[(c*h+sy)*w+mirror(x, w)]
			}
		}
	}
	var out *tensor.Tensor
	noGrad(func() { out = g.Forward(in) }, g)
	o := out.Float32s()
	res := make([]float32, 3*h*w)
	for c := 0; c < 3; c++ {
		for y := 0; y < h; y++ {
			copy(res[(c*h+y)*w:(c*h+y+1)*w], o[(c*ph+y)*pw:(c*ph+y)*pw+w])
		}
	}
	return res, nil
}

// Freeze marks every parameter of g as not requiring gradients, for good,
// and returns g. A frozen generator records no graph and its Forward,
// Translate and TranslateCHW only read it, so they may run from several
// goroutines at once, as a server needs (an unfrozen one's Translate turns
// gradients off and on again around the forward pass, which is a data race
// when two goroutines do it). Do not train a frozen generator.
func (g *Generator) Freeze() *Generator {
	for _, p := range nn.Params(g, "") {
		p.T.SetRequiresGrad(false)
	}
	return g
}

// Translate translates an image of any size, returning an image of the
// same size.
func (g *Generator) Translate(img image.Image) (*image.NRGBA, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := make([]float32, 3*h*w)
	data.ToCHW(img, src)
	out, err := g.TranslateCHW(src, h, w)
	if err != nil {
		return nil, err
	}
	return data.FromCHW(out, h, w), nil
}
