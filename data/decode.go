package data

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel limit used when DecodeOptions.MaxPixels is 0:
// 50 megapixels.
const DefaultMaxPixels = 50_000_000

// DecodeOptions controls Decode and DecodeFile.
type DecodeOptions struct {
	// MaxPixels refuses images whose header claims more than this many
	// pixels (width×height), before any pixel memory is allocated.
	// 0 means DefaultMaxPixels; a negative value means no limit.
	MaxPixels int64
	// Name is used in error messages by Decode (DecodeFile uses the path).
	// Empty means "image".
	Name string
	// IgnoreOrientation disables the JPEG EXIF orientation correction.
	IgnoreOrientation bool
}

func (o DecodeOptions) maxPixels() int64 {
	if o.MaxPixels == 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Sentinel errors that a *DecodeError matches with errors.Is, one per kind
// of problem.
var (
	ErrEmpty         = errors.New("empty file")
	ErrUnknownFormat = errors.New("not an image (unknown format)")
	ErrTruncated     = errors.New("truncated image data")
	ErrCorrupt       = errors.New("corrupt image data")
	ErrUnsupported   = errors.New("unsupported image feature")
	ErrTooLarge      = errors.New("image over the pixel limit")
	ErrRead          = errors.New("cannot read file")
)

// DecodeError is the error returned by Decode and DecodeFile. Its message
// names the file and says what is wrong in plain words, for example
// "cat.jpg: truncated JPEG data".
type DecodeError struct {
	Name   string // file path, or DecodeOptions.Name
	Format string // "jpeg", "png", ... when the content was recognised
	Kind   error  // one of the Err* sentinels
	Reason string // plain-words description
	Err    error  // underlying error, may be nil
}

// Error implements error.
func (e *DecodeError) Error() string { return e.Name + ": " + e.Reason }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is the error's kind (one of the Err* sentinels).
func (e *DecodeError) Is(target error) bool { return target == e.Kind }

type codec struct {
	name   string // "jpeg"
	label  string // "JPEG"
	match  func(b []byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
	// randomAccess formats are read whole into memory first and decoded
	// from a bytes.Reader: TIFF's decoder, given a plain io.Reader, sizes
	// its buffer by offsets read from the header (so a 400-byte file could
	// make it allocate gigabytes); given an io.ReaderAt it reads in place.
	randomAccess bool
	// innerSize, when set, returns the size claimed by headers that
	// DecodeConfig does not check (WebP frames inside a VP8X container),
	// from the whole file.
	innerSize func(b []byte) (w, h int, ok bool)
}

var codecs = []codec{
	{"jpeg", "JPEG", func(b []byte) bool { return len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF },
		jpeg.DecodeConfig, jpeg.Decode, false, nil},
	{"png", "PNG", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		png.DecodeConfig, png.Decode, false, nil},
	{"gif", "GIF", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}, gif.DecodeConfig, gif.Decode, false, nil},
	{"bmp", "BMP", func(b []byte) bool { return bytes.HasPrefix(b, []byte("BM")) },
		bmp.DecodeConfig, bmp.Decode, false, nil},
	{"webp", "WebP", func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}, webp.DecodeConfig, webp.Decode, true, webpFrameSize},
	{"tiff", "TIFF", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
	}, tiff.DecodeConfig, tiff.Decode, true, nil},
}

// sniff returns the codec whose magic bytes start b, or nil.
func sniff(b []byte) *codec {
	for i := range codecs {
		if codecs[i].match(b) {
			return &codecs[i]
		}
	}
	return nil
}

// DecodeFile decodes the image file at path, recognising the format from its
// content (not its extension). See Decode for the checks it makes. Errors
// are *DecodeError values that name the path.
func DecodeFile(path string, opt DecodeOptions) (image.Image, error) {
	opt.Name = path
	f, err := os.Open(path)
	if err != nil {
		return nil, &DecodeError{Name: path, Kind: ErrRead, Reason: "cannot read file: " + plainOSError(err), Err: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, &DecodeError{Name: path, Kind: ErrRead, Reason: "is a folder, not an image file"}
	}
	img, _, err := Decode(f, opt)
	return img, err
}

func plainOSError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Decode reads one image from r. It recognises JPEG, PNG, GIF (first frame),
// BMP, WebP and TIFF by their content, checks the size that the header
// claims against opt.MaxPixels before decoding, rotates JPEGs upright
// according to their EXIF orientation (such images come back as
// *image.RGBA), and never panics: a decoder panic is reported as corrupt
// data. It returns the image and the format name ("jpeg", "png", "gif",
// "bmp", "webp" or "tiff"). Errors are *DecodeError values whose message
// starts with opt.Name.
func Decode(r io.Reader, opt DecodeOptions) (image.Image, string, error) {
	name := opt.Name
	if name == "" {
		name = "image"
	}
	img, format, err := decode(r, opt)
	if err != nil {
		err.Name = name
		return nil, format, err
	}
	return img, format, nil
}

// recorder keeps a copy of what the header parser read, so the full
// decoder can be fed the same bytes again without seeking.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

func decode(r io.Reader, opt DecodeOptions) (img image.Image, format string, derr *DecodeError) {
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(16)
	if len(head) == 0 {
		if err == nil || err == io.EOF {
			return nil, "", &DecodeError{Kind: ErrEmpty, Reason: "empty file (0 bytes)"}
		}
		return nil, "", &DecodeError{Kind: ErrRead, Reason: "cannot read: " + plainOSError(err), Err: err}
	}
	if err != nil && err != io.EOF {
		return nil, "", &DecodeError{Kind: ErrRead, Reason: "cannot read: " + plainOSError(err), Err: err}
	}
	c := sniff(head)
	if c == nil {
		return nil, "", &DecodeError{Kind: ErrUnknownFormat, Reason: "not an image (unknown format)"}
	}
	format = c.name

	// cfgSrc feeds the header parser; full, built below, the decoder.
	var cfgSrc io.Reader
	var all []byte    // the whole input, for random-access formats
	var rec *recorder // the bytes the header parser read, for the others
	if c.randomAccess {
		all, err = io.ReadAll(br)
		if err != nil {
			return nil, format, &DecodeError{Format: format, Kind: ErrRead, Reason: "cannot read: " + plainOSError(err), Err: err}
		}
		cfgSrc = bytes.NewReader(all) // an io.ReaderAt, read in place
	} else {
		rec = &recorder{r: br}
		cfgSrc = rec
	}
	var cfg image.Config
	if err := safely(func() error {
		var err error
		cfg, err = c.config(cfgSrc)
		return err
	}); err != nil {
		return nil, format, classify(c, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, &DecodeError{Format: format, Kind: ErrCorrupt,
			Reason: fmt.Sprintf("corrupt %s data: the header says %d×%d pixels", c.label, cfg.Width, cfg.Height)}
	}
	if c.innerSize != nil {
		if w, h, ok := c.innerSize(all); ok && int64(w)*int64(h) > int64(cfg.Width)*int64(cfg.Height) {
			cfg.Width, cfg.Height = w, h
		}
	}
	if maxp := opt.maxPixels(); maxp > 0 && int64(cfg.Width) > maxp/int64(cfg.Height) {
		return nil, format, &DecodeError{Format: format, Kind: ErrTooLarge,
			Reason: fmt.Sprintf("%d×%d pixels is over the %s limit", cfg.Width, cfg.Height, megapixels(maxp))}
	}
	orientation := 1
	if c.name == "jpeg" && !opt.IgnoreOrientation {
		orientation = jpegOrientation(rec.buf)
	}

	var full io.Reader
	if c.randomAccess {
		full = bytes.NewReader(all)
	} else {
		full = io.MultiReader(bytes.NewReader(rec.buf), br)
	}
	if err := safely(func() error {
		var err error
		img, err = c.decode(full)
		return err
	}); err != nil {
		return nil, format, classify(c, err)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, format, &DecodeError{Format: format, Kind: ErrCorrupt,
			Reason: fmt.Sprintf("corrupt %s data: decoded image has no pixels", c.label)}
	}
	if p, ok := img.(*image.Paletted); ok {
		padPalette(p)
	}
	if orientation != 1 {
		img = orient(img, orientation)
	}
	return img, format, nil
}

// padPalette makes every pixel index of p valid: some decoders (BMP) keep
// indices past the end of a short palette, which image.Paletted.At would
// panic on. Missing entries become opaque black, as in the PNG decoder; nil
// entries too.
func padPalette(p *image.Paletted) {
	top := 0
	for _, v := range p.Pix {
		top = max(top, int(v))
	}
	for len(p.Palette) <= top {
		p.Palette = append(p.Palette, color.RGBA{0, 0, 0, 0xff})
	}
	for i, c := range p.Palette {
		if c == nil {
			p.Palette[i] = color.RGBA{0, 0, 0, 0xff}
		}
	}
}

// megapixels formats a pixel limit as "50-megapixel" (or "1234-pixel" for
// limits that are not whole megapixels).
func megapixels(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d-megapixel", n/1_000_000)
	}
	return fmt.Sprintf("%d-pixel", n)
}

// safely runs f, turning a panic into an error.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return f()
}

// classify turns a decoder error into a plain-words DecodeError.
func classify(c *codec, err error) *DecodeError {
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(msg, "unexpected EOF") || strings.HasSuffix(msg, ": EOF") ||
		strings.Contains(msg, "not enough pixel data") || strings.Contains(msg, "short Huffman data") ||
		strings.Contains(msg, "missing SOS marker") || strings.Contains(msg, "missing image data") {
		return &DecodeError{Format: c.name, Kind: ErrTruncated, Reason: "truncated " + c.label + " data", Err: err}
	}
	detail := msg
	// Strip the decoders' package prefixes ("png: invalid format: ...").
	for _, p := range []string{c.name + ": ", "invalid format: ", "invalid " + c.label + " format: ",
		"unsupported feature: ", "unsupported " + c.label + " feature: "} {
		detail = strings.TrimPrefix(detail, p)
	}
	if strings.Contains(strings.ToLower(msg), "unsupported") {
		return &DecodeError{Format: c.name, Kind: ErrUnsupported, Reason: "unsupported " + c.label + " feature: " + detail, Err: err}
	}
	return &DecodeError{Format: c.name, Kind: ErrCorrupt, Reason: "corrupt " + c.label + " data: " + detail, Err: err}
}

// webpFrameSize walks the RIFF chunks of a WebP file and returns the size
// that its first VP8 (lossy) or VP8L (lossless) frame header claims. The
// WebP decoder checks the canvas size of an extended (VP8X) file in
// DecodeConfig, but allocates by the frame header when decoding.
func webpFrameSize(b []byte) (w, h int, ok bool) {
	le := binary.LittleEndian
	if len(b) < 12 {
		return 0, 0, false
	}
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		n := int64(le.Uint32(b[p+4:]))
		data := b[p+8:]
		if int64(len(data)) > n {
			data = data[:n]
		}
		switch id {
		case "VP8 ":
			// 3-byte frame tag, start code 9d 01 2a, then 14-bit sizes.
			if len(data) < 10 {
				return 0, 0, false
			}
			return int(le.Uint16(data[6:]) & 0x3fff), int(le.Uint16(data[8:]) & 0x3fff), true
		case "VP8L":
			// Signature 0x2f, then 14-bit width−1 and height−1.
			if len(data) < 5 {
				return 0, 0, false
			}
			bits := le.Uint32(data[1:])
			return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, true
		}
		next := int64(p) + 8 + n + n&1
		if next > int64(len(b)) {
			return 0, 0, false
		}
		p = int(next)
	}
	return 0, 0, false
}
