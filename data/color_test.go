package data

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// reference converts one pixel with the standard library's colour models:
// premultiplied 16-bit RGBA, composited over white, to 8 bits.
func reference(c color.Color) [3]uint8 {
	r, g, b, a := c.RGBA()
	return [3]uint8{uint8((r + 0xffff - a) >> 8), uint8((g + 0xffff - a) >> 8), uint8((b + 0xffff - a) >> 8)}
}

// randomImages returns one image of each colour model, filled with random
// pixels (alpha included), with bounds not at the origin.
func randomImages(r *rand.Rand) map[string]image.Image {
	rect := image.Rect(3, 5, 3+37, 5+21) // odd sizes exercise subsampling edges
	byteFill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(r.Uint32())
		}
	}
	out := map[string]image.Image{}
	nrgba := image.NewNRGBA(rect)
	byteFill(nrgba.Pix)
	out["NRGBA"] = nrgba
	rgba := image.NewRGBA(rect)
	for i := 0; i < len(rgba.Pix); i += 4 { // valid premultiplied values
		a := uint8(r.Uint32())
		rgba.Pix[i+3] = a
		for k := 0; k < 3; k++ {
			rgba.Pix[i+k] = uint8(r.Uint32() % (uint32(a) + 1))
		}
	}
	out["RGBA"] = rgba
	gray := image.NewGray(rect)
	byteFill(gray.Pix)
	out["Gray"] = gray
	gray16 := image.NewGray16(rect)
	byteFill(gray16.Pix)
	out["Gray16"] = gray16
	nrgba64 := image.NewNRGBA64(rect)
	byteFill(nrgba64.Pix)
	out["NRGBA64"] = nrgba64
	rgba64 := image.NewRGBA64(rect)
	for x := rect.Min.X; x < rect.Max.X; x++ {
		for y := rect.Min.Y; y < rect.Max.Y; y++ {
			a := uint16(r.Uint32())
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(r.Uint32() % (uint32(a) + 1)), uint16(r.Uint32() % (uint32(a) + 1)), uint16(r.Uint32() % (uint32(a) + 1)), a})
		}
	}
	out["RGBA64"] = rgba64
	cmyk := image.NewCMYK(rect)
	byteFill(cmyk.Pix)
	out["CMYK"] = cmyk
	pal := color.Palette{}
	for i := 0; i < 200; i++ {
		pal = append(pal, color.NRGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32())})
	}
	paletted := image.NewPaletted(rect, pal)
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(r.Uint32() % 200)
	}
	out["Paletted"] = paletted
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		y := image.NewYCbCr(rect, ratio)
		byteFill(y.Y)
		byteFill(y.Cb)
		byteFill(y.Cr)
		out["YCbCr"+ratio.String()] = y
		// A sub-image: bounds that do not start on a chroma sample.
		out["YCbCr"+ratio.String()+"-sub"] = y.SubImage(image.Rect(4, 6, 30, 24))
	}
	nycc := image.NewNYCbCrA(rect, image.YCbCrSubsampleRatio420)
	byteFill(nycc.Y)
	byteFill(nycc.Cb)
	byteFill(nycc.Cr)
	byteFill(nycc.A)
	out["NYCbCrA"] = nycc
	return out
}

func TestToRGBMatchesStandardColourModels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, img := range randomImages(r) {
		got := ToRGB(img)
		b := img.Bounds()
		if got.Rect != image.Rect(0, 0, b.Dx(), b.Dy()) {
			t.Fatalf("%s: bounds %v", name, got.Rect)
		}
		bad := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				want := reference(img.At(x, y))
				c := got.RGBAAt(x-b.Min.X, y-b.Min.Y)
				if [3]uint8{c.R, c.G, c.B} != want || c.A != 255 {
					if bad < 3 {
						t.Errorf("%s: pixel (%d,%d) = %v, want %v", name, x, y, c, want)
					}
					bad++
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d pixels differ", name, bad)
		}
	}
}

func TestAlphaCompositedOverWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	img.SetNRGBA(0, 0, color.NRGBA{10, 20, 30, 0})   // transparent: white
	img.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 128})  // half red: pink
	img.SetNRGBA(2, 0, color.NRGBA{10, 20, 30, 255}) // opaque: itself
	got := ToRGB(img)
	want := []color.RGBA{{255, 255, 255, 255}, {255, 127, 127, 255}, {10, 20, 30, 255}}
	for x, w := range want {
		if c := got.RGBAAt(x, 0); c != w {
			t.Errorf("pixel %d = %v, want %v", x, c, w)
		}
	}
	// CMYK: pure cyan is (0, 255, 255).
	cm := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cm.SetCMYK(0, 0, color.CMYK{255, 0, 0, 0})
	if c := ToRGB(cm).RGBAAt(0, 0); c != (color.RGBA{0, 255, 255, 255}) {
		t.Errorf("cyan = %v", c)
	}
}
