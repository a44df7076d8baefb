package kernels

import (
	"sync"
)

// Chunking of the column matrix. A chunk covers a band of "global" output
// rows g = n·OH + oh: either part of one sample or a group of whole
// samples. Its column matrix, C·KH·KW rows by (rows in chunk)·OW columns,
// aims at colTarget elements so that it stays in the last-level cache
// between im2col and the GEMM, but has at least minCols columns so that
// each GEMM is large enough to share out between the threads. Tests lower
// both to exercise chunking on small images.
var (
	colTarget = 1 << 20
	minCols   = 1024
)

// convWork holds one convolution call's state and scratch: the column
// matrix, the buffer that lays several samples' outputs side by side,
// and the bodies handed to ParallelFor, bound once so that passing them
// allocates nothing.
type convWork[T Float] struct {
	p   ConvParams
	x   []T // the N×C×H×W tensor: input for im2col, gradient for col2im
	col []T // column matrix of the current chunk, ckk × ncols
	tmp []T // K × ncols, used when a chunk spans several samples
	wp  []T // kn2row: the weight as (K·KH·KW)×C, or its gradient
	w   []T // kn2row: the weight being permuted
	ph  []T // phase planes of samples [phN0, phN0+phNs), C·SH·SW planes each

	phases     bool // whether the input is read through phase planes
	hh, wh     int  // phase plane size, ⌈H/SH⌉×⌈W/SW⌉
	phN0, phNs int  // samples held in ph (phNs == 0: none yet)
	bands      int  // bands of rows per plane in col2im
	unpermute  bool // kn2row: permute from wp back to w
	rows       int  // output rows per chunk within one sample (< OH), or 0
	spp        int  // whole samples per chunk when rows == 0
	g0, g1     int  // current chunk's global output rows (kn2row: input rows)
	ncols      int  // current chunk's columns, (g1−g0)·OW
	ns         int  // samples the current chunk touches

	im2colFn       func(lo, hi int)
	col2imFn       func(lo, hi int)
	shiftAddFn     func(lo, hi int)
	foldFn         func(lo, hi int)
	deinterleaveFn func(lo, hi int)
	interleaveFn   func(lo, hi int)
	permuteFn      func(lo, hi int)
}

// convPools maps a type token any((*W)(nil)) to the *freeList[W] of the
// scratch type W (convWork[T], winoWork[T]).
var convPools sync.Map

// freeList is a free list of scratch values of type W. Unlike a sync.Pool
// it keeps its scratch across garbage collections, so a training loop
// settles into using the same buffers every step. ReleaseConvScratch
// empties it.
type freeList[W any] struct {
	mu   sync.Mutex
	free []*W
}

// freeListFor returns the free list of W's, registered in convPools.
func freeListFor[W any]() *freeList[W] {
	key := any((*W)(nil))
	if v, ok := convPools.Load(key); ok {
		return v.(*freeList[W])
	}
	v, _ := convPools.LoadOrStore(key, new(freeList[W]))
	return v.(*freeList[W])
}

// get returns a free value, or nil when there is none.
func (fl *freeList[W]) get() *W {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n := len(fl.free)
	if n == 0 {
		return nil
	}
	w := fl.free[n-1]
	fl.free[n-1] = nil
	fl.free = fl.free[:n-1]
	return w
}

func (fl *freeList[W]) put(w *W) {
	fl.mu.Lock()
	fl.free = append(fl.free, w)
	fl.mu.Unlock()
}

func (fl *freeList[W]) release() {
	fl.mu.Lock()
	clear(fl.free)
	fl.free = fl.free[:0]
	fl.mu.Unlock()
}

func getConvWork[T Float]() *convWork[T] {
	if wk := freeListFor[convWork[T]]().get(); wk != nil {
		return wk
	}
	wk := new(convWork[T])
	wk.im2colFn = wk.im2colRows
	wk.col2imFn = wk.col2imUnits
	wk.shiftAddFn = wk.shiftAddRows
	wk.foldFn = wk.foldRows
	wk.deinterleaveFn = wk.deinterleaveUnits
	wk.interleaveFn = wk.interleaveUnits
	wk.permuteFn = wk.permuteUnits
	return wk
}

func putConvWork[T Float](wk *convWork[T]) {
	wk.x = nil
	wk.phases, wk.phNs = false, 0
	freeListFor[convWork[T]]().put(wk)
}

// ReleaseConvScratch drops the scratch buffers that the convolution
// kernels keep between calls, so that the garbage collector can reclaim
// them; the next calls allocate afresh. It is safe to call at any time.
func ReleaseConvScratch() {
	convPools.Range(func(_, v any) bool {
		v.(interface{ release() }).release()
		return true
	})
}

// begin plans the chunks of a call with geometry p on tensor x.
func (wk *convWork[T]) begin(p *ConvParams, x []T) {
	wk.p = *p
	wk.x = x
	wk.phases = p.phased()
	wk.hh, wk.wh = (p.H+p.SH-1)/p.SH, (p.W+p.SW-1)/p.SW
	wk.phNs = 0
	ckk := p.C * p.KH * p.KW
	r := colTarget / (ckk * p.OW)
	if m := (minCols + p.OW - 1) / p.OW; r < m {
		r = m
	}
	if r >= p.OH {
		wk.rows = 0
		wk.spp = min(r/p.OH, p.N)
		return
	}
	wk.rows = evenRows(p.OH, r)
	wk.spp = 0
}

// evenRows evens out bands of at most r of n rows: it returns the height of
// ⌈n/r⌉ bands of nearly equal height (n when r ≥ n).
func evenRows(n, r int) int {
	if r >= n {
		return n
	}
	nb := (n + r - 1) / r
	return (n + nb - 1) / nb
}

// chunkEnd returns the end of the chunk that starts at global row g0.
func (wk *convWork[T]) chunkEnd(g0 int) int {
	oh := wk.p.OH
	if wk.rows == 0 {
		return min(g0+wk.spp*oh, wk.p.N*oh)
	}
	sampleEnd := (g0/oh + 1) * oh
	return min(g0+wk.rows, sampleEnd)
}

// setChunk makes [g0, g1) the current chunk, sizing the scratch for it,
// and returns its column count.
func (wk *convWork[T]) setChunk(g0, g1 int) int {
	p := &wk.p
	wk.g0, wk.g1 = g0, g1
	wk.ncols = (g1 - g0) * p.OW
	wk.ns = (g1-1)/p.OH - g0/p.OH + 1
	wk.col = grow(wk.col, p.C*p.KH*p.KW*wk.ncols)
	if wk.ns > 1 {
		wk.tmp = grow(wk.tmp, p.K*wk.ncols)
	}
	return wk.ncols
}

// grow returns s resliced to n elements, reallocated if too small. The
// contents are not kept.
func grow[T Float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Stride-s convolutions with zero padding read the input through its s×s
// phase planes (the elements whose row ≡ a and column ≡ b mod s), which
// turns every kernel tap into a unit-stride shifted copy of one plane:
// x[oh·s+dh] = phase[dh mod s][oh + ⌊dh/s⌋]. One deinterleaving pass over
// the input replaces KH·KW strided gathers, and likewise col2im adds into
// phase planes with unit stride and interleaves them once at the end.

// phased reports whether the current call goes through phase planes.
func (p *ConvParams) phased() bool {
	return !p.Reflect && (p.SH > 1 || p.SW > 1)
}

// tapGeom describes where a kernel tap reads: plane h×w, output position
// o at plane position o·s + d, outside the plane zero or mirrored.
type tapGeom struct {
	h, w, dh, dw, sh, sw int
	reflect              bool
}

// planeTap returns, for input channel c and tap (kh, kw), the index of the
// plane the tap reads within a sample (a channel of wk.x, or a phase
// plane of wk.ph) and where it reads.
func (wk *convWork[T]) planeTap(c, kh, kw int) (int, tapGeom) {
	p := &wk.p
	dh, dw := kh-p.PH, kw-p.PW
	if !wk.phases {
		return c, tapGeom{p.H, p.W, dh, dw, p.SH, p.SW, p.Reflect}
	}
	a, b := floorMod(dh, p.SH), floorMod(dw, p.SW)
	return (c*p.SH+a)*p.SW + b, tapGeom{wk.hh, wk.wh, (dh - a) / p.SH, (dw - b) / p.SW, 1, 1, false}
}

// floorMod returns a mod m in [0, m).
func floorMod(a, m int) int {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// plane returns plane pl of sample n: of wk.x, or of wk.ph when the call
// goes through phase planes.
func (wk *convWork[T]) plane(n, pl int) []T {
	if wk.phases {
		sz := wk.hh * wk.wh
		o := ((n-wk.phN0)*wk.p.C*wk.p.SH*wk.p.SW + pl) * sz
		return wk.ph[o : o+sz]
	}
	sz := wk.p.H * wk.p.W
	o := (n*wk.p.C + pl) * sz
	return wk.x[o : o+sz]
}

// setPhases sizes the phase planes for samples [n0, n0+ns).
func (wk *convWork[T]) setPhases(n0, ns int) {
	p := &wk.p
	wk.phN0, wk.phNs = n0, ns
	wk.ph = grow(wk.ph, ns*p.C*p.SH*p.SW*wk.hh*wk.wh)
}

// buildPhases deinterleaves samples [n0, n0+ns) of wk.x into phase planes
// unless they are there already.
func (wk *convWork[T]) buildPhases(n0, ns int) {
	if wk.phNs > 0 && wk.phN0 == n0 && wk.phNs == ns {
		return
	}
	wk.setPhases(n0, ns)
	ParallelFor(ns*wk.p.C, wk.deinterleaveFn)
}

// deinterleaveUnits fills the phase planes of units [u0, u1), unit u being
// channel u mod C of sample phN0 + u/C; missing elements (when the size
// is not a multiple of the stride) are zero.
func (wk *convWork[T]) deinterleaveUnits(u0, u1 int) {
	p := &wk.p
	hw, wh := p.H*p.W, wk.wh
	for u := u0; u < u1; u++ {
		n, c := wk.phN0+u/p.C, u%p.C
		src := wk.x[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
		for a := 0; a < p.SH; a++ {
			for i := 0; i < wk.hh; i++ {
				r := i*p.SH + a
				if p.SW == 2 {
					d0 := wk.plane(n, (c*p.SH+a)*2)[i*wh : (i+1)*wh]
					d1 := wk.plane(n, (c*p.SH+a)*2+1)[i*wh : (i+1)*wh]
					if r >= p.H {
						clear(d0)
						clear(d1)
						continue
					}
					splitPairs(d0, d1, src[r*p.W:(r+1)*p.W])
					continue
				}
				for b := 0; b < p.SW; b++ {
					row := wk.plane(n, (c*p.SH+a)*p.SW+b)[i*wh : (i+1)*wh]
					if r >= p.H {
						clear(row)
						continue
					}
					nj := (p.W - b + p.SW - 1) / p.SW
					gatherRow(row, src[r*p.W:(r+1)*p.W], b, p.SW, 0, nj, false)
				}
			}
		}
	}
}

// splitPairs sets d0[j] = s[2j] and d1[j] = s[2j+1], zero where s ends;
// len(d0) = len(d1) = ⌈len(s)/2⌉.
func splitPairs[T Float](d0, d1, s []T) {
	n := len(s) / 2
	d0, d1 = d0[:len(d0)], d1[:len(d0)]
	for j := range d0[:n] {
		pair := s[2*j : 2*j+2 : 2*j+2]
		d0[j], d1[j] = pair[0], pair[1]
	}
	if n < len(d0) {
		d0[n], d1[n] = s[2*n], 0
	}
}

// joinPairs is the inverse of splitPairs.
func joinPairs[T Float](s, d0, d1 []T) {
	n := len(s) / 2
	d1 = d1[:len(d0)]
	for j := range d0[:n] {
		pair := s[2*j : 2*j+2 : 2*j+2]
		pair[0], pair[1] = d0[j], d1[j]
	}
	if n < len(d0) {
		s[2*n] = d0[n]
	}
}

// interleaveUnits is the inverse of deinterleaveUnits, from the phase
// planes to wk.x, for units [u0, u1).
func (wk *convWork[T]) interleaveUnits(u0, u1 int) {
	p := &wk.p
	hw, wh := p.H*p.W, wk.wh
	for u := u0; u < u1; u++ {
		n, c := wk.phN0+u/p.C, u%p.C
		dst := wk.x[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
		for r := 0; r < p.H; r++ {
			a, i := r%p.SH, r/p.SH
			dr := dst[r*p.W : (r+1)*p.W]
			if p.SW == 2 {
				joinPairs(dr, wk.plane(n, (c*p.SH+a)*2)[i*wh:(i+1)*wh], wk.plane(n, (c*p.SH+a)*2+1)[i*wh:(i+1)*wh])
				continue
			}
			for b := 0; b < p.SW; b++ {
				src := wk.plane(n, (c*p.SH+a)*p.SW+b)[i*wh : (i+1)*wh]
				nj := (p.W - b + p.SW - 1) / p.SW
				if p.SW == 1 {
					copy(dr, src[:nj])
					continue
				}
				dd := dr[b:]
				for j, v := range src[:nj] {
					dd[j*p.SW] = v
				}
			}
		}
	}
}

// im2col fills the column matrix of the current chunk from wk.x.
func (wk *convWork[T]) im2col() {
	p := &wk.p
	if wk.phases {
		n0 := wk.g0 / p.OH
		wk.buildPhases(n0, wk.ns)
	}
	ParallelFor(p.C*p.KH*p.KW, wk.im2colFn)
}

// col2im adds the column gradient of the current chunk into wk.x (or its
// phase planes, interleaved into wk.x once a sample is complete).
func (wk *convWork[T]) col2im() {
	p := &wk.p
	n0 := wk.g0 / p.OH
	if wk.phases && wk.g0 == n0*p.OH {
		wk.setPhases(n0, wk.ns)
		clear(wk.ph)
	}
	units := wk.ns * p.C
	rows := p.H
	if wk.phases {
		rows = wk.hh
	}
	// Split planes into bands of rows when there are too few of them to
	// keep the threads busy (the first layer's 3 channels).
	wk.bands = 1
	if t := 4 * Threads(); units < t {
		wk.bands = min(rows, (t+units-1)/units)
	}
	ParallelFor(units*wk.bands, wk.col2imFn)
	if wk.phases && wk.g1%p.OH == 0 {
		ParallelFor(wk.ns*p.C, wk.interleaveFn)
		wk.phNs = 0
	}
}

// reflectIndex mirrors i, in [−(n−1), 2(n−1)], into [0, n) about the
// edges without repeating them: −1 → 1, n → n−2.
func reflectIndex(i, n int) int {
	if i < 0 {
		return -i
	}
	if i >= n {
		return 2*(n-1) - i
	}
	return i
}

// span returns the range [lo, hi) of output columns ow whose input column
// base + ow·s lies in [0, w), clipped to [0, ow).
func span(base, s, w, ow int) (lo, hi int) {
	if base < 0 {
		lo = (-base + s - 1) / s
	}
	if w > base {
		hi = (w - base + s - 1) / s
	}
	lo, hi = min(lo, ow), min(hi, ow)
	return lo, max(lo, hi)
}

// im2colRows fills rows [r0, r1) of the column matrix, each row being one
// (c, kh, kw) and each run of OW columns one output row of the chunk.
func (wk *convWork[T]) im2colRows(r0, r1 int) {
	p := &wk.p
	kk, ncols, ow := p.KH*p.KW, wk.ncols, p.OW
	for r := r0; r < r1; r++ {
		pl, t := wk.planeTap(r/kk, r/p.KW%p.KH, r%p.KW)
		dst := wk.col[r*ncols : (r+1)*ncols]
		for g := wk.g0; g < wk.g1; {
			n := g / p.OH
			ge := min(wk.g1, (n+1)*p.OH)
			tapGather(dst[(g-wk.g0)*ow:(ge-wk.g0)*ow], wk.plane(n, pl), &t, ow, g-n*p.OH, ge-n*p.OH)
			g = ge
		}
	}
}

// tapGather fills d, output rows [oh0, oh1) × ow, with what one kernel
// tap reads from the plane src: d[oh][j] = src[oh·sh+dh][j·sw+dw], the
// padding zero or mirrored.
func tapGather[T Float](d, src []T, t *tapGeom, ow, oh0, oh1 int) {
	w := t.w
	lo, hi := span(t.dw, t.sw, w, ow)
	rlo, rhi := span(t.dh, t.sh, t.h, oh1)
	rlo = max(rlo, oh0)
	rhi = max(rhi, rlo)
	for oh := oh0; oh < oh1; oh++ {
		if oh == rlo {
			oh = rhi
			if oh == oh1 {
				break
			}
		}
		// A row in the vertical padding.
		row := d[(oh-oh0)*ow : (oh-oh0+1)*ow]
		if !t.reflect {
			clear(row)
			continue
		}
		i := reflectIndex(oh*t.sh+t.dh, t.h)
		gatherRow(row, src[i*w:(i+1)*w], t.dw, t.sw, lo, hi, true)
	}
	if rlo >= rhi {
		return
	}
	if t.sh == 1 && t.sw == 1 && w == ow {
		// Consecutive rows are contiguous on both sides: one copy, then
		// the horizontal padding, which the copy filled with elements of
		// the neighbouring rows, rewritten.
		blk := d[(rlo-oh0)*ow : (rhi-oh0)*ow]
		start := (rlo+t.dh)*w + t.dw
		a, b := max(0, -start), min(len(blk), len(src)-start)
		copy(blk[a:b], src[start+a:start+b])
		if lo > 0 || hi < ow {
			for oh := rlo; oh < rhi; oh++ {
				i := oh + t.dh
				gatherPad(blk[(oh-rlo)*ow:(oh-rlo+1)*ow], src[i*w:(i+1)*w], t.dw, 1, lo, hi, t.reflect)
			}
		}
		return
	}
	for oh := rlo; oh < rhi; oh++ {
		i := oh*t.sh + t.dh
		gatherRow(d[(oh-oh0)*ow:(oh-oh0+1)*ow], src[i*w:(i+1)*w], t.dw, t.sw, lo, hi, t.reflect)
	}
}

// gatherRow sets d[j] = src[base+j·s] for j in [lo, hi), and the padding
// outside that range to zero or, with reflect, to the mirrored element.
func gatherRow[T Float](d, src []T, base, s, lo, hi int, reflect bool) {
	if lo > 0 || hi < len(d) {
		gatherPad(d, src, base, s, lo, hi, reflect)
	}
	if lo == hi {
		return
	}
	switch s {
	case 1:
		copy(d[lo:hi], src[base+lo:])
	case 2:
		sv, dv := src[base+lo*2:], d[lo:hi]
		_ = sv[2*(len(dv)-1)]
		for j := range dv {
			dv[j] = sv[2*j]
		}
	default:
		sv, dv := src[base+lo*s:], d[lo:hi]
		for j := range dv {
			dv[j] = sv[j*s]
		}
	}
}

// gatherPad fills the padding part of a gatherRow: d[:lo] and d[hi:].
func gatherPad[T Float](d, src []T, base, s, lo, hi int, reflect bool) {
	w := len(src)
	for j := 0; j < lo; j++ {
		var v T
		if reflect {
			v = src[reflectIndex(base+j*s, w)]
		}
		d[j] = v
	}
	for j := hi; j < len(d); j++ {
		var v T
		if reflect {
			v = src[reflectIndex(base+j*s, w)]
		}
		d[j] = v
	}
}

// col2imUnits adds the column gradient of the current chunk into the
// planes of units [u0, u1): unit u is band u mod bands of the rows of
// channel (u/bands) mod C of the chunk's sample u/(bands·C), and covers
// all the phase planes of that channel. Distinct units write disjoint
// rows.
func (wk *convWork[T]) col2imUnits(u0, u1 int) {
	p := &wk.p
	ow, nb := p.OW, wk.bands
	n0 := wk.g0 / p.OH
	for u := u0; u < u1; u++ {
		bi, nc := u%nb, u/nb
		n, c := n0+nc/p.C, nc%p.C
		ga, gb := max(wk.g0, n*p.OH), min(wk.g1, (n+1)*p.OH)
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				pl, t := wk.planeTap(c, kh, kw)
				r := (c*p.KH+kh)*p.KW + kw
				src := wk.col[r*wk.ncols+(ga-wk.g0)*ow : r*wk.ncols+(gb-wk.g0)*ow]
				tapScatter(wk.plane(n, pl), src, &t, ow, ga-n*p.OH, gb-n*p.OH, bi*t.h/nb, (bi+1)*t.h/nb)
			}
		}
	}
}

// tapScatter is the adjoint of tapGather restricted to plane rows
// [i0, i1): it adds s, output rows [oh0, oh1) × ow, into the plane dst
// where the tap reads, mirrored padding adding into the elements it
// mirrors. It may zero the elements of s that fall in the horizontal
// padding. Calls for disjoint [i0, i1) touch disjoint rows of s and dst.
func tapScatter[T Float](dst, s []T, t *tapGeom, ow, oh0, oh1, i0, i1 int) {
	w := t.w
	lo, hi := span(t.dw, t.sw, w, ow)
	if t.reflect {
		// Rows in the vertical padding that mirror into [i0, i1).
		vlo, vhi := span(t.dh, t.sh, t.h, oh1)
		vlo, vhi = max(vlo, oh0), max(vhi, oh0)
		for oh := oh0; oh < oh1; oh++ {
			if oh == vlo {
				oh = max(vhi, vlo)
				if oh == oh1 {
					break
				}
			}
			i := reflectIndex(oh*t.sh+t.dh, t.h)
			if i >= i0 && i < i1 {
				scatterRow(dst[i*w:(i+1)*w], s[(oh-oh0)*ow:(oh-oh0+1)*ow], t.dw, t.sw, lo, hi, true)
			}
		}
	}
	// Rows landing in [i0, i1).
	ra, rb := span(t.dh-i0, t.sh, i1-i0, oh1)
	ra, rb = max(oh0, ra), max(oh0, rb)
	if ra >= rb {
		return
	}
	if t.sh == 1 && t.sw == 1 && w == ow {
		// Consecutive rows are contiguous on both sides: one long add,
		// once the elements that would wrap into a neighbouring row have
		// been folded (Reflect) and zeroed.
		blk := s[(ra-oh0)*ow : (rb-oh0)*ow]
		if lo > 0 || hi < ow {
			for oh := ra; oh < rb; oh++ {
				row := blk[(oh-ra)*ow : (oh-ra+1)*ow]
				if t.reflect {
					i := oh + t.dh
					scatterPad(dst[i*w:(i+1)*w], row, t.dw, 1, lo, hi)
				}
				clear(row[:lo])
				clear(row[hi:])
			}
		}
		// Clip to the rows [ra+dh, rb+dh) of dst, which this call owns.
		start := (ra+t.dh)*w + t.dw
		x, y := max(0, -t.dw), min(len(blk), len(blk)-t.dw)
		addTo(dst[start+x:start+y], blk[x:y])
		return
	}
	for oh := ra; oh < rb; oh++ {
		i := oh*t.sh + t.dh
		scatterRow(dst[i*w:(i+1)*w], s[(oh-oh0)*ow:(oh-oh0+1)*ow], t.dw, t.sw, lo, hi, t.reflect)
	}
}

// scatterRow is the adjoint of gatherRow: dst[base+j·s] += d[j] for j in
// [lo, hi), and with reflect the padding entries are added to the
// elements they mirror.
func scatterRow[T Float](dst, d []T, base, s, lo, hi int, reflect bool) {
	if reflect {
		scatterPad(dst, d, base, s, lo, hi)
	}
	if lo == hi {
		return
	}
	dv := d[lo:hi]
	switch s {
	case 1:
		addTo(dst[base+lo:base+hi], dv)
	case 2:
		dd := dst[base+lo*2:]
		_ = dd[2*(len(dv)-1)]
		for j, v := range dv {
			dd[2*j] += v
		}
	default:
		dd := dst[base+lo*s:]
		for j, v := range dv {
			dd[j*s] += v
		}
	}
}

// scatterPad adds the elements of d outside [lo, hi), which gatherRow took
// from the mirrored padding at base+j·s, to the elements of dst they mirror.
func scatterPad[T Float](dst, d []T, base, s, lo, hi int) {
	w := len(dst)
	for j := 0; j < lo; j++ {
		dst[reflectIndex(base+j*s, w)] += d[j]
	}
	for j := hi; j < len(d); j++ {
		dst[reflectIndex(base+j*s, w)] += d[j]
	}
}

// addTo sets dst[j] += src[j] for j < len(dst).
func addTo[T Float](dst, src []T) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}
