package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// fuzzMaxPixels keeps each fuzz input's pixel memory small.
const fuzzMaxPixels = 1 << 16

// FuzzDecode feeds arbitrary bytes to Decode: it must never panic, must
// return either an image within the pixel limit or a *DecodeError, and
// must not allocate much more than the limit allows.
func FuzzDecode(f *testing.F) {
	q := quadImage(12, 8)
	f.Add(encPNG(f, q))
	f.Add(encJPEG(f, q))
	f.Add(encGIF(f, q))
	f.Add(encBMP(f, q))
	f.Add(encTIFF(f, q, nil))
	f.Add(exifJPEG(encJPEG(f, q), 6, binary.LittleEndian))
	f.Add(pngHeader(100000, 100000))
	f.Add(hostileWebP(false))
	f.Add(hostileWebP(true))
	f.Add(bmp8(8, 4, 200))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		img, format, err := Decode(bytes.NewReader(data), DecodeOptions{MaxPixels: fuzzMaxPixels, Name: "fuzz"})
		runtime.ReadMemStats(&after)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Name != "fuzz" || de.Kind == nil {
				t.Fatalf("error %v (%T) is not a *DecodeError naming the input", err, err)
			}
			if img != nil {
				t.Fatal("image and error both returned")
			}
		} else {
			b := img.Bounds()
			if b.Empty() || int64(b.Dx())*int64(b.Dy()) > fuzzMaxPixels {
				t.Fatalf("%s image of %v passed the %d-pixel limit", format, b, fuzzMaxPixels)
			}
			ToRGB(img) // every decoded image converts
			tr := Transform{LoadSize: 8, CropSize: 8}
			tr.Apply(img, newRand(1, 2, 3), make([]float32, tr.SampleLen()))
		}
		// Pixel memory is bounded by the limit: 8 bytes per pixel (RGBA64)
		// plus orientation and conversion copies, per-input overheads
		// proportional to the input size, and a constant: x/image/tiff reads
		// large IFD entries and strips through one 10 MiB chunk buffer.
		limit := uint64(64*fuzzMaxPixels + 64*len(data) + 16<<20)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes (limit %d)", len(data), alloc, limit)
		}
	})
}
