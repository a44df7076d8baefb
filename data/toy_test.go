package data

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

func render(t Toy, l Latent, domain, size int) []float32 {
	dst := make([]float32, 3*size*size)
	t.Render(l, domain, size, dst)
	return dst
}

func meanAbsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i] - b[i]))
	}
	return s / float64(len(a))
}

func TestToyRegistry(t *testing.T) {
	if got := ToyNames(); !slices.Equal(got, []string{"pets", "seasons"}) {
		t.Errorf("ToyNames = %v", got)
	}
	for _, n := range ToyNames() {
		toy, err := ToyByName(n)
		if err != nil || toy.Name() != n {
			t.Errorf("ToyByName(%q) = %v, %v", n, toy, err)
		}
	}
	if _, err := ToyByName("horses"); err == nil || !strings.Contains(err.Error(), "seasons") {
		t.Errorf("unknown toy error %v", err)
	}
}

func TestToysDeterministic(t *testing.T) {
	for _, name := range ToyNames() {
		toy, _ := ToyByName(name)
		l1 := toy.Sample(newRand(5, streamLatent, 0))
		l2 := toy.Sample(newRand(5, streamLatent, 0))
		if !slices.Equal(l1, l2) {
			t.Fatalf("%s: same seed, different latents", name)
		}
		for _, size := range []int{16, 32, 57, 256} {
			for d := 0; d < 2; d++ {
				a := render(toy, l1, d, size)
				// Concurrent renders (sharing the canvas pool) agree too.
				var wg sync.WaitGroup
				outs := make([][]float32, 4)
				for g := range outs {
					wg.Add(1)
					go func() { defer wg.Done(); outs[g] = render(toy, l1, d, size) }()
				}
				wg.Wait()
				for _, o := range outs {
					if !slices.Equal(a, o) {
						t.Fatalf("%s size %d domain %d: renders differ", name, size, d)
					}
				}
				for _, v := range a {
					if v < -1 || v > 1 {
						t.Fatalf("%s: value %v outside [-1, 1]", name, v)
					}
				}
			}
		}
	}
}

// pairedL1 is the mean |A − B| between the two domains of the same latents:
// the error of the identity translation.
func pairedL1(toy Toy, size, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		l := toy.Sample(newRand(1, streamLatent, uint64(i)))
		s += meanAbsDiff(render(toy, l, 0, size), render(toy, l, 1, size))
	}
	return s / float64(n)
}

func TestToyDomainsDiffer(t *testing.T) {
	for _, c := range []struct {
		name string
		min  float64
	}{{"seasons", 0.5}, {"pets", 0.05}} {
		toy, _ := ToyByName(c.name)
		d := pairedL1(toy, 32, 64)
		t.Logf("%s: identity-baseline paired L1 at 32 px = %.3f", c.name, d)
		if d < c.min {
			t.Errorf("%s: paired L1 between domains %.3f < %.2f", c.name, d, c.min)
		}
		// Different latents in the same domain differ.
		for dom := 0; dom < 2; dom++ {
			a := render(toy, toy.Sample(newRand(2, streamLatent, 0)), dom, 32)
			b := render(toy, toy.Sample(newRand(2, streamLatent, 1)), dom, 32)
			if diff := meanAbsDiff(a, b); diff < 0.02 {
				t.Errorf("%s domain %d: two latents differ by only %.4f", c.name, dom, diff)
			}
		}
	}
}

func TestSeasonsShareLayout(t *testing.T) {
	// The two domains share the layout: the edges of a winter image (hill
	// lines, trees, house, sun) match those of the summer image of the same
	// latent better than those of any other summer image.
	toy, _ := ToyByName("seasons")
	const size = 32
	edges := func(x []float32) []float64 {
		n := size * size
		lum := make([]float64, n)
		for i := range lum {
			lum[i] = float64(x[i]+x[n+i]+x[2*n+i]) / 3
		}
		e := make([]float64, n)
		for y := 0; y < size-1; y++ {
			for x := 0; x < size-1; x++ {
				i := y*size + x
				e[i] = math.Abs(lum[i+1]-lum[i]) + math.Abs(lum[i+size]-lum[i])
			}
		}
		return e
	}
	corr := func(a, b []float64) float64 {
		var ma, mb float64
		for i := range a {
			ma += a[i]
			mb += b[i]
		}
		ma /= float64(len(a))
		mb /= float64(len(b))
		var sab, saa, sbb float64
		for i := range a {
			sab += (a[i] - ma) * (b[i] - mb)
			saa += (a[i] - ma) * (a[i] - ma)
			sbb += (b[i] - mb) * (b[i] - mb)
		}
		return sab / math.Sqrt(saa*sbb+1e-12)
	}
	const n = 12
	var summer, winter [n][]float64
	for i := 0; i < n; i++ {
		l := toy.Sample(newRand(4, streamLatent, uint64(i)))
		summer[i] = edges(render(toy, l, 0, size))
		winter[i] = edges(render(toy, l, 1, size))
	}
	for i := 0; i < n; i++ {
		own := corr(summer[i], winter[i])
		for j := 0; j < n; j++ {
			if other := corr(summer[j], winter[i]); j != i && other >= own {
				t.Errorf("winter %d: edges match summer %d (%.2f) at least as well as its own summer (%.2f)", i, j, other, own)
			}
		}
		if testing.Verbose() {
			t.Logf("latent %d: edge correlation between domains %.2f", i, own)
		}
	}
}

func TestToySource(t *testing.T) {
	toy, _ := ToyByName("seasons")
	mk := func(dom int, paired bool, start int64) *ToySource {
		s, err := NewToySource(toy, ToySourceOptions{Domain: dom, Size: 16, Seed: 9, Paired: paired, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := mk(0, false, 0)
	all := readAll(t, a, 10, 2)
	if a.Position() != 10 {
		t.Errorf("position %d", a.Position())
	}
	// Resuming at 6, by option or by SetPosition, continues identically.
	sl := a.SampleLen()
	if got := readAll(t, mk(0, false, 6), 4, 4); !slices.Equal(got, all[6*sl:]) {
		t.Error("Start=6 differs")
	}
	a.SetPosition(6)
	if got := readAll(t, a, 4, 1); !slices.Equal(got, all[6*sl:]) {
		t.Error("SetPosition(6) differs")
	}
	// Sample k is the render of Latent(k).
	if got := render(toy, a.Latent(3), 0, 16); !slices.Equal(got, all[3*sl:4*sl]) {
		t.Error("sample 3 is not the render of Latent(3)")
	}
	// Unpaired sources draw different latents per domain; paired ones the same.
	if slices.Equal(mk(0, false, 0).Latent(0), mk(1, false, 0).Latent(0)) {
		t.Error("unpaired domains share latents")
	}
	if !slices.Equal(mk(0, true, 0).Latent(0), mk(1, true, 0).Latent(0)) {
		t.Error("paired domains do not share latents")
	}
	for _, bad := range []ToySourceOptions{{Domain: 2, Size: 16}, {Size: 4}, {Size: 16, Start: -1}} {
		if _, err := NewToySource(toy, bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
	if err := a.Next(make([]float32, sl+1)); err == nil {
		t.Error("odd batch accepted")
	}
}

// TestSeasonsColourMapBaseline checks that seasons is easy to learn: a
// per-pixel colour lookup table fitted on training pairs (the simplest
// possible translator, far weaker than a CycleGAN generator) already
// removes most of the identity baseline's error on held-out scenes.
func TestSeasonsColourMapBaseline(t *testing.T) {
	toy, _ := ToyByName("seasons")
	const size, bins = 32, 16
	n := size * size
	bin := func(x []float32, i int) int {
		q := func(v float32) int { return min(bins-1, int((v+1)/2*bins)) }
		return (q(x[i])*bins+q(x[n+i]))*bins + q(x[2*n+i])
	}
	var sum [bins * bins * bins][3]float64
	var cnt [bins * bins * bins]float64
	for k := 0; k < 100; k++ {
		l := toy.Sample(newRand(21, streamLatent, uint64(k)))
		a, b := render(toy, l, 0, size), render(toy, l, 1, size)
		for i := 0; i < n; i++ {
			j := bin(a, i)
			cnt[j]++
			for c := 0; c < 3; c++ {
				sum[j][c] += float64(b[c*n+i])
			}
		}
	}
	var mapped, identity float64
	const held = 64
	for k := 0; k < held; k++ {
		l := toy.Sample(newRand(22, streamLatent, uint64(k)))
		a, b := render(toy, l, 0, size), render(toy, l, 1, size)
		out := make([]float32, len(a))
		for i := 0; i < n; i++ {
			j := bin(a, i)
			for c := 0; c < 3; c++ {
				if cnt[j] > 0 {
					out[c*n+i] = float32(sum[j][c] / cnt[j])
				} else {
					out[c*n+i] = a[c*n+i]
				}
			}
		}
		mapped += meanAbsDiff(out, b) / held
		identity += meanAbsDiff(a, b) / held
	}
	t.Logf("seasons 32 px paired L1: identity %.3f, colour lookup table %.3f", identity, mapped)
	if mapped > 0.5*identity {
		t.Errorf("a colour lookup table only brings L1 from %.3f to %.3f", identity, mapped)
	}
}
