package cyclegan

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"

	"github.com/doggogan/doggogan/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteChart draws losses.png from the losses of every step so far: the
// generators' cycle and adversarial terms and the critics' Wasserstein
// estimates, smoothed over a window.
func (t *Trainer) WriteChart() error {
	return WriteLossChart(filepath.Join(t.RunDir, "losses.png"), t.history)
}

// WriteLossChart draws a loss history to a PNG file.
func WriteLossChart(path string, hist []Losses) error {
	if len(hist) == 0 {
		return nil
	}
	series := []struct {
		name string
		get  func(Losses) float64
		col  color.RGBA
	}{
		{"cycle A", func(l Losses) float64 { return l.CycleA }, color.RGBA{31, 119, 180, 255}},
		{"cycle B", func(l Losses) float64 { return l.CycleB }, color.RGBA{255, 127, 14, 255}},
		{"G_A adv", func(l Losses) float64 { return l.GA }, color.RGBA{44, 160, 44, 255}},
		{"G_B adv", func(l Losses) float64 { return l.GB }, color.RGBA{214, 39, 40, 255}},
		{"D_A W-dist", func(l Losses) float64 { return l.WDistA }, color.RGBA{148, 103, 189, 255}},
		{"D_B W-dist", func(l Losses) float64 { return l.WDistB }, color.RGBA{140, 86, 75, 255}},
	}
	p := plot.New()
	p.Title.Text = "doggogan training losses"
	p.X.Label.Text = "step"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	win := max(1, len(hist)/100)
	for _, s := range series {
		pts := make(plotter.XYs, 0, len(hist)/win+1)
		for i := 0; i < len(hist); i += win {
			var sum float64
			k := 0
			for j := i; j < min(i+win, len(hist)); j++ {
				sum += s.get(hist[j])
				k++
			}
			pts = append(pts, plotter.XY{X: float64(hist[min(i+win, len(hist))-1].Step), Y: sum / float64(k)})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("loss chart: %v", err)
		}
		l.Color = s.col
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	c := vgimg.New(8*vg.Inch, 4.5*vg.Inch)
	p.Draw(draw.New(c))
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}
