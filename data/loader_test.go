package data

import (
	"image"
	"image/color"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// loaderFolder writes n 24×20 PNGs whose red channel is the file number
// and whose green/blue channels encode the pixel position, plus the given
// corrupt files, and returns the folder.
func loaderFolder(t *testing.T, n int, corrupt map[string][]byte) string {
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		img := image.NewNRGBA(image.Rect(0, 0, 24, 20))
		for y := 0; y < 20; y++ {
			for x := 0; x < 24; x++ {
				img.SetNRGBA(x, y, color.NRGBA{uint8(i * 10), uint8(x * 10), uint8(y * 10), 255})
			}
		}
		writeFile(t, dir, "img"+itoa4(i)+".png", encPNG(t, img))
	}
	for name, data := range corrupt {
		writeFile(t, dir, name, data)
	}
	return dir
}

var loaderTransform = Transform{LoadSize: 20, CropSize: 12}

// readAll reads count samples one batch of `batch` at a time.
func readAll(t *testing.T, l Source, count, batch int) []float32 {
	t.Helper()
	out := make([]float32, count*l.SampleLen())
	for o := 0; o < len(out); o += batch * l.SampleLen() {
		if err := l.Next(out[o : o+batch*l.SampleLen()]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fileOf returns the file number shown in sample k of a stream.
func fileOf(samples []float32, k, size int) int {
	v := FromCHW(samples[k*3*size*size:], size, size).Pix[0]
	return int(v) / 10
}

func TestLoaderDeterministicAcrossWorkers(t *testing.T) {
	dir := loaderFolder(t, 10, nil)
	var streams [][]float32
	for _, w := range []int{1, 4} {
		for _, prefetch := range []int{1, 3, 32} {
			l, err := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform, Seed: 7, Workers: w, Prefetch: prefetch})
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, readAll(t, l, 30, 5))
			if l.Position() != 30 {
				t.Errorf("position %d after 30 samples", l.Position())
			}
			l.Close()
		}
	}
	for i := 1; i < len(streams); i++ {
		if !slices.Equal(streams[0], streams[i]) {
			t.Fatalf("stream %d differs from stream 0", i)
		}
	}
	// Each epoch shows every file exactly once, in a different order.
	var orders [3][]int
	for e := 0; e < 3; e++ {
		for k := 0; k < 10; k++ {
			orders[e] = append(orders[e], fileOf(streams[0], e*10+k, 12))
		}
		sorted := slices.Sorted(slices.Values(orders[e]))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("epoch %d shows files %v", e, orders[e])
		}
	}
	if slices.Equal(orders[0], orders[1]) && slices.Equal(orders[1], orders[2]) {
		t.Errorf("every epoch has the same order %v", orders[0])
	}
	// Another seed gives another stream.
	l, _ := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform, Seed: 8})
	defer l.Close()
	if slices.Equal(readAll(t, l, 30, 5), streams[0]) {
		t.Error("seeds 7 and 8 give the same stream")
	}
}

func TestLoaderSequential(t *testing.T) {
	dir := loaderFolder(t, 5, nil)
	l, err := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform, Sequential: true, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := readAll(t, l, 10, 2)
	for k := 0; k < 10; k++ {
		if f := fileOf(s, k, 12); f != k%5 {
			t.Errorf("sample %d shows file %d", k, f)
		}
	}
}

func TestLoaderResume(t *testing.T) {
	dir := loaderFolder(t, 7, nil)
	opt := LoaderOptions{Transform: loaderTransform, Seed: 3, Workers: 2}
	a, _ := NewFolderLoader(dir, opt)
	defer a.Close()
	readAll(t, a, 17, 1)
	pos := a.Position()
	want := readAll(t, a, 9, 3)

	opt.Start = pos
	b, _ := NewFolderLoader(dir, opt)
	defer b.Close()
	if got := readAll(t, b, 9, 3); !slices.Equal(got, want) {
		t.Error("a loader started at the saved position differs")
	}

	opt.Start = 0
	opt.Workers = 4
	c, _ := NewFolderLoader(dir, opt)
	defer c.Close()
	readAll(t, c, 3, 1)
	if err := c.SetPosition(pos); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, 9, 9); !slices.Equal(got, want) {
		t.Error("a loader moved to the saved position differs")
	}
	if err := c.SetPosition(-1); err == nil {
		t.Error("negative position accepted")
	}
}

func TestLoaderSkipsCorruptFiles(t *testing.T) {
	bad := map[string][]byte{
		"bad-empty.jpg":     nil,
		"bad-text.png":      []byte("this is not an image"),
		"bad-truncated.png": encPNG(t, quadImage(32, 32))[:100],
	}
	dir := loaderFolder(t, 6, bad)
	var streams [][]float32
	for _, w := range []int{1, 4} {
		var skipped []string
		l, err := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform, Seed: 11, Workers: w,
			OnSkip: func(p string, err error) {
				if !strings.HasPrefix(err.Error(), p+": ") {
					t.Errorf("skip error %q does not name %s", err, p)
				}
				skipped = append(skipped, filepath.Base(p))
			}})
		if err != nil {
			t.Fatal(err)
		}
		s := readAll(t, l, 24, 4) // 4 epochs of the 6 good files
		streams = append(streams, s)
		slices.Sort(skipped)
		if !slices.Equal(skipped, []string{"bad-empty.jpg", "bad-text.png", "bad-truncated.png"}) {
			t.Errorf("workers %d: OnSkip calls %v", w, skipped)
		}
		if l.Skipped() != 3 {
			t.Errorf("Skipped() = %d", l.Skipped())
		}
		// 24 good samples from 9-file epochs: the stream went past 24.
		if l.Position() < 24+3 {
			t.Errorf("position %d", l.Position())
		}
		counts := map[int]int{}
		for k := 0; k < 24; k++ {
			counts[fileOf(s, k, 12)]++
		}
		for f := 0; f < 6; f++ {
			if counts[f] < 2 {
				t.Errorf("file %d seen %d times in 24 samples", f, counts[f])
			}
		}
		l.Close()
	}
	if !slices.Equal(streams[0], streams[1]) {
		t.Error("skipping is not deterministic across worker counts")
	}
}

func TestLoaderAllCorrupt(t *testing.T) {
	dir := loaderFolder(t, 0, map[string][]byte{"a.jpg": []byte("x"), "b.png": nil, "sub/c.gif": []byte("GIF89a")})
	l, err := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = l.Next(make([]float32, l.SampleLen()))
	if err == nil || !strings.HasPrefix(err.Error(), "no usable images in "+dir) {
		t.Fatalf("error %v", err)
	}
}

func TestLoaderErrorsAndClose(t *testing.T) {
	if _, err := NewLoader(nil, LoaderOptions{Transform: loaderTransform, Name: "x"}); err == nil || err.Error() != "x: no image files to load" {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewLoader([]string{"a.jpg"}, LoaderOptions{}); err == nil {
		t.Error("zero crop size accepted")
	}
	if _, err := NewFolderLoader(filepath.Join(t.TempDir(), "none"), LoaderOptions{Transform: loaderTransform}); err == nil ||
		!strings.HasSuffix(err.Error(), "folder does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	dir := loaderFolder(t, 3, nil)
	before := runtime.NumGoroutine()
	l, err := NewFolderLoader(dir, LoaderOptions{Transform: loaderTransform, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Next(make([]float32, l.SampleLen()+1)); err == nil {
		t.Error("odd batch buffer accepted")
	}
	l.Close()
	l.Close()
	if err := l.Next(make([]float32, l.SampleLen())); err == nil {
		t.Error("Next after Close succeeded")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

func TestLoaderRealPhotos(t *testing.T) {
	root := cat2dog(t)
	dir := filepath.Join(root, "testA")
	paths, err := IndexDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) > 12 {
		paths = paths[:12]
	}
	var skips []error
	l, err := NewLoader(paths, LoaderOptions{Transform: Transform{LoadSize: 143, CropSize: 128}, Seed: 1, Workers: 2,
		OnSkip: func(p string, err error) { skips = append(skips, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	batch := make([]float32, 4*l.SampleLen())
	if err := l.Next(batch); err != nil {
		t.Fatal(err)
	}
	if len(skips) > 0 {
		t.Errorf("real photos skipped: %v", skips)
	}
	var lo, hi float32 = 1, -1
	var sum float64
	for _, v := range batch {
		lo, hi = min(lo, v), max(hi, v)
		sum += float64(v)
	}
	if lo < -1 || hi > 1 || hi-lo < 1 {
		t.Errorf("photo values span [%v, %v]", lo, hi)
	}
	t.Logf("4 cat photos from %s: values in [%.2f, %.2f], mean %.3f", dir, lo, hi, sum/float64(len(batch)))
}
