package data

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestToCHWLayoutAndRange(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	img.SetNRGBA(2, 1, color.NRGBA{255, 0, 128, 255})
	img.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 255})
	dst := make([]float32, 18)
	ToCHW(img, dst)
	n := 6
	at := func(c, y, x int) float32 { return dst[c*n+y*3+x] }
	if at(0, 1, 2) != 1 || at(1, 1, 2) != -1 || math.Abs(float64(at(2, 1, 2))-(128.0/127.5-1)) > 1e-6 {
		t.Errorf("pixel (2,1) = %v %v %v", at(0, 1, 2), at(1, 1, 2), at(2, 1, 2))
	}
	if at(0, 0, 0) != -1 {
		t.Errorf("black = %v", at(0, 0, 0))
	}
	// Transparent pixels (zero NRGBA) are white.
	if at(0, 0, 1) != 1 || at(2, 1, 0) != 1 {
		t.Errorf("transparent = %v %v", at(0, 0, 1), at(2, 1, 0))
	}
}

func TestCHWRoundTrip(t *testing.T) {
	// Every 8-bit value survives ToCHW then FromCHW.
	img := image.NewRGBA(image.Rect(0, 0, 256, 3))
	for x := 0; x < 256; x++ {
		for c := 0; c < 3; c++ {
			img.Pix[c*img.Stride+4*x+0] = uint8(x)
			img.Pix[c*img.Stride+4*x+1] = uint8(255 - x)
			img.Pix[c*img.Stride+4*x+2] = uint8(x * 7)
			img.Pix[c*img.Stride+4*x+3] = 255
		}
	}
	dst := make([]float32, 3*256*3)
	ToCHW(img, dst)
	for _, v := range dst {
		if v < -1 || v > 1 {
			t.Fatalf("value %v outside [-1, 1]", v)
		}
	}
	back := FromCHW(dst, 3, 256)
	for i := 0; i < len(back.Pix); i++ {
		if back.Pix[i] != img.Pix[i] {
			t.Fatalf("byte %d: %d, want %d", i, back.Pix[i], img.Pix[i])
		}
	}
	// The flipped variant mirrors columns.
	flipped := make([]float32, len(dst))
	toCHW(img, flipped, true)
	fb := FromCHW(flipped, 3, 256)
	if fb.NRGBAAt(0, 0) != (color.NRGBA{255, 0, 249, 255}) {
		t.Errorf("flipped first pixel %v", fb.NRGBAAt(0, 0))
	}
}

func TestFromCHWClampsAndRounds(t *testing.T) {
	src := []float32{-5, 5, float32(math.NaN()), 0, -1 + 1.2/127.5, -1 + 0.4/127.5}
	img := FromCHW(append(src, make([]float32, 12)...), 1, 6)
	want := []uint8{0, 255, 0, 128, 1, 0}
	for x, w := range want {
		if got := img.Pix[4*x]; got != w {
			t.Errorf("value %v -> %d, want %d", src[x], got, w)
		}
	}
}

func TestToCHWShortBufferPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on a short buffer")
		}
	}()
	ToCHW(image.NewGray(image.Rect(0, 0, 4, 4)), make([]float32, 47))
}
