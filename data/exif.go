package data

import (
	"encoding/binary"
	"image"
)

// jpegOrientation returns the EXIF orientation (1–8) recorded in the APP1
// segment of the JPEG whose first bytes are b, or 1 when there is none or
// it cannot be read. It only looks at the bytes it is given, never reads
// past them and never allocates.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 1
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // markers without a length
			i += 2
			continue
		case m == 0xDA || m == 0xD9: // start of scan, end of image: no EXIF before
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return 1
		}
		end := i + 2 + n
		if end > len(b) {
			return 1
		}
		if m == 0xE1 {
			seg := b[i+4 : end]
			if len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
				return tiffOrientation(seg[6:])
			}
		}
		i = end
	}
	return 1
}

// tiffOrientation reads tag 0x0112 (Orientation) from IFD0 of the TIFF
// structure t (the body of an EXIF segment).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	p := int(off) + 2
	for k := 0; k < count && p+12 <= len(t); k, p = k+1, p+12 {
		tag := bo.Uint16(t[p:])
		if tag != 0x0112 {
			continue
		}
		typ := bo.Uint16(t[p+2:])
		n := bo.Uint32(t[p+4:])
		if typ != 3 || n < 1 { // SHORT
			return 1
		}
		v := int(bo.Uint16(t[p+8:]))
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// orient converts img to opaque RGB and applies the EXIF orientation o
// (1–8), so that the result is upright. Orientations 5–8 swap width and
// height.
func orient(img image.Image, o int) *image.RGBA {
	src := ToRGB(img)
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*ow]
		for x := 0; x < ow; x++ {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = w-1-x, y
			case 3: // rotated 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored vertically
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // stored rotated 90° counter-clockwise: turn it clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // stored rotated 90° clockwise: turn it counter-clockwise
				sx, sy = w-1-y, x
			}
			s := sy*src.Stride + 4*sx
			copy(row[4*x:4*x+4], src.Pix[s:s+4])
		}
	}
	return dst
}
