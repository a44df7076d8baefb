package data

import "math/rand/v2"

// seasonsToy renders one landscape (hills, sky, sun or clouds, trees, maybe
// a lake and a house) in summer (domain 0) and under heavy snow (domain 1).
// Both domains share the layout; they differ in colour (green versus white
// ground, blue versus grey sky) and texture (grassy noise versus smooth
// snow, leafy versus snow-capped trees).
type seasonsToy struct{}

// Latent layout of seasons.
const (
	sHorizon   = 0
	sFar       = 1  // 3 bumps × (centre, width, amplitude)
	sNear      = 10 // 2 bumps × (centre, width, amplitude)
	sNearBase  = 16
	sSunSel    = 17
	sSun       = 18 // x, y, r
	sClouds    = 21 // 2 clouds × (x, y, scale)
	sTreeCount = 27
	sTrees     = 28 // 6 trees × (x, size, kind, depth)
	sLake      = 52 // flag, x, y, rx, ry
	sHouse     = 57 // flag, x, w, h, wall colour
	sSkyJit    = 62
	sGrassJit  = 63
	sNoiseSeed = 64
	seasonsLen = 65
	maxTrees   = 6
)

func (seasonsToy) Name() string                 { return "seasons" }
func (seasonsToy) Domains() (string, string)    { return "summer", "winter" }
func (seasonsToy) Sample(rng *rand.Rand) Latent { return sampleLatent(rng, seasonsLen) }

type seasonsPalette struct {
	skyTop, skyHorizon rgb
	sun, halo, cloud   rgb
	far, ground        rgb
	groundContrast     float64 // texture amplitude
	lake               rgb
	roof, window       rgb
	conifer, leaves    rgb
	cap                rgb // snow on trees (winter)
	trunk              rgb
}

func seasonsColours(l Latent, winter bool) seasonsPalette {
	sj := l[sSkyJit] - 0.5
	gj := l[sGrassJit] - 0.5
	if !winter {
		return seasonsPalette{
			skyTop:         rgb{uint8(60 + 30*sj), uint8(125 + 30*sj), 215},
			skyHorizon:     rgb{175, 212, 242},
			sun:            rgb{255, 222, 70},
			halo:           rgb{255, 240, 165},
			cloud:          rgb{250, 250, 252},
			far:            rgb{70, uint8(130 + 20*gj), 88},
			ground:         rgb{uint8(95 + 40*gj), uint8(170 + 20*gj), 60},
			groundContrast: 0.5,
			lake:           rgb{45, 105, 195},
			roof:           rgb{165, 60, 45},
			window:         rgb{55, 75, 105},
			conifer:        rgb{30, 105, 45},
			leaves:         rgb{70, uint8(150 + 30*gj), 50},
			trunk:          rgb{105, 72, 40},
		}
	}
	return seasonsPalette{
		skyTop:         rgb{uint8(140 + 20*sj), uint8(145 + 20*sj), 158},
		skyHorizon:     rgb{214, 216, 222},
		sun:            rgb{238, 238, 230},
		halo:           rgb{226, 227, 228},
		cloud:          rgb{160, 163, 172},
		far:            rgb{200, 208, 226},
		ground:         rgb{244, 246, 252},
		groundContrast: 0.08,
		lake:           rgb{180, 205, 225},
		roof:           rgb{244, 246, 252},
		window:         rgb{250, 215, 110},
		conifer:        rgb{22, 62, 42},
		leaves:         rgb{96, 86, 80},
		cap:            rgb{240, 243, 250},
		trunk:          rgb{70, 52, 40},
	}
}

// ridge returns the hill top's y at x for a hill of base y and k bumps
// stored at l[at:].
func ridge(l Latent, at, k int, base, amp float64, x float64) float64 {
	y := base
	for b := 0; b < k; b++ {
		c := l[at+3*b]
		w := 0.18 + 0.3*l[at+3*b+1]
		a := amp * (0.3 + 0.7*l[at+3*b+2])
		y -= mul(a, bump((x-c)/w))
	}
	return y
}

func (t seasonsToy) farRidge(l Latent, x float64) float64 {
	return ridge(l, sFar, 3, 0.42+0.14*l[sHorizon], 0.22, x)
}

func (t seasonsToy) nearRidge(l Latent, x float64) float64 {
	return ridge(l, sNear, 2, 0.62+0.12*l[sNearBase], 0.14, x)
}

// Render draws latent l (domain 0 summer, 1 winter) into dst.
func (t seasonsToy) Render(l Latent, domain, size int, dst []float32) {
	checkRender("seasons", l, seasonsLen, domain, size, dst)
	winter := domain == 1
	p := seasonsColours(l, winter)
	c := getCanvas(size)
	seed := uint32(l[sNoiseSeed] * (1 << 32))

	// Hill tops per sample column.
	far := make([]float64, c.n)
	near := make([]float64, c.n)
	for i := range far {
		x := (float64(i) + 0.5) * c.inv
		far[i] = t.farRidge(l, x)
		near[i] = t.nearRidge(l, x)
	}
	horizon := 0.42 + 0.14*l[sHorizon]
	sky := make([]rgb, c.n)
	for j := range sky {
		sky[j] = lerp8(p.skyTop, p.skyHorizon, (float64(j)+0.5)*c.inv/horizon)
	}

	// Sky and hills, one pass over the canvas.
	n14 := newNoiseField(14, seed, c.scratch(0, 16*16))
	n40 := newNoiseField(40, seed+1, c.scratch(1, 42*42))
	n10 := newNoiseField(10, seed+2, c.scratch(2, 12*12))
	for j := 0; j < c.n; j++ {
		y := (float64(j) + 0.5) * c.inv
		row := c.pix[3*j*c.n : 3*(j+1)*c.n]
		for i := 0; i < c.n; i++ {
			x := (float64(i) + 0.5) * c.inv
			var col rgb
			switch {
			case y >= near[i]:
				n := n14.at(x, y)
				if !winter {
					n = 0.6*n + 0.4*n40.at(x, y)
				}
				col = scale8(p.ground, 1+mul(p.groundContrast, n-0.5))
			case y >= far[i]:
				col = scale8(p.far, 1+mul(0.5*p.groundContrast, n10.at(x, y)-0.5))
			default:
				col = sky[j]
			}
			q := row[3*i : 3*i+3 : 3*i+3]
			q[0], q[1], q[2] = col[0], col[1], col[2]
		}
	}

	// Sun, or clouds.
	if l[sSunSel] < 0.55 {
		sx, sy, sr := 0.12+0.76*l[sSun], 0.07+0.18*l[sSun+1], 0.045+0.045*l[sSun+2]
		hr := sr * 1.4
		c.paint(sx-hr, sy-hr, sx+hr, sy+hr, func(i, j int, x, y float64) (rgb, bool) {
			if y >= far[i] {
				return rgb{}, false
			}
			if inEllipse(x, y, sx, sy, sr, sr) {
				return p.sun, true
			}
			return p.halo, inEllipse(x, y, sx, sy, hr, hr)
		})
	} else {
		for k := 0; k < 2; k++ {
			cx, cy, s := 0.1+0.8*l[sClouds+3*k], 0.06+0.16*l[sClouds+3*k+1], 0.6+0.6*l[sClouds+3*k+2]
			w, h := 0.12*s, 0.05*s
			c.paint(cx-w, cy-2*h, cx+w, cy+h, func(i, j int, x, y float64) (rgb, bool) {
				if y >= far[i] {
					return rgb{}, false
				}
				in := inEllipse(x, y, cx, cy, w, h) ||
					inEllipse(x, y, cx-0.35*w, cy-0.6*h, 0.45*w, 1.1*h) ||
					inEllipse(x, y, cx+0.25*w, cy-0.8*h, 0.5*w, 1.2*h)
				return p.cloud, in
			})
		}
	}

	// Lake on the near hill.
	if l[sLake] < 0.4 {
		lx := 0.2 + 0.6*l[sLake+1]
		top := t.nearRidge(l, lx) + 0.06
		ly := top + (0.93-top)*l[sLake+2]
		rx, ry := 0.12+0.12*l[sLake+3], 0.03+0.03*l[sLake+4]
		c.paint(lx-rx, ly-ry, lx+rx, ly+ry, func(i, j int, x, y float64) (rgb, bool) {
			if !inEllipse(x, y, lx, ly, rx, ry) {
				return rgb{}, false
			}
			if winter {
				return p.lake, true
			}
			return scale8(p.lake, 0.85+0.35*noise(x, y*3, 30, seed+3)), true
		})
	}

	// House.
	if l[sHouse] < 0.5 {
		hx := 0.15 + 0.7*l[sHouse+1]
		hw, hh := 0.12+0.08*l[sHouse+2], 0.07+0.05*l[sHouse+3]
		base := t.nearRidge(l, hx) + 0.04
		walls := []rgb{{200, 60, 50}, {225, 195, 120}, {200, 170, 140}, {110, 130, 160}}[int(l[sHouse+4]*4)]
		x0, x1, y0 := hx-hw/2, hx+hw/2, base-hh
		rt := y0 - 0.7*hh // roof tip
		c.paint(x0-0.02, rt, x1+0.02, base, func(i, j int, x, y float64) (rgb, bool) {
			if y >= y0 && x >= x0 && x <= x1 {
				switch {
				case x >= hx-0.12*hw && x <= hx+0.08*hw && y >= base-0.55*hh: // door
					return rgb{80, 50, 35}, true
				case y >= y0+0.2*hh && y <= y0+0.5*hh &&
					((x >= x0+0.15*hw && x <= x0+0.35*hw) || (x >= x1-0.35*hw && x <= x1-0.15*hw)): // windows
					return p.window, true
				}
				return walls, true
			}
			return p.roof, inTriangle(x, y, x0-0.02, y0+0.002, x1+0.02, y0+0.002, hx, rt)
		})
	}

	// Trees, far ones first.
	nt := 2 + int(l[sTreeCount]*5)
	if nt > maxTrees {
		nt = maxTrees
	}
	order := make([]int, nt)
	for k := range order {
		order[k] = k
	}
	for a := 1; a < nt; a++ { // insertion sort by depth
		for b := a; b > 0 && l[sTrees+4*order[b]+3] < l[sTrees+4*order[b-1]+3]; b-- {
			order[b], order[b-1] = order[b-1], order[b]
		}
	}
	for _, k := range order {
		tx := 0.04 + 0.92*l[sTrees+4*k]
		depth := l[sTrees+4*k+3]
		top := t.nearRidge(l, tx)
		by := top + 0.02 + mul(0.5*depth, 0.97-top)
		th := (0.12 + 0.10*l[sTrees+4*k+1]) * (0.75 + 0.6*depth)
		t.tree(c, p, winter, l[sTrees+4*k+2] < 0.5, tx, by, th, seed+uint32(10+k))
	}
	c.resolve(size, dst)
}

// tree draws a conifer or a round tree whose trunk stands at (x, by),
// th tall.
func (seasonsToy) tree(c *canvas, p seasonsPalette, winter, conifer bool, x, by, th float64, seed uint32) {
	tw := 0.09 * th // trunk half-width
	if conifer {
		c.paint(x-0.4*th, by-th, x+0.4*th, by, func(i, j int, px, py float64) (rgb, bool) {
			for k := 0; k < 3; k++ {
				// Three stacked triangles, from the top.
				ty := by - th + float64(k)*0.22*th
				hgt := 0.42 * th
				hw := (0.18 + 0.08*float64(k)) * th
				if inTriangle(px, py, x, ty, x-hw, ty+hgt, x+hw, ty+hgt) {
					if winter && py < ty+0.5*hgt {
						return p.cap, true
					}
					return p.conifer, true
				}
			}
			if px >= x-tw && px <= x+tw && py >= by-0.3*th {
				return p.trunk, true
			}
			return rgb{}, false
		})
		return
	}
	r := 0.3 * th
	cy := by - th + r
	c.paint(x-1.3*r, by-th, x+1.3*r, by, func(i, j int, px, py float64) (rgb, bool) {
		in := inEllipse(px, py, x, cy, r, r) ||
			inEllipse(px, py, x-0.55*r, cy+0.35*r, 0.7*r, 0.65*r) ||
			inEllipse(px, py, x+0.55*r, cy+0.35*r, 0.7*r, 0.65*r)
		if in {
			if winter {
				if py < cy-0.1*r+mul(0.25*r, noise(px, py, 30, seed)) {
					return p.cap, true
				}
				// Bare branches: dark with light gaps.
				return scale8(p.leaves, 0.8+0.5*noise(px, py, 45, seed)), true
			}
			return scale8(p.leaves, 0.75+0.5*noise(px, py, 35, seed)), true
		}
		if px >= x-tw && px <= x+tw && py >= cy {
			return p.trunk, true
		}
		return rgb{}, false
	})
}
