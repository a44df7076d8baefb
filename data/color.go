package data

import (
	"image"
	"image/color"
)

// ToRGB converts any image to an opaque 8-bit RGB image: an *image.RGBA
// whose bounds start at (0, 0) and whose alpha is 255 everywhere.
// Transparent pixels are composited over white. Gray, Gray16, Paletted,
// RGBA, NRGBA, RGBA64, NRGBA64, CMYK, YCbCr and NYCbCrA images are all
// handled; *image.RGBA, *image.NRGBA, *image.YCbCr, *image.Gray,
// *image.Paletted and *image.CMYK take fast paths without per-pixel
// interface calls.
func ToRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	conv := rowConverter(img)
	for y := 0; y < h; y++ {
		conv(y, dst.Pix[y*dst.Stride:y*dst.Stride+4*w])
	}
	return dst
}

// rowConverter returns a function that writes row y (counted from the top
// of img.Bounds()) of img as opaque RGBA bytes (4 per pixel, alpha 255,
// composited over white) into out, which holds exactly 4×width bytes.
func rowConverter(img image.Image) func(y int, out []byte) {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.RGBA:
		return func(y int, out []byte) {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(out); x += 4 {
				s := src[x : x+4 : x+4]
				o := out[x : x+4 : x+4]
				a := s[3]
				if a == 0xff {
					o[0], o[1], o[2] = s[0], s[1], s[2]
				} else {
					t := 0xff - uint32(a)
					o[0], o[1], o[2] = sat8(uint32(s[0])+t), sat8(uint32(s[1])+t), sat8(uint32(s[2])+t)
				}
				o[3] = 0xff
			}
		}
	case *image.NRGBA:
		return func(y int, out []byte) {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(out); x += 4 {
				s := src[x : x+4 : x+4]
				o := out[x : x+4 : x+4]
				switch a := s[3]; a {
				case 0xff:
					o[0], o[1], o[2] = s[0], s[1], s[2]
				case 0:
					o[0], o[1], o[2] = 0xff, 0xff, 0xff
				default:
					a16 := uint32(a) * 0x101
					o[0] = overWhite(uint32(s[0])*0x101*a16/0xffff, a16)
					o[1] = overWhite(uint32(s[1])*0x101*a16/0xffff, a16)
					o[2] = overWhite(uint32(s[2])*0x101*a16/0xffff, a16)
				}
				o[3] = 0xff
			}
		}
	case *image.Gray:
		return func(y int, out []byte) {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			src := m.Pix[i : i+w]
			for x, v := range src {
				o := out[4*x : 4*x+4 : 4*x+4]
				o[0], o[1], o[2], o[3] = v, v, v, 0xff
			}
		}
	case *image.Paletted:
		var lut [256][4]byte
		for i := range lut {
			var c color.Color
			if i < len(m.Palette) {
				c = m.Palette[i]
			}
			lut[i] = compositeColor(c)
		}
		return func(y int, out []byte) {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			src := m.Pix[i : i+w]
			for x, v := range src {
				copy(out[4*x:4*x+4], lut[v][:])
			}
		}
	case *image.CMYK:
		return func(y int, out []byte) {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(out); x += 4 {
				s := src[x : x+4 : x+4]
				o := out[x : x+4 : x+4]
				k := 0xffff - uint32(s[3])*0x101
				o[0] = uint8((0xffff - uint32(s[0])*0x101) * k / 0xffff >> 8)
				o[1] = uint8((0xffff - uint32(s[1])*0x101) * k / 0xffff >> 8)
				o[2] = uint8((0xffff - uint32(s[2])*0x101) * k / 0xffff >> 8)
				o[3] = 0xff
			}
		}
	case *image.YCbCr:
		if f := ycbcrRows(m); f != nil {
			return f
		}
	}
	return genericRows(img)
}

// ycbcrRows is the fast path for *image.YCbCr, or nil for layouts it does
// not handle (unknown subsampling, negative coordinates).
func ycbcrRows(m *image.YCbCr) func(y int, out []byte) {
	var hs, vs uint
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	default:
		return nil
	}
	b := m.Rect
	if b.Min.X < 0 || b.Min.Y < 0 {
		return nil
	}
	w := b.Dx()
	return func(y int, out []byte) {
		ay := b.Min.Y + y
		yrow := m.Y[(ay-b.Min.Y)*m.YStride:]
		crow := (ay>>vs - b.Min.Y>>vs) * m.CStride
		cb := m.Cb[crow:]
		cr := m.Cr[crow:]
		c0 := b.Min.X >> hs
		for x := 0; x < w; x++ {
			ax := b.Min.X + x
			ci := ax>>hs - c0
			r, g, bb := ycc(yrow[x], cb[ci], cr[ci])
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = r, g, bb, 0xff
		}
	}
}

// ycc converts one JFIF YCbCr triple to RGB with the same 16.16 fixed-point
// arithmetic as image/color.YCbCrToRGB, so the fast path and the generic
// path agree exactly.
func ycc(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	return clamp16(yy + 91881*cr1), clamp16(yy - 22554*cb1 - 46802*cr1), clamp16(yy + 116130*cb1)
}

func clamp16(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v >= 1<<24 {
		return 0xff
	}
	return uint8(v >> 16)
}

func sat8(v uint32) uint8 {
	if v > 0xff {
		return 0xff
	}
	return uint8(v)
}

// overWhite composites a premultiplied 16-bit channel value c with 16-bit
// alpha a over white and returns the 8-bit result.
func overWhite(c, a uint32) uint8 {
	v := c + 0xffff - a
	if v > 0xffff {
		v = 0xffff
	}
	return uint8(v >> 8)
}

// compositeColor converts one colour to opaque RGBA bytes over white; a nil
// colour counts as transparent.
func compositeColor(c color.Color) [4]byte {
	if c == nil {
		return [4]byte{0xff, 0xff, 0xff, 0xff}
	}
	r, g, b, a := c.RGBA()
	return [4]byte{overWhite(r, a), overWhite(g, a), overWhite(b, a), 0xff}
}

// genericRows handles every other image type through the image.RGBA64Image
// interface when available, else through At.
func genericRows(img image.Image) func(y int, out []byte) {
	b := img.Bounds()
	w := b.Dx()
	if m, ok := img.(image.RGBA64Image); ok {
		return func(y int, out []byte) {
			for x := 0; x < w; x++ {
				c := m.RGBA64At(b.Min.X+x, b.Min.Y+y)
				a := uint32(c.A)
				o := out[4*x : 4*x+4 : 4*x+4]
				o[0], o[1], o[2], o[3] = overWhite(uint32(c.R), a), overWhite(uint32(c.G), a), overWhite(uint32(c.B), a), 0xff
			}
		}
	}
	return func(y int, out []byte) {
		for x := 0; x < w; x++ {
			c := compositeColor(img.At(b.Min.X+x, b.Min.Y+y))
			copy(out[4*x:4*x+4], c[:])
		}
	}
}
