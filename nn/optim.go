package nn

import (
	"fmt"
	"math"

	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/tensor"
)

// Adam is the Adam optimiser with bias correction (Kingma & Ba), computing
// exactly what torch.optim.Adam computes without weight decay.
type Adam struct {
	Params []Param
	LR     float64
	Beta1  float64
	Beta2  float64
	Eps    float64
	// Step counts the updates made so far.
	Step int
	// M and V are the first and second moment estimates, one per parameter.
	M, V []*tensor.Tensor
}

// NewAdam returns an Adam optimiser over params with zero moments.
func NewAdam(params []Param, lr, beta1, beta2 float64) *Adam {
	a := &Adam{Params: params, LR: lr, Beta1: beta1, Beta2: beta2, Eps: 1e-8}
	for _, p := range params {
		a.M = append(a.M, tensor.ZerosLike(p.T))
		a.V = append(a.V, tensor.ZerosLike(p.T))
	}
	return a
}

// Update applies one step to every parameter that has a gradient, with the
// learning rate scaled by lrScale (for schedules).
func (a *Adam) Update(lrScale float64) {
	a.Step++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	lr := a.LR * lrScale
	for i, p := range a.Params {
		g := p.T.Grad()
		if g == nil {
			continue
		}
		if g.DType() != p.T.DType() || g.Numel() != p.T.Numel() {
			panic(fmt.Sprintf("nn: gradient %v %v for parameter %s %v", g.DType(), g.Shape(), p.Name, p.T.Shape()))
		}
		if p.T.DType() == tensor.Float32 {
			adamKernel(p.T.Float32s(), g.Float32s(), a.M[i].Float32s(), a.V[i].Float32s(), a.Beta1, a.Beta2, a.Eps, lr, bc1, bc2)
		} else {
			adamKernel(p.T.Float64s(), g.Float64s(), a.M[i].Float64s(), a.V[i].Float64s(), a.Beta1, a.Beta2, a.Eps, lr, bc1, bc2)
		}
	}
}

func adamKernel[T kernels.Float](p, g, m, v []T, b1, b2, eps, lr, bc1, bc2 float64) {
	step, s := T(lr/bc1), T(1/math.Sqrt(bc2))
	const chunk = 1 << 14
	kernels.ParallelFor((len(p)+chunk-1)/chunk, func(lo, hi int) {
		lo, hi = lo*chunk, min(hi*chunk, len(p))
		kernels.AdamStep(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], T(b1), T(b2), T(eps), step, s)
	})
}

// LinearDecay is the CycleGAN learning-rate schedule: a constant rate for
// Constant steps, then a linear decay over Decay steps, the last of which
// uses 1/(Decay+1) of the base rate, as the reference's lambda rule does
// per epoch.
type LinearDecay struct {
	Constant, Decay int
}

// Factor returns the multiplier of the base learning rate for the update
// made at step (counted from zero).
func (s LinearDecay) Factor(step int) float64 {
	if step < s.Constant || s.Decay <= 0 {
		return 1
	}
	f := 1 - float64(step-s.Constant+1)/float64(s.Decay+1)
	if f < 0 {
		return 0
	}
	return f
}
