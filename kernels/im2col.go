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

	rows   int // output rows per chunk within one sample (< OH), or 0
	spp    int // whole samples per chunk when rows == 0
	g0, g1 int // current chunk's global output rows
	ncols  int // current chunk's columns, (g1−g0)·OW
	ns     int // samples the current chunk touches

	im2colFn   func(lo, hi int)
	col2imFn   func(lo, hi int)
	shiftAddFn func(lo, hi int)
	foldFn     func(lo, hi int)
}

// convPools maps a type token any((*T)(nil)) to its *convPool[T].
var convPools sync.Map

// convPool is a free list of convWork values of one element type. Unlike
// a sync.Pool it keeps its scratch across garbage collections, so a
// training loop settles into using the same buffers every step.
type convPool[T Float] struct {
	mu   sync.Mutex
	free []*convWork[T]
}

func poolFor[T Float]() *convPool[T] {
	key := any((*T)(nil))
	if v, ok := convPools.Load(key); ok {
		return v.(*convPool[T])
	}
	v, _ := convPools.LoadOrStore(key, new(convPool[T]))
	return v.(*convPool[T])
}

func getConvWork[T Float]() *convWork[T] {
	cp := poolFor[T]()
	cp.mu.Lock()
	if n := len(cp.free); n > 0 {
		wk := cp.free[n-1]
		cp.free[n-1] = nil
		cp.free = cp.free[:n-1]
		cp.mu.Unlock()
		return wk
	}
	cp.mu.Unlock()
	wk := new(convWork[T])
	wk.im2colFn = wk.im2colRows
	wk.col2imFn = wk.col2imUnits
	wk.shiftAddFn = wk.shiftAddRows
	wk.foldFn = wk.foldRows
	return wk
}

func putConvWork[T Float](wk *convWork[T]) {
	wk.x = nil
	cp := poolFor[T]()
	cp.mu.Lock()
	cp.free = append(cp.free, wk)
	cp.mu.Unlock()
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

func (cp *convPool[T]) release() {
	cp.mu.Lock()
	clear(cp.free)
	cp.free = cp.free[:0]
	cp.mu.Unlock()
}

// begin plans the chunks of a call with geometry p on tensor x.
func (wk *convWork[T]) begin(p *ConvParams, x []T) {
	wk.p = *p
	wk.x = x
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
	// Even out the bands: ceil(OH/r) chunks of nearly equal height.
	nb := (p.OH + r - 1) / r
	wk.rows = (p.OH + nb - 1) / nb
	wk.spp = 0
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

// im2col fills the column matrix of the current chunk from wk.x.
func (wk *convWork[T]) im2col() {
	ParallelFor(wk.p.C*wk.p.KH*wk.p.KW, wk.im2colFn)
}

// col2im adds the column gradient of the current chunk into wk.x.
func (wk *convWork[T]) col2im() {
	ParallelFor(wk.ns*wk.p.C, wk.col2imFn)
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
	kk, hw, ncols := p.KH*p.KW, p.H*p.W, wk.ncols
	for r := r0; r < r1; r++ {
		c, kh, kw := r/kk, r/p.KW%p.KH, r%p.KW
		dst := wk.col[r*ncols : (r+1)*ncols]
		for g := wk.g0; g < wk.g1; {
			n := g / p.OH
			ge := min(wk.g1, (n+1)*p.OH)
			plane := wk.x[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
			im2colPlane(dst[(g-wk.g0)*p.OW:(ge-wk.g0)*p.OW], plane, p, g-n*p.OH, ge-n*p.OH, kh, kw)
			g = ge
		}
	}
}

// im2colPlane fills d, output rows [oh0, oh1) × OW, with the input plane
// src (H×W) as seen by kernel tap (kh, kw): d[oh][ow] =
// src[oh·SH+kh−PH][ow·SW+kw−PW], padding being zero or mirrored.
func im2colPlane[T Float](d, src []T, p *ConvParams, oh0, oh1, kh, kw int) {
	ow, w := p.OW, p.W
	dh, dw := kh-p.PH, kw-p.PW
	lo, hi := span(dw, p.SW, w, ow)
	rlo, rhi := span(dh, p.SH, p.H, p.OH)
	rlo, rhi = min(max(rlo, oh0), oh1), min(max(rhi, oh0), oh1)
	for oh := oh0; oh < oh1; oh++ {
		if oh == rlo {
			oh = rhi
			if oh == oh1 {
				break
			}
		}
		// A row in the vertical padding.
		row := d[(oh-oh0)*ow : (oh-oh0+1)*ow]
		if !p.Reflect {
			clear(row)
			continue
		}
		i := reflectIndex(oh*p.SH+dh, p.H)
		gatherRow(row, src[i*w:(i+1)*w], dw, p.SW, lo, hi, true)
	}
	if rlo >= rhi {
		return
	}
	if p.SH == 1 && p.SW == 1 && w == ow {
		// Consecutive rows are contiguous on both sides: one copy, then
		// the horizontal padding, which the copy filled with elements of
		// the neighbouring rows, rewritten.
		blk := d[(rlo-oh0)*ow : (rhi-oh0)*ow]
		start := (rlo+dh)*w + dw
		a, b := max(0, -start), min(len(blk), len(src)-start)
		copy(blk[a:b], src[start+a:start+b])
		if lo > 0 || hi < ow {
			for oh := rlo; oh < rhi; oh++ {
				i := oh + dh
				gatherPad(blk[(oh-rlo)*ow:(oh-rlo+1)*ow], src[i*w:(i+1)*w], dw, 1, lo, hi, p.Reflect)
			}
		}
		return
	}
	for oh := rlo; oh < rhi; oh++ {
		i := oh*p.SH + dh
		gatherRow(d[(oh-oh0)*ow:(oh-oh0+1)*ow], src[i*w:(i+1)*w], dw, p.SW, lo, hi, p.Reflect)
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
// gradient planes of units [u0, u1), unit u being channel u mod C of the
// chunk's sample u/C. Distinct units write disjoint planes.
func (wk *convWork[T]) col2imUnits(u0, u1 int) {
	p := &wk.p
	kk, hw, ow := p.KH*p.KW, p.H*p.W, p.OW
	n0 := wk.g0 / p.OH
	for u := u0; u < u1; u++ {
		n, c := n0+u/p.C, u%p.C
		ga, gb := max(wk.g0, n*p.OH), min(wk.g1, (n+1)*p.OH)
		plane := wk.x[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				r := c*kk + kh*p.KW + kw
				src := wk.col[r*wk.ncols+(ga-wk.g0)*ow : r*wk.ncols+(gb-wk.g0)*ow]
				col2imPlane(plane, src, p, ga-n*p.OH, gb-n*p.OH, kh, kw)
			}
		}
	}
}

// col2imPlane is the adjoint of im2colPlane: it adds s, output rows
// [oh0, oh1) × OW, into the input plane dst (H×W) as seen by kernel tap
// (kh, kw), mirrored padding adding into the elements it mirrors.
func col2imPlane[T Float](dst, s []T, p *ConvParams, oh0, oh1, kh, kw int) {
	ow, w := p.OW, p.W
	dh, dw := kh-p.PH, kw-p.PW
	lo, hi := span(dw, p.SW, w, ow)
	for oh := oh0; oh < oh1; oh++ {
		i := oh*p.SH + dh
		if uint(i) >= uint(p.H) {
			if !p.Reflect {
				continue
			}
			i = reflectIndex(i, p.H)
		}
		scatterRow(dst[i*w:(i+1)*w], s[(oh-oh0)*ow:(oh-oh0+1)*ow], dw, p.SW, lo, hi, p.Reflect)
	}
}

// scatterRow is the adjoint of gatherRow: dst[base+j·s] += d[j] for j in
// [lo, hi), and with reflect the padding entries are added to the
// elements they mirror.
func scatterRow[T Float](dst, d []T, base, s, lo, hi int, reflect bool) {
	if reflect && (lo > 0 || hi < len(d)) {
		w := len(dst)
		for j := 0; j < lo; j++ {
			dst[reflectIndex(base+j*s, w)] += d[j]
		}
		for j := hi; j < len(d); j++ {
			dst[reflectIndex(base+j*s, w)] += d[j]
		}
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

// addTo sets dst[j] += src[j] for j < len(dst).
func addTo[T Float](dst, src []T) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}
