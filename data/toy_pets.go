package data

import "math/rand/v2"

// petsToy renders a cartoon cat face (domain 0) and a dog face (domain 1)
// from the same latent: fur colour, head position, size and tilt, eye
// colour, markings and background colour are shared. Cats have pointed ears,
// slit pupils, a small pink nose and whiskers; dogs have floppy ears, round
// pupils, a big light snout with a black nose and sometimes a tongue.
type petsToy struct{}

// Latent layout of pets.
const (
	pBg      = 0 // colour index, jitter
	pFur     = 2 // colour index, jitter
	pPos     = 4 // cx, cy, size, tilt
	pEye     = 8 // colour index, spacing, size
	pPatch   = 11
	pTongue  = 13
	pPupil   = 14
	pEar     = 15
	petsLen  = 16
	petReach = 1.75 // the face fits in this many head radii around its centre
)

func (petsToy) Name() string                 { return "pets" }
func (petsToy) Domains() (string, string)    { return "cat", "dog" }
func (petsToy) Sample(rng *rand.Rand) Latent { return sampleLatent(rng, petsLen) }

var (
	petBackgrounds = []rgb{{200, 225, 240}, {240, 220, 200}, {215, 235, 205}, {235, 215, 235}, {245, 240, 200}, {190, 192, 205}}
	petFurs        = []rgb{{225, 140, 55}, {135, 88, 52}, {45, 42, 45}, {150, 150, 158}, {242, 238, 228}, {228, 200, 150}}
	petEyes        = []rgb{{100, 180, 60}, {225, 190, 40}, {80, 140, 220}, {140, 90, 45}, {210, 140, 40}}
)

func pick(tab []rgb, u float64) rgb { return tab[int(u*float64(len(tab)))%len(tab)] }

func luma(c rgb) int { return (299*int(c[0]) + 587*int(c[1]) + 114*int(c[2])) / 1000 }

// Render draws latent l (domain 0 cat, 1 dog) into dst.
func (petsToy) Render(l Latent, domain, size int, dst []float32) {
	checkRender("pets", l, petsLen, domain, size, dst)
	dog := domain == 1
	c := getCanvas(size)

	bg := scale8(pick(petBackgrounds, l[pBg]), 0.92+0.16*l[pBg+1])
	fur := scale8(pick(petFurs, l[pFur]), 0.9+0.2*l[pFur+1])
	dark := luma(fur) < 100
	patch := scale8(fur, 0.55)
	if dark {
		patch = lerp8(fur, rgb{240, 236, 230}, 0.8)
	}
	hasPatch := l[pPatch] < 0.35
	patchX := -0.42
	if l[pPatch+1] < 0.5 {
		patchX = 0.42
	}
	iris := pick(petEyes, l[pEye])
	es := 0.34 + 0.12*l[pEye+1]  // eye spacing
	er := 0.15 + 0.06*l[pEye+2]  // eye radius
	pupil := 0.8 + 0.4*l[pPupil] // pupil scale
	ev := l[pEar]                // ear variation
	black := rgb{28, 24, 26}
	whisker := rgb{50, 45, 45}
	if dark {
		whisker = rgb{240, 240, 240}
	}
	muzzle := lerp8(fur, rgb{246, 238, 225}, 0.6)
	earCol := scale8(fur, 0.72)
	if dark {
		earCol = lerp8(fur, rgb{120, 110, 105}, 0.35)
	}

	// Head frame: centre, radius and a tilt given by t = tan(θ/2), so the
	// rotation needs no trigonometric function.
	cx, cy := 0.38+0.24*l[pPos], 0.44+0.16*l[pPos+1]
	r := 0.2 + 0.1*l[pPos+2]
	t := 0.5 * (l[pPos+3] - 0.5)
	cos, sin := (1-mul(t, t))/(1+mul(t, t)), 2*t/(1+mul(t, t))

	ey := -0.15
	if dog {
		ey = -0.2
	}
	face := func(x, y float64) (rgb, bool) {
		ax, side := x, 1.0 // |x| and its sign: features are mirrored
		if x < 0 {
			ax, side = -x, -1
		}
		if !dog {
			// Whiskers, on top of everything.
			if y > 0.07 && y < 0.47 && ax > 0.28 && ax < 1.47 {
				for k := 0; k < 3; k++ {
					fk := float64(k)
					if nearSegment(ax, y, 0.3, 0.26+0.06*fk, 1.45, 0.1+0.16*fk, 0.018) {
						return whisker, true
					}
				}
			}
			// Nose and mouth.
			if y > 0.15 && y < 0.44 && ax < 0.16 {
				if inTriangle(ax, y, 0, 0.16, 0.11, 0.16, 0, 0.29) {
					return rgb{235, 130, 150}, true
				}
				if nearSegment(ax, y, 0, 0.29, 0.13, 0.41, 0.025) {
					return rgb{70, 45, 45}, true
				}
			}
		} else if y > 0.12 && y < 0.84 && ax < 0.51 {
			if inEllipse(ax, y, 0, 0.26, 0.2, 0.13) {
				return black, true
			}
			if l[pTongue] < 0.5 && y > 0.58 && inEllipse(ax, y, 0, 0.7, 0.12, 0.14) {
				return rgb{230, 100, 120}, true
			}
			if ax < 0.2 && (nearSegment(ax, y, 0, 0.33, 0, 0.56, 0.025) || nearSegment(ax, y, 0, 0.56, 0.17, 0.62, 0.025)) {
				return rgb{60, 40, 40}, true
			}
			if inEllipse(ax, y, 0, 0.42, 0.5, 0.36) {
				return muzzle, true
			}
		}
		// Eyes (the one on this side).
		if y > ey-er && y < ey+er && ax > es-er && ax < es+er && inEllipse(x, y, side*es, ey, er, er) {
			ex := side * es
			if inEllipse(x, y, ex+0.3*er, ey-0.3*er, 0.25*er, 0.25*er) {
				return rgb{250, 250, 250}, true // highlight
			}
			if dog {
				if inEllipse(x, y, ex, ey, 0.55*er*pupil, 0.55*er*pupil) {
					return black, true
				}
			} else if inEllipse(x, y, ex, ey, 0.22*er*pupil, 0.92*er) {
				return black, true
			}
			return iris, true
		}
		// Floppy ears hang over the sides of the head.
		if dog && ax > 0.6 && inEllipse(ax, y, 0.9, 0.08+0.12*ev, 0.3, 0.6+0.2*ev) {
			return earCol, true
		}
		var in bool
		if dog {
			in = inEllipse(x, y, 0, 0, 0.92, 1)
		} else {
			in = inEllipse(x, y, 0, 0, 1.05, 0.92)
		}
		if in {
			if hasPatch && inEllipse(x, y, patchX, -0.2, 0.42, 0.38) {
				return patch, true
			}
			return fur, true
		}
		if !dog && y < -0.3 {
			// Pointed ears behind the head, with a pink inside.
			tip := -1.3 - 0.25*ev
			if inTriangle(ax, y, 0.95, -0.3, 0.22, -0.8, 0.72, tip) {
				if inTriangle(ax, y, 0.8, -0.42, 0.38, -0.72, 0.7, tip+0.25) {
					return rgb{240, 170, 185}, true
				}
				return fur, true
			}
		}
		return rgb{}, false
	}

	// Background: a vertical gradient, one colour per sample row.
	rows := make([]rgb, c.n)
	for j := range rows {
		rows[j] = lerp8(bg, scale8(bg, 0.85), (float64(j)+0.5)*c.inv)
	}
	c.paint(0, 0, 1, 1, func(i, j int, x, y float64) (rgb, bool) {
		return rows[j], true
	})
	reach := petReach * r
	c.paint(cx-reach, cy-reach, cx+reach, cy+reach, func(i, j int, x, y float64) (rgb, bool) {
		dx, dy := (x-cx)/r, (y-cy)/r
		// Rotate by −θ into the head's frame.
		return face(mul(dx, cos)+mul(dy, sin), mul(dy, cos)-mul(dx, sin))
	})
	c.resolve(size, dst)
}
