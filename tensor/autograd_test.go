package tensor

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestGradientAccumulatesOverUses(t *testing.T) {
	x := FromFloat64([]float64{2, -3}, 2).SetRequiresGrad(true)
	// y = x·x + x + x·x·x, dy/dx = 2x + 1 + 3x²
	y := Sum(Add(Add(Mul(x, x), x), Mul(Mul(x, x), x)))
	g := Grad([]*Tensor{y}, []*Tensor{x}, nil, false)[0]
	assertClose(t, "dy/dx", g.Values(), []float64{2*2 + 1 + 3*4, -6 + 1 + 27}, 1e-12)
}

func TestBackwardAccumulatesIntoLeaves(t *testing.T) {
	w := FromFloat64([]float64{1, 2}, 2).SetRequiresGrad(true)
	c := FromFloat64([]float64{5, 7}, 2) // a constant
	Sum(Mul(w, c)).Backward()
	assertClose(t, "first", w.Grad().Values(), []float64{5, 7}, 0)
	Sum(Mul(w, w)).Backward()
	assertClose(t, "accumulated", w.Grad().Values(), []float64{5 + 2, 7 + 4}, 0)
	if c.Grad() != nil {
		t.Error("a constant got a gradient")
	}
	// The gradient must not alias the constant it was computed from.
	assertClose(t, "constant untouched", c.Values(), []float64{5, 7}, 0)
}

func TestDetachStopsGradient(t *testing.T) {
	x := FromFloat64([]float64{3}, 1).SetRequiresGrad(true)
	y := Mul(x, x.Detach()) // d/dx = x (the detached factor is a constant)
	g := Grad([]*Tensor{Sum(y)}, []*Tensor{x}, nil, false)[0]
	assertClose(t, "grad", g.Values(), []float64{3}, 0)
	if x.Detach().RequiresGrad() {
		t.Error("a detached tensor requires gradients")
	}
}

func TestUnusedInputGetsZeroGradient(t *testing.T) {
	x := FromFloat64([]float64{1, 2}, 2).SetRequiresGrad(true)
	u := FromFloat64([]float64{1, 2, 3}, 3).SetRequiresGrad(true)
	gs := Grad([]*Tensor{Sum(x)}, []*Tensor{x, u}, nil, false)
	assertClose(t, "unused", gs[1].Values(), []float64{0, 0, 0}, 0)
}

func TestGradOfNonLeafAndPruning(t *testing.T) {
	w := FromFloat64([]float64{2}, 1).SetRequiresGrad(true)
	x := FromFloat64([]float64{3}, 1).SetRequiresGrad(true)
	h := Mul(x, w) // non-leaf
	y := Sum(Square(h))
	g := Grad([]*Tensor{y}, []*Tensor{h}, nil, false)[0]
	assertClose(t, "dy/dh", g.Values(), []float64{12}, 0)
	if w.Grad() != nil || x.Grad() != nil {
		t.Error("Grad touched leaves' accumulated gradients")
	}
}

func TestSecondBackwardThroughFreedGraphPanics(t *testing.T) {
	x := FromFloat64([]float64{1}, 1).SetRequiresGrad(true)
	y := Sum(Square(x))
	y.Backward()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "freed") {
			t.Fatalf("second backward: %v", r)
		}
	}()
	y.Backward()
}

func TestCreateGraphKeepsGraphAndAllowsHigherOrder(t *testing.T) {
	x := FromFloat64([]float64{2}, 1).SetRequiresGrad(true)
	y := Sum(Mul(Mul(x, x), x)) // x³
	g1 := Grad([]*Tensor{y}, []*Tensor{x}, nil, true)[0]
	g2 := Grad([]*Tensor{Sum(g1)}, []*Tensor{x}, nil, true)[0]
	g3 := Grad([]*Tensor{Sum(g2)}, []*Tensor{x}, nil, false)[0]
	assertClose(t, "3x²", g1.Values(), []float64{12}, 1e-12)
	assertClose(t, "6x", g2.Values(), []float64{12}, 1e-12)
	assertClose(t, "6", g3.Values(), []float64{6}, 1e-12)
	// The first graph is still usable after createGraph passes.
	g1b := Grad([]*Tensor{y}, []*Tensor{x}, nil, false)[0]
	assertClose(t, "again", g1b.Values(), []float64{12}, 1e-12)
}

func TestGradOutputsWeighting(t *testing.T) {
	x := FromFloat64([]float64{1, 2, 3}, 3).SetRequiresGrad(true)
	y := Square(x)
	w := FromFloat64([]float64{1, 0, -1}, 3)
	g := Grad([]*Tensor{y}, []*Tensor{x}, []*Tensor{w}, false)[0]
	assertClose(t, "weighted", g.Values(), []float64{2, 0, -6}, 0)
}

func TestNoGraphWithoutRequiresGrad(t *testing.T) {
	a := FromFloat32([]float32{1, 2}, 2)
	y := Sum(Tanh(Mul(a, a)))
	if y.RequiresGrad() || y.node != nil {
		t.Fatal("an expression of constants recorded a graph")
	}
}

// After Backward, the loss no longer keeps the forward graph's
// intermediate tensors alive; with createGraph it still does.
func TestGraphIsReleasedAfterBackward(t *testing.T) {
	for _, keep := range []bool{false, true} {
		w := New(Float32, 64, 64).SetRequiresGrad(true)
		collected := make(chan struct{}, 1)
		var loss *Tensor
		func() {
			h := Tanh(MatMul(w, w))
			runtime.AddCleanup(h, func(ch chan struct{}) { ch <- struct{}{} }, collected)
			loss = Sum(Square(h))
			BackwardAll([]*Tensor{loss}, nil, keep)
		}()
		got := false
		for i := 0; i < 50 && !got; i++ {
			runtime.GC()
			select {
			case <-collected:
				got = true
			default:
				time.Sleep(5 * time.Millisecond)
			}
		}
		runtime.KeepAlive(loss)
		if got == keep {
			t.Errorf("createGraph=%v: intermediate collected=%v while the loss is alive", keep, got)
		}
	}
}

func TestRNGStateRoundTrip(t *testing.T) {
	r := NewRNG(42)
	r.Float64()
	st, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	a := r.Normal(Float32, 0, 1, 5).Values()
	r2 := NewRNG(1)
	if err := r2.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	assertClose(t, "restored stream", r2.Normal(Float32, 0, 1, 5).Values(), a, 0)
}
