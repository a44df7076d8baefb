package data

import "sync"

// The toys are drawn on a supersampled canvas of 8-bit RGB samples in unit
// coordinates (x to the right, y down, the image is [0,1]²), then averaged
// down to pixels with integer arithmetic. Shapes are tested at sample
// centres with plain float64 arithmetic; products that feed a sum or a
// comparison are rounded explicitly with float64(...) so that no compiler
// may fuse them into FMA instructions, which keeps the output identical on
// every platform.

type rgb [3]uint8

type canvas struct {
	n   int     // samples per side
	inv float64 // 1/n
	pix []uint8 // n×n×3
	buf [3][]float64
}

// scratch returns reusable scratch space k with room for n values.
func (c *canvas) scratch(k, n int) []float64 {
	if cap(c.buf[k]) < n {
		c.buf[k] = make([]float64, n)
	}
	return c.buf[k][:n]
}

var canvasPool sync.Pool

func getCanvas(size int) *canvas {
	ss := supersampling(size)
	n := size * ss
	c, _ := canvasPool.Get().(*canvas)
	if c == nil {
		c = &canvas{}
	}
	c.n = n
	c.inv = 1 / float64(n)
	if cap(c.pix) < 3*n*n {
		c.pix = make([]uint8, 3*n*n)
	}
	c.pix = c.pix[:3*n*n]
	return c
}

// supersampling returns the samples per pixel side used at a render size.
func supersampling(size int) int {
	switch {
	case size <= 16:
		return 4
	case size <= 48:
		return 3
	default:
		return 2
	}
}

// mul is a*b rounded to float64 (never fused with a following add).
func mul(a, b float64) float64 { return float64(a * b) }

// lerp8 interpolates between two colours, t in [0, 1].
func lerp8(a, b rgb, t float64) rgb {
	if t <= 0 {
		return a
	}
	if t >= 1 {
		return b
	}
	var o rgb
	for k := 0; k < 3; k++ {
		v := float64(a[k]) + mul(float64(int(b[k])-int(a[k])), t)
		o[k] = uint8(v + 0.5)
	}
	return o
}

// scale8 multiplies a colour by f (clamped to [0, 255]).
func scale8(a rgb, f float64) rgb {
	var o rgb
	for k := 0; k < 3; k++ {
		v := mul(float64(a[k]), f) + 0.5
		switch {
		case v < 0:
			o[k] = 0
		case v >= 255:
			o[k] = 255
		default:
			o[k] = uint8(v)
		}
	}
	return o
}

// sampleRange returns the sample indices [i0, i1) whose centres can lie in
// [lo, hi].
func (c *canvas) sampleRange(lo, hi float64) (int, int) {
	i0 := int(lo*float64(c.n)) - 1
	i1 := int(hi*float64(c.n)) + 2
	if i0 < 0 {
		i0 = 0
	}
	if i1 > c.n {
		i1 = c.n
	}
	return i0, i1
}

// paint calls f for each sample whose centre lies in the box
// [x0,x1]×[y0,y1] (roughly: samples just outside may be visited) and sets
// the sample to the colour f returns when its second result is true. f
// receives the sample's column and row indices and its centre.
func (c *canvas) paint(x0, y0, x1, y1 float64, f func(i, j int, x, y float64) (rgb, bool)) {
	i0, i1 := c.sampleRange(x0, x1)
	j0, j1 := c.sampleRange(y0, y1)
	for j := j0; j < j1; j++ {
		y := (float64(j) + 0.5) * c.inv
		row := c.pix[3*j*c.n:]
		for i := i0; i < i1; i++ {
			x := (float64(i) + 0.5) * c.inv
			if col, ok := f(i, j, x, y); ok {
				p := row[3*i : 3*i+3 : 3*i+3]
				p[0], p[1], p[2] = col[0], col[1], col[2]
			}
		}
	}
}

// resolve averages the ss×ss samples of each pixel (rounding to nearest)
// and writes the image as CHW in [−1, 1] into dst.
func (c *canvas) resolve(size int, dst []float32) {
	ss := c.n / size
	area := uint32(ss * ss)
	plane := size * size
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var s [3]uint32
			for sy := 0; sy < ss; sy++ {
				row := c.pix[3*((py*ss+sy)*c.n+px*ss):]
				for sx := 0; sx < ss; sx++ {
					s[0] += uint32(row[3*sx])
					s[1] += uint32(row[3*sx+1])
					s[2] += uint32(row[3*sx+2])
				}
			}
			o := py*size + px
			dst[o] = toFloat[(s[0]+area/2)/area]
			dst[plane+o] = toFloat[(s[1]+area/2)/area]
			dst[2*plane+o] = toFloat[(s[2]+area/2)/area]
		}
	}
	canvasPool.Put(c)
}

// hash32 mixes integers into 32 pseudo-random bits.
func hash32(a, b, seed uint32) uint32 {
	h := a*0x9E3779B1 ^ b*0x85EBCA77 ^ seed*0xC2B2AE3D
	h ^= h >> 15
	h *= 0x2C1B3C6D
	h ^= h >> 12
	h *= 0x297A2D39
	h ^= h >> 15
	return h
}

// noise is smooth value noise in [0, 1] at (x, y) with freq cells per unit.
func noise(x, y, freq float64, seed uint32) float64 {
	fx, fy := mul(x, freq), mul(y, freq)
	ix, iy := int(fx), int(fy)
	tx, ty := fx-float64(ix), fy-float64(iy)
	tx = mul(mul(tx, tx), 3-2*tx) // smoothstep
	ty = mul(mul(ty, ty), 3-2*ty)
	v := func(i, j int) float64 {
		return float64(hash32(uint32(i), uint32(j), seed)>>8) * 0x1p-24
	}
	a := v(ix, iy) + mul(v(ix+1, iy)-v(ix, iy), tx)
	b := v(ix, iy+1) + mul(v(ix+1, iy+1)-v(ix, iy+1), tx)
	return a + mul(b-a, ty)
}

// bump is a smooth hill profile: (1−t²)² for |t| < 1, else 0.
func bump(t float64) float64 {
	if t <= -1 || t >= 1 {
		return 0
	}
	s := 1 - mul(t, t)
	return mul(s, s)
}

// inEllipse reports whether (x, y) is inside the axis-aligned ellipse.
func inEllipse(x, y, cx, cy, rx, ry float64) bool {
	dx, dy := (x-cx)/rx, (y-cy)/ry
	return mul(dx, dx)+mul(dy, dy) <= 1
}

// edge is the signed area test of p against the line a→b.
func edge(ax, ay, bx, by, px, py float64) float64 {
	return mul(bx-ax, py-ay) - mul(by-ay, px-ax)
}

// inTriangle reports whether p lies inside triangle abc (either winding).
func inTriangle(px, py, ax, ay, bx, by, cx, cy float64) bool {
	e0 := edge(ax, ay, bx, by, px, py)
	e1 := edge(bx, by, cx, cy, px, py)
	e2 := edge(cx, cy, ax, ay, px, py)
	return (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0)
}

// nearSegment reports whether p is within distance r of segment ab.
func nearSegment(px, py, ax, ay, bx, by, r float64) bool {
	dx, dy := bx-ax, by-ay
	l2 := mul(dx, dx) + mul(dy, dy)
	t := 0.0
	if l2 > 0 {
		t = (mul(px-ax, dx) + mul(py-ay, dy)) / l2
		if t < 0 {
			t = 0
		} else if t > 1 {
			t = 1
		}
	}
	qx, qy := px-(ax+mul(t, dx)), py-(ay+mul(t, dy))
	return mul(qx, qx)+mul(qy, qy) <= mul(r, r)
}

// noiseField is value noise like noise() with its lattice values computed
// once, for the big areas that sample it at every canvas sample. at(x, y)
// equals noise(x, y, freq, seed) for x, y in [0, 1].
type noiseField struct {
	freq float64
	seed uint32
	w    int // lattice points per row
	v    []float64
}

func newNoiseField(freq int, seed uint32, buf []float64) noiseField {
	w := freq + 2
	if cap(buf) < w*w {
		buf = make([]float64, w*w)
	}
	buf = buf[:w*w]
	for j := 0; j < w; j++ {
		for i := 0; i < w; i++ {
			buf[j*w+i] = float64(hash32(uint32(i), uint32(j), seed)>>8) * 0x1p-24
		}
	}
	return noiseField{freq: float64(freq), seed: seed, w: w, v: buf}
}

func (f *noiseField) at(x, y float64) float64 {
	fx, fy := mul(x, f.freq), mul(y, f.freq)
	ix, iy := int(fx), int(fy)
	if ix < 0 || iy < 0 || ix+1 >= f.w || iy+1 >= f.w {
		return noise(x, y, f.freq, f.seed) // outside the table: x or y outside [0, 1]
	}
	tx, ty := fx-float64(ix), fy-float64(iy)
	tx = mul(mul(tx, tx), 3-2*tx)
	ty = mul(mul(ty, ty), 3-2*ty)
	r0 := f.v[iy*f.w+ix : iy*f.w+ix+2]
	r1 := f.v[(iy+1)*f.w+ix : (iy+1)*f.w+ix+2]
	a := r0[0] + mul(r0[1]-r0[0], tx)
	b := r1[0] + mul(r1[1]-r1[0], tx)
	return a + mul(b-a, ty)
}
