package data

import (
	"image"
	"image/color"
	"testing"
)

func TestResizedSize(t *testing.T) {
	cases := []struct{ w, h, s, ww, wh int }{
		{500, 489, 286, 292, 286},
		{489, 500, 286, 286, 292},
		{100, 100, 64, 64, 64},
		{4000, 30, 30, 4000, 30},
	}
	for _, c := range cases {
		if w, h := resizedSize(c.w, c.h, c.s); w != c.ww || h != c.wh {
			t.Errorf("resizedSize(%d,%d,%d) = %d,%d want %d,%d", c.w, c.h, c.s, w, h, c.ww, c.wh)
		}
	}
}

// coordImage encodes each pixel's position in its colour: R = x, G = y.
func coordImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 7, 255})
		}
	}
	return img
}

func TestTransformRandomCropAndFlip(t *testing.T) {
	// LoadSize equal to the shorter side: no resampling, so the crop offset
	// can be read from the pixel colours.
	src := coordImage(40, 20)
	tr := Transform{LoadSize: 20, CropSize: 8}
	seenX := map[int]bool{}
	seenY := map[int]bool{}
	flips := 0
	dst := make([]float32, tr.SampleLen())
	const n = 400
	for i := 0; i < n; i++ {
		rng := newRand(9, streamAugment, uint64(i))
		if err := tr.Apply(src, rng, dst); err != nil {
			t.Fatal(err)
		}
		img := FromCHW(dst, 8, 8)
		x0, y0 := int(img.NRGBAAt(0, 0).R), int(img.NRGBAAt(0, 0).G)
		x7 := int(img.NRGBAAt(7, 0).R)
		flipped := x7 < x0
		if flipped {
			flips++
			x0 = x7
		}
		if x0 < 0 || x0 > 32 || y0 < 0 || y0 > 12 {
			t.Fatalf("crop at (%d,%d) outside the image", x0, y0)
		}
		if d := x7 - int(img.NRGBAAt(0, 0).R); d != 7 && d != -7 {
			t.Fatalf("crop is not a contiguous 8-pixel window: %d", d)
		}
		seenX[x0], seenY[y0] = true, true
	}
	if len(seenX) != 33 || len(seenY) != 13 {
		t.Errorf("crop offsets seen: %d of 33 x, %d of 13 y", len(seenX), len(seenY))
	}
	if flips < n/2-60 || flips > n/2+60 {
		t.Errorf("%d flips in %d samples", flips, n)
	}
	// NoFlip never flips.
	tr.NoFlip = true
	for i := 0; i < 50; i++ {
		tr.Apply(src, newRand(9, streamAugment, uint64(i)), dst)
		img := FromCHW(dst, 8, 8)
		if img.NRGBAAt(7, 0).R < img.NRGBAAt(0, 0).R {
			t.Fatal("flipped with NoFlip")
		}
	}
}

func TestTransformEvalCentreCrop(t *testing.T) {
	src := coordImage(40, 20)
	tr := Transform{LoadSize: 20, CropSize: 8, Eval: true}
	dst := make([]float32, tr.SampleLen())
	if err := tr.Apply(src, nil, dst); err != nil {
		t.Fatal(err)
	}
	img := FromCHW(dst, 8, 8)
	if c := img.NRGBAAt(0, 0); c.R != 16 || c.G != 6 {
		t.Errorf("centre crop starts at (%d,%d), want (16,6)", c.R, c.G)
	}
}

func TestTransformResizesShorterSide(t *testing.T) {
	// A 60×30 quad image shrunk so its shorter side is 10: 20×10; the
	// centre 10×10 crop spans the middle, so its left half is red/blue
	// and right half green/white.
	src := quadImage(60, 30)
	for _, f := range []Filter{CatmullRom, BiLinear} {
		tr := Transform{LoadSize: 10, CropSize: 10, Eval: true, Filter: f}
		dst := make([]float32, tr.SampleLen())
		if err := tr.Apply(src, nil, dst); err != nil {
			t.Fatal(err)
		}
		img := FromCHW(dst, 10, 10)
		checkQuads(t, f.String(), img, qRed, qGreen, qBlue, qWhite, 10)
	}
	// Upscaling works too.
	tr := Transform{LoadSize: 64, CropSize: 64, Eval: true}
	dst := make([]float32, tr.SampleLen())
	if err := tr.Apply(quadImage(8, 8), nil, dst); err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "upscaled", FromCHW(dst, 64, 64), qRed, qGreen, qBlue, qWhite, 10)
}

func TestTransformCompositesAlpha(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 20, 20)) // fully transparent
	tr := Transform{LoadSize: 10, CropSize: 10, Eval: true}
	dst := make([]float32, tr.SampleLen())
	if err := tr.Apply(src, nil, dst); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if v != 1 {
			t.Fatalf("value %d = %v, want 1 (white)", i, v)
		}
	}
}

func TestTransformValidate(t *testing.T) {
	if err := (Transform{CropSize: 0}).Validate(); err == nil {
		t.Error("crop 0 accepted")
	}
	if err := (Transform{LoadSize: 10, CropSize: 20}).Validate(); err == nil {
		t.Error("load < crop accepted")
	}
	if err := (Transform{CropSize: 20}).Validate(); err != nil {
		t.Errorf("load 0 (= crop) refused: %v", err)
	}
}

func TestTransformAffinePathMatchesScaler(t *testing.T) {
	// A smooth, very elongated image goes through the affine path; it must
	// agree with the separable scaler.
	src := image.NewRGBA(image.Rect(0, 0, 300, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 300; x++ {
			src.SetRGBA(x, y, color.RGBA{uint8(x * 255 / 299), uint8(y * 20), uint8((x + y) % 256), 255})
		}
	}
	for _, c := range []struct{ load, crop int }{{24, 16}, {6, 6}} {
		tr := Transform{LoadSize: c.load, CropSize: c.crop}
		rw, rh := resizedSize(300, 12, c.load)
		if !tr.useTransform(300, 12, rw, rh) {
			t.Fatalf("%+v: a 25:1 image should take the affine path", c)
		}
		cx, cy := (rw-c.crop)/3, (rh-c.crop)/2
		a := image.NewRGBA(image.Rect(0, 0, c.crop, c.crop))
		s := image.NewRGBA(image.Rect(0, 0, c.crop, c.crop))
		tr.resample(a, src, cx, cy, rw, rh, true)
		tr.resample(s, src, cx, cy, rw, rh, false)
		var diff, n float64
		for i := range a.Pix {
			d := float64(a.Pix[i]) - float64(s.Pix[i])
			diff += max(d, -d)
			n++
		}
		t.Logf("%+v: mean difference %.3f levels", c, diff/n)
		if diff/n > 3 {
			t.Errorf("%+v: affine and separable paths differ by %.2f levels on average", c, diff/n)
		}
	}
	// Ordinary photos keep the separable scaler.
	tr := Transform{LoadSize: 286, CropSize: 256}
	if tr.useTransform(500, 489, 292, 286) || tr.useTransform(4000, 3000, 381, 286) {
		t.Error("photo-shaped images should take the separable path")
	}
}
