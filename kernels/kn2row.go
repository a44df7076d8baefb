package kernels

// The kn2row lowering, for unit-stride convolutions with fewer output
// than input channels (K·H·W < C·OH·OW), such as the generator's last 7×7
// convolution (C = ngf, K = 3) or the critic's last one (K = 1). Where
// im2col would build a C·KH·KW × OH·OW matrix from the big input, kn2row
// multiplies first: with the weight laid out as wp, (K·KH·KW)×C,
//
//	forward:         Z = wp·x, then y[k][o] = Σ_taps Z[k,tap][o + tap − pad]
//	backward data:   G = fold(gy), then gx = wpᵀ·G
//	backward weight: G = fold(gy), then gwp = G·xᵀ
//
// where G, (K·KH·KW) × H·W, holds for each (k, tap) the output gradient
// plane of k shifted by the tap onto the input plane, with the padding
// part folded back onto the elements it mirrors (Reflect) or dropped. Z
// and G have K·KH·KW rows instead of C·KH·KW and the GEMMs have good
// shapes. Stride 1 only: with stride s, Z and G would cost s² times the
// arithmetic.

// lowering choices for tests: 0 picks by cost, 1 forces im2col, 2 forces
// kn2row wherever it applies (unit stride).
var forceLowering = 0

// Which kernel a lowering decision is for.
const (
	opForward = iota
	opData
	opWeight
)

// useKn2row reports whether the kernel op should use the kn2row lowering:
// when its K·KH·KW-row matrices are smaller than the C·KH·KW-row column
// matrix of im2col. The choice is the same for the three kernels (op).
func (p *ConvParams) useKn2row(op int) bool {
	if p.SH != 1 || p.SW != 1 || forceLowering == 1 {
		return false
	}
	if forceLowering == 2 {
		return true
	}
	// On ties (K = C, same-size output, as in the residual blocks) im2col
	// measures faster for all three: the permutation of the weight is
	// not free, and the GEMM shapes of im2col suit the GEMM better.
	return p.K*p.H*p.W < p.C*p.OH*p.OW
}

// permuteUnits sets, for output channels k in [k0, k1),
// wp[(k·KK+t)·C+c] = w[(k·C+c)·KK+t] (KK = KH·KW), or the reverse when
// wk.unpermute is set; wk.w is the weight side.
func (wk *convWork[T]) permuteUnits(k0, k1 int) {
	c, kk := wk.p.C, wk.p.KH*wk.p.KW
	for i := k0; i < k1; i++ {
		s := wk.w[i*c*kk : (i+1)*c*kk]
		for t := 0; t < kk; t++ {
			d := wk.wp[(i*kk+t)*c : (i*kk+t+1)*c]
			if wk.unpermute {
				for j, v := range d {
					s[j*kk+t] = v
				}
			} else {
				for j := range d {
					d[j] = s[j*kk+t]
				}
			}
		}
	}
}

// permute lays w out as wp, or wp back out as w when back is set, in
// parallel over the output channels.
func (wk *convWork[T]) permute(w []T, back bool) {
	wk.w, wk.unpermute = w, back
	ParallelFor(wk.p.K, wk.permuteFn)
	wk.w = nil
}

// kn2rowForward computes y = conv(x, w) by the kn2row lowering.
func kn2rowForward[T Float](p *ConvParams, x, w, y []T) {
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.p = *p
	kk, hw, ohw := p.KH*p.KW, p.H*p.W, p.OH*p.OW
	m := p.K * kk
	wk.wp = grow(wk.wp, m*p.C)
	wk.permute(w, false)
	wk.col = grow(wk.col, m*hw)
	for n := 0; n < p.N; n++ {
		Gemm(false, false, m, hw, p.C, 1, wk.wp, p.C, x[n*p.C*hw:], hw, 0, wk.col, hw)
		wk.x = y[n*p.K*ohw : (n+1)*p.K*ohw]
		ParallelFor(p.K*p.OH, wk.shiftAddFn)
	}
}

// shiftAddRows computes output rows [r0, r1), row r being row r mod OH of
// output channel r/OH, as the sum over the taps of the shifted Z planes.
func (wk *convWork[T]) shiftAddRows(r0, r1 int) {
	p := &wk.p
	kk, hw, ow, w := p.KH*p.KW, p.H*p.W, p.OW, p.W
	for r := r0; r < r1; r++ {
		k, oh := r/p.OH, r%p.OH
		d := wk.x[r*ow : (r+1)*ow]
		clear(d)
		for kh := 0; kh < p.KH; kh++ {
			i := oh + kh - p.PH
			if uint(i) >= uint(p.H) {
				if !p.Reflect {
					continue
				}
				i = reflectIndex(i, p.H)
			}
			row := wk.col[(k*kk+kh*p.KW)*hw+i*w:]
			// Columns where every tap of the row lands inside: summed
			// four taps at a time; the rest tap by tap.
			jlo, _ := span(-p.PW, 1, w, ow)
			_, jhi := span(p.KW-1-p.PW, 1, w, ow)
			for kw := 0; kw < p.KW; kw++ {
				src := row[kw*hw : kw*hw+w]
				base := kw - p.PW
				lo, hi := span(base, 1, w, ow)
				if p.Reflect {
					for j := 0; j < lo; j++ {
						d[j] += src[reflectIndex(base+j, w)]
					}
					for j := hi; j < ow; j++ {
						d[j] += src[reflectIndex(base+j, w)]
					}
				}
				if jlo >= jhi {
					if lo < hi {
						addTo(d[lo:hi], src[base+lo:base+hi])
					}
					continue
				}
				if lo < jlo {
					addTo(d[lo:jlo], src[base+lo:base+jlo])
				}
				if jhi < hi {
					addTo(d[jhi:hi], src[base+jhi:base+hi])
				}
			}
			if jlo < jhi {
				dd := d[jlo:jhi]
				tap := func(kw int) []T {
					o := kw*hw + kw - p.PW + jlo
					return row[o : o+len(dd)]
				}
				kw := 0
				for ; kw+4 <= p.KW; kw += 4 {
					add4(dd, tap(kw), tap(kw+1), tap(kw+2), tap(kw+3))
				}
				for ; kw < p.KW; kw++ {
					addTo(dd, tap(kw))
				}
			}
		}
	}
}

// add4 sets d[j] += a[j] + b[j] + c[j] + e[j].
func add4[T Float](d, a, b, c, e []T) {
	a, b, c, e = a[:len(d)], b[:len(d)], c[:len(d)], e[:len(d)]
	for j := range d {
		d[j] += a[j] + b[j] + c[j] + e[j]
	}
}

// kn2rowBands plans bands of input rows for the backward kernels, so that
// G, K·KH·KW × (band rows)·W, stays near colTarget elements.
func (wk *convWork[T]) kn2rowBands() int {
	p := &wk.p
	r := colTarget / (p.K * p.KH * p.KW * p.W)
	r = max(r, (minCols+p.W-1)/p.W)
	return evenRows(p.H, r)
}

// kn2rowData computes gx by the kn2row lowering.
func kn2rowData[T Float](p *ConvParams, gy, w, gx []T) {
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.p = *p
	kk, hw, ohw := p.KH*p.KW, p.H*p.W, p.OH*p.OW
	m := p.K * kk
	wk.wp = grow(wk.wp, m*p.C)
	wk.permute(w, false)
	band := wk.kn2rowBands()
	for n := 0; n < p.N; n++ {
		wk.x = gy[n*p.K*ohw : (n+1)*p.K*ohw]
		for i0 := 0; i0 < p.H; i0 += band {
			ncols := wk.setBand(i0, min(i0+band, p.H))
			ParallelFor(m, wk.foldFn)
			Gemm(true, false, p.C, ncols, m, 1, wk.wp, p.C, wk.col, ncols, 0, gx[n*p.C*hw+i0*p.W:], hw)
		}
	}
}

// kn2rowWeight computes gw by the kn2row lowering.
func kn2rowWeight[T Float](p *ConvParams, x, gy, gw []T) {
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.p = *p
	kk, hw, ohw := p.KH*p.KW, p.H*p.W, p.OH*p.OW
	m := p.K * kk
	wk.wp = grow(wk.wp, m*p.C)
	band := wk.kn2rowBands()
	var beta T
	for n := 0; n < p.N; n++ {
		wk.x = gy[n*p.K*ohw : (n+1)*p.K*ohw]
		for i0 := 0; i0 < p.H; i0 += band {
			ncols := wk.setBand(i0, min(i0+band, p.H))
			ParallelFor(m, wk.foldFn)
			Gemm(false, true, m, p.C, ncols, 1, wk.col, ncols, x[n*p.C*hw+i0*p.W:], hw, beta, wk.wp, p.C)
			beta = 1
		}
	}
	wk.permute(gw, true)
}

// setBand makes input rows [i0, i1) the current band, sizing G for it, and
// returns its column count.
func (wk *convWork[T]) setBand(i0, i1 int) int {
	p := &wk.p
	wk.g0, wk.g1 = i0, i1
	wk.ncols = (i1 - i0) * p.W
	wk.col = grow(wk.col, p.K*p.KH*p.KW*wk.ncols)
	return wk.ncols
}

// foldRows builds rows [t0, t1) of G for the current band of input rows
// from the output gradient plane in wk.x, row t being (k, kh, kw).
func (wk *convWork[T]) foldRows(t0, t1 int) {
	p := &wk.p
	kk, ohw, ow, w := p.KH*p.KW, p.OH*p.OW, p.OW, p.W
	i0, i1 := wk.g0, wk.g1
	for t := t0; t < t1; t++ {
		k, kh, kw := t/kk, t/p.KW%p.KH, t%p.KW
		g := wk.col[t*wk.ncols : (t+1)*wk.ncols]
		gy := wk.x[k*ohw : (k+1)*ohw]
		// Input position q = o + tap − pad, so o = q − dh.
		dh, dw := kh-p.PH, kw-p.PW
		lo, hi := span(-dw, 1, ow, w) // input columns whose o is an output column
		rlo, rhi := span(-dh, 1, p.OH, p.H)
		rlo, rhi = min(max(rlo, i0), i1), min(max(rhi, i0), i1)
		clear(g[:(rlo-i0)*w])
		clear(g[(rhi-i0)*w:])
		if rlo < rhi {
			blk := g[(rlo-i0)*w : (rhi-i0)*w]
			if w == ow {
				start := (rlo-dh)*ow - dw
				a, b := max(0, -start), min(len(blk), len(gy)-start)
				copy(blk[a:b], gy[start+a:start+b])
				if lo > 0 || hi < w {
					for i := rlo; i < rhi; i++ {
						row := blk[(i-rlo)*w : (i-rlo+1)*w]
						clear(row[:lo])
						clear(row[hi:])
					}
				}
			} else {
				for i := rlo; i < rhi; i++ {
					row := blk[(i-rlo)*w : (i-rlo+1)*w]
					clear(row[:lo])
					clear(row[hi:])
					if lo < hi {
						o := (i - dh) * ow
						copy(row[lo:hi], gy[o+lo-dw:o+hi-dw])
					}
				}
			}
		}
		if p.Reflect {
			foldReflected(g, gy, p, i0, i1, dh, dw)
		}
	}
}

// foldReflected adds to g, input rows [i0, i1) × W, the output gradient
// elements whose input position o + (dh, dw) lies in the padding, at the
// element that position mirrors.
func foldReflected[T Float](g, gy []T, p *ConvParams, i0, i1, dh, dw int) {
	ow, w := p.OW, p.W
	// Rows landing inside: only their columns in the padding.
	if clo, chi := span(dw, 1, w, ow); clo > 0 || chi < ow {
		for oh := max(0, i0-dh); oh < min(p.OH, i1-dh); oh++ {
			row := gy[oh*ow : (oh+1)*ow]
			scatterPad(g[(oh+dh-i0)*w:(oh+dh-i0+1)*w], row, dw, 1, clo, chi)
		}
	}
	// Rows in the padding: all of it, mirrored both ways.
	for oh := 0; oh < p.OH; oh++ {
		q := oh + dh
		if q >= 0 {
			if q < p.H {
				oh = p.H - dh - 1 // skip the rows landing inside
				continue
			}
		}
		i := reflectIndex(q, p.H)
		if i < i0 || i >= i1 {
			continue
		}
		dst := g[(i-i0)*w : (i-i0+1)*w]
		for j, v := range gy[oh*ow : (oh+1)*ow] {
			dst[reflectIndex(j+dw, w)] += v
		}
	}
}
