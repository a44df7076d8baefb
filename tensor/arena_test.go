package tensor

import "testing"

func TestArenaRecyclesStorage(t *testing.T) {
	a := NewArena()
	w := NewRNG(1).Uniform(Float32, -1, 1, 8, 8).SetRequiresGrad(true)
	step := func() float64 {
		x := a.Copy(NewRNG(2).Uniform(Float32, -1, 1, 4, 8))
		h := Tanh(MatMul(x, w))
		if h.Arena() != a {
			t.Fatal("an op on an arena tensor allocated outside the arena")
		}
		loss := Sum(Square(h))
		loss.Backward()
		if w.Grad().Arena() != a {
			t.Fatal("a leaf's gradient was not allocated in the arena")
		}
		v := loss.Item()
		w.SetGrad(nil)
		a.Reset()
		return v
	}
	first := step()
	_, held := a.Bytes()
	for i := 0; i < 5; i++ {
		if v := step(); v != first {
			t.Fatalf("step %d: %g, first %g: recycled storage was not cleared", i, v, first)
		}
	}
	if _, h := a.Bytes(); h != held {
		t.Fatalf("arena grew from %d to %d bytes over identical steps", held, h)
	}
	if inUse, _ := a.Bytes(); inUse != 0 {
		t.Fatalf("%d bytes in use after Reset", inUse)
	}
	// Tensors not from the arena never land in it.
	if y := Tanh(NewRNG(3).Uniform(Float32, -1, 1, 3)); y.Arena() != nil {
		t.Fatal("a heap tensor's result belongs to an arena")
	}
	// Clone escapes the arena.
	x := a.Copy(Full(Float32, 2, 3))
	c := x.Clone()
	a.Reset()
	a.New(Float32, 3).Fill_(7)
	if c.Arena() != nil || c.Values()[0] != 2 {
		t.Fatal("Clone did not copy out of the arena")
	}
}

// BackwardAndRecycle gives the same leaf gradients as BackwardAll while
// handing storage back during the pass, so the arena holds less.
func TestBackwardAndRecycleMatchesBackward(t *testing.T) {
	rng := NewRNG(4)
	w1 := rng.Uniform(Float64, -0.5, 0.5, 4, 3, 3, 3).SetRequiresGrad(true)
	w2 := rng.Uniform(Float64, -0.5, 0.5, 4, 4, 3, 3).SetRequiresGrad(true)
	b := rng.Uniform(Float64, -0.1, 0.1, 4).SetRequiresGrad(true)
	x0 := rng.Uniform(Float64, -1, 1, 2, 3, 10, 10)
	run := func(a *Arena, recycle bool) ([][]float64, int64, []float64) {
		x := a.Copy(x0)
		h := InstanceNormReLU(Conv2d(x, w1, b, ConvOptions{Padding: 1, Mode: PadReflect}), 1e-5)
		for i := 0; i < 3; i++ {
			h = Add(h, InstanceNorm2d(Conv2d(Reshape(Reshape(h, 2, -1), 2, 4, 10, 10), w2, nil, ConvOptions{Padding: 1}), 1e-5))
		}
		keep := a.Copy(h) // a copy taken before the pass survives it
		loss := Mean(Abs(Sub(Tanh(Narrow(h, 1, 0, 3)), x0)))
		if recycle {
			BackwardAndRecycle(loss)
		} else {
			loss.Backward()
		}
		var gs [][]float64
		for _, p := range []*Tensor{w1, w2, b} {
			gs = append(gs, p.Grad().Values())
			p.SetGrad(nil)
		}
		inUse, _ := a.Bytes()
		if x.Values()[7] != x0.Values()[7] {
			t.Fatal("an input without history was recycled")
		}
		return gs, inUse, keep.Values()
	}
	a1, a2 := NewArena(), NewArena()
	want, plainUse, k1 := run(a1, false)
	got, recycledUse, k2 := run(a2, true)
	for i := range want {
		assertClose(t, "gradient", got[i], want[i], 0)
	}
	assertClose(t, "copy", k2, k1, 0)
	// All that is left in use: the input, the copy and the gradients.
	wantUse := int64(8 * (x0.Numel() + len(k1) + w1.Numel() + w2.Numel() + b.Numel()))
	if recycledUse != wantUse {
		t.Fatalf("arena in use after the recycling pass: %d bytes, want %d (%d without recycling)", recycledUse, wantUse, plainUse)
	}
	t.Logf("in use after backward: %d bytes with recycling, %d without", recycledUse, plainUse)
}

// Every operation that takes storage without clearing it writes all of
// it: with recycled storage full of NaN, a network's forward and backward
// passes give the same values as on the heap.
func TestUnclearedStorageIsOverwritten(t *testing.T) {
	rng := NewRNG(9)
	w1 := rng.Uniform(Float32, -0.5, 0.5, 4, 3, 3, 3).SetRequiresGrad(true)
	w2 := rng.Uniform(Float32, -0.5, 0.5, 4, 2, 3, 3).SetRequiresGrad(true)
	w3 := rng.Uniform(Float32, -0.5, 0.5, 3, 3, 4, 4).SetRequiresGrad(true)
	w4 := rng.Uniform(Float32, -0.5, 0.5, 4, 2, 3, 3).SetRequiresGrad(true)
	x0 := rng.Uniform(Float32, -1, 1, 2, 3, 12, 10)
	run := func(a *Arena) []float64 {
		x := x0
		if a != nil {
			x = a.Copy(x0)
		}
		h := InstanceNormReLU(Conv2d(x, w1, nil, ConvOptions{Padding: 1, Mode: PadReflect}), 1e-5)
		h = Add(h, Conv2d(h, Concat(1, w2, w2), nil, ConvOptions{Padding: 1}))
		h = ConvTranspose2d(h, w4, nil, ConvOptions{Stride: 2, Padding: 1, OutputPadding: 1}) // 2×2×24×20
		h = UpsampleBilinear2(Pad2d(Tanh(h), 1, 1, 2, 2, PadReflect))                         // 2×2×52×48
		d := InstanceNormLeakyReLU(Conv2d(Concat(1, h, Narrow(h, 1, 0, 1)), w3, nil, ConvOptions{Stride: 2, Padding: 1}), 1e-5, 0.2)
		up := UpsampleNearest2(UpsampleNearest2(x)) // 2×3×48×40
		loss := Add(Mean(Square(d)), Mean(Abs(Sub(Narrow(up, 1, 0, 2), Narrow(Narrow(h, 2, 0, 48), 3, 0, 40)))))
		out := []float64{loss.Item()} // read before the pass recycles it
		BackwardAndRecycle(loss)
		for _, p := range []*Tensor{w1, w2, w3, w4} {
			out = append(out, p.Grad().Values()...)
			p.SetGrad(nil)
		}
		return out
	}
	want := run(nil)
	a := NewArena()
	a.poison = true
	for i := 0; i < 3; i++ {
		got := run(a)
		a.Reset()
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("pass %d, value %d: %g in the arena, %g on the heap", i, j, got[j], want[j])
			}
		}
	}
}
