package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoGeometries are 3×3 unit-stride convolutions: odd, even and
// non-square sizes (ragged last tiles in either direction), padding 0–2
// with zeros and reflection, batch 1–3, channel counts including 1 and 3,
// images smaller than a tile and padding larger than the image.
func winoGeometries() []ConvParams {
	var gs []ConvParams
	sizes := [][2]int{{5, 7}, {8, 6}, {9, 9}, {4, 11}, {10, 5}, {7, 8}, {6, 6}, {3, 4}}
	chans := [][2]int{{1, 1}, {3, 1}, {1, 3}, {3, 3}, {2, 4}, {5, 2}}
	i := 0
	for pad := 0; pad <= 2; pad++ {
		for _, reflect := range []bool{false, true} {
			for rep := 0; rep < 4; rep++ {
				i++
				hw := sizes[i%len(sizes)]
				h, w := max(hw[0], 3-2*pad, pad+1), max(hw[1], 3-2*pad, pad+1)
				ck := chans[i%len(chans)]
				gs = append(gs, geom(1+i%3, ck[0], h, w, ck[1], 3, 3, 1, 1, pad, pad, reflect))
			}
		}
	}
	return append(gs,
		geom(2, 3, 6, 9, 2, 3, 3, 1, 1, 1, 0, true),   // padding only across
		geom(1, 2, 7, 5, 3, 3, 3, 1, 1, 0, 2, false),  // padding only along
		geom(3, 2, 3, 3, 2, 3, 3, 1, 1, 2, 2, false),  // rows of pure padding
		geom(2, 1, 1, 1, 3, 3, 3, 1, 1, 1, 1, false),  // 1×1 image
		geom(1, 3, 2, 2, 2, 3, 3, 1, 1, 1, 1, true),   // 2×2 image, reflected
		geom(1, 4, 16, 16, 5, 3, 3, 1, 1, 1, 1, true), // a residual block in small
		geom(2, 6, 13, 12, 7, 3, 3, 1, 1, 1, 1, true),
		// Wide enough for the assembly transforms (blocks of eight tiles
		// and eight kernels) with remainders.
		geom(2, 19, 21, 37, 17, 3, 3, 1, 1, 1, 1, true),
		geom(1, 16, 16, 32, 8, 3, 3, 1, 1, 1, 1, true),
		geom(1, 9, 17, 18, 10, 3, 3, 1, 1, 2, 2, false),
	)
}

// The plain per-tile form of F(2×2, 3×3), for the error bounds.
var (
	winoBT = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	winoGm = [4][3]float64{{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}}
	winoAT = [2][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
)

// winoAbsBounds runs the Winograd algorithm plainly, per tile, on the
// absolute values of x, w and gy with the absolute values of Bᵀ, G and
// Aᵀ, giving for each element of y, gx and gw the magnitude M that
// bounds its rounding error: an algorithm made of sums and products with
// exact constants (0, ±½, ±1) whose every result passes through at most
// k roundings is accurate to γ_k·M, γ_k = k·u/(1−k·u) (Higham, Accuracy
// and Stability of Numerical Algorithms, §3.1 and §3.5). Here k is at
// most C+11 for y (weight transform 4, input transform 2, product 1, sum
// over C, output transform 4), K+18 for gx (4, 2, 1, K, 4, then up to 4
// overlapping tiles and 2 reflection folds) and N·tiles+9 for gw.
func winoAbsBounds(p ConvParams, x, w, gy []float64) (by, bgx, bgw []float64) {
	by, bgx, bgw = make([]float64, p.OutputLen()), make([]float64, p.InputLen()), make([]float64, p.WeightLen())
	th, tw := (p.OH+1)/2, (p.OW+1)/2
	// |U| for each (k, c).
	u := make([][4][4]float64, p.K*p.C)
	for kc := range u {
		for a := 0; a < 4; a++ {
			for b := 0; b < 4; b++ {
				for r := 0; r < 3; r++ {
					for s := 0; s < 3; s++ {
						u[kc][a][b] += math.Abs(winoGm[a][r]) * math.Abs(w[kc*9+r*3+s]) * math.Abs(winoGm[b][s])
					}
				}
			}
		}
	}
	// inIndex maps a padded-tile position to the input, -1 when zero.
	inIndex := func(n, c, ph, pw int) int {
		if ph >= p.H+2*p.PH || pw >= p.W+2*p.PW {
			return -1
		}
		ih, iw := refIndex(ph-p.PH, p.H, p.Reflect), refIndex(pw-p.PW, p.W, p.Reflect)
		if ih < 0 || iw < 0 {
			return -1
		}
		return ((n*p.C+c)*p.H+ih)*p.W + iw
	}
	dwu := make([][4][4]float64, p.K*p.C)
	for n := 0; n < p.N; n++ {
		for ti := 0; ti < th; ti++ {
			for tj := 0; tj < tw; tj++ {
				// |V| per c, |dM| per k.
				v := make([][4][4]float64, p.C)
				for c := range v {
					for a := 0; a < 4; a++ {
						for b := 0; b < 4; b++ {
							for i := 0; i < 4; i++ {
								for j := 0; j < 4; j++ {
									if xi := inIndex(n, c, 2*ti+i, 2*tj+j); xi >= 0 {
										v[c][a][b] += math.Abs(winoBT[a][i]) * math.Abs(x[xi]) * math.Abs(winoBT[b][j])
									}
								}
							}
						}
					}
				}
				dm := make([][4][4]float64, p.K)
				for k := range dm {
					for a := 0; a < 4; a++ {
						for b := 0; b < 4; b++ {
							for i := 0; i < 2; i++ {
								for j := 0; j < 2; j++ {
									oh, ow := 2*ti+i, 2*tj+j
									if oh < p.OH && ow < p.OW {
										g := gy[((n*p.K+k)*p.OH+oh)*p.OW+ow]
										dm[k][a][b] += math.Abs(winoAT[i][a]) * math.Abs(g) * math.Abs(winoAT[j][b])
									}
								}
							}
						}
					}
				}
				for k := 0; k < p.K; k++ {
					// Forward: |Aᵀ| Σ_c (|U| ⊙ |V|) |A|.
					var mk [4][4]float64
					for c := 0; c < p.C; c++ {
						for a := 0; a < 4; a++ {
							for b := 0; b < 4; b++ {
								mk[a][b] += u[k*p.C+c][a][b] * v[c][a][b]
								dwu[k*p.C+c][a][b] += dm[k][a][b] * v[c][a][b]
							}
						}
					}
					for i := 0; i < 2; i++ {
						for j := 0; j < 2; j++ {
							oh, ow := 2*ti+i, 2*tj+j
							if oh >= p.OH || ow >= p.OW {
								continue
							}
							s := 0.0
							for a := 0; a < 4; a++ {
								for b := 0; b < 4; b++ {
									s += math.Abs(winoAT[i][a]) * mk[a][b] * math.Abs(winoAT[j][b])
								}
							}
							by[((n*p.K+k)*p.OH+oh)*p.OW+ow] += s
						}
					}
				}
				// Data: |B| Σ_k (|U| ⊙ |dM|) |Bᵀ| into the padded positions.
				for c := 0; c < p.C; c++ {
					var dv [4][4]float64
					for k := 0; k < p.K; k++ {
						for a := 0; a < 4; a++ {
							for b := 0; b < 4; b++ {
								dv[a][b] += u[k*p.C+c][a][b] * dm[k][a][b]
							}
						}
					}
					for i := 0; i < 4; i++ {
						for j := 0; j < 4; j++ {
							xi := inIndex(n, c, 2*ti+i, 2*tj+j)
							if xi < 0 {
								continue
							}
							for a := 0; a < 4; a++ {
								for b := 0; b < 4; b++ {
									bgx[xi] += math.Abs(winoBT[a][i]) * dv[a][b] * math.Abs(winoBT[b][j])
								}
							}
						}
					}
				}
			}
		}
	}
	// Weight: |Gᵀ| dU |G|.
	for kc := range dwu {
		for r := 0; r < 3; r++ {
			for s := 0; s < 3; s++ {
				for a := 0; a < 4; a++ {
					for b := 0; b < 4; b++ {
						bgw[kc*9+r*3+s] += math.Abs(winoGm[a][r]) * dwu[kc][a][b] * math.Abs(winoGm[b][s])
					}
				}
			}
		}
	}
	return by, bgx, bgw
}

// checkWino compares got with the reference: within γ_k·M (Winograd's
// own rounding, M from winoAbsBounds) plus the reference's rounding
// bound, using unit roundoff u.
func checkWino(t *testing.T, what string, got []float64, ref refResult, bound []float64, k int, u float64) {
	t.Helper()
	bad := 0
	ku := float64(k) * u
	for i, g := range got {
		tol := ku/(1-ku)*bound[i] + 2*float64(ref.terms[i]+1)*0x1p-53*ref.abs[i] + 1e-300
		if !(math.Abs(g-ref.v[i]) <= tol) {
			if bad < 3 {
				t.Errorf("%s[%d] = %.10g, want %.10g (tolerance %.3g)", what, i, g, ref.v[i], tol)
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(got))
	}
}

// maxRelErr returns max|got − want| / max|want|.
func maxRelErr(got, want []float64) float64 {
	e, m := 0.0, 0.0
	for i := range got {
		e = max(e, math.Abs(got[i]-want[i]))
		m = max(m, math.Abs(want[i]))
	}
	if m == 0 {
		return e
	}
	return e / m
}

// withWinograd runs f with Winograd forced, with the default chunks and
// with chunks of one tile row, with the products shared out whole or
// each split by Gemm, restoring the settings after.
func withWinograd(t *testing.T, f func(t *testing.T)) {
	defer func(fl, tg, mt int, pg bool) {
		forceLowering, winoTarget, winoMinTiles, winoParallelGemm = fl, tg, mt, pg
	}(forceLowering, winoTarget, winoMinTiles, winoParallelGemm)
	forceLowering = 3
	for _, pg := range []bool{false, true} {
		winoParallelGemm = pg
		winoTarget, winoMinTiles = 1<<21, 128
		t.Run(fmt.Sprintf("parallelGemm=%v/chunks=default", pg), f)
		winoTarget, winoMinTiles = 1, 1
		t.Run(fmt.Sprintf("parallelGemm=%v/chunks=rows", pg), f)
	}
}

func testWinoAgainstRef[T Float](t *testing.T, u float64) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, p := range winoGeometries() {
		if err := p.Validate(); err != nil {
			t.Fatalf("test geometry %+v: %v", p, err)
		}
		x := toF64(toT[T](randSlice(r, p.InputLen())))
		w := toF64(toT[T](randSlice(r, p.WeightLen())))
		gy := toF64(toT[T](randSlice(r, p.OutputLen())))
		wantY, wantGX, wantGW := refConv(p, x, w), refBackData(p, gy, w), refBackWeight(p, x, gy)
		by, bgx, bgw := winoAbsBounds(p, x, w, gy)
		tiles := p.N * ((p.OH + 1) / 2) * ((p.OW + 1) / 2)
		name := fmt.Sprintf("N%dC%dH%dW%dK%d_p%dx%d_reflect=%v", p.N, p.C, p.H, p.W, p.K, p.PH, p.PW, p.Reflect)
		t.Run(name, func(t *testing.T) {
			withWinograd(t, func(t *testing.T) {
				y := nanSlice[T](p.OutputLen())
				Conv2d(p, toT[T](x), toT[T](w), y)
				checkWino(t, "y", toF64(y), wantY, by, p.C+11, u)
				gx := nanSlice[T](p.InputLen())
				Conv2dBackwardData(p, toT[T](gy), toT[T](w), gx)
				checkWino(t, "gx", toF64(gx), wantGX, bgx, p.K+18, u)
				gw := nanSlice[T](p.WeightLen())
				Conv2dBackwardWeight(p, toT[T](x), toT[T](gy), gw)
				checkWino(t, "gw", toF64(gw), wantGW, bgw, tiles+9, u)
				if u < 0x1p-30 {
					for _, c := range []struct {
						name      string
						got, want []float64
					}{{"y", toF64(y), wantY.v}, {"gx", toF64(gx), wantGX.v}, {"gw", toF64(gw), wantGW.v}} {
						if e := maxRelErr(c.got, c.want); e > 1e-12 {
							t.Errorf("%s: relative error %.3g > 1e-12", c.name, e)
						}
					}
				}
			})
		})
	}
}

// TestWinogradAgainstReference checks the three Winograd kernels against
// the plain convolution loops within the rounding bound of winoAbsBounds,
// and in float64 also within 1e-12 of the largest element.
func TestWinogradAgainstReferenceFloat64(t *testing.T) { testWinoAgainstRef[float64](t, 0x1p-53) }

// TestWinogradAgainstReferenceFloat32 is the float32 check: errors stay
// at float32 rounding level, within γ_k·M for the k of winoAbsBounds.
func TestWinogradAgainstReferenceFloat32(t *testing.T) { testWinoAgainstRef[float32](t, 0x1p-24) }

// TestWinogradBoundIsTight checks that the float32 error bound is not so
// loose that any result would pass: a wrong weight (one element off by a
// few units in the last place of float32) must fail it somewhere.
func TestWinogradBoundIsTight(t *testing.T) {
	p := geom(1, 4, 16, 16, 5, 3, 3, 1, 1, 1, 1, true)
	r := rand.New(rand.NewPCG(13, 14))
	x, w, gy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
	by, _, _ := winoAbsBounds(p, x, w, gy)
	want := refConv(p, x, w)
	k := float64(p.C + 11)
	worst := 0.0
	for i := range by {
		worst = max(worst, k*0x1p-24*by[i]/math.Max(want.abs[i], 1e-300))
	}
	// The bound is a few hundred float32 ulps of Σ|terms|: loose enough
	// for rounding, far below the size of any real mistake (a term
	// dropped or a sign flipped changes an element by ~Σ|terms|/9).
	if worst > 0.02 {
		t.Errorf("float32 bound reaches %.3g of Σ|terms|, too loose to catch a dropped term", worst)
	}
}

// TestWinogradAdjoint checks ⟨conv(x,w), gy⟩ = ⟨x, data(gy,w)⟩ =
// ⟨w, weight(x,gy)⟩ for the Winograd kernels: they must be exact
// adjoints of one another, reflection and ragged tiles included.
func TestWinogradAdjoint(t *testing.T) {
	defer func(fl int) { forceLowering = fl }(forceLowering)
	forceLowering = 3
	r := rand.New(rand.NewPCG(15, 16))
	for _, p := range []ConvParams{
		geom(2, 3, 11, 9, 4, 3, 3, 1, 1, 1, 1, true),
		geom(1, 5, 16, 16, 6, 3, 3, 1, 1, 1, 1, true),
		geom(3, 2, 7, 10, 3, 3, 3, 1, 1, 2, 1, false),
		geom(1, 4, 9, 8, 1, 3, 3, 1, 1, 0, 0, false),
		geom(2, 2, 5, 7, 3, 3, 3, 1, 1, 2, 2, true),
	} {
		x, w, gy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
		y, gx, gw := make([]float64, p.OutputLen()), make([]float64, p.InputLen()), make([]float64, p.WeightLen())
		Conv2d(p, x, w, y)
		Conv2dBackwardData(p, gy, w, gx)
		Conv2dBackwardWeight(p, x, gy, gw)
		a, b, c := dot(y, gy), dot(x, gx), dot(w, gw)
		scale := math.Sqrt(float64(p.FLOPs()))
		if math.Abs(a-b) > 1e-12*scale || math.Abs(a-c) > 1e-12*scale {
			t.Errorf("%+v: ⟨conv(x,w),gy⟩ = %.15g, ⟨x,backdata⟩ = %.15g, ⟨w,backweight⟩ = %.15g", p, a, b, c)
		}
	}
}

// TestWinogradThreads checks that results do not depend on the thread
// count, with counts that split the units and products unevenly.
func TestWinogradThreads(t *testing.T) {
	defer SetThreads(Threads())
	r := rand.New(rand.NewPCG(17, 18))
	for _, p := range []ConvParams{
		geom(3, 3, 12, 10, 5, 3, 3, 1, 1, 1, 1, true),
		geom(2, 5, 9, 13, 2, 3, 3, 1, 1, 2, 0, false),
	} {
		x, w, gy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
		wantY, wantGX, wantGW := refConv(p, x, w), refBackData(p, gy, w), refBackWeight(p, x, gy)
		by, bgx, bgw := winoAbsBounds(p, x, w, gy)
		tiles := p.N * ((p.OH + 1) / 2) * ((p.OW + 1) / 2)
		for _, th := range []int{1, 2, 3, 7} {
			SetThreads(th)
			withWinograd(t, func(t *testing.T) {
				y, gx, gw := make([]float64, p.OutputLen()), make([]float64, p.InputLen()), make([]float64, p.WeightLen())
				Conv2d(p, x, w, y)
				Conv2dBackwardData(p, gy, w, gx)
				Conv2dBackwardWeight(p, x, gy, gw)
				checkWino(t, fmt.Sprintf("threads %d: y", th), y, wantY, by, p.C+11, 0x1p-53)
				checkWino(t, fmt.Sprintf("threads %d: gx", th), gx, wantGX, bgx, p.K+18, 0x1p-53)
				checkWino(t, fmt.Sprintf("threads %d: gw", th), gw, wantGW, bgw, tiles+9, 0x1p-53)
			})
		}
	}
}

// TestWinogradNoAllocs checks that once the scratch is warm the Winograd
// kernels allocate nothing, in one chunk and in many.
func TestWinogradNoAllocs(t *testing.T) {
	if convRaceDetector {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	defer SetThreads(Threads())
	SetThreads(1)
	defer func(fl, tg, mt int) { forceLowering, winoTarget, winoMinTiles = fl, tg, mt }(forceLowering, winoTarget, winoMinTiles)
	forceLowering = 3
	for _, c := range []struct {
		name        string
		p           ConvParams
		target, min int
	}{
		{"one chunk", geom(2, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, true), 1 << 21, 128},
		{"chunks", geom(1, 4, 20, 14, 6, 3, 3, 1, 1, 1, 1, false), 1, 1},
	} {
		winoTarget, winoMinTiles = c.target, c.min
		p := c.p
		for _, fn := range []func(){
			func() { allocsWino[float32](t, c.name+" float32", p) },
			func() { allocsWino[float64](t, c.name+" float64", p) },
		} {
			fn()
		}
	}
}

func allocsWino[T Float](t *testing.T, name string, p ConvParams) {
	x, w, y := make([]T, p.InputLen()), make([]T, p.WeightLen()), make([]T, p.OutputLen())
	n := testing.AllocsPerRun(10, func() {
		Conv2d(p, x, w, y)
		Conv2dBackwardData(p, y, w, x)
		Conv2dBackwardWeight(p, x, y, w)
	})
	if n != 0 {
		t.Errorf("%s: %v allocations per forward+backward", name, n)
	}
}

// TestWinogradDispatch checks that the residual-block convolutions of
// the R1, R2 and I256 configurations go through Winograd, and that
// shapes it does not apply to never do.
func TestWinogradDispatch(t *testing.T) {
	for _, p := range []ConvParams{
		geom(1, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, true),
		geom(2, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, true),
		geom(1, 256, 32, 32, 256, 3, 3, 1, 1, 1, 1, true),
		geom(1, 256, 64, 64, 256, 3, 3, 1, 1, 1, 1, true),
	} {
		for op := opForward; op <= opWeight; op++ {
			if !p.useWinograd(op) {
				t.Errorf("C%d K%d %d×%d N%d: kernel %d does not use Winograd", p.C, p.K, p.H, p.W, p.N, op)
			}
		}
	}
	for _, p := range []ConvParams{
		geom(1, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1, false), // stride 2
		geom(1, 64, 16, 16, 128, 4, 4, 1, 1, 1, 1, false), // 4×4
		geom(1, 64, 16, 16, 128, 3, 1, 1, 1, 1, 0, false), // 3×1
		geom(1, 3, 64, 64, 32, 3, 3, 1, 1, 1, 1, true),    // 3 input channels
		geom(1, 64, 64, 64, 3, 3, 3, 1, 1, 1, 1, true),    // 3 output channels
		geom(1, 256, 2, 2, 256, 3, 3, 1, 1, 1, 1, true),   // one tile
	} {
		for op := opForward; op <= opWeight; op++ {
			if p.useWinograd(op) {
				t.Errorf("%+v: kernel %d uses Winograd", p, op)
			}
		}
	}
}

// TestWinogradReleaseScratch checks that the Winograd kernels still work
// after ReleaseConvScratch dropped their scratch.
func TestWinogradReleaseScratch(t *testing.T) {
	defer func(fl int) { forceLowering = fl }(forceLowering)
	forceLowering = 3
	p := geom(1, 2, 6, 6, 2, 3, 3, 1, 1, 1, 1, true)
	r := rand.New(rand.NewPCG(19, 20))
	x, w := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen())
	want := refConv(p, x, w)
	by, _, _ := winoAbsBounds(p, x, w, make([]float64, p.OutputLen()))
	y := make([]float64, p.OutputLen())
	Conv2d(p, x, w, y)
	ReleaseConvScratch()
	clear(y)
	Conv2d(p, x, w, y)
	checkWino(t, "y", y, want, by, p.C+11, 0x1p-53)
}

// TestWinogradAsmMatchesGo checks that the assembly transforms give
// bit-identical float32 results to the Go ones: they perform the same
// operations in the same order.
func TestWinogradAsmMatchesGo(t *testing.T) {
	if !winoAsm[float32]() {
		t.Skip("no assembly transforms in this build or on this CPU")
	}
	defer func(fl, tg, mt int) { forceLowering, winoTarget, winoMinTiles, winoNoAsm = fl, tg, mt, false }(forceLowering, winoTarget, winoMinTiles)
	forceLowering = 3
	r := rand.New(rand.NewPCG(21, 22))
	for _, p := range []ConvParams{
		geom(2, 19, 21, 37, 17, 3, 3, 1, 1, 1, 1, true),
		geom(1, 16, 16, 32, 8, 3, 3, 1, 1, 1, 1, true),
		geom(1, 24, 33, 48, 40, 3, 3, 1, 1, 2, 1, false),
		geom(3, 8, 15, 17, 9, 3, 3, 1, 1, 0, 0, false),
	} {
		x := toT[float32](randSlice(r, p.InputLen()))
		w := toT[float32](randSlice(r, p.WeightLen()))
		gy := toT[float32](randSlice(r, p.OutputLen()))
		run := func(noAsm bool) (y, gx, gw []float32) {
			winoNoAsm = noAsm
			y, gx, gw = make([]float32, p.OutputLen()), make([]float32, p.InputLen()), make([]float32, p.WeightLen())
			Conv2d(p, x, w, y)
			Conv2dBackwardData(p, gy, w, gx)
			Conv2dBackwardWeight(p, x, gy, gw)
			return y, gx, gw
		}
		for _, chunks := range [][2]int{{1 << 21, 128}, {1, 1}} {
			winoTarget, winoMinTiles = chunks[0], chunks[1]
			y0, gx0, gw0 := run(true)
			y1, gx1, gw1 := run(false)
			for _, c := range []struct {
				name     string
				asm, ref []float32
			}{{"y", y1, y0}, {"gx", gx1, gx0}, {"gw", gw1, gw0}} {
				for i := range c.ref {
					if math.Float32bits(c.asm[i]) != math.Float32bits(c.ref[i]) {
						t.Errorf("%+v chunks %v: %s[%d] = %g with assembly, %g without", p, chunks, c.name, i, c.asm[i], c.ref[i])
						break
					}
				}
			}
		}
	}
}
