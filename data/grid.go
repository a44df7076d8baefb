package data

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// GridGap is the gap, in pixels, between the tiles of a grid.
const GridGap = 2

// gridBackground is the colour of the gaps between tiles.
var gridBackground = color.NRGBA{R: 255, G: 255, B: 255, A: 255}

// Grid lays out rows of tiles in one image with GridGap pixels between
// them and around the border. Each column is as wide as its widest tile and
// each row as tall as its tallest; smaller tiles are placed at the top left
// of their cell. Nil tiles leave their cell empty. It returns an error when
// there is no tile at all.
func Grid(rows [][]image.Image) (*image.NRGBA, error) {
	var colW, rowH []int
	any := false
	for r, row := range rows {
		rowH = append(rowH, 0)
		for c, t := range row {
			if c >= len(colW) {
				colW = append(colW, 0)
			}
			if t == nil {
				continue
			}
			any = true
			s := t.Bounds().Size()
			colW[c] = max(colW[c], s.X)
			rowH[r] = max(rowH[r], s.Y)
		}
	}
	if !any {
		return nil, fmt.Errorf("data: grid has no tiles")
	}
	W, H := GridGap, GridGap
	for _, w := range colW {
		W += w + GridGap
	}
	for _, h := range rowH {
		H += h + GridGap
	}
	out := image.NewNRGBA(image.Rect(0, 0, W, H))
	draw.Draw(out, out.Rect, image.NewUniform(gridBackground), image.Point{}, draw.Src)
	y := GridGap
	for r, row := range rows {
		x := GridGap
		for c := range colW {
			if c < len(row) && row[c] != nil {
				t := row[c]
				// Go through ToRGB so transparent tiles look as they do in
				// training: composited over white.
				draw.Draw(out, image.Rect(x, y, x+t.Bounds().Dx(), y+t.Bounds().Dy()), ToRGB(t), image.Point{}, draw.Src)
			}
			x += colW[c] + GridGap
		}
		y += rowH[r] + GridGap
	}
	return out, nil
}

// GridCHW builds a grid from CHW tensors in [−1, 1]: rows[r][c] holds the
// 3×h×w values of one tile (all tiles h×w).
func GridCHW(rows [][][]float32, h, w int) (*image.NRGBA, error) {
	imgs := make([][]image.Image, len(rows))
	for r, row := range rows {
		for c, t := range row {
			if len(t) != 3*h*w {
				return nil, fmt.Errorf("data: grid tile (%d, %d) holds %d values, want 3×%d×%d", r, c, len(t), h, w)
			}
			imgs[r] = append(imgs[r], FromCHW(t, h, w))
		}
	}
	return Grid(imgs)
}

// SaveGrid writes Grid(rows) to path (see SaveImage for the formats).
func SaveGrid(path string, rows [][]image.Image) error {
	g, err := Grid(rows)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return SaveImage(path, g)
}

// FormatByExt returns the output format for a file name: "png" for .png,
// "jpeg" for .jpg and .jpeg (any case), or an error naming the file.
func FormatByExt(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return "png", nil
	case ".jpg", ".jpeg":
		return "jpeg", nil
	}
	return "", fmt.Errorf("%s: cannot write %q files (use .png, .jpg or .jpeg)", path, filepath.Ext(path))
}

// JPEGQuality is the quality SaveImage and Encode use for JPEG.
const JPEGQuality = 95

// Encode writes img to w in the given format, "png" or "jpeg" ("jpg" is
// accepted too); JPEG uses quality JPEGQuality. Transparent pixels are
// composited over white for JPEG, which has no alpha.
func Encode(w io.Writer, img image.Image, format string) error {
	switch format {
	case "png":
		return png.Encode(w, img)
	case "jpeg", "jpg":
		return jpeg.Encode(w, ToRGB(img), &jpeg.Options{Quality: JPEGQuality})
	}
	return fmt.Errorf("data: unknown output format %q (use png or jpeg)", format)
}

// SaveImage writes img to path in the format its extension names (.png,
// .jpg or .jpeg). It writes a temporary file in the same folder and renames
// it, so a reader never sees a half-written image. Errors name the path.
func SaveImage(path string, img image.Image) error {
	format, err := FormatByExt(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("%s: cannot write: %s", path, plainOSError(err))
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		err = Encode(f, img, format)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: cannot write: %s", path, plainOSError(err))
	}
	return nil
}
