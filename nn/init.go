package nn

import (
	"math"

	"github.com/doggogan/doggogan/tensor"
)

// InitNormal sets every convolution weight of m to draws from
// normal(0, std) and every bias to zero; affine instance-norm weights get
// normal(1, std). With std 0.02 this is the CycleGAN reference's "normal"
// initialisation.
func InitNormal(m Module, std float64, rng *tensor.RNG) {
	initEach(m, func(w *tensor.Tensor, isNorm bool) {
		mean := 0.0
		if isNorm {
			mean = 1
		}
		fill(w, func() float64 { return mean + std*rng.NormFloat64() })
	})
}

// InitXavier sets convolution weights to Glorot-normal draws with the given
// gain (the reference's "xavier"), biases to zero.
func InitXavier(m Module, gain float64, rng *tensor.RNG) {
	initEach(m, func(w *tensor.Tensor, isNorm bool) {
		if isNorm {
			fill(w, func() float64 { return 1 + 0.02*rng.NormFloat64() })
			return
		}
		fin, fout := fans(w)
		std := gain * math.Sqrt(2/float64(fin+fout))
		fill(w, func() float64 { return std * rng.NormFloat64() })
	})
}

// InitKaiming sets convolution weights to He-normal draws for ReLU layers
// (fan-in mode, the reference's "kaiming"), biases to zero.
func InitKaiming(m Module, rng *tensor.RNG) {
	initEach(m, func(w *tensor.Tensor, isNorm bool) {
		if isNorm {
			fill(w, func() float64 { return 1 + 0.02*rng.NormFloat64() })
			return
		}
		fin, _ := fans(w)
		std := math.Sqrt(2 / float64(fin))
		fill(w, func() float64 { return std * rng.NormFloat64() })
	})
}

// fans returns the fan-in and fan-out of a convolution weight as PyTorch
// computes them (dimension 1 and dimension 0 times the kernel area).
func fans(w *tensor.Tensor) (in, out int) {
	rf := 1
	for _, d := range w.Shape()[2:] {
		rf *= d
	}
	return w.Dim(1) * rf, w.Dim(0) * rf
}

func fill(w *tensor.Tensor, f func() float64) {
	if d := w.Float32s(); d != nil {
		for i := range d {
			d[i] = float32(f())
		}
		return
	}
	d := w.Float64s()
	for i := range d {
		d[i] = f()
	}
}

// initEach visits the layers of m in parameter order, calling f on each
// weight and zeroing each bias.
func initEach(m Module, f func(w *tensor.Tensor, isNorm bool)) {
	switch l := m.(type) {
	case *Conv2d:
		f(l.Weight, false)
		if l.Bias != nil {
			l.Bias.Fill_(0)
		}
	case *ConvTranspose2d:
		f(l.Weight, false)
		if l.Bias != nil {
			l.Bias.Fill_(0)
		}
	case *InstanceNorm2d:
		if l.Weight != nil {
			f(l.Weight, true)
			l.Bias.Fill_(0)
		}
	}
	if p, ok := m.(Parent); ok {
		for _, c := range p.Children() {
			initEach(c.Module, f)
		}
	}
}
