package kernels

import (
	"fmt"
	"unsafe"
)

//go:generate go run gemm_asmgen.go

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(X) is X or Xᵀ as transA and transB say. op(A) is m×k, op(B) is
// k×n and C is m×n; lda, ldb and ldc are the row strides of A, B and C as
// stored (A is m×k, or k×m when transA; B is k×n, or n×k when transB).
// With beta == 0, C is overwritten and its old contents (even NaN) are
// ignored.
//
// Gemm runs on up to Threads() goroutines of the package's worker pool,
// splitting C into blocks of rows or columns when the product is large
// enough to pay for it. float32 uses an AVX2+FMA kernel when the CPU has
// one; float64 always uses portable Go.
//
// Gemm panics if a dimension is negative or a slice or stride is too
// small for the shapes given.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	gemmThreads(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Threads())
}

// gemmThreads is Gemm, arguments checked, on up to threads goroutines.
func gemmThreads[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, threads int) {
	if isFloat32[T]() {
		if haveAsm {
			sgemmAsm(transA, transB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc, threads)
			return
		}
		gemmGo(transA, transB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc, threads)
		return
	}
	gemmGo(transA, transB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc, threads)
}

// GemmStrided computes batch products C_i = alpha·op(A_i)·op(B_i) + beta·C_i,
// i < batch, laid out like Gemm's operands, where A_i starts at
// a[i·strideA], B_i at b[i·strideB] and C_i at c[i·strideC]. A stride of 0
// shares one matrix among all products (say one weight times the columns
// of every image); the C_i must not overlap.
//
// When one product is too small to spread over Threads() goroutines, the
// products themselves are spread, each computed on one goroutine.
//
// GemmStrided panics if a dimension, stride or batch is negative, if the
// C_i overlap or if a slice is too small for the shapes given.
func GemmStrided[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda, strideA int, b []T, ldb, strideB int, beta T, c []T, ldc, strideC int, batch int) {
	if batch < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		panic(fmt.Sprintf("kernels: GemmStrided with negative batch %d or stride (%d, %d, %d)", batch, strideA, strideB, strideC))
	}
	if batch == 0 {
		return
	}
	if batch > 1 && m > 0 && n > 0 && strideC < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: GemmStrided C stride %d overlaps %d×%d matrices with row stride %d", strideC, m, n, ldc))
	}
	last := batch - 1
	// Check the first and the last product: those in between lie within.
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	checkGemm(transA, transB, m, n, k, len(a)-last*strideA, lda, len(b)-last*strideB, ldb, len(c)-last*strideC, ldc)
	if m == 0 || n == 0 {
		return
	}
	threads := Threads()
	if batch == 1 || threads == 1 || m*n*k >= threads*4*minTaskFMA {
		for i := 0; i < batch; i++ {
			gemmThreads(transA, transB, m, n, k, alpha, from(a, i*strideA), lda, from(b, i*strideB), ldb, beta, c[i*strideC:], ldc, threads)
		}
		return
	}
	if isFloat32[T]() {
		stridedBatch(transA, transB, m, n, k, float32(alpha), as32(a), lda, strideA, as32(b), ldb, strideB, float32(beta), as32(c), ldc, strideC, batch, threads)
		return
	}
	stridedBatch(transA, transB, m, n, k, float64(alpha), as64(a), lda, strideA, as64(b), ldb, strideB, float64(beta), as64(c), ldc, strideC, batch, threads)
}

// batchJob spreads the products of GemmStrided over tasks, each running
// a contiguous range of them on one goroutine.
type batchJob[T Float] struct {
	transA, transB            bool
	m, n, k                   int
	alpha, beta               T
	a, b, c                   []T
	lda, ldb, ldc             int
	strideA, strideB, strideC int
	batch, tasks              int
}

func (j *batchJob[T]) run(t int) {
	for i := t * j.batch / j.tasks; i < (t+1)*j.batch/j.tasks; i++ {
		gemmThreads(j.transA, j.transB, j.m, j.n, j.k, j.alpha, from(j.a, i*j.strideA), j.lda, from(j.b, i*j.strideB), j.ldb, j.beta, j.c[i*j.strideC:], j.ldc, 1)
	}
}

// from is s[off:], or empty when off is past the end (an operand with
// k = 0 has no elements and may be shorter than its strides suggest).
func from[T Float](s []T, off int) []T {
	if off >= len(s) {
		return nil
	}
	return s[off:]
}

var (
	batchJobFree32 = make(chan *batchJob[float32], 16)
	batchJobFree64 = make(chan *batchJob[float64], 16)
)

// stridedBatch runs GemmStrided's products in parallel; T is exactly
// float32 or float64.
func stridedBatch[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda, strideA int, b []T, ldb, strideB int, beta T, c []T, ldc, strideC int, batch, threads int) {
	var got any
	if isFloat32[T]() {
		select {
		case got = <-batchJobFree32:
		default:
		}
	} else {
		select {
		case got = <-batchJobFree64:
		default:
		}
	}
	j, ok := got.(*batchJob[T])
	if !ok {
		j = new(batchJob[T])
	}
	tasks := min(batch, threads)
	*j = batchJob[T]{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, strideA: strideA, strideB: strideB, strideC: strideC,
		batch: batch, tasks: tasks}
	forkJoin(tasks, j, threads)
	*j = batchJob[T]{}
	switch j := any(j).(type) {
	case *batchJob[float32]:
		select {
		case batchJobFree32 <- j:
		default:
		}
	case *batchJob[float64]:
		select {
		case batchJobFree64 <- j:
		default:
		}
	}
}

// as32 views a slice of a 4-byte Float type as []float32.
func as32[T Float](s []T) []float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// as64 views a slice of an 8-byte Float type as []float64.
func as64[T Float](s []T) []float64 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// checkGemm panics when the arguments of Gemm do not describe matrices
// that fit in the slices given. The assembly kernels do no bounds
// checking, so this is what keeps them in bounds.
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Gemm with negative dimension m=%d n=%d k=%d", m, n, k))
	}
	check := func(name string, rows, cols, l, ld int) {
		if rows == 0 || cols == 0 {
			return // an empty matrix takes any stride
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels: Gemm %s stride %d < %d columns", name, ld, cols))
		}
		if l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("kernels: Gemm %s has %d elements, %d×%d with stride %d needs %d", name, l, rows, cols, ld, (rows-1)*ld+cols))
		}
	}
	if m == 0 || n == 0 {
		check("C", m, n, lc, ldc)
		return
	}
	if transA {
		check("A", k, m, la, lda)
	} else {
		check("A", m, k, la, lda)
	}
	if transB {
		check("B", n, k, lb, ldb)
	} else {
		check("B", k, n, lb, ldb)
	}
	check("C", m, n, lc, ldc)
}

// scaleC sets C = beta·C (C = 0 when beta == 0, whatever C held).
func scaleC[T Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// A split divides the m×n product into tm×tn blocks of C, each computed by
// one task with its own packing; block edges fall on multiples of the
// micro-tile (mr×nr) so that only the last block has ragged tiles.
type split struct {
	tm, tn         int
	rowStep, colSt int // rows / columns per block
}

// minTaskFMA is the least work (multiply-adds) worth handing to another
// goroutine: below it, the hand-off costs more than it saves.
var minTaskFMA = 1 << 17

// moreTasksFMA: a product with at least twice this much work per thread is
// cut into 2 tasks per thread (more repeat too much packing). Tasks are
// claimed dynamically, so a worker that starts late (a parked one takes
// up to a few hundred microseconds to wake) or runs slower than the
// others does not hold up the end.
var moreTasksFMA = 1 << 24

// planSplit chooses how to spread an m×n×k product over up to threads
// goroutines: into how many blocks of C, and their grid. It weighs the
// compute of a block (in whole micro-tiles) plus the packing each block
// repeats: a block packs its rows of A and its columns of B, so splitting
// rows repeats B's packing and splitting columns repeats A's.
func planSplit(m, n, k, mr, nr, threads int) split {
	one := split{tm: 1, tn: 1, rowStep: m, colSt: n}
	work := m * n * k
	t := min(threads, work/minTaskFMA)
	if t <= 1 {
		return one
	}
	per := 1
	if work/(t*2) >= moreTasksFMA {
		per = 2
	}
	mp, np := (m+mr-1)/mr, (n+nr-1)/nr
	best, bestCost := one, -1
	for tasks := t * per; tasks >= t; tasks -= t {
		for tm := 1; tm <= tasks; tm++ {
			tn := tasks / tm
			if tm*tn != tasks || tm > mp || tn > np {
				continue
			}
			rp, cp := (mp+tm-1)/tm, (np+tn-1)/tn
			rows, cols := min(rp*mr, m), min(cp*nr, n)
			// Compute in FMA; packing an element costs about as much as
			// a few FMA lanes of a full tile. Each goroutine runs
			// ceil(tasks/t) blocks.
			cost := (rp*mr*cp*nr*k + 4*k*(rows+cols)) * ((tasks + t - 1) / t)
			if bestCost < 0 || cost < bestCost {
				best, bestCost = split{tm: tm, tn: tn, rowStep: rp * mr, colSt: cp * nr}, cost
			}
		}
		if bestCost >= 0 {
			break // the most tasks that fit a grid
		}
	}
	return best
}

// blockJob is a Gemm split into blocks of C, one task per block.
type blockJob[T Float] struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a, b, c        []T
	lda, ldb, ldc  int
	sp             split
	seq            func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)
}

func (j *blockJob[T]) run(t int) {
	bi, bj := t/j.sp.tn, t%j.sp.tn
	i0, j0 := bi*j.sp.rowStep, bj*j.sp.colSt
	i1, j1 := min(i0+j.sp.rowStep, j.m), min(j0+j.sp.colSt, j.n)
	if i0 >= i1 || j0 >= j1 {
		return
	}
	a, b := j.a, j.b
	if j.transA {
		a = a[i0:]
	} else {
		a = a[i0*j.lda:]
	}
	if j.transB {
		b = b[j0*j.ldb:]
	} else {
		b = b[j0:]
	}
	j.seq(j.transA, j.transB, i1-i0, j1-j0, j.k, j.alpha, a, j.lda, b, j.ldb, j.beta, j.c[i0*j.ldc+j0:], j.ldc)
}

// isFloat32 reports whether T is 4 bytes wide (float32 or a type based on it).
func isFloat32[T Float]() bool {
	var zero T
	return unsafe.Sizeof(zero) == 4
}

// Free lists of blockJobs for the two element types Gemm computes in.
var (
	blockJobFree32 = make(chan *blockJob[float32], 16)
	blockJobFree64 = make(chan *blockJob[float64], 16)
)

// parallelGemm runs seq on the blocks of sp through the worker pool. T is
// exactly float32 or float64.
func parallelGemm[T Float](sp split, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, threads int,
	seq func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)) {
	var got any
	if isFloat32[T]() {
		select {
		case got = <-blockJobFree32:
		default:
		}
	} else {
		select {
		case got = <-blockJobFree64:
		default:
		}
	}
	j, ok := got.(*blockJob[T])
	if !ok {
		j = new(blockJob[T])
	}
	*j = blockJob[T]{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, sp: sp, seq: seq}
	forkJoin(sp.tm*sp.tn, j, threads)
	*j = blockJob[T]{}
	switch j := any(j).(type) {
	case *blockJob[float32]:
		select {
		case blockJobFree32 <- j:
		default:
		}
	case *blockJob[float64]:
		select {
		case blockJobFree64 <- j:
		default:
		}
	}
}

// storeTile writes an mr×nr tile t (rows ldt apart) into c (rows ldc
// apart) as c = alpha·t + beta·c: the edge tiles that a micro-kernel
// computes into scratch. With beta 0, c's old values are not read (they may
// be NaN).
func storeTile[T Float](c []T, ldc int, t []T, ldt, mr, nr int, alpha, beta T) {
	for i := 0; i < mr; i++ {
		row, ti := c[i*ldc:i*ldc+nr], t[i*ldt:i*ldt+nr]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * ti[j]
			}
		} else {
			for j := range row {
				row[j] = alpha*ti[j] + beta*row[j]
			}
		}
	}
}
