package tensor

import (
	"fmt"
	"math"
	"testing"
)

func convCases() []opCase {
	type g struct {
		n, c, h, w, k, kh, stride, pad int
		mode                           PadMode
	}
	var cs []opCase
	for _, q := range []g{
		{1, 1, 5, 5, 1, 3, 1, 0, PadZero},
		{2, 3, 7, 6, 4, 3, 1, 1, PadZero},
		{1, 2, 9, 8, 3, 3, 2, 1, PadZero},
		{2, 2, 8, 8, 3, 4, 2, 1, PadZero},
		{1, 3, 6, 7, 2, 4, 1, 1, PadZero},
		{1, 2, 7, 9, 2, 7, 1, 3, PadReflect},
		{2, 2, 5, 6, 3, 3, 1, 1, PadReflect},
		{1, 2, 8, 7, 2, 3, 2, 2, PadReflect},
	} {
		tag := fmt.Sprintf("%+v", q)
		x := uni(40, -1, 1, q.n, q.c, q.h, q.w)
		w := uni(41, -1, 1, q.k, q.c, q.kh, q.kh)
		b := uni(42, -1, 1, q.k)
		o := ConvOptions{Stride: q.stride, Padding: q.pad, Mode: q.mode}
		cs = append(cs, opCase{"conv" + tag, func(in []*Tensor) *Tensor {
			return Conv2d(in[0], in[1], in[2], o)
		}, []*Tensor{x, w, b}})
		// A square after the convolution makes second derivatives with
		// respect to one input non-zero.
		cs = append(cs, opCase{"conv-sq" + tag, func(in []*Tensor) *Tensor {
			return Square(Conv2d(in[0], in[1], nil, o))
		}, []*Tensor{x, w}})
	}
	type tg struct{ n, cin, h, w, cout, k, stride, pad, outpad int }
	for _, q := range []tg{
		{1, 2, 3, 3, 3, 3, 2, 1, 1}, // the generator's upsampling layer
		{2, 3, 4, 5, 2, 3, 2, 1, 0},
		{1, 1, 5, 4, 2, 4, 2, 1, 1},
		{1, 2, 4, 4, 1, 3, 1, 1, 0},
		{1, 2, 3, 2, 2, 2, 3, 0, 2},
	} {
		tag := fmt.Sprintf("%+v", q)
		x := uni(43, -1, 1, q.n, q.cin, q.h, q.w)
		w := uni(44, -1, 1, q.cin, q.cout, q.k, q.k)
		b := uni(45, -1, 1, q.cout)
		o := ConvOptions{Stride: q.stride, Padding: q.pad, OutputPadding: q.outpad}
		cs = append(cs, opCase{"convT" + tag, func(in []*Tensor) *Tensor {
			return ConvTranspose2d(in[0], in[1], in[2], o)
		}, []*Tensor{x, w, b}})
		cs = append(cs, opCase{"convT-sq" + tag, func(in []*Tensor) *Tensor {
			return Square(ConvTranspose2d(in[0], in[1], nil, o))
		}, []*Tensor{x, w}})
	}
	return cs
}

func TestConvGradients(t *testing.T) {
	for _, c := range convCases() {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c.name, c.f, c.in...) })
	}
}

func TestConvSecondOrderGradients(t *testing.T) {
	for _, c := range convCases() {
		t.Run(c.name, func(t *testing.T) { checkGradGrad(t, c.name, c.f, c.in...) })
	}
}

func TestConvFloat32MatchesFloat64(t *testing.T) {
	for _, c := range convCases() {
		var in32 []*Tensor
		for _, x := range c.in {
			in32 = append(in32, ToDType(x, Float32))
		}
		if e := relErr(c.f(in32).Values(), c.f(c.in).Values()); e > 1e-5 {
			t.Errorf("%s: float32 vs float64: relative error %.3g", c.name, e)
		}
	}
}

func TestConvOutputShapes(t *testing.T) {
	x := Zeros(1, 3, 64, 64)
	if s := Conv2d(x, Zeros(8, 3, 4, 4), nil, ConvOptions{Stride: 2, Padding: 1}).Shape(); fmt.Sprint(s) != "[1 8 32 32]" {
		t.Errorf("4×4 stride-2 conv: %v", s)
	}
	if s := ConvTranspose2d(Zeros(1, 8, 16, 16), Zeros(8, 4, 3, 3), nil, ConvOptions{Stride: 2, Padding: 1, OutputPadding: 1}).Shape(); fmt.Sprint(s) != "[1 4 32 32]" {
		t.Errorf("transposed conv: %v", s)
	}
	if s := Conv2d(x, Zeros(2, 3, 7, 7), nil, ConvOptions{Padding: 3, Mode: PadReflect}).Shape(); fmt.Sprint(s) != "[1 2 64 64]" {
		t.Errorf("reflect 7×7 conv: %v", s)
	}
}

// The fused reflection-padded convolution equals an explicit ReflectionPad2d
// followed by an unpadded convolution.
func TestReflectConvEqualsPadThenConv(t *testing.T) {
	x := uni(50, -1, 1, 2, 3, 9, 7)
	w := uni(51, -1, 1, 4, 3, 7, 7)
	a := Conv2d(x, w, nil, ConvOptions{Padding: 3, Mode: PadReflect}).Values()
	b := Conv2d(Pad2d(x, 3, 3, 3, 3, PadReflect), w, nil, ConvOptions{}).Values()
	if e := relErr(a, b); e > 1e-12 {
		t.Fatalf("fused reflect conv differs by %.3g", e)
	}
}

// The WGAN-GP penalty (‖∇ₓD(x)‖₂ − 1)² for a small critic
// (conv → leaky ReLU → instance norm → conv → mean): its gradient with
// respect to the critic's weights, through a recorded backward pass,
// matches finite differences.
func TestGradientPenaltySecondOrder(t *testing.T) {
	x := uni(60, -1, 1, 2, 2, 8, 8)
	w1 := uni(61, -0.5, 0.5, 3, 2, 4, 4)
	b1 := uni(62, -0.1, 0.1, 3)
	w2 := uni(63, -0.5, 0.5, 1, 3, 3, 3)
	b2 := uni(64, -0.1, 0.1, 1)
	critic := func(x *Tensor, ws []*Tensor) *Tensor {
		h := Conv2d(x, ws[0], ws[1], ConvOptions{Stride: 2, Padding: 1})
		h = LeakyRelu(h, 0.2)
		h = InstanceNorm2d(h, 1e-5)
		return Mean(Conv2d(h, ws[2], ws[3], ConvOptions{Padding: 1}))
	}
	penalty := func(ws []*Tensor, create bool) *Tensor {
		xx := x.Clone().SetRequiresGrad(true)
		g := Grad([]*Tensor{critic(xx, ws)}, []*Tensor{xx}, nil, create)[0]
		n := NormPerSample(g)
		return Mean(Square(AddScalar(n, -1)))
	}
	ws := leaves([]*Tensor{w1, b1, w2, b2})
	p := penalty(ws, true)
	ga := Grad([]*Tensor{p}, ws, nil, false)
	gn := numericGrad(func(ws []*Tensor) *Tensor { return penalty(ws, false) }, ws)
	for i := range ws {
		e := relErr(ga[i].Values(), gn[i])
		if e > gradTol || math.IsNaN(e) {
			t.Errorf("weight %d %v: relative error %.3g (analytic %v, numeric %v)", i, ws[i].shape, e, head(ga[i].Values()), head(gn[i]))
		}
		// The last bias shifts D(x) by a constant: ∇ₓD does not depend on it.
		if i < 3 && maxAbs(gn[i]) == 0 {
			t.Errorf("weight %d: the penalty does not depend on it; the test is vacuous", i)
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
