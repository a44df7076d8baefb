package cyclegan

import (
	"fmt"
	"slices"

	"github.com/doggogan/doggogan/tensor"
)

// ImagePool is the reference's history of generated images: once full,
// each new fake is, with probability ½, swapped for a stored one, so the
// critics also see older generators' work (Shrivastava et al. 2017).
type ImagePool struct {
	Size   int
	images []*tensor.Tensor // each 3×H×W
}

// NewImagePool returns an empty pool holding up to size images; size 0
// passes images through.
func NewImagePool(size int) *ImagePool { return &ImagePool{Size: size} }

// Query stores the images of the N×3×H×W batch and returns a batch of the
// same shape, mixing new and stored images as the reference does.
func (p *ImagePool) Query(batch *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
	if p.Size == 0 {
		return batch.Detach()
	}
	n := batch.Dim(0)
	per := batch.Numel() / n
	out := tensor.ZerosLike(batch)
	src, dst := batch.Float32s(), out.Float32s()
	for i := 0; i < n; i++ {
		img, o := src[i*per:(i+1)*per], dst[i*per:(i+1)*per]
		switch {
		case len(p.images) < p.Size:
			p.images = append(p.images, tensor.FromFloat32(slices.Clone(img), batch.Shape()[1:]...))
			copy(o, img)
		case rng.Float64() > 0.5:
			// Swap: return a stored image and keep the new one in its place.
			stored := p.images[rng.IntN(p.Size)].Float32s()
			copy(o, stored)
			copy(stored, img)
		default:
			copy(o, img)
		}
	}
	return out
}

// State returns the stored images as one K×3×H×W tensor (nil when empty).
func (p *ImagePool) State() *tensor.Tensor {
	if len(p.images) == 0 {
		return nil
	}
	shape := p.images[0].Shape()
	per := p.images[0].Numel()
	all := make([]float32, 0, per*len(p.images))
	for _, im := range p.images {
		all = append(all, im.Float32s()...)
	}
	return tensor.FromFloat32(all, append([]int{len(p.images)}, shape...)...)
}

// SetState restores images saved by State.
func (p *ImagePool) SetState(t *tensor.Tensor) error {
	p.images = nil
	if t == nil {
		return nil
	}
	if t.Rank() != 4 || t.Dim(0) > p.Size || t.DType() != tensor.Float32 {
		return fmt.Errorf("image pool state of shape %v does not fit a pool of %d", t.Shape(), p.Size)
	}
	per := t.Numel() / t.Dim(0)
	for i := 0; i < t.Dim(0); i++ {
		p.images = append(p.images, tensor.FromFloat32(append([]float32(nil), t.Float32s()[i*per:(i+1)*per]...), t.Shape()[1:]...))
	}
	return nil
}
