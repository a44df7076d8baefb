package cyclegan

import (
	"fmt"
	"image"
	"path/filepath"

	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/tensor"
	"golang.org/x/image/draw"
)

// sampleCount is the number of held-out inputs per domain in a grid.
const sampleCount = 4

// minSampleSide is the side, in pixels, below which sample tiles are
// enlarged in the grid.
const minSampleSide = 96

// evalSeed derives the seed of held-out toy scenes from the run's seed.
func evalSeed(seed uint64) uint64 { return seed ^ 0xe7a1e7a1e7a1e7a1 }

// prepareSamples fixes the inputs of the sample grids: held-out toy scenes,
// or the first images of each folder, centre-cropped.
func (t *Trainer) prepareSamples() error {
	c := t.Cfg
	for d := 0; d < 2; d++ {
		var imgs [][]float32
		if c.Toy != "" {
			toy, _ := data.ToyByName(c.Toy)
			src, err := data.NewToySource(toy, data.ToySourceOptions{Domain: d, Size: c.Size, Seed: evalSeed(c.Seed), Paired: true})
			if err != nil {
				return err
			}
			for i := 0; i < sampleCount; i++ {
				v := make([]float32, src.SampleLen())
				if err := src.Next(v); err != nil {
					return err
				}
				imgs = append(imgs, v)
			}
		} else {
			dir := []string{c.DirA, c.DirB}[d]
			paths, err := data.IndexDir(dir)
			if err != nil {
				return err
			}
			tr := data.Transform{LoadSize: c.Size, CropSize: c.Size, Eval: true}
			for _, p := range paths {
				if len(imgs) == sampleCount {
					break
				}
				img, err := data.DecodeFile(p, data.DecodeOptions{MaxPixels: t.opt.MaxPixels})
				if err != nil {
					continue
				}
				v := make([]float32, tr.SampleLen())
				if err := tr.Apply(img, nil, v); err != nil {
					continue
				}
				imgs = append(imgs, v)
			}
			if len(imgs) == 0 {
				return fmt.Errorf("no usable images in %s", dir)
			}
		}
		all := make([]float32, 0, len(imgs)*3*c.Size*c.Size)
		for _, v := range imgs {
			all = append(all, v...)
		}
		t.samples[d] = tensor.FromFloat32(all, len(imgs), 3, c.Size, c.Size)
	}
	return nil
}

// WriteSamples writes samples/step_NNNNNN.png: for each held-out input, a
// row with the input, its translation and its reconstruction, domain A
// first, then domain B. It returns the file's path.
func (t *Trainer) WriteSamples() (string, error) {
	n := t.Learner.Nets
	var rows [][][]float32
	s := t.Cfg.Size
	per := 3 * s * s
	noGrad(func() {
		for d, fwd := range []*Generator{n.GA, n.GB} {
			back := []*Generator{n.GB, n.GA}[d]
			x := t.samples[d]
			y := fwd.Forward(x)
			r := back.Forward(y)
			for i := 0; i < x.Dim(0); i++ {
				rows = append(rows, [][]float32{
					x.Float32s()[i*per : (i+1)*per],
					y.Float32s()[i*per : (i+1)*per],
					r.Float32s()[i*per : (i+1)*per],
				})
			}
		}
	}, n.GA, n.GB)
	grid, err := data.GridCHW(rows, s, s)
	if err != nil {
		return "", err
	}
	var img image.Image = grid
	// Small samples are enlarged (pixels kept sharp) so that a person can
	// see them.
	if f := (minSampleSide + s - 1) / s; f > 1 {
		b := grid.Bounds()
		big := image.NewNRGBA(image.Rect(0, 0, b.Dx()*f, b.Dy()*f))
		draw.NearestNeighbor.Scale(big, big.Bounds(), grid, b, draw.Src, nil)
		img = big
	}
	path := filepath.Join(t.RunDir, "samples", fmt.Sprintf("step_%06d.png", t.Learner.Steps))
	if err := data.SaveImage(path, img); err != nil {
		return "", err
	}
	return path, nil
}
