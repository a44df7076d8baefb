package cyclegan

import (
	"testing"

	"github.com/doggogan/doggogan/tensor"
)

// The pool follows the reference: it fills with the first images, then
// returns each new image or, with probability ½, a stored one that the new
// image replaces. Images are tagged by a constant value to follow them.
func TestImagePoolQuery(t *testing.T) {
	const size, batch, per = 3, 2, 3 * 2 * 2
	p := NewImagePool(size)
	rng, ref := tensor.NewRNG(5), tensor.NewRNG(5)
	var stored []float32 // the reference pool, by tag
	next := float32(1)
	for q := 0; q < 20; q++ {
		in := make([]float32, batch*per)
		for i := range in {
			in[i] = next + float32(i/per)
		}
		out := p.Query(tensor.FromFloat32(in, batch, 3, 2, 2), rng).Float32s()
		for i := 0; i < batch; i++ {
			tag, want := next+float32(i), next+float32(i)
			switch {
			case len(stored) < size:
				stored = append(stored, tag)
			case ref.Float64() > 0.5:
				j := ref.IntN(size)
				want, stored[j] = stored[j], tag
			}
			for k := 0; k < per; k++ {
				if got := out[i*per+k]; got != want {
					t.Fatalf("query %d image %d: got image %g, want %g", q, i, got, want)
				}
			}
		}
		next += batch
	}
	st := p.State().Float32s()
	for j, tag := range stored {
		if st[j*per] != tag || st[(j+1)*per-1] != tag {
			t.Fatalf("pool slot %d holds image %g, want %g", j, st[j*per], tag)
		}
	}
}
