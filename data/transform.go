package data

import (
	"fmt"
	"image"
	"math/rand/v2"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// Filter is the resampling filter used by Transform.
type Filter int

const (
	// CatmullRom is the Catmull-Rom cubic kernel (close to PIL's BICUBIC,
	// which the CycleGAN reference uses), antialiased when shrinking. It is
	// the default.
	CatmullRom Filter = iota
	// BiLinear is the tent kernel, antialiased when shrinking.
	BiLinear
)

func (f Filter) kernel() *draw.Kernel {
	if f == BiLinear {
		return draw.BiLinear
	}
	return draw.CatmullRom
}

// useTransform chooses between the two resampling paths by their estimated
// work: the separable scaler filters every source row across the whole
// resized width, then the crop's rows; the affine transformer filters each
// crop pixel with a 2-D kernel. Both are antialiased.
func (t Transform) useTransform(sw, sh, rw, rh int) bool {
	c := float64(t.CropSize)
	taps := 2 * t.Filter.kernel().Support * max(1, float64(sh)/float64(rh))
	separable := float64(rw)*float64(sh)*taps + c*c*taps
	affine := c * c * taps * taps
	return affine < separable
}

// String returns the filter's name.
func (f Filter) String() string {
	if f == BiLinear {
		return "bilinear"
	}
	return "catmull-rom"
}

// Transform is the CycleGAN reference augmentation ("resize_and_crop"):
// resize so that the shorter side is LoadSize (keeping the aspect ratio),
// crop a CropSize×CropSize square at a random position, and flip it
// horizontally with probability ½. In Eval mode the crop is centred and
// never flipped. Note that the PyTorch reference squashes images to
// LoadSize×LoadSize instead of keeping their aspect ratio.
type Transform struct {
	LoadSize int    // shorter side after resizing; 0 means CropSize
	CropSize int    // side of the square output; must be > 0
	NoFlip   bool   // never flip
	Eval     bool   // centre crop, no flip, no randomness
	Filter   Filter // resampling filter (CatmullRom by default)
}

func (t Transform) loadSize() int {
	if t.LoadSize == 0 {
		return t.CropSize
	}
	return t.LoadSize
}

// Validate reports whether the sizes make sense.
func (t Transform) Validate() error {
	if t.CropSize <= 0 {
		return fmt.Errorf("data: crop size %d must be positive", t.CropSize)
	}
	if t.loadSize() < t.CropSize {
		return fmt.Errorf("data: load size %d is smaller than the crop size %d", t.LoadSize, t.CropSize)
	}
	return nil
}

// SampleLen returns the number of float32 values of one output sample,
// 3×CropSize×CropSize.
func (t Transform) SampleLen() int { return 3 * t.CropSize * t.CropSize }

// resizedSize returns the size after scaling the shorter side of a w×h
// image to s, computing the longer side as torchvision's Resize(int) does
// (truncating s×long/short).
func resizedSize(w, h, s int) (int, int) {
	if w <= h {
		return s, int(int64(s) * int64(h) / int64(w))
	}
	return int(int64(s) * int64(w) / int64(h)), s
}

// Apply resizes, crops and flips img and writes the result as a 3×C×C
// tensor in [−1, 1] into dst (C = CropSize, len(dst) ≥ SampleLen()). The
// random choices (crop offset, flip) are drawn from rng, which may be nil in
// Eval mode or when the resized image is exactly C×C and NoFlip is set.
func (t Transform) Apply(img image.Image, rng *rand.Rand, dst []float32) error {
	if err := t.Validate(); err != nil {
		return err
	}
	crop, flip := t.Crop(img, rng)
	toCHW(crop, dst, flip)
	return nil
}

// Crop does the resizing and cropping of Apply and returns the C×C crop as
// an opaque RGB image, with whether it should be flipped (the flip itself
// is not applied). It panics if t is not valid.
func (t Transform) Crop(img image.Image, rng *rand.Rand) (*image.RGBA, bool) {
	if err := t.Validate(); err != nil {
		panic(err)
	}
	c := t.CropSize
	b := img.Bounds()
	rw, rh := resizedSize(b.Dx(), b.Dy(), t.loadSize())
	var cx, cy int
	flip := false
	if t.Eval {
		cx, cy = (rw-c)/2, (rh-c)/2
	} else {
		// Draw in a fixed order so the stream is reproducible.
		cx = intn(rng, rw-c+1)
		cy = intn(rng, rh-c+1)
		if !t.NoFlip {
			flip = intn(rng, 2) == 1
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, c, c))
	t.resample(out, img, cx, cy, rw, rh, t.useTransform(b.Dx(), b.Dy(), rw, rh))
	if !out.Opaque() {
		// Composite over white, so callers always get opaque RGB.
		conv := rowConverter(out)
		for y := 0; y < c; y++ {
			conv(y, out.Pix[y*out.Stride:y*out.Stride+4*c])
		}
	}
	return out, flip
}

// resample draws the window at (cx, cy) of img resized to rw×rh into out,
// with the affine transformer or the separable scaler.
func (t Transform) resample(out *image.RGBA, img image.Image, cx, cy, rw, rh int, affine bool) {
	b := img.Bounds()
	switch {
	case rw == b.Dx() && rh == b.Dy():
		// No resampling needed: copy the window.
		draw.Draw(out, out.Rect, img, b.Min.Add(image.Pt(cx, cy)), draw.Src)
	case affine:
		// Very elongated images: map the source straight onto the crop
		// window with an affine transform, whose work is bounded by the
		// crop size (the separable scaler's first pass would cover the
		// whole resized width).
		sx := float64(rw) / float64(b.Dx())
		sy := float64(rh) / float64(b.Dy())
		s2d := f64.Aff3{
			sx, 0, -float64(b.Min.X)*sx - float64(cx),
			0, sy, -float64(b.Min.Y)*sy - float64(cy),
		}
		t.Filter.kernel().Transform(out, s2d, img, b, draw.Src, nil)
	default:
		// Scale the whole image into a rectangle offset so that only the
		// crop window lands inside out; the scaler skips the rest of the
		// second (vertical) pass.
		dr := image.Rect(-cx, -cy, rw-cx, rh-cy)
		t.Filter.kernel().Scale(out, dr, img, b, draw.Src, nil)
	}
}
