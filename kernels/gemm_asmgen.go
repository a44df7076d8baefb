//go:build ignore

// This program writes gemm_amd64.s, the AVX2+FMA float32 GEMM
// micro-kernels. Run it with `go generate` in package kernels.
//
// Each kernel sgemmKern{R}x16 computes an R×16 tile (R = 1..6):
//
//	acc[i][j] = Σ_p A(i,p)·B(p,j)   for p < kc
//	C[i][j]   = alpha·acc[i][j] (+ beta·C[i][j] when beta ≠ 0)
//
// where A(i,p) lives at a + i·rsA + p·csA and B(p,j) at b + p·csB + 4j
// (strides in bytes). With rsA = 4, csA = 24, csB = 64 the operands are
// the packed panels; other strides read A or B in place. C rows are ldc
// bytes apart. The accumulators take 2R of the 16 ymm registers; two
// more hold the current B row and two alternate for A broadcasts.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var w bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&w, "\t"+format+"\n", args...) }
func label(s string)               { fmt.Fprintf(&w, "%s:\n", s) }

// aAddr is the address of A(i, p) for the current p.
func aAddr(i int) string {
	switch i {
	case 0:
		return "(AX)"
	case 1:
		return "(AX)(R8*1)"
	case 2:
		return "(AX)(R8*2)"
	case 3:
		return "(R10)"
	case 4:
		return "(R10)(R8*1)"
	default:
		return "(R10)(R8*2)"
	}
}

// cAddr is the address of row i of the C tile, plus off bytes.
func cAddr(i, off int) string {
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	switch i {
	case 0:
		return o + "(DX)"
	case 1:
		return o + "(DX)(R12*1)"
	case 2:
		return o + "(DX)(R12*2)"
	case 3:
		return o + "(R13)"
	case 4:
		return o + "(R13)(R12*1)"
	default:
		return o + "(R13)(R12*2)"
	}
}

// step emits one rank-1 update (one p) into accumulator set acc0 (2r
// registers from Y{acc0}) and advances the pointers.
func step(r, acc0 int, pf bool) {
	p("VMOVUPS (BX), Y12")
	p("VMOVUPS 32(BX), Y13")
	if pf {
		// B is read in place: fetch this row's stretch for a later tile.
		p("PREFETCHT0 %d(BX)", pfDist)
	}
	for i := 0; i < r; i++ {
		ya := 14 + i%2
		p("VBROADCASTSS %s, Y%d", aAddr(i), ya)
		p("VFMADD231PS Y12, Y%d, Y%d", ya, acc0+2*i)
		p("VFMADD231PS Y13, Y%d, Y%d", ya, acc0+2*i+1)
	}
	p("ADDQ R9, AX")
	if r > 3 {
		p("ADDQ R9, R10")
	}
	p("ADDQ R11, BX")
}

// pfDist is how far along a row of B the panel kernels prefetch, in
// bytes: 4 tiles ahead.
const pfDist = 256

// kernel emits sgemmKern{r}x16, or with panels sgemmKern{r}x16N, which
// takes one more argument np and computes np tiles side by side: B and C
// advance 16 columns (64 bytes) from one tile to the next and A is
// reread for each. For r ≤ 3 two accumulator sets alternate between
// steps, so that enough independent FMA chains hide the FMA latency.
func kernel(r int, panels bool) {
	name := fmt.Sprintf("sgemmKern%dx16", r)
	args, frame := "", 72
	if panels {
		name += "N"
		args, frame = ", np int", 80
	}
	sets := 1
	if r <= 3 {
		sets = 2
	}
	fmt.Fprintf(&w, "// func %s(kc int, a *float32, rsA, csA uintptr, b *float32, csB uintptr, c *float32, ldc uintptr, alpha, beta float32%s)\n", name, args)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, frame)
	p("MOVQ a+8(FP), AX")
	p("MOVQ rsA+16(FP), R8")
	p("MOVQ csA+24(FP), R9")
	p("MOVQ b+32(FP), BX")
	p("MOVQ csB+40(FP), R11")
	p("MOVQ c+48(FP), DX")
	p("MOVQ ldc+56(FP), R12")
	lbl := func(s string) string { return fmt.Sprintf("%s%s", s, name[9:]) }
	if panels {
		p("MOVQ np+72(FP), R15")
		p("MOVQ AX, R14")
		p("MOVQ BX, DI")
		label(lbl("panel"))
		p("MOVQ R14, AX")
		p("MOVQ DI, BX")
	}
	p("MOVQ kc+0(FP), CX")
	if r > 3 {
		p("LEAQ (AX)(R8*2), R10")
		p("ADDQ R8, R10")
		p("LEAQ (DX)(R12*2), R13")
		p("ADDQ R12, R13")
	}
	// Touch the C tile early so its lines arrive during the k loop.
	for i := 0; i < r; i++ {
		p("PREFETCHT0 %s", cAddr(i, 0))
		p("PREFETCHT0 %s", cAddr(i, 60))
	}
	for i := 0; i < 2*r*sets; i++ {
		p("VXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	p("MOVQ CX, SI")
	p("SHRQ $2, SI")
	p("JZ %s", lbl("tail"))
	label(lbl("loop"))
	for u := 0; u < 4; u++ {
		step(r, (u%sets)*2*r, panels)
	}
	p("DECQ SI")
	p("JNZ %s", lbl("loop"))
	label(lbl("tail"))
	p("ANDQ $3, CX")
	p("JZ %s", lbl("done"))
	label(lbl("tailloop"))
	step(r, 0, panels)
	p("DECQ CX")
	p("JNZ %s", lbl("tailloop"))
	label(lbl("done"))
	if sets == 2 {
		for i := 0; i < 2*r; i++ {
			p("VADDPS Y%d, Y%d, Y%d", 2*r+i, i, i)
		}
	}
	p("VBROADCASTSS alpha+64(FP), Y14")
	p("MOVL beta+68(FP), SI")
	p("ANDL $0x7fffffff, SI")
	p("JNZ %s", lbl("accum"))
	// beta == 0: overwrite C, never reading it.
	for i := 0; i < r; i++ {
		p("VMULPS Y14, Y%d, Y%d", 2*i, 2*i)
		p("VMULPS Y14, Y%d, Y%d", 2*i+1, 2*i+1)
		p("VMOVUPS Y%d, %s", 2*i, cAddr(i, 0))
		p("VMOVUPS Y%d, %s", 2*i+1, cAddr(i, 32))
	}
	p("JMP %s", lbl("next"))
	label(lbl("accum"))
	p("VBROADCASTSS beta+68(FP), Y15")
	for i := 0; i < r; i++ {
		for h := 0; h < 2; h++ {
			p("VMULPS %s, Y15, Y12", cAddr(i, 32*h))
			p("VFMADD231PS Y14, Y%d, Y12", 2*i+h)
			p("VMOVUPS Y12, %s", cAddr(i, 32*h))
		}
	}
	label(lbl("next"))
	if panels {
		p("ADDQ $64, DI")
		p("ADDQ $64, DX")
		p("DECQ R15")
		p("JNZ %s", lbl("panel"))
	}
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

// packBN copies a kc×16 panel of a row-major B (rows ldb bytes apart)
// into dst, 16 values per row, prefetching the same rows pf bytes further
// on (the panels that come next).
func packBN() {
	w.WriteString("// func sgemmPackBN(kc int, src *float32, ldb uintptr, dst *float32, pf uintptr)\n")
	w.WriteString("TEXT ·sgemmPackBN(SB), NOSPLIT, $0-40\n")
	p("MOVQ kc+0(FP), CX")
	p("MOVQ src+8(FP), SI")
	p("MOVQ ldb+16(FP), BX")
	p("MOVQ dst+24(FP), DI")
	p("MOVQ pf+32(FP), R8")
	p("TESTQ CX, CX")
	p("JZ pbndone")
	label("pbnloop")
	p("VMOVUPS (SI), Y0")
	p("VMOVUPS 32(SI), Y1")
	p("PREFETCHT0 (SI)(R8*1)")
	p("VMOVUPS Y0, (DI)")
	p("VMOVUPS Y1, 32(DI)")
	p("ADDQ BX, SI")
	p("ADDQ $64, DI")
	p("DECQ CX")
	p("JNZ pbnloop")
	label("pbndone")
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

// packBT packs 16 rows of a row-major Bᵀ (rows ldb bytes apart, each
// contiguous in p) as a kc×16 panel: dst[p][j] = src[j][p], for kc a
// multiple of 8, transposing 8×8 blocks in registers.
func packBT() {
	w.WriteString("// func sgemmPackBT(kc int, src *float32, ldb uintptr, dst *float32)\n")
	w.WriteString("TEXT ·sgemmPackBT(SB), NOSPLIT, $0-32\n")
	p("MOVQ kc+0(FP), CX")
	p("MOVQ src+8(FP), SI")
	p("MOVQ ldb+16(FP), BX")
	p("MOVQ dst+24(FP), DI")
	p("SHRQ $3, CX")
	p("JZ pbtdone")
	// Row bases: rows 0-7 from SI, R8 = SI+3ldb, R10 = SI+6ldb;
	// rows 8-15 from R11 = SI+8ldb, R12 = R11+3ldb, R13 = R11+6ldb.
	p("LEAQ (SI)(BX*2), R8")
	p("ADDQ BX, R8")
	p("LEAQ (R8)(BX*2), R10")
	p("ADDQ BX, R10")
	p("LEAQ (SI)(BX*8), R11")
	p("LEAQ (R11)(BX*2), R12")
	p("ADDQ BX, R12")
	p("LEAQ (R12)(BX*2), R13")
	p("ADDQ BX, R13")
	rows := [2][8]string{
		{"(SI)", "(SI)(BX*1)", "(SI)(BX*2)", "(R8)", "(SI)(BX*4)", "(R8)(BX*2)", "(R10)", "(R10)(BX*1)"},
		{"(R11)", "(R11)(BX*1)", "(R11)(BX*2)", "(R12)", "(R11)(BX*4)", "(R12)(BX*2)", "(R13)", "(R13)(BX*1)"},
	}
	label("pbtloop")
	for h := 0; h < 2; h++ {
		for i := 0; i < 8; i++ {
			p("VMOVUPS %s, Y%d", rows[h][i], i)
		}
		transpose8x8()
		for q := 0; q < 8; q++ {
			p("VMOVUPS Y%d, %d(DI)", 8+q, 64*q+32*h)
		}
	}
	for _, r := range []string{"SI", "R8", "R10", "R11", "R12", "R13"} {
		p("ADDQ $32, %s", r)
	}
	p("ADDQ $512, DI")
	p("DECQ CX")
	p("JNZ pbtloop")
	label("pbtdone")
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

// packBRow scatters one row of B, np·16 values from src, into np packed
// panels: 16 values to dst, the next 16 to dst + stride, and so on. Packing
// a block row by row reads B sequentially, which the hardware prefetchers
// follow far better than 64-byte strips down many rows.
func packBRow() {
	w.WriteString("// func sgemmPackBRow(np int, src *float32, dst *float32, stride uintptr)\n")
	w.WriteString("TEXT ·sgemmPackBRow(SB), NOSPLIT, $0-32\n")
	p("MOVQ np+0(FP), CX")
	p("MOVQ src+8(FP), SI")
	p("MOVQ dst+16(FP), DI")
	p("MOVQ stride+24(FP), BX")
	p("TESTQ CX, CX")
	p("JZ pbrdone")
	label("pbrloop")
	p("VMOVUPS (SI), Y0")
	p("VMOVUPS 32(SI), Y1")
	p("VMOVUPS Y0, (DI)")
	p("VMOVUPS Y1, 32(DI)")
	p("ADDQ $64, SI")
	p("ADDQ BX, DI")
	p("DECQ CX")
	p("JNZ pbrloop")
	label("pbrdone")
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

// transpose8x8 emits an 8×8 register transpose: rows in Y0..Y7, columns
// out in Y8..Y15 (Y0..Y7 are clobbered).
func transpose8x8() {
	for i := 0; i < 8; i += 2 {
		p("VUNPCKLPS Y%d, Y%d, Y%d", i+1, i, 8+i)
		p("VUNPCKHPS Y%d, Y%d, Y%d", i+1, i, 9+i)
	}
	for g := 0; g < 2; g++ {
		b := 8 + 4*g
		p("VSHUFPS $0x44, Y%d, Y%d, Y%d", b+2, b, 4*g)
		p("VSHUFPS $0xEE, Y%d, Y%d, Y%d", b+2, b, 4*g+1)
		p("VSHUFPS $0x44, Y%d, Y%d, Y%d", b+3, b+1, 4*g+2)
		p("VSHUFPS $0xEE, Y%d, Y%d, Y%d", b+3, b+1, 4*g+3)
	}
	for q := 0; q < 4; q++ {
		p("VPERM2F128 $0x20, Y%d, Y%d, Y%d", q+4, q, 8+q)
		p("VPERM2F128 $0x31, Y%d, Y%d, Y%d", q+4, q, 12+q)
	}
}

// packA6 packs 6 rows of a row-major A (rows lda bytes apart) as a
// p-major panel, dst[6p+i] = src[i][p], for kc a multiple of 8. Each group
// of 8 p goes through an 8×8 register transpose (two rows unused) and is
// stored as 8 overlapping 8-value writes 6 values apart, so every store
// leaves 2 stray values after its 6 that the next store (or, after the
// last, later packing) overwrites: dst must have 2 values of slack.
func packA6() {
	w.WriteString("// func sgemmPackA6(kc int, src *float32, lda uintptr, dst *float32)\n")
	w.WriteString("TEXT ·sgemmPackA6(SB), NOSPLIT, $0-32\n")
	p("MOVQ kc+0(FP), CX")
	p("MOVQ src+8(FP), SI")
	p("MOVQ lda+16(FP), BX")
	p("MOVQ dst+24(FP), DI")
	p("SHRQ $3, CX")
	p("JZ pa6done")
	p("LEAQ (SI)(BX*2), R8")
	p("ADDQ BX, R8")
	rows := []string{"(SI)", "(SI)(BX*1)", "(SI)(BX*2)", "(R8)", "(SI)(BX*4)", "(R8)(BX*2)"}
	label("pa6loop")
	for i, r := range rows {
		p("VMOVUPS %s, Y%d", r, i)
	}
	transpose8x8()
	for q := 0; q < 8; q++ {
		p("VMOVUPS Y%d, %d(DI)", 8+q, 24*q)
	}
	p("ADDQ $32, SI")
	p("ADDQ $32, R8")
	p("ADDQ $192, DI")
	p("DECQ CX")
	p("JNZ pa6loop")
	label("pa6done")
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

// packAT packs 6 columns of a row-major Aᵀ (rows lda bytes apart) as a
// p-major panel: dst[6p+i] = src[p][i], exactly 6 values per p.
func packAT() {
	w.WriteString("// func sgemmPackAT(kc int, src *float32, lda uintptr, dst *float32)\n")
	w.WriteString("TEXT ·sgemmPackAT(SB), NOSPLIT, $0-32\n")
	p("MOVQ kc+0(FP), CX")
	p("MOVQ src+8(FP), SI")
	p("MOVQ lda+16(FP), BX")
	p("MOVQ dst+24(FP), DI")
	p("TESTQ CX, CX")
	p("JZ patdone")
	label("patloop")
	p("MOVUPS (SI), X0")
	p("MOVQ 16(SI), X1")
	p("MOVUPS X0, (DI)")
	p("MOVQ X1, 16(DI)")
	p("ADDQ BX, SI")
	p("ADDQ $24, DI")
	p("DECQ CX")
	p("JNZ patloop")
	label("patdone")
	p("RET")
	w.WriteString("\n")
}

func main() {
	w.WriteString("// Code generated by gemm_asmgen.go; DO NOT EDIT.\n\n")
	w.WriteString("//go:build amd64 && !purego\n\n")
	w.WriteString("#include \"textflag.h\"\n\n")
	for r := 1; r <= 6; r++ {
		kernel(r, false)
	}
	for r := 1; r <= 6; r++ {
		kernel(r, true)
	}
	packBN()
	packBT()
	packBRow()
	packA6()
	packAT()
	if err := os.WriteFile("gemm_amd64.s", w.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
