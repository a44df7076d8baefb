package kernels

// The portable GEMM: cache-blocked (goMC×goKC blocks of A, goKC×goNC
// blocks of B), both operands packed into micro-panels, and a 2×4
// register-tiled micro-kernel in plain Go. It serves float64 everywhere
// and float32 where the assembly kernel is unavailable.

const (
	goMR = 2
	goNR = 4
	goMC = 128
	goKC = 256
	goNC = 2048
)

type goBuf[T Float] struct {
	a, b []T
	tmp  [goMR * goNR]T
}

// Free lists of packing buffers, one per element type; like asmBufFree
// they survive garbage collection.
var (
	goBufFree32 = make(chan *goBuf[float32], 64)
	goBufFree64 = make(chan *goBuf[float64], 64)
)

// getGoBuf takes a buffer from the free list of T (float32 or float64).
func getGoBuf[T Float]() *goBuf[T] {
	var b any
	if isFloat32[T]() {
		select {
		case b = <-goBufFree32:
		default:
		}
	} else {
		select {
		case b = <-goBufFree64:
		default:
		}
	}
	if buf, ok := b.(*goBuf[T]); ok {
		return buf
	}
	return &goBuf[T]{a: make([]T, goMC*goKC), b: make([]T, goKC*goNC)}
}

func putGoBuf[T Float](buf *goBuf[T]) {
	switch b := any(buf).(type) {
	case *goBuf[float32]:
		select {
		case goBufFree32 <- b:
		default:
		}
	case *goBuf[float64]:
		select {
		case goBufFree64 <- b:
		default:
		}
	}
}

// gemmGo is the portable Gemm for float32 and float64 (T is exactly one
// of them), on up to threads goroutines.
func gemmGo[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, threads int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sp := planSplit(m, n, k, goMR, goNR, threads)
	if sp.tm*sp.tn == 1 {
		gemmGoSeq(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// A generic function used as a value inside generic code is a closure
	// over its dictionary, allocated at each use; the package-level
	// instantiations are static.
	var seq any = gemmGoSeq64
	if isFloat32[T]() {
		seq = gemmGoSeq32
	}
	parallelGemm(sp, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads,
		seq.(func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)))
}

var (
	gemmGoSeq32 = gemmGoSeq[float32]
	gemmGoSeq64 = gemmGoSeq[float64]
)

// gemmGoSeq is the portable Gemm on the calling goroutine; k > 0.
func gemmGoSeq[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	buf := getGoBuf[T]()
	for jc := 0; jc < n; jc += goNC {
		nc := min(goNC, n-jc)
		for pc := 0; pc < k; pc += goKC {
			kc := min(goKC, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			packBGo(transB, b, ldb, pc, jc, kc, nc, buf.b)
			for ic := 0; ic < m; ic += goMC {
				mc := min(goMC, m-ic)
				packAGo(transA, a, lda, ic, pc, mc, kc, buf.a)
				for jr := 0; jr < nc; jr += goNR {
					nr := min(goNR, nc-jr)
					bp := buf.b[jr*kc : jr*kc+goNR*kc]
					for ir := 0; ir < mc; ir += goMR {
						mr := min(goMR, mc-ir)
						ap := buf.a[ir*kc : ir*kc+goMR*kc]
						off := (ic+ir)*ldc + jc + jr
						if mr == goMR && nr == goNR {
							kernGo(kc, ap, bp, c[off:], ldc, alpha, bet)
							continue
						}
						kernGo(kc, ap, bp, buf.tmp[:], goNR, 1, 0)
						storeTile(c[off:], ldc, buf.tmp[:], goNR, mr, nr, alpha, bet)
					}
				}
			}
		}
	}
	putGoBuf(buf)
}

// packAGo packs rows [ic, ic+mc) × columns [pc, pc+kc) of op(A) into
// goMR-row panels, each laid out p-major (goMR values per p), the last
// panel padded with zeros.
func packAGo[T Float](trans bool, a []T, lda, ic, pc, mc, kc int, dst []T) {
	for ir := 0; ir < mc; ir += goMR {
		mr := min(goMR, mc-ir)
		d := dst[ir*kc : ir*kc+goMR*kc]
		if trans {
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+ic+ir:]
				dp := d[p*goMR : p*goMR+goMR]
				if mr == goMR {
					src = src[:goMR]
					dp[0], dp[1] = src[0], src[1]
					continue
				}
				for i := 0; i < goMR; i++ {
					if i < mr {
						dp[i] = src[i]
					} else {
						dp[i] = 0
					}
				}
			}
			continue
		}
		for i := 0; i < goMR; i++ {
			if i >= mr {
				for p := 0; p < kc; p++ {
					d[p*goMR+i] = 0
				}
				continue
			}
			src := a[(ic+ir+i)*lda+pc : (ic+ir+i)*lda+pc+kc]
			for p, v := range src {
				d[p*goMR+i] = v
			}
		}
	}
}

// packBGo packs rows [pc, pc+kc) × columns [jc, jc+nc) of op(B) into
// goNR-column panels, each laid out p-major, the last padded with zeros.
func packBGo[T Float](trans bool, b []T, ldb, pc, jc, kc, nc int, dst []T) {
	for jr := 0; jr < nc; jr += goNR {
		nr := min(goNR, nc-jr)
		d := dst[jr*kc : jr*kc+goNR*kc]
		if !trans {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+jc+jr:]
				dp := d[p*goNR : p*goNR+goNR]
				if nr == goNR {
					src = src[:goNR]
					dp[0], dp[1], dp[2], dp[3] = src[0], src[1], src[2], src[3]
					continue
				}
				for j := 0; j < goNR; j++ {
					if j < nr {
						dp[j] = src[j]
					} else {
						dp[j] = 0
					}
				}
			}
			continue
		}
		for j := 0; j < goNR; j++ {
			if j >= nr {
				for p := 0; p < kc; p++ {
					d[p*goNR+j] = 0
				}
				continue
			}
			src := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc]
			for p, v := range src {
				d[p*goNR+j] = v
			}
		}
	}
}

// kernGo computes the goMR×goNR (2×4) tile C = alpha·Ap·Bp + beta·C from
// packed panels ap (2 values per p) and bp (4 values per p); beta == 0
// ignores C. The tile is small because Go keeps scalars in at most 15
// registers: 8 accumulators and 6 operands fit, a 4×4 tile spills. The
// loop is unrolled by two.
func kernGo[T Float](kc int, ap, bp []T, c []T, ldc int, alpha, beta T) {
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	ap, bp = ap[:2*kc], bp[:4*kc]
	p := 0
	for ; p+2 <= kc; p += 2 {
		a := ap[2*p : 2*p+4 : 2*p+4]
		b := bp[4*p : 4*p+8 : 4*p+8]
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = a[2], a[3]
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	if p < kc {
		a := ap[2*p : 2*p+2 : 2*p+2]
		b := bp[4*p : 4*p+4 : 4*p+4]
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	if beta == 0 {
		r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
		r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00+beta*r0[0], alpha*c01+beta*r0[1], alpha*c02+beta*r0[2], alpha*c03+beta*r0[3]
	r1[0], r1[1], r1[2], r1[3] = alpha*c10+beta*r1[0], alpha*c11+beta*r1[1], alpha*c12+beta*r1[2], alpha*c13+beta*r1[3]
}
