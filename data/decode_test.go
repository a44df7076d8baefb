package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

func TestDecodeFormats(t *testing.T) {
	q := quadImage(32, 16)
	gray := image.NewGray(q.Rect)
	gray16 := image.NewGray16(q.Rect)
	rgba64 := image.NewRGBA64(q.Rect)
	pal := image.NewPaletted(q.Rect, palette.Plan9)
	for y := 0; y < 16; y++ {
		for x := 0; x < 32; x++ {
			c := q.At(x, y)
			gray.Set(x, y, c)
			gray16.Set(x, y, c)
			rgba64.Set(x, y, c)
			pal.Set(x, y, c)
		}
	}
	gray16lum := func(c color.NRGBA) color.NRGBA {
		g := color.GrayModel.Convert(c).(color.Gray).Y
		return color.NRGBA{g, g, g, 255}
	}
	cases := []struct {
		name, format string
		data         []byte
		gray         bool
		tol          int
	}{
		{"nrgba.png", "png", encPNG(t, q), false, 0},
		{"gray.png", "png", encPNG(t, gray), true, 0},
		{"gray16.png", "png", encPNG(t, gray16), true, 0},
		{"rgba64.png", "png", encPNG(t, rgba64), false, 0},
		{"palette.png", "png", encPNG(t, pal), false, 0},
		{"ycbcr.jpg", "jpeg", encJPEG(t, q), false, 40},
		{"gray.jpg", "jpeg", encJPEG(t, gray), true, 8},
		{"plain.gif", "gif", encGIF(t, q), false, 0},
		{"plain.bmp", "bmp", encBMP(t, q), false, 0},
		{"plain.tif", "tiff", encTIFF(t, q, nil), false, 0},
		{"deflate.tif", "tiff", encTIFF(t, q, &tiff.Options{Compression: tiff.Deflate}), false, 0},
		{"quad-lossless.webp", "webp", readFixture(t, "quad-lossless.webp"), false, 0},
		{"quad-lossy.webp", "webp", readFixture(t, "quad-lossy.webp"), false, 40},
		{"quad-cmyk.jpg", "jpeg", readFixture(t, "quad-cmyk.jpg"), false, 40},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, format, err := Decode(bytes.NewReader(c.data), DecodeOptions{Name: c.name})
			if err != nil {
				t.Fatal(err)
			}
			if format != c.format {
				t.Errorf("format %q, want %q", format, c.format)
			}
			tl, tr, bl, br := qRed, qGreen, qBlue, qWhite
			if c.gray {
				tl, tr, bl, br = gray16lum(tl), gray16lum(tr), gray16lum(bl), gray16lum(br)
			}
			checkQuads(t, c.name, img, tl, tr, bl, br, c.tol)
			// Through ToRGB too, which takes the type's fast path.
			checkQuads(t, c.name+" ToRGB", ToRGB(img), tl, tr, bl, br, c.tol)
			// And from a file.
			p := writeFile(t, dir, c.name, c.data)
			img2, err := DecodeFile(p, DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if img2.Bounds() != img.Bounds() {
				t.Errorf("DecodeFile bounds %v, Decode %v", img2.Bounds(), img.Bounds())
			}
		})
	}
}

func readFixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCMYKIsCMYK(t *testing.T) {
	img, _, err := Decode(bytes.NewReader(readFixture(t, "quad-cmyk.jpg")), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := img.(*image.CMYK); !ok {
		t.Fatalf("the CMYK fixture decoded as %T, want *image.CMYK (the conversion path would go untested)", img)
	}
}

func TestDecodeWebPAlpha(t *testing.T) {
	// The right half of quad-alpha.webp is fully transparent: white after
	// compositing.
	img, _, err := Decode(bytes.NewReader(readFixture(t, "quad-alpha.webp")), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "alpha", ToRGB(img), qRed, qWhite, qBlue, qWhite, 0)
}

func TestDecodeAnimatedGIFFirstFrame(t *testing.T) {
	var frames []*image.Paletted
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	for i := 0; i < 3; i++ {
		f := image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
		for k := range f.Pix {
			f.Pix[k] = uint8(i % 2)
		}
		frames = append(frames, f)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: frames, Delay: []int{1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	img, format, err := Decode(&b, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if format != "gif" {
		t.Errorf("format %q", format)
	}
	if c := ToRGB(img).RGBAAt(4, 4); c != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("first frame pixel %v, want red", c)
	}
}

// exifJPEG inserts an APP1 Exif segment with the given orientation into a
// JPEG, right after SOI.
func exifJPEG(jpg []byte, orientation uint16, bo binary.ByteOrder) []byte {
	var tiffHdr bytes.Buffer
	if bo == binary.LittleEndian {
		tiffHdr.WriteString("II")
	} else {
		tiffHdr.WriteString("MM")
	}
	w := func(v any) { binary.Write(&tiffHdr, bo, v) }
	w(uint16(42))
	w(uint32(8))
	w(uint16(2)) // two entries: an unrelated one, then Orientation
	w(uint16(0x010F))
	w(uint16(2))
	w(uint32(4))
	tiffHdr.WriteString("Go\x00\x00")
	w(uint16(0x0112))
	w(uint16(3))
	w(uint32(1))
	w(orientation)
	w(uint16(0))
	w(uint32(0))
	payload := append([]byte("Exif\x00\x00"), tiffHdr.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func TestEXIFOrientation(t *testing.T) {
	jpg := encJPEG(t, quadImage(64, 32))
	// What each stored corner becomes, from the EXIF specification: value
	// 1..8 says where the stored 0th row and 0th column are displayed.
	R, G, B, W := qRed, qGreen, qBlue, qWhite // stored TL, TR, BL, BR
	want := map[uint16][4]color.NRGBA{        // displayed TL, TR, BL, BR
		1: {R, G, B, W}, // row0 top, col0 left
		2: {G, R, W, B}, // row0 top, col0 right
		3: {W, B, G, R}, // row0 bottom, col0 right
		4: {B, W, R, G}, // row0 bottom, col0 left
		5: {R, B, G, W}, // row0 left, col0 top
		6: {B, R, W, G}, // row0 right, col0 top
		7: {W, G, B, R}, // row0 right, col0 bottom
		8: {G, W, R, B}, // row0 left, col0 bottom
	}
	for o := uint16(1); o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			img, _, err := Decode(bytes.NewReader(exifJPEG(jpg, o, bo)), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantW, wantH := 64, 32
			if o >= 5 {
				wantW, wantH = 32, 64
			}
			if s := img.Bounds().Size(); s.X != wantW || s.Y != wantH {
				t.Errorf("orientation %d: size %v, want %dx%d", o, s, wantW, wantH)
			}
			w := want[o]
			checkQuads(t, "orientation "+string(rune('0'+o)), img, w[0], w[1], w[2], w[3], 40)
		}
	}
	// IgnoreOrientation keeps the stored layout.
	img, _, err := Decode(bytes.NewReader(exifJPEG(jpg, 6, binary.BigEndian)), DecodeOptions{IgnoreOrientation: true})
	if err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "ignored", img, R, G, B, W, 40)
	// Invalid orientation values and a broken segment are ignored.
	for _, o := range []uint16{0, 9, 0xFFFF} {
		img, _, err := Decode(bytes.NewReader(exifJPEG(jpg, o, binary.BigEndian)), DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkQuads(t, "invalid orientation", img, R, G, B, W, 40)
	}
}

func TestJPEGOrientationParserIsDefensive(t *testing.T) {
	good := exifJPEG(encJPEG(t, quadImage(16, 16)), 6, binary.BigEndian)
	if got := jpegOrientation(good); got != 6 {
		t.Fatalf("orientation %d, want 6", got)
	}
	// Every prefix, and every single-byte corruption of the segment, must
	// return 1..8 without panicking.
	for n := 0; n < 80; n++ {
		if o := jpegOrientation(good[:n]); o < 1 || o > 8 {
			t.Fatalf("prefix %d: orientation %d", n, o)
		}
	}
	for i := 2; i < 60; i++ {
		for _, v := range []byte{0, 0xFF, 0x7F} {
			b := append([]byte{}, good[:80]...)
			b[i] = v
			if o := jpegOrientation(b); o < 1 || o > 8 {
				t.Fatalf("corrupt byte %d: orientation %d", i, o)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	q := quadImage(64, 64)
	dir := t.TempDir()
	half := func(b []byte) []byte { return b[:len(b)/2] }
	cases := []struct {
		file   string
		data   []byte
		kind   error
		reason string
	}{
		{"empty.jpg", nil, ErrEmpty, "empty file (0 bytes)"},
		{"notes.txt", []byte("hello, these are notes\n"), ErrUnknownFormat, "not an image (unknown format)"},
		{"fake.jpg", []byte("GIF? no, plain text pretending\n"), ErrUnknownFormat, "not an image (unknown format)"},
		{"cat.jpg", half(encJPEG(t, q)), ErrTruncated, "truncated JPEG data"},
		{"cat.png", half(encPNG(t, q)), ErrTruncated, "truncated PNG data"},
		{"cat.gif", half(encGIF(t, q)), ErrTruncated, "truncated GIF data"},
		{"cat.bmp", half(encBMP(t, q)), ErrTruncated, "truncated BMP data"},
		{"cat.tif", half(encTIFF(t, q, nil)), ErrTruncated, "truncated TIFF data"},
		{"cat.webp", readFixture(t, "quad-lossy.webp")[:60], ErrTruncated, "truncated WebP data"},
		{"header.jpg", encJPEG(t, q)[:3], ErrTruncated, "truncated JPEG data"},
		{"corrupt.png", corruptPNG(encPNG(t, q)), ErrCorrupt, "corrupt PNG data"},
	}
	for _, c := range cases {
		p := writeFile(t, dir, c.file, c.data)
		_, err := DecodeFile(p, DecodeOptions{})
		if err == nil {
			t.Errorf("%s: no error", c.file)
			continue
		}
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: error %q is not %v", c.file, err, c.kind)
		}
		if !strings.HasPrefix(err.Error(), p+": "+c.reason) {
			t.Errorf("%s: error %q, want prefix %q", c.file, err, p+": "+c.reason)
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Name != p {
			t.Errorf("%s: not a *DecodeError naming the file: %#v", c.file, err)
		}
	}
}

// corruptPNG flips bytes in the middle of the compressed data.
func corruptPNG(b []byte) []byte {
	c := append([]byte{}, b...)
	for i := len(c) / 2; i < len(c)/2+8; i++ {
		c[i] ^= 0x5A
	}
	return c
}

func TestDecodeWrongExtension(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "really-a-png.jpg", encPNG(t, quadImage(8, 8)))
	img, err := DecodeFile(p, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "png named .jpg", img, qRed, qGreen, qBlue, qWhite, 0)
	_, format, err := Decode(bytes.NewReader(encGIF(t, quadImage(8, 8))), DecodeOptions{Name: "x.png"})
	if err != nil || format != "gif" {
		t.Fatalf("format %q, err %v", format, err)
	}
}

func TestDecodeMissingAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.jpg")
	_, err := DecodeFile(missing, DecodeOptions{})
	if !errors.Is(err, ErrRead) || !strings.HasPrefix(err.Error(), missing+": cannot read file: ") {
		t.Errorf("missing file: %v", err)
	}
	_, err = DecodeFile(dir, DecodeOptions{})
	if !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder: %v", err)
	}
	// A reader that fails mid-way.
	_, _, err = Decode(io.MultiReader(bytes.NewReader(encPNG(t, quadImage(64, 64))[:40]), failingReader{}), DecodeOptions{Name: "upload.png"})
	if err == nil || !strings.HasPrefix(err.Error(), "upload.png: ") {
		t.Errorf("failing reader: %v", err)
	}
	_, _, err = Decode(failingReader{}, DecodeOptions{Name: "upload.png"})
	if !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing reader at start: %v", err)
	}

	p := writeFile(t, dir, "locked.png", encPNG(t, quadImage(8, 8)))
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(p); err == nil {
		f.Close()
		t.Skip("running with privileges that read a chmod-000 file (root?); the unreadable-file case cannot be tested")
	}
	_, err = DecodeFile(p, DecodeOptions{})
	if !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("unreadable: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// pngHeader returns a PNG signature and IHDR claiming w×h RGB pixels, with
// no image data.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // 8-bit RGB
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
	return append(b, make([]byte, 64)...) // junk where IDAT should be
}

func TestDecodePixelLimit(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "huge.png", pngHeader(100000, 100000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := DecodeFile(p, DecodeOptions{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if want := p + ": 100000×100000 pixels is over the 50-megapixel limit"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the header allocated %d bytes", alloc)
	}
	// A custom limit, just over and just under.
	small := encPNG(t, quadImage(100, 50))
	if _, _, err := Decode(bytes.NewReader(small), DecodeOptions{MaxPixels: 4999, Name: "s.png"}); !errors.Is(err, ErrTooLarge) ||
		err.Error() != "s.png: 100×50 pixels is over the 4999-pixel limit" {
		t.Errorf("limit 4999: %v", err)
	}
	if _, _, err := Decode(bytes.NewReader(small), DecodeOptions{MaxPixels: 5000}); err != nil {
		t.Errorf("limit 5000: %v", err)
	}
	if _, _, err := Decode(bytes.NewReader(small), DecodeOptions{MaxPixels: -1}); err != nil {
		t.Errorf("no limit: %v", err)
	}
	// Zero-sized images are refused as corrupt.
	if _, _, err := Decode(bytes.NewReader(pngHeader(0, 10)), DecodeOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("0×10: %v", err)
	}
}

func TestDecodeRecoversFromPanics(t *testing.T) {
	c := &codec{name: "png", label: "PNG",
		config: func(io.Reader) (image.Config, error) { panic("boom") }}
	err := safely(func() error { _, err := c.config(nil); return err })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic not turned into an error: %v", err)
	}
	if de := classify(c, err); !errors.Is(de, ErrCorrupt) {
		t.Errorf("decoder panic classified as %v", de.Kind)
	}
}

func TestDecodeHostileTIFFOffset(t *testing.T) {
	// A TIFF header whose first IFD is 4 GB into a 64-byte file: the decoder
	// must fail without sizing a buffer by that offset.
	b := append([]byte("II*\x00"), 0x01, 0x00, 0x00, 0xff)
	b = append(b, make([]byte, 56)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := Decode(bytes.NewReader(b), DecodeOptions{Name: "evil.tif"})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(err.Error(), "evil.tif: ") {
		t.Fatalf("error %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// bmp8 returns an 8-bit BMP of w×h pixels (w a multiple of 4) with a
// two-colour palette whose pixels all use index idx.
func bmp8(w, h int, idx byte) []byte {
	le := binary.LittleEndian
	b := []byte("BM")
	b = le.AppendUint32(b, uint32(62+w*h))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 62)
	b = le.AppendUint32(b, 40)
	b = le.AppendUint32(b, uint32(w))
	b = le.AppendUint32(b, uint32(h))
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 8)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(w*h))
	b = le.AppendUint32(b, 2835)
	b = le.AppendUint32(b, 2835)
	b = le.AppendUint32(b, 2) // colours used
	b = le.AppendUint32(b, 0)
	b = append(b, 0, 0, 255, 0, 255, 0, 0, 0) // red, blue (BGRx)
	for i := 0; i < w*h; i++ {
		b = append(b, idx)
	}
	return b
}

func TestDecodePaletteIndexOutOfRange(t *testing.T) {
	// Index 1 is blue; index 200 is past the two-colour palette, which
	// image.Paletted.At would panic on. Decode pads the palette with black.
	img, _, err := Decode(bytes.NewReader(bmp8(8, 4, 1)), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "in range", img, qBlue, qBlue, qBlue, qBlue, 0)
	img, _, err = Decode(bytes.NewReader(bmp8(8, 4, 200)), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	black := color.NRGBA{0, 0, 0, 255}
	checkQuads(t, "out of range", img, black, black, black, black, 0)
	tr := Transform{LoadSize: 6, CropSize: 4}
	if err := tr.Apply(img, newRand(1, 2, 3), make([]float32, tr.SampleLen())); err != nil {
		t.Fatal(err)
	}
}

// hostileWebP returns a WebP whose VP8X header claims a 1×1 canvas while
// its VP8 (lossy) or VP8L (lossless) frame header claims 16383×16383.
func hostileWebP(lossless bool) []byte {
	le := binary.LittleEndian
	chunk := func(id string, payload []byte) []byte {
		b := append([]byte(id), le.AppendUint32(nil, uint32(len(payload)))...)
		b = append(b, payload...)
		if len(payload)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	vp8x := chunk("VP8X", make([]byte, 10)) // no flags, canvas 1×1
	var frame []byte
	if lossless {
		p := []byte{0x2f}
		p = le.AppendUint32(p, uint32(16382)|uint32(16382)<<14)
		frame = chunk("VP8L", append(p, make([]byte, 32)...))
	} else {
		p := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a} // key frame, start code
		p = le.AppendUint16(p, 16383)
		p = le.AppendUint16(p, 16383)
		frame = chunk("VP8 ", append(p, make([]byte, 32)...))
	}
	body := append([]byte("WEBP"), append(vp8x, frame...)...)
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...), body...)
}

func TestDecodeHostileWebPFrameSize(t *testing.T) {
	for _, lossless := range []bool{false, true} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Decode(bytes.NewReader(hostileWebP(lossless)), DecodeOptions{Name: "evil.webp"})
		runtime.ReadMemStats(&after)
		if want := "evil.webp: 16383×16383 pixels is over the 50-megapixel limit"; !errors.Is(err, ErrTooLarge) || err.Error() != want {
			t.Fatalf("lossless=%v: error %v, want %q", lossless, err, want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("lossless=%v: allocated %d bytes (%v)", lossless, alloc, err)
		}
	}
}
