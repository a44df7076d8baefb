package kernels

import "unsafe"

// Winograd F(2×2, 3×3) for 3×3 unit-stride convolutions.
//
// The padded input is cut into 4×4 tiles d_t overlapping by two rows and
// columns, one per 2×2 output tile t (the last tile row or column is
// ragged when OH or OW is odd: its missing row or column of the padded
// input is taken as zero and its missing outputs are dropped). With
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// the forward pass is
//
//	U = G g Gᵀ,  V_t = Bᵀ d_t B,  M_ξ = U_ξ · V_ξ,  Y_t = Aᵀ M_t A
//
// where ξ runs over the 16 positions of a 4×4 tile and M_ξ (K×T) =
// U_ξ (K×C) · V_ξ (C×T) is one matrix product per ξ over all tiles T of
// the batch: 2.25 times fewer multiplications than the direct 3×3
// convolution. The backward passes are its exact adjoints:
//
//	data:   dM_t = A dY_t Aᵀ, dV_ξ = U_ξᵀ · dM_ξ, dd_t = B dV_t Bᵀ
//	        added into the padded-input gradient (tiles overlap), then
//	        folded back (reflect: a padded position adds into the element
//	        it mirrors) or cropped (zeros);
//	weight: dU_ξ = Σ_t dM_ξ,t V_ξ,tᵀ = dM_ξ · V_ξᵀ, dg = Gᵀ dU G.
//
// The entries of the transforms are 0, ±½ and ±1, so they are exact
// scalings and sums: the results stay at the working precision's rounding
// level (see the tests for the bound).
//
// Layout: V and dV are [ξ][C][tiles], M and dM [ξ][K][tiles], U and dU
// [ξ][K][C] (the data pass: Uᵀ, [ξ][C][K]), with all tiles of a chunk of
// tile rows side by side. The 16 matrices of each are an odd number of
// cache lines apart, not a multiple of 4 KiB: the transforms read or
// write all 16 at once, and streams 4 KiB apart would fall into the same
// L1 cache set. The transforms run over channels (and tile rows) with
// winoParallel, in float32 on AVX2 kernels (winograd_amd64.s) eight tiles
// or kernels at a time, bit-identical to the Go loops that handle the
// rest and float64; the 16 products are shared out whole over the
// threads.

// winoTarget bounds the transformed tiles of a chunk of tile rows,
// 16·(C+K)·tiles elements, so that V and M stay in the last-level cache
// between the transforms and the products; winoMinTiles keeps a chunk
// wide enough for the products. Tests lower both to exercise chunking.
var (
	winoTarget   = 1 << 21
	winoMinTiles = 128
)

// winoParallelGemm selects how the 16 products use the threads: false
// runs whole products on each thread, true runs
// them one after another, each shared out by Gemm.
var winoParallelGemm = false

// winoWork holds one Winograd call's state and scratch.
type winoWork[T Float] struct {
	p          ConvParams
	th, tw     int // tile rows and columns per sample: ⌈OH/2⌉, ⌈OW/2⌉
	hp, wp     int // padded plane: 2·th+2 rows × 2·tw+2 columns
	rows       int // tile rows per chunk
	g0, g1     int // current chunk: global tile rows n·th + i in [g0, g1)
	nt         int // tiles in the current chunk, (g1−g0)·tw
	us, vs, ms int // distance between the 16 matrices of U, V and M
	op         int // opForward, opData or opWeight

	x []T // input (forward, weight) or input gradient (data)
	y []T // output (forward) or output gradient (data, weight)
	w []T // weight (forward, data) or weight gradient (weight)

	u     []T // transformed weight U, or its gradient dU
	v     []T // transformed input tiles V, or their gradient dV
	m     []T // products M, or the transformed output gradient dM
	pad   []T // N×C padded planes hp×wp: input, or input gradient
	zeros []T // a row of zeros as wide as the output

	weightFn, weightGradFn, padFn, inputFn, outputFn, gradOutFn, scatterFn, foldFn func(lo, hi int)
}

func getWinoWork[T Float]() *winoWork[T] {
	if wk := freeListFor[winoWork[T]]().get(); wk != nil {
		return wk
	}
	wk := new(winoWork[T])
	wk.weightFn = wk.weightUnits
	wk.weightGradFn = wk.weightGradUnits
	wk.padFn = wk.padUnits
	wk.inputFn = wk.inputUnits
	wk.outputFn = wk.outputUnits
	wk.gradOutFn = wk.gradOutUnits
	wk.scatterFn = wk.scatterUnits
	wk.foldFn = wk.foldUnits
	return wk
}

func putWinoWork[T Float](wk *winoWork[T]) {
	wk.x, wk.y, wk.w = nil, nil, nil
	freeListFor[winoWork[T]]().put(wk)
}

// winogradApplies reports whether p is a convolution Winograd F(2×2, 3×3)
// computes: a 3×3 kernel with unit stride (any padding), whose scratch
// (16·K·C transformed weights, 16·(C+K) values per tile, the padded
// planes) has element counts that fit in an int32 like the tensors'.
func (p *ConvParams) winogradApplies() bool {
	if p.KH != 3 || p.KW != 3 || p.SH != 1 || p.SW != 1 {
		return false
	}
	th, tw := int64(p.OH+1)/2, int64(p.OW+1)/2
	n, c, k := int64(p.N), int64(p.C), int64(p.K)
	return 16*k*c < maxConvElems && 16*(c+k)*n*th*tw < maxConvElems &&
		n*c*(2*th+2)*(2*tw+2) < maxConvElems
}

// winoStride returns the distance, in elements of T, to leave between
// consecutive matrices of n elements: at least n, and an odd number of
// 64-byte cache lines, so that 16 streams one matrix apart fall into 16
// different L1 sets.
func winoStride[T Float](n int) int {
	var zero T
	per := 64 / int(unsafe.Sizeof(zero))
	lines := (n + per - 1) / per
	return (lines | 1) * per
}

// winoAsm reports whether the transforms of element type T run on the
// AVX2 kernels (float32 on a CPU with AVX2).
func winoAsm[T Float]() bool {
	return haveAsm && !winoNoAsm && isFloat32[T]()
}

// winoNoAsm turns the assembly transforms off, for tests.
var winoNoAsm = false

// f32p returns a pointer to the first element of s as *float32 (T is
// float32 wherever it is used).
func f32p[T Float](s []T) *float32 {
	return (*float32)(unsafe.Pointer(unsafe.SliceData(s)))
}

// begin sets up a call with geometry p and plans its chunks.
func (wk *winoWork[T]) begin(p *ConvParams, op int) {
	wk.p, wk.op = *p, op
	wk.th, wk.tw = (p.OH+1)/2, (p.OW+1)/2
	wk.hp, wk.wp = 2*wk.th+2, 2*wk.tw+2
	total := p.N * wk.th
	r := winoTarget / (16 * (p.C + p.K) * wk.tw)
	r = max(r, (winoMinTiles+wk.tw-1)/wk.tw, 1)
	wk.rows = evenRows(total, r)
	if len(wk.zeros) < p.OW {
		wk.zeros = make([]T, p.OW)
	}
	wk.us = winoStride[T](p.K * p.C)
	wk.u = grow(wk.u, 16*wk.us)
}

// setChunk makes global tile rows [g0, g1) the current chunk.
func (wk *winoWork[T]) setChunk(g0, g1 int) {
	p := &wk.p
	wk.g0, wk.g1 = g0, g1
	wk.nt = (g1 - g0) * wk.tw
	wk.vs, wk.ms = winoStride[T](p.C*wk.nt), winoStride[T](p.K*wk.nt)
	wk.v = grow(wk.v, 16*wk.vs)
	wk.m = grow(wk.m, 16*wk.ms)
}

// chunks calls fn for each chunk of tile rows in turn.
func (wk *winoWork[T]) chunks(fn func(wk *winoWork[T])) {
	total := wk.p.N * wk.th
	for g0 := 0; g0 < total; g0 += wk.rows {
		wk.setChunk(g0, min(g0+wk.rows, total))
		fn(wk)
	}
}

// winogradForward computes y = conv(x, w) for a 3×3 unit-stride p.
func winogradForward[T Float](p *ConvParams, x, w, y []T) {
	wk := getWinoWork[T]()
	defer putWinoWork(wk)
	wk.begin(p, opForward)
	wk.x, wk.w, wk.y = x, w, y
	winoParallel(p.K, wk.weightFn)
	wk.pad = grow(wk.pad, p.N*p.C*wk.hp*wk.wp)
	winoParallel(p.N*p.C, wk.padFn)
	wk.chunks(func(wk *winoWork[T]) {
		winoParallel(wk.p.C*(wk.g1-wk.g0), wk.inputFn)
		wk.gemms()
		winoParallel(wk.p.K, wk.outputFn)
	})
}

// winogradData computes gx from gy for a 3×3 unit-stride p.
func winogradData[T Float](p *ConvParams, gy, w, gx []T) {
	wk := getWinoWork[T]()
	defer putWinoWork(wk)
	wk.begin(p, opData)
	wk.x, wk.w, wk.y = gx, w, gy
	winoParallel(p.C, wk.weightFn)
	wk.pad = grow(wk.pad, p.N*p.C*wk.hp*wk.wp)
	clear(wk.pad)
	wk.chunks(func(wk *winoWork[T]) {
		winoParallel(wk.p.K, wk.gradOutFn)
		wk.gemms()
		winoParallel(wk.p.C, wk.scatterFn)
	})
	winoParallel(p.N*p.C, wk.foldFn)
}

// winogradWeight computes gw from x and gy for a 3×3 unit-stride p.
func winogradWeight[T Float](p *ConvParams, x, gy, gw []T) {
	wk := getWinoWork[T]()
	defer putWinoWork(wk)
	wk.begin(p, opWeight)
	wk.x, wk.w, wk.y = x, gw, gy
	wk.pad = grow(wk.pad, p.N*p.C*wk.hp*wk.wp)
	winoParallel(p.N*p.C, wk.padFn)
	wk.chunks(func(wk *winoWork[T]) {
		winoParallel(wk.p.C*(wk.g1-wk.g0), wk.inputFn)
		winoParallel(wk.p.K, wk.gradOutFn)
		wk.gemms()
	})
	winoParallel(p.K, wk.weightGradFn)
}

// gemms computes the 16 products of the current chunk.
func (wk *winoWork[T]) gemms() {
	t := Threads()
	if winoParallelGemm || t == 1 {
		for xi := 0; xi < 16; xi++ {
			wk.gemm(xi, t)
		}
		return
	}
	forkJoin(16, wk, t)
}

// run computes product xi on the calling goroutine: the task body of
// forkJoin, which hands the 16 products out one at a time, so that a
// thread slowed down by other work on the machine takes fewer.
func (wk *winoWork[T]) run(xi int) { wk.gemm(xi, 1) }

// winoParallel is ParallelFor with up to four chunks per thread, handed
// out as threads come free, for the same reason.
func winoParallel(n int, fn func(lo, hi int)) {
	t := Threads()
	if t <= 1 || n <= 1 {
		fn(0, n)
		return
	}
	forkJoinFunc(min(n, 4*t), nil, fn, n, t)
}

// gemm computes product xi of the current chunk on up to threads
// goroutines.
func (wk *winoWork[T]) gemm(xi, threads int) {
	p := &wk.p
	nt := wk.nt
	u := wk.u[xi*wk.us : xi*wk.us+p.K*p.C]
	v := wk.v[xi*wk.vs : xi*wk.vs+p.C*nt]
	m := wk.m[xi*wk.ms : xi*wk.ms+p.K*nt]
	switch wk.op {
	case opForward: // M_ξ (K×nt) = U_ξ (K×C) · V_ξ (C×nt)
		winoGemm(false, false, p.K, nt, p.C, u, p.C, v, nt, 0, m, nt, threads)
	case opData: // dV_ξ (C×nt) = U_ξᵀ (C×K, stored so) · dM_ξ (K×nt)
		winoGemm(false, false, p.C, nt, p.K, u, p.K, m, nt, 0, v, nt, threads)
	default: // dU_ξ (K×C) (+)= dM_ξ (K×nt) · V_ξᵀ, summed over the chunks
		var beta T
		if wk.g0 != 0 {
			beta = 1
		}
		winoGemm(false, true, p.K, p.C, nt, m, nt, v, nt, beta, u, p.C, threads)
	}
}

// winoGemm is Gemm with alpha 1 on up to threads goroutines.
func winoGemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, threads int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	gemmThreads(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc, threads)
}

// weightUnits computes U = G g Gᵀ at [ξ][k][c] for output channels
// [k0, k1), or for the data pass Uᵀ at [ξ][c][k] for input channels
// [k0, k1): the layouts the products read in place.
func (wk *winoWork[T]) weightUnits(k0, k1 int) {
	p := &wk.p
	if wk.op == opData {
		for c := k0; c < k1; c++ {
			winoWeightRun(wk.w[c*9:], p.C*9, wk.u[c*p.K:], wk.us, p.K)
		}
		return
	}
	for k := k0; k < k1; k++ {
		winoWeightRun(wk.w[k*p.C*9:], 9, wk.u[k*p.C:], wk.us, p.C)
	}
}

// winoWeightRun transforms n 3×3 kernels, kernel i at g[i·gs:], into
// U_ξ[i] at u[ξ·s + i].
func winoWeightRun[T Float](g []T, gs int, u []T, s, n int) {
	const h = 0.5
	if n8 := n / 8; n8 > 0 && winoAsm[T]() {
		_ = g[(8*n8-1)*gs+8]
		_ = u[15*s+8*n8-1]
		winoWeight8(n8, f32p(g), uintptr(gs*4), f32p(u), uintptr(s*4))
		if n -= 8 * n8; n == 0 {
			return
		}
		g, u = g[8*n8*gs:], u[8*n8:]
	}
	u0 := u[:n]
	u1, u2, u3 := u[s : s+n][:len(u0)], u[2*s : 2*s+n][:len(u0)], u[3*s : 3*s+n][:len(u0)]
	u4, u5, u6, u7 := u[4*s : 4*s+n][:len(u0)], u[5*s : 5*s+n][:len(u0)], u[6*s : 6*s+n][:len(u0)], u[7*s : 7*s+n][:len(u0)]
	u8, u9, u10, u11 := u[8*s : 8*s+n][:len(u0)], u[9*s : 9*s+n][:len(u0)], u[10*s : 10*s+n][:len(u0)], u[11*s : 11*s+n][:len(u0)]
	u12, u13, u14, u15 := u[12*s : 12*s+n][:len(u0)], u[13*s : 13*s+n][:len(u0)], u[14*s : 14*s+n][:len(u0)], u[15*s : 15*s+n][:len(u0)]
	for i := range u0 {
		t := (*[9]T)(g[i*gs:])
		// H = G g (rows 0 and 3 are g's rows 0 and 2).
		e0, e1, e2 := t[0]+t[6], t[1]+t[7], t[2]+t[8]
		h10, h11, h12 := (e0+t[3])*h, (e1+t[4])*h, (e2+t[5])*h
		h20, h21, h22 := (e0-t[3])*h, (e1-t[4])*h, (e2-t[5])*h
		// U = H Gᵀ, row by row.
		f := t[0] + t[2]
		u0[i], u1[i], u2[i], u3[i] = t[0], (f+t[1])*h, (f-t[1])*h, t[2]
		f = h10 + h12
		u4[i], u5[i], u6[i], u7[i] = h10, (f+h11)*h, (f-h11)*h, h12
		f = h20 + h22
		u8[i], u9[i], u10[i], u11[i] = h20, (f+h21)*h, (f-h21)*h, h22
		f = t[6] + t[8]
		u12[i], u13[i], u14[i], u15[i] = t[6], (f+t[7])*h, (f-t[7])*h, t[8]
	}
}

// weightGradUnits computes dg = Gᵀ dU G for output channels [k0, k1).
func (wk *winoWork[T]) weightGradUnits(k0, k1 int) {
	C := wk.p.C
	for k := k0; k < k1; k++ {
		winoWeightGradRun(wk.u[k*C:], wk.us, wk.w[k*C*9:(k+1)*C*9], C)
	}
}

// winoWeightGradRun computes n 3×3 kernel gradients g[9i:9i+9] =
// Gᵀ dU G from dU_ξ[i] at u[ξ·s + i].
func winoWeightGradRun[T Float](u []T, s int, g []T, n int) {
	const h = 0.5
	if n8 := n / 8; n8 > 0 && winoAsm[T]() {
		_ = g[72*n8-1]
		_ = u[15*s+8*n8-1]
		winoWeightGrad8(n8, f32p(u), uintptr(s*4), f32p(g), 36)
		if n -= 8 * n8; n == 0 {
			return
		}
		g, u = g[72*n8:], u[8*n8:]
	}
	u0 := u[:n]
	u1, u2, u3 := u[s : s+n][:len(u0)], u[2*s : 2*s+n][:len(u0)], u[3*s : 3*s+n][:len(u0)]
	u4, u5, u6, u7 := u[4*s : 4*s+n][:len(u0)], u[5*s : 5*s+n][:len(u0)], u[6*s : 6*s+n][:len(u0)], u[7*s : 7*s+n][:len(u0)]
	u8, u9, u10, u11 := u[8*s : 8*s+n][:len(u0)], u[9*s : 9*s+n][:len(u0)], u[10*s : 10*s+n][:len(u0)], u[11*s : 11*s+n][:len(u0)]
	u12, u13, u14, u15 := u[12*s : 12*s+n][:len(u0)], u[13*s : 13*s+n][:len(u0)], u[14*s : 14*s+n][:len(u0)], u[15*s : 15*s+n][:len(u0)]
	for c := range u0 {
		// X = dU G, row a: d0 + e, (d1 − d2)/2, e + d3 with e = (d1 + d2)/2.
		e := (u1[c] + u2[c]) * h
		x00, x01, x02 := u0[c]+e, (u1[c]-u2[c])*h, e+u3[c]
		e = (u5[c] + u6[c]) * h
		x10, x11, x12 := u4[c]+e, (u5[c]-u6[c])*h, e+u7[c]
		e = (u9[c] + u10[c]) * h
		x20, x21, x22 := u8[c]+e, (u9[c]-u10[c])*h, e+u11[c]
		e = (u13[c] + u14[c]) * h
		x30, x31, x32 := u12[c]+e, (u13[c]-u14[c])*h, e+u15[c]
		// dg = Gᵀ X, column by column likewise.
		t := (*[9]T)(g[9*c:])
		e0, e1, e2 := (x10+x20)*h, (x11+x21)*h, (x12+x22)*h
		t[0], t[1], t[2] = x00+e0, x01+e1, x02+e2
		t[3], t[4], t[5] = (x10-x20)*h, (x11-x21)*h, (x12-x22)*h
		t[6], t[7], t[8] = e0+x30, e1+x31, e2+x32
	}
}

// padUnits builds the padded planes [u0, u1) (plane n·C + c) of the
// input: hp×wp, the input at (PH, PW), zeros or its reflection around
// it, and zeros past the padded input (the ragged tiles' extra row and
// column).
func (wk *winoWork[T]) padUnits(u0, u1 int) {
	p := &wk.p
	hp, wp, hw := wk.hp, wk.wp, p.H*p.W
	hpad, wpad := p.H+2*p.PH, p.W+2*p.PW
	for u := u0; u < u1; u++ {
		src := wk.x[u*hw : (u+1)*hw]
		dst := wk.pad[u*hp*wp : (u+1)*hp*wp]
		for r := 0; r < hp; r++ {
			row := dst[r*wp : (r+1)*wp]
			i := r - p.PH
			if r >= hpad || (!p.Reflect && uint(i) >= uint(p.H)) {
				zeroRow(row)
				continue
			}
			i = reflectIndex(i, p.H)
			s := src[i*p.W : (i+1)*p.W]
			copyRow(row[p.PW:], s)
			for q := 0; q < p.PW; q++ {
				if p.Reflect {
					row[q] = s[p.PW-q]
				} else {
					row[q] = 0
				}
			}
			for q := p.PW + p.W; q < wp; q++ {
				if p.Reflect && q < wpad {
					row[q] = s[2*(p.W-1)-(q-p.PW)]
				} else {
					row[q] = 0
				}
			}
		}
	}
}

// copyRow copies src to the start of dst: with a plain loop when the row
// is too short to pay for a call to memmove.
func copyRow[T Float](dst, src []T) {
	if len(src) >= 64 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v
	}
}

// zeroRow sets row to zeros, likewise.
func zeroRow[T Float](row []T) {
	if len(row) >= 64 {
		clear(row)
		return
	}
	for i := range row {
		row[i] = 0
	}
}

// tileRow returns the sample and tile row within it of chunk row r.
func (wk *winoWork[T]) tileRow(r int) (n, i int) {
	g := wk.g0 + r
	return g / wk.th, g % wk.th
}

// inputUnits computes V = Bᵀ d B for units [u0, u1) of the chunk, unit
// c·R + r being input channel c of chunk tile row r (R rows).
func (wk *winoWork[T]) inputUnits(u0, u1 int) {
	p := &wk.p
	nr, tw, wp, nt, vs := wk.g1-wk.g0, wk.tw, wk.wp, wk.nt, wk.vs
	for u := u0; u < u1; u++ {
		c, r := u/nr, u%nr
		n, i := wk.tileRow(r)
		base := ((n*p.C+c)*wk.hp + 2*i) * wp
		d := wk.pad[base : base+4*wp]
		d0, d1, d2, d3 := d[:wp], d[wp:2*wp], d[2*wp:3*wp], d[3*wp:]
		v := wk.v[c*nt+r*tw:]
		j0 := 0
		if n8 := tw / 8; n8 > 0 && winoAsm[T]() {
			_ = v[15*vs+8*n8-1] // the rows hold 2·tw+2 ≥ 16·n8+2 columns
			winoInput8(n8, f32p(d0), f32p(d1), f32p(d2), f32p(d3), f32p(v), uintptr(vs*4))
			j0 = 8 * n8
		}
		if j0 < tw {
			// Rows of Bᵀ d: d0−d2, d1+d2, d2−d1, d1−d3; then the columns.
			d0, d1, d2, d3, v = d0[2*j0:], d1[2*j0:], d2[2*j0:], d3[2*j0:], v[j0:]
			winoInPass(d0, d2, true, v, vs, tw-j0)
			winoInPass(d1, d2, false, v[4*vs:], vs, tw-j0)
			winoInPass(d2, d1, true, v[8*vs:], vs, tw-j0)
			winoInPass(d1, d3, true, v[12*vs:], vs, tw-j0)
		}
	}
}

// winoInPass sets, for tiles j < n, o_b[j] = (s B)_b with s = a − b' (sub)
// or a + b' on columns 2j…2j+3 and o_b at v[b·vs:].
func winoInPass[T Float](a, b []T, sub bool, v []T, vs, n int) {
	o0 := v[:n]
	o1, o2, o3 := v[vs : vs+n][:len(o0)], v[2*vs : 2*vs+n][:len(o0)], v[3*vs : 3*vs+n][:len(o0)]
	a, b = a[:2*n+2], b[:2*n+2]
	if sub {
		s0, s1 := a[0]-b[0], a[1]-b[1]
		for j := range o0 {
			x := a[2*j+2 : 2*j+4 : 2*j+4]
			y := b[2*j+2 : 2*j+4 : 2*j+4]
			s2, s3 := x[0]-y[0], x[1]-y[1]
			o0[j], o1[j], o2[j], o3[j] = s0-s2, s1+s2, s2-s1, s1-s3
			s0, s1 = s2, s3
		}
		return
	}
	s0, s1 := a[0]+b[0], a[1]+b[1]
	for j := range o0 {
		x := a[2*j+2 : 2*j+4 : 2*j+4]
		y := b[2*j+2 : 2*j+4 : 2*j+4]
		s2, s3 := x[0]+y[0], x[1]+y[1]
		o0[j], o1[j], o2[j], o3[j] = s0-s2, s1+s2, s2-s1, s1-s3
		s0, s1 = s2, s3
	}
}

// mats returns the 16 runs of n elements at off in the matrices of x,
// s apart, all of length n.
func mats[T Float](x []T, off, s, n int) (m [16][]T) {
	for i := range m {
		m[i] = x[off+i*s : off+i*s+n]
	}
	return m
}

// outputUnits computes Y = Aᵀ M A into y for output channels [k0, k1)
// of the chunk's tiles.
func (wk *winoWork[T]) outputUnits(k0, k1 int) {
	p := &wk.p
	tw := wk.tw
	for k := k0; k < k1; k++ {
		mm := mats(wk.m, k*wk.nt, wk.ms, wk.nt)
		for r := 0; r < wk.g1-wk.g0; r++ {
			n, i := wk.tileRow(r)
			o := ((n*p.K+k)*p.OH + 2*i) * p.OW
			y0 := wk.y[o : o+p.OW]
			var y1 []T
			if 2*i+1 < p.OH {
				y1 = wk.y[o+p.OW : o+2*p.OW]
			}
			t0, j0 := r*tw, 0
			if n8 := min(p.OW/2, tw) / 8; n8 > 0 && winoAsm[T]() {
				two, y1p := 0, y0
				if y1 != nil {
					two, y1p = 1, y1
				}
				_, _ = y0[16*n8-1], y1p[16*n8-1]
				winoOutput8(n8, f32p(mm[0][t0:]), uintptr(wk.ms*4), f32p(y0), f32p(y1p), two)
				j0 = 8 * n8
				if y1 != nil {
					y1 = y1[2*j0:]
				}
			}
			if j0 < tw {
				winoOutRow(&mm, t0+j0, tw-j0, y0[2*j0:], y1)
			}
		}
	}
}

// winoOutRow writes output rows y0 and y1 (nil when past the output)
// from the products of tiles [t0, t0+tw) in mm.
func winoOutRow[T Float](mm *[16][]T, t0, tw int, y0, y1 []T) {
	m0 := mm[0][t0 : t0+tw]
	m1, m2, m3 := mm[1][t0 : t0+tw][:len(m0)], mm[2][t0 : t0+tw][:len(m0)], mm[3][t0 : t0+tw][:len(m0)]
	m4, m5, m6, m7 := mm[4][t0 : t0+tw][:len(m0)], mm[5][t0 : t0+tw][:len(m0)], mm[6][t0 : t0+tw][:len(m0)], mm[7][t0 : t0+tw][:len(m0)]
	m8, m9, m10, m11 := mm[8][t0 : t0+tw][:len(m0)], mm[9][t0 : t0+tw][:len(m0)], mm[10][t0 : t0+tw][:len(m0)], mm[11][t0 : t0+tw][:len(m0)]
	m12, m13, m14, m15 := mm[12][t0 : t0+tw][:len(m0)], mm[13][t0 : t0+tw][:len(m0)], mm[14][t0 : t0+tw][:len(m0)], mm[15][t0 : t0+tw][:len(m0)]
	full := len(y0) / 2 // tiles with both output columns
	for j := range m0 {
		// Z = Aᵀ M, 2×4.
		z00 := m0[j] + m4[j] + m8[j]
		z01 := m1[j] + m5[j] + m9[j]
		z02 := m2[j] + m6[j] + m10[j]
		z03 := m3[j] + m7[j] + m11[j]
		z10 := m4[j] - m8[j] - m12[j]
		z11 := m5[j] - m9[j] - m13[j]
		z12 := m6[j] - m10[j] - m14[j]
		z13 := m7[j] - m11[j] - m15[j]
		// Y = Z A, 2×2.
		if j < full {
			q := y0[2*j : 2*j+2 : 2*j+2]
			q[0], q[1] = z00+z01+z02, z01-z02-z03
			if y1 != nil {
				q = y1[2*j : 2*j+2 : 2*j+2]
				q[0], q[1] = z10+z11+z12, z11-z12-z13
			}
			continue
		}
		y0[2*j] = z00 + z01 + z02
		if y1 != nil {
			y1[2*j] = z10 + z11 + z12
		}
	}
}

// gradOutUnits computes dM = A dY Aᵀ from the output gradient for output
// channels [k0, k1) of the chunk's tiles.
func (wk *winoWork[T]) gradOutUnits(k0, k1 int) {
	p := &wk.p
	tw := wk.tw
	for k := k0; k < k1; k++ {
		mm := mats(wk.m, k*wk.nt, wk.ms, wk.nt)
		for r := 0; r < wk.g1-wk.g0; r++ {
			n, i := wk.tileRow(r)
			o := ((n*p.K+k)*p.OH + 2*i) * p.OW
			g0, g1 := wk.y[o:o+p.OW], wk.zeros[:p.OW]
			if 2*i+1 < p.OH {
				g1 = wk.y[o+p.OW : o+2*p.OW]
			}
			t0, j0 := r*tw, 0
			if n8 := min(p.OW/2, tw) / 8; n8 > 0 && winoAsm[T]() {
				_, _ = g0[16*n8-1], g1[16*n8-1]
				winoGradOut8(n8, f32p(g0), f32p(g1), f32p(mm[0][t0:]), uintptr(wk.ms*4))
				j0 = 8 * n8
			}
			if j0 < tw {
				winoGradOutRow(g0[2*j0:], g1[2*j0:], &mm, t0+j0, tw-j0)
			}
		}
	}
}

// winoGradOutRow sets dM for tiles [t0, t0+tw) in mm from output
// gradient rows g0 and g1 (as long as g0; zero past their end).
func winoGradOutRow[T Float](g0, g1 []T, mm *[16][]T, t0, tw int) {
	m0 := mm[0][t0 : t0+tw]
	m1, m2, m3 := mm[1][t0 : t0+tw][:len(m0)], mm[2][t0 : t0+tw][:len(m0)], mm[3][t0 : t0+tw][:len(m0)]
	m4, m5, m6, m7 := mm[4][t0 : t0+tw][:len(m0)], mm[5][t0 : t0+tw][:len(m0)], mm[6][t0 : t0+tw][:len(m0)], mm[7][t0 : t0+tw][:len(m0)]
	m8, m9, m10, m11 := mm[8][t0 : t0+tw][:len(m0)], mm[9][t0 : t0+tw][:len(m0)], mm[10][t0 : t0+tw][:len(m0)], mm[11][t0 : t0+tw][:len(m0)]
	m12, m13, m14, m15 := mm[12][t0 : t0+tw][:len(m0)], mm[13][t0 : t0+tw][:len(m0)], mm[14][t0 : t0+tw][:len(m0)], mm[15][t0 : t0+tw][:len(m0)]
	full := len(g0) / 2 // tiles with both output columns
	g1 = g1[:len(g0)]
	for j := range m0 {
		var a0, a1, b0, b1 T
		if j < full {
			a := g0[2*j : 2*j+2 : 2*j+2]
			b := g1[2*j : 2*j+2 : 2*j+2]
			a0, a1, b0, b1 = a[0], a[1], b[0], b[1]
		} else {
			a0, b0 = g0[2*j], g1[2*j]
		}
		// W = A dY, 4×2: rows a, a+b, a−b, −b.
		w10, w11 := a0+b0, a1+b1
		w20, w21 := a0-b0, a1-b1
		// dM = W Aᵀ: columns w0, w0+w1, w0−w1, −w1.
		m0[j], m1[j], m2[j], m3[j] = a0, a0+a1, a0-a1, -a1
		m4[j], m5[j], m6[j], m7[j] = w10, w10+w11, w10-w11, -w11
		m8[j], m9[j], m10[j], m11[j] = w20, w20+w21, w20-w21, -w21
		m12[j], m13[j], m14[j], m15[j] = -b0, -b0-b1, b1-b0, b1
	}
}

// scatterUnits adds dd = B dV Bᵀ of the chunk's tiles into the padded
// input-gradient planes for input channels [c0, c1).
func (wk *winoWork[T]) scatterUnits(c0, c1 int) {
	p := &wk.p
	tw, wp := wk.tw, wk.wp
	for c := c0; c < c1; c++ {
		vv := mats(wk.v, c*wk.nt, wk.vs, wk.nt)
		for r := 0; r < wk.g1-wk.g0; r++ {
			n, i := wk.tileRow(r)
			base := ((n*p.C+c)*wk.hp + 2*i) * wp
			d := wk.pad[base : base+4*wp]
			p0, p1, p2, p3 := d[:wp], d[wp:2*wp], d[2*wp:3*wp], d[3*wp:]
			var carry [8]T
			t0, j0 := r*tw, 0
			if n8 := tw / 8; n8 > 0 && winoAsm[T]() {
				// The rows hold 2·tw+2 ≥ 16·n8+2 columns.
				winoScatter8(n8, f32p(vv[0][t0:t0+8*n8]), uintptr(wk.vs*4), f32p(p0), f32p(p1), f32p(p2), f32p(p3), (*[8]float32)(unsafe.Pointer(&carry)))
				j0 = 8 * n8
			}
			winoScatterRow(&vv, t0+j0, tw-j0, p0[2*j0:], p1[2*j0:], p2[2*j0:], p3[2*j0:], &carry)
		}
	}
}

// winoScatterRow adds B dV Bᵀ of tiles [t0, t0+tw) in vv into padded
// rows p0…p3, tile j at columns 2j…2j+3, with carry the part of the
// previous tile for columns 0 and 1 (row by row, as in winoScatter8).
func winoScatterRow[T Float](vv *[16][]T, t0, tw int, p0, p1, p2, p3 []T, carry *[8]T) {
	v0 := vv[0][t0 : t0+tw]
	v1, v2, v3 := vv[1][t0 : t0+tw][:len(v0)], vv[2][t0 : t0+tw][:len(v0)], vv[3][t0 : t0+tw][:len(v0)]
	v4, v5, v6, v7 := vv[4][t0 : t0+tw][:len(v0)], vv[5][t0 : t0+tw][:len(v0)], vv[6][t0 : t0+tw][:len(v0)], vv[7][t0 : t0+tw][:len(v0)]
	v8, v9, v10, v11 := vv[8][t0 : t0+tw][:len(v0)], vv[9][t0 : t0+tw][:len(v0)], vv[10][t0 : t0+tw][:len(v0)], vv[11][t0 : t0+tw][:len(v0)]
	v12, v13, v14, v15 := vv[12][t0 : t0+tw][:len(v0)], vv[13][t0 : t0+tw][:len(v0)], vv[14][t0 : t0+tw][:len(v0)], vv[15][t0 : t0+tw][:len(v0)]
	w := 2*tw + 2
	p0, p1, p2, p3 = p0[:w], p1[:w], p2[:w], p3[:w]
	// Columns 2j and 2j+1 of each row receive from tiles j−1 and j: the
	// part from tile j−1 is carried in c*, starting from carry.
	c00, c01, c10, c11, c20, c21, c30, c31 := carry[0], carry[1], carry[2], carry[3], carry[4], carry[5], carry[6], carry[7]
	for j := range v0 {
		// R = B dV (rows): dV0, dV1−dV2+dV3, −dV0+dV1+dV2, −dV3.
		r00, r01, r02, r03 := v0[j], v1[j], v2[j], v3[j]
		r10 := v4[j] - v8[j] + v12[j]
		r11 := v5[j] - v9[j] + v13[j]
		r12 := v6[j] - v10[j] + v14[j]
		r13 := v7[j] - v11[j] + v15[j]
		r20 := v4[j] + v8[j] - v0[j]
		r21 := v5[j] + v9[j] - v1[j]
		r22 := v6[j] + v10[j] - v2[j]
		r23 := v7[j] + v11[j] - v3[j]
		r30, r31, r32, r33 := v12[j], v13[j], v14[j], v15[j]
		// dd = R Bᵀ (columns): R0, R1−R2+R3, −R0+R1+R2, −R3.
		q := p0[2*j : 2*j+2 : 2*j+2]
		q[0] += c00 + r00
		q[1] += c01 + (r01 - r02 + r03)
		c00, c01 = r01+r02-r00, -r03
		q = p1[2*j : 2*j+2 : 2*j+2]
		q[0] += c10 + r10
		q[1] += c11 + (r11 - r12 + r13)
		c10, c11 = r11+r12-r10, -r13
		q = p2[2*j : 2*j+2 : 2*j+2]
		q[0] += c20 + r20
		q[1] += c21 + (r21 - r22 + r23)
		c20, c21 = r21+r22-r20, -r23
		q = p3[2*j : 2*j+2 : 2*j+2]
		q[0] -= c30 + r30
		q[1] -= c31 + (r31 - r32 + r33)
		c30, c31 = r31+r32-r30, -r33
	}
	j := 2 * len(v0)
	p0[j] += c00
	p0[j+1] += c01
	p1[j] += c10
	p1[j+1] += c11
	p2[j] += c20
	p2[j+1] += c21
	p3[j] -= c30
	p3[j+1] -= c31
}

// foldUnits turns the padded input-gradient planes [u0, u1) (plane
// n·C + c) into the input gradient: the reflected border is added to the
// elements it mirrors (rows first, then columns, so corners reach their
// doubly mirrored source), zero padding and the ragged extra row and
// column are dropped.
func (wk *winoWork[T]) foldUnits(u0, u1 int) {
	p := &wk.p
	hp, wp, hw := wk.hp, wk.wp, p.H*p.W
	hpad, wpad := p.H+2*p.PH, p.W+2*p.PW
	for u := u0; u < u1; u++ {
		pl := wk.pad[u*hp*wp : (u+1)*hp*wp]
		if p.Reflect {
			for r := 0; r < hpad; r++ {
				i := r - p.PH
				if uint(i) < uint(p.H) {
					r = p.PH + p.H - 1 // skip to the bottom border
					continue
				}
				dst := pl[(p.PH+reflectIndex(i, p.H))*wp:][:wpad]
				addTo(dst, pl[r*wp:r*wp+wpad])
			}
			for i := p.PH; i < p.PH+p.H; i++ {
				row := pl[i*wp : i*wp+wpad]
				for q := 0; q < p.PW; q++ {
					row[p.PW+reflectIndex(q-p.PW, p.W)] += row[q]
				}
				for q := p.PW + p.W; q < wpad; q++ {
					row[p.PW+reflectIndex(q-p.PW, p.W)] += row[q]
				}
			}
		}
		gx := wk.x[u*hw : (u+1)*hw]
		for i := 0; i < p.H; i++ {
			copyRow(gx[i*p.W:(i+1)*p.W], pl[(i+p.PH)*wp+p.PW:][:p.W])
		}
	}
}

// useWinograd reports whether the kernel op should use Winograd
// F(2×2, 3×3): for 3×3 unit-stride convolutions where it measures faster
// than im2col or kn2row (BenchmarkWinograd, TestWinoTune). forceLowering
// 3 forces it wherever it applies; 1 and 2 (im2col, kn2row) turn it off.
//
// The products save 2.25× the multiplications, but the weight transform
// costs 16·K·C whatever the image size, and the tile transforms 16·(C+K)
// per tile: with few channels (fewer than 16 in or out) the transforms
// outweigh the saving, and with few tiles the weight transform does
// (the weight gradient, whose products are only tiles deep, needs the
// most). Measured in float32 with the AVX2 transforms on 2 threads; the
// float64 path, all Go, gains at least as much wherever this holds.
func (p *ConvParams) useWinograd(op int) bool {
	if !p.winogradApplies() {
		return false
	}
	switch forceLowering {
	case 0:
		tiles := p.N * ((p.OH + 1) / 2) * ((p.OW + 1) / 2)
		minTiles := [...]int{opForward: 16, opData: 4, opWeight: 32}[op]
		return min(p.C, p.K) >= 16 && tiles >= minTiles
	case 3:
		return true
	}
	return false
}
