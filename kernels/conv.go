package kernels

import (
	"fmt"
	"math"
)

// ConvParams describes a 2-D convolution of an N×C×H×W input with a
// K×C×KH×KW weight (OIHW, PyTorch's layout) giving an N×K×OH×OW output,
// with stride (SH, SW) and padding (PH, PW) on each side.
//
// OH must be (H+2·PH−KH)/SH+1 (integer division) and likewise OW: when the
// division is inexact, the last rows/columns of the padded input are not
// read. The same geometry describes a transposed convolution: its input is
// the N×K×OH×OW side and its output the N×C×H×W side, where H and W may
// include output padding (H = (OH−1)·SH − 2·PH + KH + outpad with
// 0 ≤ outpad < SH satisfies the formula above).
//
// The padding is zeros unless Reflect is set, in which case it mirrors the
// input about its edges without repeating them, as PyTorch's
// ReflectionPad2d followed by an unpadded convolution does; this needs
// PH < H and PW < W.
//
// Call Validate before handing a geometry from outside the program to the
// kernels: they panic on an invalid one.
type ConvParams struct {
	N, C, H, W int  // input batch, channels, height, width
	K          int  // output channels
	KH, KW     int  // kernel height and width
	SH, SW     int  // stride
	PH, PW     int  // padding on each side
	OH, OW     int  // output height and width
	Reflect    bool // reflection padding instead of zeros
}

// ConvOutSize returns the output length (in+2·pad−k)/stride+1 of a
// convolution along one axis, or 0 when the kernel does not fit in the
// padded input or an argument is out of range.
func ConvOutSize(in, k, stride, pad int) int {
	if in < 1 || k < 1 || stride < 1 || pad < 0 || in+2*pad < k {
		return 0
	}
	return (in+2*pad-k)/stride + 1
}

// maxConvElems bounds every tensor of a convolution so that index
// arithmetic cannot overflow int, even on 32-bit platforms, and
// maxConvSize bounds each size, stride and padding, so that sums such as
// H+2·PH cannot overflow either.
const (
	maxConvElems = math.MaxInt32
	maxConvSize  = 1 << 28
)

// Validate reports whether p is a consistent geometry: positive sizes and
// strides, non-negative padding, a kernel that fits in the padded input,
// OH and OW as the formula on ConvParams gives them, padding smaller than
// the input when Reflect is set, and tensors (the column matrix
// C·KH·KW × OH·OW included) whose element counts fit in an int32.
func (p ConvParams) Validate() error {
	for _, f := range [...]struct {
		name string
		v    int
	}{{"N", p.N}, {"C", p.C}, {"H", p.H}, {"W", p.W}, {"K", p.K},
		{"KH", p.KH}, {"KW", p.KW}, {"SH", p.SH}, {"SW", p.SW}, {"OH", p.OH}, {"OW", p.OW}} {
		if f.v < 1 || f.v > maxConvSize {
			return fmt.Errorf("kernels: conv geometry: %s = %d, want 1 to %d", f.name, f.v, maxConvSize)
		}
	}
	if p.PH < 0 || p.PW < 0 || p.PH > maxConvSize || p.PW > maxConvSize {
		return fmt.Errorf("kernels: conv geometry: padding %d×%d, want 0 to %d", p.PH, p.PW, maxConvSize)
	}
	for _, f := range [...]struct {
		name          string
		a, b, c, d, e int
	}{
		{"input N×C×H×W", p.N, p.C, p.H, p.W, 1},
		{"output N×K×OH×OW", p.N, p.K, p.OH, p.OW, 1},
		{"weight K×C×KH×KW", p.K, p.C, p.KH, p.KW, 1},
		{"padded input (H+2·PH)×(W+2·PW)", p.H + 2*p.PH, p.W + 2*p.PW, 1, 1, 1},
		{"column matrix (C·KH·KW)×(OH·OW)", p.C, p.KH, p.KW, p.OH, p.OW},
	} {
		n := 1
		for _, s := range [...]int{f.a, f.b, f.c, f.d, f.e} {
			if s > maxConvElems/n {
				return fmt.Errorf("kernels: conv geometry: %s has more than %d elements", f.name, maxConvElems)
			}
			n *= s
		}
	}
	if p.H+2*p.PH < p.KH || p.W+2*p.PW < p.KW {
		return fmt.Errorf("kernels: conv geometry: %d×%d kernel larger than the %d×%d padded input",
			p.KH, p.KW, p.H+2*p.PH, p.W+2*p.PW)
	}
	if oh := ConvOutSize(p.H, p.KH, p.SH, p.PH); p.OH != oh {
		return fmt.Errorf("kernels: conv geometry: OH = %d, want (H+2·PH−KH)/SH+1 = (%d+2·%d−%d)/%d+1 = %d",
			p.OH, p.H, p.PH, p.KH, p.SH, oh)
	}
	if ow := ConvOutSize(p.W, p.KW, p.SW, p.PW); p.OW != ow {
		return fmt.Errorf("kernels: conv geometry: OW = %d, want (W+2·PW−KW)/SW+1 = (%d+2·%d−%d)/%d+1 = %d",
			p.OW, p.W, p.PW, p.KW, p.SW, ow)
	}
	if p.Reflect && (p.PH >= p.H || p.PW >= p.W) {
		return fmt.Errorf("kernels: conv geometry: reflection padding %d×%d needs to be smaller than the %d×%d input",
			p.PH, p.PW, p.H, p.W)
	}
	return nil
}

// InputLen returns N·C·H·W, the length of the input (x or gx).
func (p ConvParams) InputLen() int { return p.N * p.C * p.H * p.W }

// OutputLen returns N·K·OH·OW, the length of the output (y or gy).
func (p ConvParams) OutputLen() int { return p.N * p.K * p.OH * p.OW }

// WeightLen returns K·C·KH·KW, the length of the weight (w or gw).
func (p ConvParams) WeightLen() int { return p.K * p.C * p.KH * p.KW }

// FLOPs returns 2·N·K·C·KH·KW·OH·OW, the floating-point operations of one
// of the three kernels counted as a direct convolution (padding included).
func (p ConvParams) FLOPs() float64 {
	return 2 * float64(p.N) * float64(p.K) * float64(p.C*p.KH*p.KW) * float64(p.OH*p.OW)
}

// mustValid panics with a message naming the problem when p is invalid or
// a slice is shorter than the geometry needs.
func mustValid(fn string, p *ConvParams, in, w, out int, inName, wName, outName string) {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("%v (in %s)", err, fn))
	}
	for _, s := range [...]struct {
		name       string
		have, need int
	}{{inName, in, p.InputLen()}, {wName, w, p.WeightLen()}, {outName, out, p.OutputLen()}} {
		if s.have < s.need {
			panic(fmt.Sprintf("kernels: %s: %s has %d elements, the geometry needs %d", fn, s.name, s.have, s.need))
		}
	}
}

// pointwise reports whether the convolution is a plain matrix product per
// sample (1×1 kernel, unit stride, no padding), needing no column matrix.
func (p *ConvParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.SH == 1 && p.SW == 1 && p.PH == 0 && p.PW == 0
}

// Conv2d computes y = conv(x, w): x is N×C×H×W, w is K×C×KH×KW and y,
// N×K×OH×OW, is overwritten. No bias.
//
// It lowers the convolution to matrix products: im2col and Gemm over bands
// of output rows, or over groups of whole samples when the images are
// small, with the column matrix in a reused scratch buffer; for unit
// stride with fewer output than input channels, kn2row (Gemm first, then
// shifted sums). 1×1 unit-stride convolutions are a Gemm per sample, and
// 3×3 unit-stride ones with enough channels and pixels use Winograd
// F(2×2, 3×3) (16 Gemms on transformed tiles; see winograd.go). The
// work is shared out over Threads() goroutines inside these steps. The
// kernels may be called from several goroutines at once. It panics if p
// is invalid (see Validate) or a slice is too short.
func Conv2d[T Float](p ConvParams, x, w, y []T) {
	mustValid("Conv2d", &p, len(x), len(w), len(y), "x", "w", "y")
	ohw, ckk := p.OH*p.OW, p.C*p.KH*p.KW
	if p.pointwise() {
		for n := 0; n < p.N; n++ {
			Gemm(false, false, p.K, ohw, p.C, 1, w, p.C, x[n*p.C*ohw:], ohw, 0, y[n*p.K*ohw:], ohw)
		}
		return
	}
	if p.useWinograd(opForward) {
		winogradForward(&p, x, w, y)
		return
	}
	if p.useKn2row(opForward) {
		kn2rowForward(&p, x, w, y)
		return
	}
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.begin(&p, x)
	for g0 := 0; g0 < p.N*p.OH; {
		g1 := wk.chunkEnd(g0)
		ncols := wk.setChunk(g0, g1)
		wk.im2col()
		n0 := g0 / p.OH
		if wk.ns == 1 {
			off := (g0 - n0*p.OH) * p.OW
			Gemm(false, false, p.K, ncols, ckk, 1, w, ckk, wk.col, ncols, 0, y[n0*p.K*ohw+off:], ohw)
		} else {
			Gemm(false, false, p.K, ncols, ckk, 1, w, ckk, wk.col, ncols, 0, wk.tmp, ncols)
			scatterSamples(wk.tmp, y[n0*p.K*ohw:], p.K, ohw, wk.ns)
		}
		g0 = g1
	}
}

// Conv2dBackwardData computes gx = ∂L/∂x from gy = ∂L/∂y for y = conv(x, w);
// gx (N×C×H×W) is overwritten. It is also the forward pass of a transposed
// convolution from the N×K×OH×OW side to the N×C×H×W side. With Reflect,
// the gradient reaching a padded position is added to the input position
// it mirrors.
//
// It computes the column gradient wᵀ·gy with Gemm and adds it back into
// gx (col2im); for unit stride with K·H·W ≤ C·OH·OW it instead copies gy
// into shifted planes and multiplies by the weight (kn2row); for 3×3
// unit-stride convolutions with enough channels and pixels it runs the
// exact adjoint of Conv2d's Winograd algorithm. It panics if p is invalid
// (see Validate) or a slice is too short.
func Conv2dBackwardData[T Float](p ConvParams, gy, w, gx []T) {
	mustValid("Conv2dBackwardData", &p, len(gx), len(w), len(gy), "gx", "w", "gy")
	ohw, ckk := p.OH*p.OW, p.C*p.KH*p.KW
	if p.pointwise() {
		for n := 0; n < p.N; n++ {
			Gemm(true, false, p.C, ohw, p.K, 1, w, p.C, gy[n*p.K*ohw:], ohw, 0, gx[n*p.C*ohw:], ohw)
		}
		return
	}
	if p.useWinograd(opData) {
		winogradData(&p, gy, w, gx)
		return
	}
	if p.useKn2row(opData) {
		kn2rowData(&p, gy, w, gx)
		return
	}
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.begin(&p, gx)
	if !wk.phases {
		clear(gx[:p.InputLen()])
	}
	for g0 := 0; g0 < p.N*p.OH; {
		g1 := wk.chunkEnd(g0)
		ncols := wk.setChunk(g0, g1)
		n0 := g0 / p.OH
		if wk.ns == 1 {
			off := (g0 - n0*p.OH) * p.OW
			Gemm(true, false, ckk, ncols, p.K, 1, w, ckk, gy[n0*p.K*ohw+off:], ohw, 0, wk.col, ncols)
		} else {
			gatherSamples(wk.tmp, gy[n0*p.K*ohw:], p.K, ohw, wk.ns)
			Gemm(true, false, ckk, ncols, p.K, 1, w, ckk, wk.tmp, ncols, 0, wk.col, ncols)
		}
		wk.col2im()
		g0 = g1
	}
}

// Conv2dBackwardWeight computes gw = ∂L/∂w from x and gy = ∂L/∂y for
// y = conv(x, w); gw (K×C×KH×KW) is overwritten.
//
// It accumulates gy·colᵀ over the batch directly in gw with Gemm (beta 1
// after the first product), no per-sample temporary; the kn2row case
// accumulates in a permuted scratch copy of gw; the Winograd case (3×3,
// unit stride, enough channels and pixels) sums the products of the
// transformed tiles and transforms the sum back. It panics if p is
// invalid (see Validate) or a slice is too short.
func Conv2dBackwardWeight[T Float](p ConvParams, x, gy, gw []T) {
	mustValid("Conv2dBackwardWeight", &p, len(x), len(gw), len(gy), "x", "gw", "gy")
	ohw, ckk := p.OH*p.OW, p.C*p.KH*p.KW
	if p.pointwise() {
		for n := 0; n < p.N; n++ {
			beta := T(1)
			if n == 0 {
				beta = 0
			}
			Gemm(false, true, p.K, p.C, ohw, 1, gy[n*p.K*ohw:], ohw, x[n*p.C*ohw:], ohw, beta, gw, p.C)
		}
		return
	}
	if p.useWinograd(opWeight) {
		winogradWeight(&p, x, gy, gw)
		return
	}
	if p.useKn2row(opWeight) {
		kn2rowWeight(&p, x, gy, gw)
		return
	}
	wk := getConvWork[T]()
	defer putConvWork(wk)
	wk.begin(&p, x)
	var beta T
	for g0 := 0; g0 < p.N*p.OH; {
		g1 := wk.chunkEnd(g0)
		ncols := wk.setChunk(g0, g1)
		wk.im2col()
		n0 := g0 / p.OH
		if wk.ns == 1 {
			off := (g0 - n0*p.OH) * p.OW
			Gemm(false, true, p.K, ckk, ncols, 1, gy[n0*p.K*ohw+off:], ohw, wk.col, ncols, beta, gw, ckk)
		} else {
			gatherSamples(wk.tmp, gy[n0*p.K*ohw:], p.K, ohw, wk.ns)
			Gemm(false, true, p.K, ckk, ncols, 1, wk.tmp, ncols, wk.col, ncols, beta, gw, ckk)
		}
		beta = 1
		g0 = g1
	}
}

// scatterSamples copies tmp, K×(ns·ohw) with sample s in columns
// [s·ohw, (s+1)·ohw), to y, ns samples of K×ohw.
func scatterSamples[T Float](tmp, y []T, k, ohw, ns int) {
	ld := ns * ohw
	for s := 0; s < ns; s++ {
		for i := 0; i < k; i++ {
			copy(y[(s*k+i)*ohw:(s*k+i+1)*ohw], tmp[i*ld+s*ohw:i*ld+(s+1)*ohw])
		}
	}
}

// gatherSamples is the inverse of scatterSamples: it lays ns samples of
// K×ohw from gy side by side in tmp, K×(ns·ohw).
func gatherSamples[T Float](tmp, gy []T, k, ohw, ns int) {
	ld := ns * ohw
	for s := 0; s < ns; s++ {
		for i := 0; i < k; i++ {
			copy(tmp[i*ld+s*ohw:i*ld+(s+1)*ohw], gy[(s*k+i)*ohw:(s*k+i+1)*ohw])
		}
	}
}
