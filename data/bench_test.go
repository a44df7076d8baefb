package data

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"
)

// benchPhoto returns the bytes of one real JPEG photo, or skips.
func benchPhoto(b *testing.B) ([]byte, string) {
	dir := filepath.Join(cat2dog(b), "trainA")
	paths, err := IndexDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		b.Fatal(err)
	}
	return data, paths[0]
}

// BenchmarkDecodeJPEG decodes one real cat photo (about 500×490).
func BenchmarkDecodeJPEG(b *testing.B) {
	data, _ := benchPhoto(b)
	b.SetBytes(int64(len(data)))
	defer cpuTimer(b)()
	for i := 0; i < b.N; i++ {
		if _, _, err := Decode(bytes.NewReader(data), DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAugment is the loader's per-sample work on a real photo:
// decode, resize the shorter side to 286, random 256 crop, flip, CHW.
func BenchmarkDecodeAugment(b *testing.B) {
	data, _ := benchPhoto(b)
	for _, f := range []Filter{CatmullRom, BiLinear} {
		for _, sz := range [][2]int{{286, 256}, {143, 128}, {36, 32}} {
			b.Run(fmt.Sprintf("%s/%d-%d", f, sz[0], sz[1]), func(b *testing.B) {
				tr := Transform{LoadSize: sz[0], CropSize: sz[1], Filter: f}
				dst := make([]float32, tr.SampleLen())
				defer cpuTimer(b)()
				for i := 0; i < b.N; i++ {
					img, _, err := Decode(bytes.NewReader(data), DecodeOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if err := tr.Apply(img, newRand(1, streamAugment, uint64(i)), dst); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAugment is the resize+crop+flip+CHW part alone.
func BenchmarkAugment(b *testing.B) {
	data, _ := benchPhoto(b)
	img, _, err := Decode(bytes.NewReader(data), DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Filter{CatmullRom, BiLinear} {
		b.Run(f.String(), func(b *testing.B) {
			tr := Transform{LoadSize: 286, CropSize: 256, Filter: f}
			dst := make([]float32, tr.SampleLen())
			defer cpuTimer(b)()
			for i := 0; i < b.N; i++ {
				tr.Apply(img, newRand(1, streamAugment, uint64(i)), dst)
			}
		})
	}
}

// BenchmarkLoader streams 256×256 samples from the real trainA folder
// through the worker pool (GOMAXPROCS workers).
func BenchmarkLoader(b *testing.B) {
	dir := filepath.Join(cat2dog(b), "trainA")
	l, err := NewFolderLoader(dir, LoaderOptions{Transform: Transform{LoadSize: 286, CropSize: 256}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	dst := make([]float32, l.SampleLen())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Next(dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToyRender renders one toy sample.
func BenchmarkToyRender(b *testing.B) {
	for _, name := range ToyNames() {
		toy, _ := ToyByName(name)
		for _, size := range []int{32, 64, 128, 256} {
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				dst := make([]float32, 3*size*size)
				lat := make([]Latent, 64)
				for i := range lat {
					lat[i] = toy.Sample(newRand(1, streamLatent, uint64(i)))
				}
				b.ResetTimer()
				defer cpuTimer(b)()
				for i := 0; i < b.N; i++ {
					toy.Render(lat[i%64], i%2, size, dst)
				}
			})
		}
	}
}

// BenchmarkToCHW converts a decoded photo to a tensor.
func BenchmarkToCHW(b *testing.B) {
	data, _ := benchPhoto(b)
	img, _, _ := Decode(bytes.NewReader(data), DecodeOptions{})
	bounds := img.Bounds()
	dst := make([]float32, 3*bounds.Dx()*bounds.Dy())
	for _, c := range []struct {
		name string
		img  image.Image
	}{{"YCbCr", img}, {"RGBA", ToRGB(img)}} {
		b.Run(c.name, func(b *testing.B) {
			defer cpuTimer(b)()
			for i := 0; i < b.N; i++ {
				ToCHW(c.img, dst)
			}
		})
	}
}
