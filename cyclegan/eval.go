package cyclegan

import (
	"math"

	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/tensor"
)

// PairedScore is how well a pair of generators translates a toy's held-out
// scenes, against the ground truth: the same scene rendered in the other
// domain. Errors are mean absolute differences per channel value on the
// [0, 1] intensity scale.
type PairedScore struct {
	Scenes      int
	A2B, B2A    float64 // error of G_A(a) against b, and of G_B(b) against a
	IdentityA2B float64 // the baseline that outputs its input: error of a against b
	IdentityB2A float64
}

// EvaluateToy translates n held-out scenes of a toy, rendered at size from
// a seed no training stream uses, and scores them against the ground truth.
func EvaluateToy(nets *Nets, toyName string, size, n int, seed uint64) (PairedScore, error) {
	toy, err := data.ToyByName(toyName)
	if err != nil {
		return PairedScore{}, err
	}
	var src [2]*data.ToySource
	for d := range src {
		src[d], err = data.NewToySource(toy, data.ToySourceOptions{Domain: d, Size: size, Seed: evalSeed(seed), Paired: true})
		if err != nil {
			return PairedScore{}, err
		}
	}
	sc := PairedScore{Scenes: n}
	const batch = 8
	per := 3 * size * size
	var sum [3]float64 // a2b, b2a, identity
	noGrad(func() {
		for done := 0; done < n && err == nil; done += batch {
			k := min(batch, n-done)
			var in [2]*tensor.Tensor
			for d := range in {
				v := make([]float32, k*per)
				if err = src[d].Next(v); err != nil {
					return
				}
				in[d] = tensor.FromFloat32(v, k, 3, size, size)
			}
			ab := nets.GA.Forward(in[0])
			ba := nets.GB.Forward(in[1])
			sum[0] += absDiff(ab.Float32s(), in[1].Float32s())
			sum[1] += absDiff(ba.Float32s(), in[0].Float32s())
			sum[2] += absDiff(in[0].Float32s(), in[1].Float32s()) // identity, either way
		}
	}, nets.GA, nets.GB)
	if err != nil {
		return sc, err
	}
	// Values are in [−1, 1]: halve to get the [0, 1] intensity scale.
	total := float64(n*per) * 2
	sc.A2B, sc.B2A, sc.IdentityA2B, sc.IdentityB2A = sum[0]/total, sum[1]/total, sum[2]/total, sum[2]/total
	return sc, nil
}

func absDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i] - b[i]))
	}
	return s
}
