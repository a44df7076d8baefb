package tensor

import (
	"math"
	"testing"
)

// gradTol is the largest relative error (‖analytic − numeric‖∞ / ‖numeric‖∞)
// accepted between an analytic gradient and central finite differences in
// float64.
const gradTol = 1e-6

// fdStep is the central-difference step.
const fdStep = 1e-6

// leaves returns float64 copies of xs that require gradients.
func leaves(xs []*Tensor) []*Tensor {
	out := make([]*Tensor, len(xs))
	for i, x := range xs {
		out[i] = ToDType(x, Float64).Clone().SetRequiresGrad(true)
	}
	return out
}

// scalarize turns f's output into a scalar by a fixed random weighting, so
// that every output element's gradient is exercised.
func scalarize(f func([]*Tensor) *Tensor, seed uint64) func([]*Tensor) *Tensor {
	var w *Tensor
	return func(xs []*Tensor) *Tensor {
		y := f(xs)
		if w == nil || !sameShape(w.shape, y.shape) {
			w = NewRNG(seed).Uniform(Float64, -1, 1, y.shape...)
		}
		return Sum(Mul(y, w))
	}
}

// numericGrad returns central differences of the scalar function L at xs.
func numericGrad(L func([]*Tensor) *Tensor, xs []*Tensor) [][]float64 {
	plain := make([]*Tensor, len(xs))
	for i, x := range xs {
		plain[i] = x.Detach().Clone()
	}
	res := make([][]float64, len(xs))
	for i, x := range plain {
		res[i] = make([]float64, x.Numel())
		for j := range x.f64 {
			v := x.f64[j]
			x.f64[j] = v + fdStep
			lp := L(plain).Item()
			x.f64[j] = v - fdStep
			lm := L(plain).Item()
			x.f64[j] = v
			res[i][j] = (lp - lm) / (2 * fdStep)
		}
	}
	return res
}

func relErr(a, n []float64) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-n[i]))
		m = math.Max(m, math.Abs(n[i]))
		m = math.Max(m, math.Abs(a[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// checkGrad compares the analytic gradient of f at xs with finite
// differences, for every input.
func checkGrad(t *testing.T, name string, f func([]*Tensor) *Tensor, xs ...*Tensor) {
	t.Helper()
	in := leaves(xs)
	L := scalarize(f, 7)
	ga := Grad([]*Tensor{L(in)}, in, nil, false)
	gn := numericGrad(L, in)
	for i := range in {
		if ga[i].RequiresGrad() {
			t.Errorf("%s: gradient %d carries a graph without createGraph", name, i)
		}
		if e := relErr(ga[i].Values(), gn[i]); e > gradTol || math.IsNaN(e) {
			t.Errorf("%s: input %d %v: relative gradient error %.3g (analytic %v, numeric %v)", name, i, in[i].shape, e, head(ga[i].Values()), head(gn[i]))
		}
	}
}

// checkGradGrad checks the second derivatives of f: the gradient of
// Σᵢ⟨∂L/∂xᵢ, vᵢ⟩ for random vᵢ against finite differences.
func checkGradGrad(t *testing.T, name string, f func([]*Tensor) *Tensor, xs ...*Tensor) {
	t.Helper()
	in := leaves(xs)
	L := scalarize(f, 11)
	vs := make([]*Tensor, len(in))
	for i, x := range in {
		vs[i] = NewRNG(uint64(100+i)).Uniform(Float64, -1, 1, x.shape...)
	}
	gg := func(xs []*Tensor) *Tensor {
		var ys []*Tensor
		for _, x := range xs {
			if !x.RequiresGrad() {
				x = x.Detach().SetRequiresGrad(true)
			}
			ys = append(ys, x)
		}
		gs := Grad([]*Tensor{L(ys)}, ys, nil, true)
		var s *Tensor
		for i, g := range gs {
			term := Sum(Mul(g, vs[i]))
			if s == nil {
				s = term
			} else {
				s = Add(s, term)
			}
		}
		return s
	}
	// The analytic second-order gradient, through a recorded backward pass.
	out := gg(in)
	ga := make([]*Tensor, len(in))
	if out.RequiresGrad() {
		ga = Grad([]*Tensor{out}, in, nil, false)
	} else {
		for i, x := range in {
			ga[i] = ZerosLike(x)
		}
	}
	gn := numericGrad(gg, in)
	for i := range in {
		if e := relErr(ga[i].Values(), gn[i]); e > gradTol*10 || math.IsNaN(e) {
			t.Errorf("%s: second order, input %d %v: relative error %.3g (analytic %v, numeric %v)", name, i, in[i].shape, e, head(ga[i].Values()), head(gn[i]))
		}
	}
}

func head(v []float64) []float64 {
	if len(v) > 6 {
		return v[:6]
	}
	return v
}

// awayFromZero returns uniform values in ±[lo, hi], keeping inputs of
// functions with kinks at zero away from the kink.
func awayFromZero(seed uint64, lo, hi float64, shape ...int) *Tensor {
	r := NewRNG(seed)
	t := New(Float64, shape...)
	for i := range t.f64 {
		v := lo + (hi-lo)*r.Float64()
		if r.Float64() < 0.5 {
			v = -v
		}
		t.f64[i] = v
	}
	return t
}

func uni(seed uint64, lo, hi float64, shape ...int) *Tensor {
	return NewRNG(seed).Uniform(Float64, lo, hi, shape...)
}
