package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/doggogan/doggogan/tensor"
)

// Values from torch.optim.Adam(lr=0.1, betas=(0.5, 0.999)) in float64 on
// the same parameters and gradients (see scripts/adam_reference.py).
func TestAdamMatchesPyTorch(t *testing.T) {
	p := tensor.FromFloat64([]float64{0.5, -1.0, 2.0}, 3).SetRequiresGrad(true)
	opt := NewAdam([]Param{{"p", p}}, 0.1, 0.5, 0.999)
	for _, g := range [][]float64{{0.1, -0.2, 0.3}, {1.0, 0.5, -2.0}, {-0.3, 0.0, 0.7}} {
		p.SetGrad(tensor.FromFloat64(g, 3))
		opt.Update(1)
	}
	want := []float64{0.2802883937197215, -1.0067781042360435, 1.9966296370143228}
	for i, v := range p.Values() {
		if math.Abs(v-want[i]) > 1e-15 {
			t.Fatalf("after 3 steps: %v, PyTorch %v", p.Values(), want)
		}
	}
	if opt.Step != 3 {
		t.Errorf("step %d", opt.Step)
	}
}

func TestAdamSkipsParamsWithoutGradient(t *testing.T) {
	p := tensor.FromFloat32([]float32{1, 2}, 2).SetRequiresGrad(true)
	opt := NewAdam([]Param{{"p", p}}, 0.1, 0.5, 0.999)
	opt.Update(1)
	if v := p.Values(); v[0] != 1 || v[1] != 2 {
		t.Fatalf("a parameter without gradient moved: %v", v)
	}
}

// The reference's lambda rule with n_epochs=3, n_epochs_decay=4.
func TestLinearDecayMatchesReference(t *testing.T) {
	s := LinearDecay{Constant: 3, Decay: 4}
	want := []float64{1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0}
	for step, w := range want {
		if got := s.Factor(step); math.Abs(got-w) > 1e-12 {
			t.Errorf("step %d: factor %g, want %g", step, got, w)
		}
	}
}

type block struct{ body *Sequential }

func (b *block) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Add(x, b.body.Forward(x)) }
func (b *block) Children() []Child                       { return []Child{{"conv_block", b.body}} }

func TestParamNamesFollowPyTorch(t *testing.T) {
	m := NewSequential(
		&ReflectionPad2d{3},
		NewConv2d(3, 4, 7, 1, 0, true),
		NewInstanceNorm2d(4, false),
		ReLU{},
		&block{NewSequential(&ReflectionPad2d{1}, NewConv2d(4, 4, 3, 1, 0, true))},
		NewConvTranspose2d(4, 2, 3, 2, 1, 1, false),
	)
	var names []string
	for _, p := range Params(m, "model") {
		names = append(names, p.Name)
	}
	want := "model.1.weight model.1.bias model.4.conv_block.1.weight model.4.conv_block.1.bias model.5.weight"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	if s := Params(m, "model")[4].T.Shape(); s[0] != 4 || s[1] != 2 {
		t.Errorf("ConvTranspose2d weight shape %v, want PyTorch's Cin×Cout×k×k", s)
	}
}

func TestSequentialFusedPaddingMatchesUnfused(t *testing.T) {
	rng := tensor.NewRNG(1)
	conv := NewConv2d(3, 5, 7, 1, 0, true)
	InitNormal(conv, 0.1, rng)
	x := rng.Uniform(tensor.Float32, -1, 1, 2, 3, 11, 9)
	fused := NewSequential(&ReflectionPad2d{3}, conv).Forward(x).Values()
	plain := conv.Forward((&ReflectionPad2d{3}).Forward(x)).Values()
	for i := range fused {
		if math.Abs(fused[i]-plain[i]) > 1e-5 {
			t.Fatalf("fused %g vs plain %g at %d", fused[i], plain[i], i)
		}
	}
}

func TestLoadStateChecksNamesAndShapes(t *testing.T) {
	m := NewSequential(NewConv2d(1, 2, 3, 1, 1, true))
	good := map[string]*tensor.Tensor{
		"0.weight": tensor.Full(tensor.Float32, 0.5, 2, 1, 3, 3),
		"0.bias":   tensor.Full(tensor.Float64, 1, 2),
	}
	if err := LoadState(m, good); err != nil {
		t.Fatal(err)
	}
	if v := m.Layers[0].(*Conv2d).Bias.Values(); v[0] != 1 {
		t.Errorf("bias not loaded: %v", v)
	}
	bad := map[string]*tensor.Tensor{"0.weight": tensor.Zeros(2, 1, 5, 5), "0.bias": tensor.Zeros(2)}
	if err := LoadState(m, bad); err == nil || !strings.Contains(err.Error(), "0.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	extra := map[string]*tensor.Tensor{"0.weight": tensor.Zeros(2, 1, 3, 3), "0.bias": tensor.Zeros(2), "x": tensor.Zeros(1)}
	if err := LoadState(m, extra); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("extra tensor: %v", err)
	}
	if err := LoadState(m, map[string]*tensor.Tensor{"0.weight": tensor.Zeros(2, 1, 3, 3)}); err == nil {
		t.Error("missing bias accepted")
	}
}

func TestInitNormalStatistics(t *testing.T) {
	c := NewConv2d(64, 64, 3, 1, 1, true)
	c.Bias.Fill_(3)
	InitNormal(c, 0.02, tensor.NewRNG(5))
	v := c.Weight.Values()
	var s, ss float64
	for _, x := range v {
		s += x
		ss += x * x
	}
	mean := s / float64(len(v))
	std := math.Sqrt(ss/float64(len(v)) - mean*mean)
	if math.Abs(mean) > 0.001 || math.Abs(std-0.02) > 0.001 {
		t.Errorf("weights mean %g std %g, want 0 and 0.02", mean, std)
	}
	for _, b := range c.Bias.Values() {
		if b != 0 {
			t.Fatal("bias not zeroed")
		}
	}
	InitKaiming(c, tensor.NewRNG(6))
	v = c.Weight.Values()
	ss = 0
	for _, x := range v {
		ss += x * x
	}
	if std := math.Sqrt(ss / float64(len(v))); math.Abs(std-math.Sqrt(2.0/576)) > 0.003 {
		t.Errorf("kaiming std %g", std)
	}
}
