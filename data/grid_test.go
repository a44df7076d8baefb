package data

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func TestGridLayout(t *testing.T) {
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	rows := [][]image.Image{
		{solid(4, 3, red), solid(2, 2, blue)},
		{nil, solid(5, 6, red)},
	}
	g, err := Grid(rows)
	if err != nil {
		t.Fatal(err)
	}
	// Columns 4 and 5 wide, rows 3 and 6 tall, gaps of GridGap.
	wantW, wantH := 3*GridGap+4+5, 3*GridGap+3+6
	if s := g.Bounds().Size(); s.X != wantW || s.Y != wantH {
		t.Fatalf("grid %v, want %dx%d", s, wantW, wantH)
	}
	white := color.NRGBA{255, 255, 255, 255}
	checks := []struct {
		x, y int
		c    color.NRGBA
	}{
		{0, 0, white},                       // border
		{GridGap, GridGap, red},             // tile (0,0)
		{GridGap + 4, GridGap, white},       // gap between columns
		{2*GridGap + 4, GridGap, blue},      // tile (0,1)
		{2*GridGap + 4 + 3, GridGap, white}, // right of the small tile
		{GridGap, 2*GridGap + 3, white},     // nil tile
		{2*GridGap + 4, 2*GridGap + 3, red}, // tile (1,1)
		{2*GridGap + 8, 2*GridGap + 8, red}, // its far corner
		{wantW - 1, wantH - 1, white},       // border
	}
	for _, c := range checks {
		if got := g.NRGBAAt(c.x, c.y); got != c.c {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.c)
		}
	}
	if _, err := Grid([][]image.Image{{nil}}); err == nil {
		t.Error("empty grid accepted")
	}
}

func TestSaveImageAndGrid(t *testing.T) {
	dir := t.TempDir()
	q := quadImage(16, 8)
	for _, name := range []string{"a.png", "b.jpg", "c.JPEG"} {
		p := filepath.Join(dir, name)
		if err := SaveImage(p, q); err != nil {
			t.Fatal(err)
		}
		img, err := DecodeFile(p, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tol := 0
		if !strings.HasSuffix(name, ".png") {
			tol = 40
		}
		checkQuads(t, name, img, qRed, qGreen, qBlue, qWhite, tol)
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", name, st.Mode())
		}
	}
	bad := filepath.Join(dir, "out.bmp")
	if err := SaveImage(bad, q); err == nil || !strings.HasPrefix(err.Error(), bad+": cannot write \".bmp\" files") {
		t.Errorf("bmp: %v", err)
	}
	if err := SaveImage(filepath.Join(dir, "no", "such", "dir.png"), q); err == nil || !strings.Contains(err.Error(), "dir.png: cannot write") {
		t.Errorf("missing folder: %v", err)
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
	// A grid of CHW tiles.
	tile := make([]float32, 3*8*16)
	ToCHW(q, tile)
	g, err := GridCHW([][][]float32{{tile, tile}}, 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	checkQuads(t, "grid tile", g.SubImage(image.Rect(GridGap, GridGap, GridGap+16, GridGap+8)), qRed, qGreen, qBlue, qWhite, 0)
	if _, err := GridCHW([][][]float32{{tile[:5]}}, 8, 16); err == nil {
		t.Error("short tile accepted")
	}
	p := filepath.Join(dir, "grid.png")
	if err := SaveGrid(p, [][]image.Image{{q, q}, {q}}); err != nil {
		t.Fatal(err)
	}
	if img, err := DecodeFile(p, DecodeOptions{}); err != nil || img.Bounds().Dx() != 3*GridGap+32 {
		t.Errorf("grid file: %v %v", err, img.Bounds())
	}
}

func TestNoiseFieldMatchesNoise(t *testing.T) {
	f := newNoiseField(14, 99, nil)
	for i := 0; i <= 100; i++ {
		for j := 0; j <= 100; j++ {
			x, y := float64(i)/100, float64(j)/100
			if a, b := f.at(x, y), noise(x, y, 14, 99); a != b {
				t.Fatalf("at(%v,%v) = %v, noise = %v", x, y, a, b)
			}
		}
	}
}
