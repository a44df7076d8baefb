package data_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"

	"github.com/doggogan/doggogan/data"
)

// Decode an uploaded image, whatever its format, and turn it into a tensor.
func ExampleDecode() {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	src.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	var upload bytes.Buffer
	png.Encode(&upload, src)

	img, format, err := data.Decode(&upload, data.DecodeOptions{Name: "upload.png"})
	if err != nil {
		log.Fatal(err)
	}
	t := make([]float32, 3*2*4)
	data.ToCHW(img, t)
	fmt.Println(format, img.Bounds().Size(), t[0], t[8], t[1])

	_, _, err = data.Decode(bytes.NewReader([]byte("hello")), data.DecodeOptions{Name: "notes.txt"})
	fmt.Println(err)
	// Output:
	// png (4,2) 1 -1 1
	// notes.txt: not an image (unknown format)
}

// Render the same seasons scene in summer and in winter: a ground-truth
// pair for evaluation.
func ExampleToy() {
	toy, err := data.ToyByName("seasons")
	if err != nil {
		log.Fatal(err)
	}
	a, b := toy.Domains()
	src, _ := data.NewToySource(toy, data.ToySourceOptions{Size: 32, Seed: 1, Paired: true})
	l := src.Latent(0)
	summer := make([]float32, 3*32*32)
	winter := make([]float32, 3*32*32)
	toy.Render(l, 0, 32, summer)
	toy.Render(l, 1, 32, winter)
	fmt.Println(toy.Name(), a, b, data.FromCHW(winter, 32, 32).Bounds().Size())
	// Output: seasons summer winter (32,32)
}

// Stream training batches from a folder of photos; the stream can be
// resumed at a saved position.
func ExampleNewFolderLoader() {
	l, err := data.NewFolderLoader("photos/trainA", data.LoaderOptions{
		Transform: data.Transform{LoadSize: 286, CropSize: 256},
		Seed:      42,
		OnSkip:    func(path string, err error) { log.Printf("skipping %v", err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	batch := make([]float32, 4*l.SampleLen())
	if err := l.Next(batch); err != nil {
		log.Fatal(err)
	}
	saved := l.Position() // store it in the checkpoint; later: l.SetPosition(saved)
	_ = saved
}
