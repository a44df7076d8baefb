package cyclegan

import (
	"image"
	"image/color"
	"sync"
	"testing"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// TestFrozenTranslateConcurrently translates from several goroutines with
// one frozen generator; run with -race, it fails if translation writes to
// the shared generator. Every result must equal the sequential one.
func TestFrozenTranslateConcurrently(t *testing.T) {
	g := NewGenerator(4, 1)
	nn.InitNormal(g, 0.02, tensor.NewRNG(3))
	imgs := make([]image.Image, 4)
	for i := range imgs {
		m := image.NewNRGBA(image.Rect(0, 0, 9+i, 13-i))
		for y := 0; y < m.Bounds().Dy(); y++ {
			for x := 0; x < m.Bounds().Dx(); x++ {
				m.SetNRGBA(x, y, color.NRGBA{uint8(20 * x), uint8(15 * y), uint8(60 * i), 255})
			}
		}
		imgs[i] = m
	}
	want := make([]*image.NRGBA, len(imgs))
	for i, m := range imgs {
		var err error
		if want[i], err = g.Translate(m); err != nil {
			t.Fatal(err)
		}
	}
	if g.Freeze() != g {
		t.Fatal("Freeze does not return its generator")
	}
	for _, p := range nn.Params(g, "") {
		if p.T.RequiresGrad() {
			t.Fatalf("%s still requires gradients after Freeze", p.Name)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(imgs))
	for r := 0; r < 4; r++ {
		for i, m := range imgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := g.Translate(m)
				if err != nil {
					errs <- err.Error()
					return
				}
				if got.Bounds() != want[i].Bounds() || string(got.Pix) != string(want[i].Pix) {
					errs <- "a concurrent translation differs from the sequential one"
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
