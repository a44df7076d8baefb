package tensor

import (
	"fmt"
	"math"
	"testing"
)

type opCase struct {
	name string
	f    func([]*Tensor) *Tensor
	in   []*Tensor
}

func elementwiseCases() []opCase {
	one := func(f func(*Tensor) *Tensor) func([]*Tensor) *Tensor {
		return func(x []*Tensor) *Tensor { return f(x[0]) }
	}
	two := func(f func(a, b *Tensor) *Tensor) func([]*Tensor) *Tensor {
		return func(x []*Tensor) *Tensor { return f(x[0], x[1]) }
	}
	var cs []opCase
	for _, sh := range [][2][]int{
		{{3, 4}, {3, 4}},
		{{2, 3, 5}, {3, 1}},
		{{1}, {2, 7}},
		{{2, 3, 4, 5}, {1, 3, 1, 1}},
		{{4, 1, 3}, {1, 5, 1}},
		{{}, {3, 2}},
	} {
		a, b := uni(1, -1, 1, sh[0]...), uni(2, -1, 1, sh[1]...)
		pos := uni(3, 0.5, 2, sh[1]...)
		tag := fmt.Sprint(sh[0], sh[1])
		cs = append(cs,
			opCase{"add" + tag, two(Add), []*Tensor{a, b}},
			opCase{"sub" + tag, two(Sub), []*Tensor{a, b}},
			opCase{"mul" + tag, two(Mul), []*Tensor{a, b}},
			opCase{"div" + tag, two(Div), []*Tensor{a, pos}},
		)
	}
	for _, sh := range [][]int{{7}, {2, 3, 5}, {1, 3, 4, 4}} {
		tag := fmt.Sprint(sh)
		x := uni(4, -1.5, 1.5, sh...)
		k := awayFromZero(5, 0.05, 1.5, sh...)
		p := uni(6, 0.3, 3, sh...)
		cs = append(cs,
			opCase{"neg" + tag, one(Neg), []*Tensor{x}},
			opCase{"abs" + tag, one(Abs), []*Tensor{k}},
			opCase{"square" + tag, one(Square), []*Tensor{x}},
			opCase{"sqrt" + tag, one(Sqrt), []*Tensor{p}},
			opCase{"exp" + tag, one(Exp), []*Tensor{x}},
			opCase{"log" + tag, one(Log), []*Tensor{p}},
			opCase{"relu" + tag, one(Relu), []*Tensor{k}},
			opCase{"leaky" + tag, one(func(x *Tensor) *Tensor { return LeakyRelu(x, 0.2) }), []*Tensor{k}},
			opCase{"tanh" + tag, one(Tanh), []*Tensor{x}},
			opCase{"sigmoid" + tag, one(Sigmoid), []*Tensor{x}},
			opCase{"addscalar" + tag, one(func(x *Tensor) *Tensor { return AddScalar(x, 0.7) }), []*Tensor{x}},
			opCase{"mulscalar" + tag, one(func(x *Tensor) *Tensor { return MulScalar(x, -1.3) }), []*Tensor{x}},
		)
	}
	return cs
}

func shapeCases() []opCase {
	x := uni(8, -1, 1, 2, 3, 4, 5)
	return []opCase{
		{"sum", func(x []*Tensor) *Tensor { return Sum(x[0]) }, []*Tensor{x}},
		{"mean", func(x []*Tensor) *Tensor { return Mean(x[0]) }, []*Tensor{x}},
		{"sumaxes013", func(x []*Tensor) *Tensor { return SumAxes(x[0], []int{0, 1, 3}, false) }, []*Tensor{x}},
		{"sumaxes2keep", func(x []*Tensor) *Tensor { return SumAxes(x[0], []int{2}, true) }, []*Tensor{x}},
		{"meanaxes-1", func(x []*Tensor) *Tensor { return MeanAxes(x[0], []int{-1, 1}, true) }, []*Tensor{x}},
		{"broadcast_to", func(x []*Tensor) *Tensor { return BroadcastTo(x[0], []int{2, 3, 5, 4}) }, []*Tensor{uni(9, -1, 1, 3, 1, 4)}},
		{"reshape", func(x []*Tensor) *Tensor { return Mul(Reshape(x[0], 6, -1), Reshape(x[0], 6, -1)) }, []*Tensor{x}},
		{"flatten", func(x []*Tensor) *Tensor { return Square(Flatten(x[0])) }, []*Tensor{x}},
		{"concat1", func(x []*Tensor) *Tensor { return Square(Concat(1, x[0], x[1], x[0])) }, []*Tensor{uni(10, -1, 1, 2, 3, 2), uni(11, -1, 1, 2, 1, 2)}},
		{"concat0", func(x []*Tensor) *Tensor { return Square(Concat(0, x[0], x[1])) }, []*Tensor{uni(12, -1, 1, 1, 3), uni(13, -1, 1, 4, 3)}},
		{"narrow", func(x []*Tensor) *Tensor { return Square(Narrow(x[0], 2, 1, 2)) }, []*Tensor{x}},
		{"narrow-last", func(x []*Tensor) *Tensor { return Square(Narrow(x[0], -1, 3, 2)) }, []*Tensor{x}},
		{"matmul", func(x []*Tensor) *Tensor { return MatMul(x[0], x[1]) }, []*Tensor{uni(14, -1, 1, 3, 5), uni(15, -1, 1, 5, 4)}},
		{"matmulT", func(x []*Tensor) *Tensor {
			return Add(matmulT(x[0], x[1], true, false), matmulT(x[0], x[1], true, false))
		}, []*Tensor{uni(16, -1, 1, 5, 3), uni(17, -1, 1, 5, 4)}},
		{"matmulTT", func(x []*Tensor) *Tensor { return matmulT(x[0], x[1], true, true) }, []*Tensor{uni(18, -1, 1, 5, 3), uni(19, -1, 1, 4, 5)}},
		{"matmulNT", func(x []*Tensor) *Tensor { return Square(matmulT(x[0], x[1], false, true)) }, []*Tensor{uni(20, -1, 1, 3, 5), uni(21, -1, 1, 4, 5)}},
	}
}

func imageCases() []opCase {
	var cs []opCase
	for _, sh := range [][]int{{1, 1, 4, 4}, {2, 3, 5, 7}, {1, 2, 6, 3}} {
		tag := fmt.Sprint(sh)
		x := uni(30, -1, 1, sh...)
		cs = append(cs,
			opCase{"zeropad" + tag, func(x []*Tensor) *Tensor { return Square(Pad2d(x[0], 1, 2, 0, 3, PadZero)) }, []*Tensor{x}},
			opCase{"zerocrop" + tag, func(x []*Tensor) *Tensor { return Square(Pad2d(x[0], -1, 0, 1, -1, PadZero)) }, []*Tensor{x}},
			opCase{"reflectpad" + tag, func(x []*Tensor) *Tensor { return Square(Pad2d(x[0], 1, 2, 2, 1, PadReflect)) }, []*Tensor{x}},
			opCase{"reflectpad3" + tag, func(x []*Tensor) *Tensor { return Square(Pad2d(x[0], 2, 3, 2, 2, PadReflect)) }, []*Tensor{x}},
			opCase{"nearest2" + tag, func(x []*Tensor) *Tensor { return Square(UpsampleNearest2(x[0])) }, []*Tensor{x}},
			opCase{"bilinear2" + tag, func(x []*Tensor) *Tensor { return Square(UpsampleBilinear2(x[0])) }, []*Tensor{x}},
			opCase{"instancenorm" + tag, func(x []*Tensor) *Tensor { return InstanceNorm2d(x[0], 1e-5) }, []*Tensor{x}},
			opCase{"instancenorm-sq" + tag, func(x []*Tensor) *Tensor { return Square(InstanceNorm2d(x[0], 1e-3)) }, []*Tensor{x}},
			opCase{"instancenorm-relu" + tag, func(x []*Tensor) *Tensor { return InstanceNormReLU(x[0], 1e-5) }, []*Tensor{x}},
			opCase{"instancenorm-leaky" + tag, func(x []*Tensor) *Tensor { return Square(InstanceNormLeakyReLU(x[0], 1e-5, 0.2)) }, []*Tensor{x}},
			opCase{"dropout" + tag, func(x []*Tensor) *Tensor { return Dropout(x[0], 0.3, true, NewRNG(5)) }, []*Tensor{x}},
			opCase{"instancenorm-affine" + tag, func(x []*Tensor) *Tensor {
				c := x[0].Dim(1)
				return Add(Mul(InstanceNorm2d(x[0], 1e-5), Reshape(x[1], 1, c, 1, 1)), Reshape(x[2], 1, c, 1, 1))
			}, []*Tensor{x, uni(31, 0.5, 1.5, sh[1]), uni(32, -1, 1, sh[1])}},
			opCase{"normpersample" + tag, func(x []*Tensor) *Tensor { return NormPerSample(x[0]) }, []*Tensor{x}},
		)
	}
	return cs
}

func allCases() []opCase {
	cs := elementwiseCases()
	cs = append(cs, shapeCases()...)
	cs = append(cs, imageCases()...)
	return cs
}

func TestGradients(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c.name, c.f, c.in...) })
	}
}

func TestSecondOrderGradients(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { checkGradGrad(t, c.name, c.f, c.in...) })
	}
}

// The float32 and float64 paths of every op agree to float32 rounding.
func TestFloat32MatchesFloat64(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) {
			var in32 []*Tensor
			for _, x := range c.in {
				in32 = append(in32, ToDType(x, Float32))
			}
			y64, y32 := c.f(c.in), c.f(in32)
			if y32.DType() != Float32 {
				t.Fatalf("float32 inputs gave %v", y32.DType())
			}
			if e := relErr(y32.Values(), y64.Values()); e > 1e-5 {
				t.Errorf("float32 vs float64: relative error %.3g", e)
			}
		})
	}
}

func TestForwardValues(t *testing.T) {
	x := FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	got := Pad2d(x, 1, 1, 2, 1, PadReflect).Values()
	// PyTorch: nn.ReflectionPad2d((2, 1, 1, 1)) of [[1,2,3],[4,5,6]]
	want := []float64{
		6, 5, 4, 5, 6, 5,
		3, 2, 1, 2, 3, 2,
		6, 5, 4, 5, 6, 5,
		3, 2, 1, 2, 3, 2,
	}
	assertClose(t, "reflect pad", got, want, 0)

	got = UpsampleBilinear2(FromFloat64([]float64{1, 2, 3, 4}, 1, 1, 2, 2)).Values()
	// PyTorch: F.interpolate(..., scale_factor=2, mode='bilinear', align_corners=False)
	want = []float64{
		1, 1.25, 1.75, 2,
		1.5, 1.75, 2.25, 2.5,
		2.5, 2.75, 3.25, 3.5,
		3, 3.25, 3.75, 4,
	}
	assertClose(t, "bilinear", got, want, 1e-12)

	got = UpsampleNearest2(FromFloat64([]float64{1, 2}, 1, 1, 1, 2)).Values()
	assertClose(t, "nearest", got, []float64{1, 1, 2, 2, 1, 1, 2, 2}, 0)

	in := InstanceNorm2d(FromFloat64([]float64{1, 2, 3, 4, 10, 10, 10, 10}, 1, 2, 2, 2), 0)
	v := in.Values()
	m := (v[0] + v[1] + v[2] + v[3]) / 4
	s := (v[0]*v[0] + v[1]*v[1] + v[2]*v[2] + v[3]*v[3]) / 4
	if math.Abs(m) > 1e-12 || math.Abs(s-1) > 1e-12 {
		t.Errorf("instance norm plane 0: mean %g, variance %g", m, s)
	}
	for _, z := range v[4:] {
		if z != 0 && !math.IsNaN(z) {
			// a constant plane with eps 0 gives 0/0; PyTorch gives NaN too
			t.Errorf("constant plane normalised to %g", z)
		}
	}

	n := NormPerSample(FromFloat64([]float64{3, 4, 0, 0}, 2, 2)).Values()
	assertClose(t, "norm", n, []float64{5, 0}, 0)

	b := Add(FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3), FromFloat64([]float64{10, 20}, 2, 1)).Values()
	assertClose(t, "broadcast add", b, []float64{11, 12, 13, 24, 25, 26}, 0)
	st := SumAxes(FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3), []int{0}, false).Values()
	assertClose(t, "sum axis 0", st, []float64{5, 7, 9}, 0)
}

func assertClose(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			t.Fatalf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestToDTypeGradient(t *testing.T) {
	x := FromFloat64([]float64{0.5, -2, 3}, 3).SetRequiresGrad(true)
	y := Sum(Square(ToDType(x, Float32)))
	if y.DType() != Float32 {
		t.Fatalf("dtype %v", y.DType())
	}
	g := Grad([]*Tensor{y}, []*Tensor{x}, nil, false)[0]
	if g.DType() != Float64 {
		t.Fatalf("gradient dtype %v", g.DType())
	}
	assertClose(t, "grad", g.Values(), []float64{1, -4, 6}, 0)
}
