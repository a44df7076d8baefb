package cyclegan

import (
	"errors"
	"math"
	"testing"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// stripes renders a batch of simple images: domain 0 has horizontal colour
// ramps, domain 1 the same ramps inverted and tinted.
func stripes(rng *tensor.RNG, n, size, domain int) *tensor.Tensor {
	t := tensor.Zeros(n, 3, size, size)
	d := t.Float32s()
	for i := 0; i < n; i++ {
		phase := rng.Float64() * 6
		for c := 0; c < 3; c++ {
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					v := math.Sin(phase + float64(x)*0.5 + float64(c))
					if domain == 1 {
						v = -0.6*v + 0.3
					}
					d[((i*3+c)*size+y)*size+x] = float32(v)
				}
			}
		}
	}
	return t
}

func tinyLearner(seed uint64) *Learner {
	rng := tensor.NewRNG(seed)
	nets := NewNets(8, 2, 8, 2, rng)
	opt := DefaultOptions()
	opt.LR = 5e-4
	return NewLearner(nets, opt, rng)
}

func TestTinyModelTrains(t *testing.T) {
	l := tinyLearner(1)
	data := tensor.NewRNG(2)
	var first, last float64
	const steps, window = 90, 20
	for s := 0; s < steps; s++ {
		ls, err := l.Step(stripes(data, 1, 16, 0), stripes(data, 1, 16, 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{ls.GA, ls.GB, ls.CycleA, ls.CycleB, ls.IdtA, ls.IdtB, ls.DA, ls.DB, ls.GPA, ls.GPB} {
			if !finite(v) {
				t.Fatalf("step %d: non-finite loss %+v", s, ls)
			}
		}
		c := ls.CycleA + ls.CycleB
		if s < window {
			first += c / window
		}
		if s >= steps-window {
			last += c / window
		}
	}
	if !(last < 0.7*first) {
		t.Fatalf("cycle loss did not fall: first steps %.4f, last steps %.4f", first, last)
	}
	t.Logf("cycle loss %.4f → %.4f", first, last)
}

func TestNonFiniteStopsBeforeUpdate(t *testing.T) {
	l := tinyLearner(3)
	data := tensor.NewRNG(4)
	a := stripes(data, 1, 16, 0)
	a.Float32s()[5] = float32(math.NaN())
	w := append([]float64(nil), paramValues(l)...)
	_, err := l.Step(a, stripes(data, 1, 16, 1), nil)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Step != 1 {
		t.Fatalf("got %v, want a NonFiniteError at step 1", err)
	}
	if l.Steps != 0 {
		t.Errorf("step counter moved to %d", l.Steps)
	}
	for i, v := range paramValues(l) {
		if v != w[i] {
			t.Fatal("a parameter changed on a failed step")
		}
	}
}

func paramValues(l *Learner) []float64 {
	var v []float64
	for _, p := range append(append([]nn.Param(nil), l.gParams...), l.dParams...) {
		v = append(v, p.T.Values()...)
	}
	return v
}

// The step batches each generator's real and identity inputs; its losses
// equal those of separate passes, as the reference computes them.
func TestBatchedGeneratorPassesMatchSeparatePasses(t *testing.T) {
	l := tinyLearner(5)
	data := tensor.NewRNG(6)
	a, b := stripes(data, 2, 16, 0), stripes(data, 2, 16, 1)
	n := l.Nets
	var want [6]float64
	noGrad(func() {
		fakeB, fakeA := n.GA.Forward(a), n.GB.Forward(b)
		want = [6]float64{
			generatorLoss(l.Opt.Loss, n.DB.Forward(fakeB)).Item(),
			generatorLoss(l.Opt.Loss, n.DA.Forward(fakeA)).Item(),
			l1(n.GB.Forward(fakeB), a).Item(),
			l1(n.GA.Forward(fakeA), b).Item(),
			l1(n.GA.Forward(b), b).Item(),
			l1(n.GB.Forward(a), a).Item(),
		}
	}, n.GA, n.GB, n.DA, n.DB)
	ls, err := l.Step(a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := [6]float64{ls.GA, ls.GB, ls.CycleA, ls.CycleB, ls.IdtA, ls.IdtB}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("loss %d: batched %g, separate %g", i, got[i], want[i])
		}
	}
}
