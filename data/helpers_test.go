package data

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Quadrant colours of the asymmetric test image: top-left red, top-right
// green, bottom-left blue, bottom-right white.
var (
	qRed   = color.NRGBA{255, 0, 0, 255}
	qGreen = color.NRGBA{0, 255, 0, 255}
	qBlue  = color.NRGBA{0, 0, 255, 255}
	qWhite = color.NRGBA{255, 255, 255, 255}
)

// quadImage returns a w×h NRGBA image split in four coloured quadrants.
func quadImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c color.NRGBA
			switch {
			case x < w/2 && y < h/2:
				c = qRed
			case y < h/2:
				c = qGreen
			case x < w/2:
				c = qBlue
			default:
				c = qWhite
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// quadAt returns the colour at the centre of quadrant (qx, qy) of img, in
// 8-bit RGB over white.
func quadAt(img image.Image, qx, qy int) [3]uint8 {
	b := img.Bounds()
	x := b.Min.X + b.Dx()/4 + qx*b.Dx()/2
	y := b.Min.Y + b.Dy()/4 + qy*b.Dy()/2
	c := compositeColor(img.At(x, y))
	return [3]uint8{c[0], c[1], c[2]}
}

func near3(a [3]uint8, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a[0], b.R) <= tol && d(a[1], b.G) <= tol && d(a[2], b.B) <= tol
}

// checkQuads asserts the four quadrant colours of img.
func checkQuads(t *testing.T, name string, img image.Image, tl, tr, bl, br color.NRGBA, tol int) {
	t.Helper()
	want := [2][2]color.NRGBA{{tl, tr}, {bl, br}}
	for qy := 0; qy < 2; qy++ {
		for qx := 0; qx < 2; qx++ {
			if got := quadAt(img, qx, qy); !near3(got, want[qy][qx], tol) {
				t.Errorf("%s: quadrant (%d,%d) = %v, want %v", name, qx, qy, got, want[qy][qx])
			}
		}
	}
}

func encPNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encBMP(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encTIFF(t testing.TB, img image.Image, opt *tiff.Options) []byte {
	var b bytes.Buffer
	if err := tiff.Encode(&b, img, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cat2dog returns ../shared/data/cat2dog relative to the module root, or
// skips the test.
func cat2dog(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package folder; cannot locate ../shared/data/cat2dog")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", "cat2dog")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Skipf("real photos not found at %s (the shared cat2dog data set is absent); skipping", p)
	}
	return p
}
