package data

import (
	"fmt"
	"image"
)

// toFloat maps an 8-bit value v to (v/255 − 0.5)/0.5 computed in float32,
// exactly as PyTorch's ToTensor followed by Normalize(0.5, 0.5).
var toFloat = func() (t [256]float32) {
	for v := range t {
		t[v] = (float32(v)/255 - 0.5) / 0.5
	}
	return t
}()

// ToCHW writes img as a 3×H×W tensor in CHW order into dst (len(dst) must be
// at least 3×H×W, where H×W is img.Bounds().Size(); it panics otherwise),
// with values in [−1, 1]: v/255 normalised by mean 0.5 and std 0.5, as
// PyTorch's ToTensor + Normalize(0.5, 0.5). Transparent pixels are
// composited over white.
func ToCHW(img image.Image, dst []float32) {
	toCHW(img, dst, false)
}

// toCHW is ToCHW with an optional horizontal flip.
func toCHW(img image.Image, dst []float32, flip bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	if len(dst) < 3*n {
		panic(fmt.Sprintf("data.ToCHW: dst holds %d values, a %d×%d image needs %d", len(dst), w, h, 3*n))
	}
	r, g, bl := dst[:n], dst[n:2*n], dst[2*n:3*n]
	var row []byte
	var conv func(int, []byte)
	rgba, direct := img.(*image.RGBA)
	if direct {
		// Opaque RGBA (the output of ToRGB and Transform) is read in place.
		direct = rgba.Opaque()
	}
	if !direct {
		row = make([]byte, 4*w)
		conv = rowConverter(img)
	}
	for y := 0; y < h; y++ {
		if direct {
			i := rgba.PixOffset(b.Min.X, b.Min.Y+y)
			row = rgba.Pix[i : i+4*w]
		} else {
			conv(y, row)
		}
		rr, gg, bb := r[y*w:(y+1)*w], g[y*w:(y+1)*w], bl[y*w:(y+1)*w]
		if flip {
			for x := 0; x < w; x++ {
				p := row[4*(w-1-x) : 4*(w-1-x)+3 : 4*(w-1-x)+3]
				rr[x], gg[x], bb[x] = toFloat[p[0]], toFloat[p[1]], toFloat[p[2]]
			}
		} else {
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+3 : 4*x+3]
				rr[x], gg[x], bb[x] = toFloat[p[0]], toFloat[p[1]], toFloat[p[2]]
			}
		}
	}
}

// FromCHW converts a 3×h×w CHW tensor with values in [−1, 1] back to an
// opaque 8-bit image: each value v becomes round((v+1)×127.5), clamped to
// [0, 255] (NaN becomes 0). It panics if src holds fewer than 3×h×w values.
// FromCHW inverts ToCHW exactly for every 8-bit value.
func FromCHW(src []float32, h, w int) *image.NRGBA {
	n := h * w
	if h < 0 || w < 0 || len(src) < 3*n {
		panic(fmt.Sprintf("data.FromCHW: src holds %d values, a %d×%d image needs %d", len(src), w, h, 3*n))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for c := 0; c < 3; c++ {
		plane := src[c*n : (c+1)*n]
		for i, v := range plane {
			img.Pix[4*i+c] = toByte(v)
		}
	}
	for i := 0; i < n; i++ {
		img.Pix[4*i+3] = 0xff
	}
	return img
}

func toByte(v float32) uint8 {
	f := (float64(v) + 1) * 127.5
	if !(f > 0) { // also NaN
		return 0
	}
	if f >= 255 {
		return 0xff
	}
	return uint8(f + 0.5)
}
