//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels for the float32 Winograd F(2×2, 3×3) transforms, eight
// tiles (or eight 3×3 kernels) per step. Each performs exactly the
// operations of its Go twin in winograd.go, in the same order, so both
// give bit-identical results. Operand order is Go's: VSUBPS b, a, d
// sets d = a − b.

DATA wino_half<>+0(SB)/4, $0x3f000000
DATA wino_half<>+4(SB)/4, $0x3f000000
DATA wino_half<>+8(SB)/4, $0x3f000000
DATA wino_half<>+12(SB)/4, $0x3f000000
DATA wino_half<>+16(SB)/4, $0x3f000000
DATA wino_half<>+20(SB)/4, $0x3f000000
DATA wino_half<>+24(SB)/4, $0x3f000000
DATA wino_half<>+28(SB)/4, $0x3f000000
GLOBL wino_half<>(SB), RODATA|NOPTR, $32

// EVENODD sets e and o to the even and odd elements of the 16 values in
// lo, hi (in order).
#define EVENODD(lo, hi, e, o) \
	VSHUFPS $0x88, hi, lo, e \
	VSHUFPS $0xDD, hi, lo, o \
	VPERMPD $0xD8, e, e \
	VPERMPD $0xD8, o, o

// INTERLEAVE sets lo, hi to e0 o0 e1 o1 … e7 o7 (t0, t1 scratch).
#define INTERLEAVE(e, o, t0, t1, lo, hi) \
	VUNPCKLPS o, e, t0 \
	VUNPCKHPS o, e, t1 \
	VPERM2F128 $0x20, t1, t0, lo \
	VPERM2F128 $0x31, t1, t0, hi

// TRANSPOSE8 transposes the 8×8 matrix whose rows are Y0…Y7 into
// Y8…Y15 (row i of the result in Y8+i); Y0…Y7 are clobbered.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15

// SIGNMASK sets r to 0x80000000 in every lane.
#define SIGNMASK(r) \
	VPCMPEQD r, r, r \
	VPSLLD $31, r, r

// INPAIR computes the four V matrices of one row of Bᵀ d: s = a OP b on
// columns 2j…2j+17, then s B per tile, stored at base + {0,1,2,3}·vs.
#define INPAIR(ra, rb, OP, base) \
	VMOVUPS (ra), Y0 \
	VMOVUPS 32(ra), Y1 \
	VMOVUPS 8(ra), Y2 \
	VMOVUPS 40(ra), Y3 \
	OP (rb), Y0, Y0 \
	OP 32(rb), Y1, Y1 \
	OP 8(rb), Y2, Y2 \
	OP 40(rb), Y3, Y3 \
	EVENODD(Y0, Y1, Y4, Y5) \
	EVENODD(Y2, Y3, Y6, Y7) \
	VSUBPS Y6, Y4, Y0 \
	VADDPS Y6, Y5, Y1 \
	VSUBPS Y5, Y6, Y2 \
	VSUBPS Y7, Y5, Y3 \
	VMOVUPS Y0, (base) \
	VMOVUPS Y1, (base)(DI*1) \
	VMOVUPS Y2, (base)(DI*2) \
	VMOVUPS Y3, (base)(R12*1)

// func winoInput8(n8 int, d0, d1, d2, d3 *float32, v *float32, vs uintptr)
TEXT ·winoInput8(SB), NOSPLIT, $0-56
	MOVQ n8+0(FP), CX
	MOVQ d0+8(FP), R8
	MOVQ d1+16(FP), R9
	MOVQ d2+24(FP), R10
	MOVQ d3+32(FP), R11
	MOVQ v+40(FP), AX
	MOVQ vs+48(FP), DI
	LEAQ (DI)(DI*2), R12
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	TESTQ CX, CX
	JZ indone
inloop:
	// Rows of Bᵀ d: d0−d2, d1+d2, d2−d1, d1−d3.
	INPAIR(R8, R10, VSUBPS, AX)
	INPAIR(R9, R10, VADDPS, BX)
	INPAIR(R10, R9, VSUBPS, DX)
	INPAIR(R9, R11, VSUBPS, SI)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ CX
	JNZ inloop
indone:
	VZEROUPPER
	RET

// OUTCOL computes column b of Z = Aᵀ M: zt = m_b + m_{4+b} + m_{8+b},
// zb = m_{4+b} − m_{8+b} − m_{12+b}; off is b's offset from each base.
#define OUTCOL(off, zt, zb) \
	VMOVUPS off(AX), Y0 \
	VMOVUPS off(BX), Y1 \
	VMOVUPS off(DX), Y2 \
	VADDPS Y1, Y0, zt \
	VADDPS Y2, zt, zt \
	VSUBPS Y2, Y1, zb \
	VSUBPS off(SI), zb, zb

// OUTROW writes one output row, Y = Z A from z0…z3, at dst.
#define OUTROW(z0, z1, z2, z3, dst) \
	VADDPS z1, z0, Y12 \
	VADDPS z2, Y12, Y12 \
	VSUBPS z2, z1, Y13 \
	VSUBPS z3, Y13, Y13 \
	INTERLEAVE(Y12, Y13, Y14, Y15, Y0, Y1) \
	VMOVUPS Y0, (dst) \
	VMOVUPS Y1, 32(dst)

// func winoOutput8(n8 int, m *float32, ms uintptr, y0, y1 *float32, two int)
TEXT ·winoOutput8(SB), NOSPLIT, $0-48
	MOVQ n8+0(FP), CX
	MOVQ m+8(FP), AX
	MOVQ ms+16(FP), DI
	MOVQ y0+24(FP), R8
	MOVQ y1+32(FP), R9
	MOVQ two+40(FP), R10
	LEAQ (DI)(DI*2), R12
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	TESTQ CX, CX
	JZ outdone
outloop:
	// Columns b = 0…3 at base + b·ms: the bases move by ms.
	OUTCOL(0, Y4, Y8)
	ADDQ DI, AX
	ADDQ DI, BX
	ADDQ DI, DX
	ADDQ DI, SI
	OUTCOL(0, Y5, Y9)
	ADDQ DI, AX
	ADDQ DI, BX
	ADDQ DI, DX
	ADDQ DI, SI
	OUTCOL(0, Y6, Y10)
	ADDQ DI, AX
	ADDQ DI, BX
	ADDQ DI, DX
	ADDQ DI, SI
	OUTCOL(0, Y7, Y11)
	SUBQ R12, AX
	SUBQ R12, BX
	SUBQ R12, DX
	SUBQ R12, SI
	OUTROW(Y4, Y5, Y6, Y7, R8)
	TESTQ R10, R10
	JZ outnext
	OUTROW(Y8, Y9, Y10, Y11, R9)
outnext:
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ outloop
outdone:
	VZEROUPPER
	RET

// func winoGradOut8(n8 int, g0, g1 *float32, m *float32, ms uintptr)
TEXT ·winoGradOut8(SB), NOSPLIT, $0-40
	MOVQ n8+0(FP), CX
	MOVQ g0+8(FP), R8
	MOVQ g1+16(FP), R9
	MOVQ m+24(FP), AX
	MOVQ ms+32(FP), DI
	LEAQ (DI)(DI*2), R12
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	SIGNMASK(Y15)
	TESTQ CX, CX
	JZ godone
goloop:
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	EVENODD(Y0, Y1, Y2, Y3) // a0, a1
	VMOVUPS (R9), Y0
	VMOVUPS 32(R9), Y1
	EVENODD(Y0, Y1, Y4, Y5) // b0, b1
	// Row 0: a0, a0+a1, a0−a1, −a1.
	VMOVUPS Y2, (AX)
	VADDPS Y3, Y2, Y6
	VMOVUPS Y6, (AX)(DI*1)
	VSUBPS Y3, Y2, Y6
	VMOVUPS Y6, (AX)(DI*2)
	VXORPS Y15, Y3, Y6
	VMOVUPS Y6, (AX)(R12*1)
	// Row 1 from w1 = a+b.
	VADDPS Y4, Y2, Y6
	VADDPS Y5, Y3, Y7
	VMOVUPS Y6, (BX)
	VADDPS Y7, Y6, Y8
	VMOVUPS Y8, (BX)(DI*1)
	VSUBPS Y7, Y6, Y8
	VMOVUPS Y8, (BX)(DI*2)
	VXORPS Y15, Y7, Y8
	VMOVUPS Y8, (BX)(R12*1)
	// Row 2 from w2 = a−b.
	VSUBPS Y4, Y2, Y6
	VSUBPS Y5, Y3, Y7
	VMOVUPS Y6, (DX)
	VADDPS Y7, Y6, Y8
	VMOVUPS Y8, (DX)(DI*1)
	VSUBPS Y7, Y6, Y8
	VMOVUPS Y8, (DX)(DI*2)
	VXORPS Y15, Y7, Y8
	VMOVUPS Y8, (DX)(R12*1)
	// Row 3: −b0, −b0−b1, b1−b0, b1.
	VXORPS Y15, Y4, Y6
	VMOVUPS Y6, (SI)
	VSUBPS Y5, Y6, Y8
	VMOVUPS Y8, (SI)(DI*1)
	VSUBPS Y4, Y5, Y8
	VMOVUPS Y8, (SI)(DI*2)
	VMOVUPS Y5, (SI)(R12*1)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ CX
	JNZ goloop
godone:
	VZEROUPPER
	RET

// SCROW adds row p of dd = R Bᵀ for eight tiles into the padded row at
// dst, from R_p0…R_p3 in Y0…Y3: d0 = R0, d1 = R1−R2+R3, d2 = R1+R2−R0,
// d3 = −R3; columns 2j, 2j+1 get d0, d1 of tile j plus d2, d3 of tile
// j−1 (the first from the carry, whose low pair is replaced by this
// block's last); OP adds or subtracts the sum into the row.
#define SCROW(carry, OP, dst) \
	VSUBPS Y2, Y1, Y4 \
	VADDPS Y3, Y4, Y4 \
	VADDPS Y2, Y1, Y5 \
	VSUBPS Y0, Y5, Y5 \
	VXORPS Y15, Y3, Y3 \
	INTERLEAVE(Y0, Y4, Y6, Y7, Y1, Y2) \
	INTERLEAVE(Y5, Y3, Y6, Y7, Y8, Y9) \
	VPERMPD $0x93, Y8, Y8 \
	VPERMPD $0x93, Y9, Y9 \
	VBLENDPD $1, carry, Y8, Y10 \
	VBLENDPD $1, Y8, Y9, Y0 \
	VMOVUPS Y9, carry \
	VADDPS Y1, Y10, Y10 \
	VADDPS Y2, Y0, Y0 \
	VMOVUPS (dst), Y1 \
	OP Y10, Y1, Y1 \
	VMOVUPS Y1, (dst) \
	VMOVUPS 32(dst), Y2 \
	OP Y0, Y2, Y2 \
	VMOVUPS Y2, 32(dst)

// func winoScatter8(n8 int, v *float32, vs uintptr, p0, p1, p2, p3 *float32, carry *[8]float32)
TEXT ·winoScatter8(SB), NOSPLIT, $0-64
	MOVQ n8+0(FP), CX
	MOVQ v+8(FP), AX
	MOVQ vs+16(FP), DI
	MOVQ p0+24(FP), R8
	MOVQ p1+32(FP), R9
	MOVQ p2+40(FP), R10
	MOVQ p3+48(FP), R11
	MOVQ carry+56(FP), R13
	LEAQ (DI)(DI*2), R12
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	SIGNMASK(Y15)
	VMOVSD (R13), X11
	VMOVSD 8(R13), X12
	VMOVSD 16(R13), X13
	VMOVSD 24(R13), X14
	TESTQ CX, CX
	JZ scdone
scloop:
	// R0 = dV row 0.
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(DI*1), Y1
	VMOVUPS (AX)(DI*2), Y2
	VMOVUPS (AX)(R12*1), Y3
	SCROW(Y11, VADDPS, R8)
	// R1 = dV1 − dV2 + dV3.
	VMOVUPS (BX), Y0
	VSUBPS (DX), Y0, Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS (BX)(DI*1), Y1
	VSUBPS (DX)(DI*1), Y1, Y1
	VADDPS (SI)(DI*1), Y1, Y1
	VMOVUPS (BX)(DI*2), Y2
	VSUBPS (DX)(DI*2), Y2, Y2
	VADDPS (SI)(DI*2), Y2, Y2
	VMOVUPS (BX)(R12*1), Y3
	VSUBPS (DX)(R12*1), Y3, Y3
	VADDPS (SI)(R12*1), Y3, Y3
	SCROW(Y12, VADDPS, R9)
	// R2 = dV1 + dV2 − dV0.
	VMOVUPS (BX), Y0
	VADDPS (DX), Y0, Y0
	VSUBPS (AX), Y0, Y0
	VMOVUPS (BX)(DI*1), Y1
	VADDPS (DX)(DI*1), Y1, Y1
	VSUBPS (AX)(DI*1), Y1, Y1
	VMOVUPS (BX)(DI*2), Y2
	VADDPS (DX)(DI*2), Y2, Y2
	VSUBPS (AX)(DI*2), Y2, Y2
	VMOVUPS (BX)(R12*1), Y3
	VADDPS (DX)(R12*1), Y3, Y3
	VSUBPS (AX)(R12*1), Y3, Y3
	SCROW(Y13, VADDPS, R10)
	// R3 = −dV3: subtract row 3 of dV Bᵀ.
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DI*1), Y1
	VMOVUPS (SI)(DI*2), Y2
	VMOVUPS (SI)(R12*1), Y3
	SCROW(Y14, VSUBPS, R11)
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ scloop
scdone:
	VMOVSD X11, (R13)
	VMOVSD X12, 8(R13)
	VMOVSD X13, 16(R13)
	VMOVSD X14, 24(R13)
	VZEROUPPER
	RET

// WROW stores row a of U = H Gᵀ from h0, h1, h2 at base:
// h0, (h0+h2+h1)/2, (h0+h2−h1)/2, h2 (t0, t1 scratch).
#define WROW(h0, h1, h2, base, t0, t1) \
	VMOVUPS h0, (base) \
	VMOVUPS h2, (base)(R13*1) \
	VADDPS h2, h0, t0 \
	VADDPS h1, t0, t1 \
	VMULPS wino_half<>(SB), t1, t1 \
	VMOVUPS t1, (base)(DI*1) \
	VSUBPS h1, t0, t1 \
	VMULPS wino_half<>(SB), t1, t1 \
	VMOVUPS t1, (base)(DI*2)

// func winoWeight8(n8 int, wt *float32, ws uintptr, u *float32, us uintptr)
TEXT ·winoWeight8(SB), NOSPLIT, $0-40
	MOVQ n8+0(FP), CX
	MOVQ wt+8(FP), R8
	MOVQ ws+16(FP), R9
	MOVQ u+24(FP), AX
	MOVQ us+32(FP), DI
	LEAQ (R9)(R9*2), R10
	LEAQ (R9)(R9*4), R11
	LEAQ (R10)(R9*4), R12
	LEAQ (DI)(DI*2), R13
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	TESTQ CX, CX
	JZ wdone
wloop:
	// Elements 0…7 of eight kernels, transposed: t_r in Y8+r.
	VMOVUPS (R8), Y0
	VMOVUPS (R8)(R9*1), Y1
	VMOVUPS (R8)(R9*2), Y2
	VMOVUPS (R8)(R10*1), Y3
	VMOVUPS (R8)(R9*4), Y4
	VMOVUPS (R8)(R11*1), Y5
	VMOVUPS (R8)(R10*2), Y6
	VMOVUPS (R8)(R12*1), Y7
	TRANSPOSE8
	// Element 8 in Y0.
	VMOVSS 32(R8), X0
	VINSERTPS $0x10, 32(R8)(R9*1), X0, X0
	VINSERTPS $0x20, 32(R8)(R9*2), X0, X0
	VINSERTPS $0x30, 32(R8)(R10*1), X0, X0
	VMOVSS 32(R8)(R9*4), X1
	VINSERTPS $0x10, 32(R8)(R11*1), X1, X1
	VINSERTPS $0x20, 32(R8)(R10*2), X1, X1
	VINSERTPS $0x30, 32(R8)(R12*1), X1, X1
	VINSERTF128 $1, X1, Y0, Y0
	// Rows 0 and 3 of H = G g are g's rows 0 and 2.
	WROW(Y8, Y9, Y10, AX, Y1, Y2)
	WROW(Y14, Y15, Y0, SI, Y1, Y2)
	// e_s = t_s + t_{6+s}.
	VADDPS Y14, Y8, Y1
	VADDPS Y15, Y9, Y2
	VADDPS Y0, Y10, Y3
	// Row 1: (e + t_{3+s})/2.
	VADDPS Y11, Y1, Y4
	VMULPS wino_half<>(SB), Y4, Y4
	VADDPS Y12, Y2, Y5
	VMULPS wino_half<>(SB), Y5, Y5
	VADDPS Y13, Y3, Y6
	VMULPS wino_half<>(SB), Y6, Y6
	WROW(Y4, Y5, Y6, BX, Y7, Y8)
	// Row 2: (e − t_{3+s})/2.
	VSUBPS Y11, Y1, Y4
	VMULPS wino_half<>(SB), Y4, Y4
	VSUBPS Y12, Y2, Y5
	VMULPS wino_half<>(SB), Y5, Y5
	VSUBPS Y13, Y3, Y6
	VMULPS wino_half<>(SB), Y6, Y6
	WROW(Y4, Y5, Y6, DX, Y7, Y8)
	LEAQ (R8)(R9*8), R8
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ CX
	JNZ wloop
wdone:
	VZEROUPPER
	RET

// GROW computes row a of X = dU G from dU_{4a…4a+3} at base:
// x0 = d0 + e, x1 = (d1 − d2)/2, x2 = e + d3 with e = (d1 + d2)/2.
#define GROW(base, x0, x1, x2) \
	VMOVUPS (base)(DI*1), Y0 \
	VMOVUPS (base)(DI*2), Y1 \
	VADDPS Y1, Y0, Y2 \
	VMULPS wino_half<>(SB), Y2, Y2 \
	VSUBPS Y1, Y0, x1 \
	VMULPS wino_half<>(SB), x1, x1 \
	VADDPS (base), Y2, x0 \
	VADDPS (base)(R13*1), Y2, x2

// func winoWeightGrad8(n8 int, u *float32, us uintptr, wt *float32, ws uintptr)
TEXT ·winoWeightGrad8(SB), NOSPLIT, $0-40
	MOVQ n8+0(FP), CX
	MOVQ u+8(FP), AX
	MOVQ us+16(FP), DI
	MOVQ wt+24(FP), R8
	MOVQ ws+32(FP), R9
	LEAQ (R9)(R9*2), R10
	LEAQ (R9)(R9*4), R11
	LEAQ (R10)(R9*4), R12
	LEAQ (DI)(DI*2), R13
	LEAQ (AX)(DI*4), BX
	LEAQ (BX)(DI*4), DX
	LEAQ (DX)(DI*4), SI
	TESTQ CX, CX
	JZ gdone
gloop:
	GROW(BX, Y4, Y3, Y5) // x10, x11, x12
	GROW(DX, Y7, Y6, Y8) // x20, x21, x22
	// e_s = (x1s + x2s)/2 in Y9…Y11; dg row 1 = (x1s − x2s)/2 in Y12…Y14.
	VADDPS Y7, Y4, Y9
	VMULPS wino_half<>(SB), Y9, Y9
	VADDPS Y6, Y3, Y10
	VMULPS wino_half<>(SB), Y10, Y10
	VADDPS Y8, Y5, Y11
	VMULPS wino_half<>(SB), Y11, Y11
	VSUBPS Y7, Y4, Y12
	VMULPS wino_half<>(SB), Y12, Y12
	VSUBPS Y6, Y3, Y13
	VMULPS wino_half<>(SB), Y13, Y13
	VSUBPS Y8, Y5, Y14
	VMULPS wino_half<>(SB), Y14, Y14
	// dg row 0 = x0s + e_s in Y6…Y8.
	GROW(AX, Y4, Y3, Y5)
	VADDPS Y9, Y4, Y6
	VADDPS Y10, Y3, Y7
	VADDPS Y11, Y5, Y8
	// dg row 2 = e_s + x3s in Y9…Y11.
	GROW(SI, Y4, Y3, Y5)
	VADDPS Y4, Y9, Y9
	VADDPS Y3, Y10, Y10
	VADDPS Y5, Y11, Y11
	// Element 8 of the eight kernels.
	VMOVSS X11, 32(R8)
	VEXTRACTPS $1, X11, 32(R8)(R9*1)
	VEXTRACTPS $2, X11, 32(R8)(R9*2)
	VEXTRACTPS $3, X11, 32(R8)(R10*1)
	VEXTRACTF128 $1, Y11, X11
	VMOVSS X11, 32(R8)(R9*4)
	VEXTRACTPS $1, X11, 32(R8)(R11*1)
	VEXTRACTPS $2, X11, 32(R8)(R10*2)
	VEXTRACTPS $3, X11, 32(R8)(R12*1)
	// Elements 0…7: transpose t0…t7 into the kernels.
	VMOVUPS Y6, Y0
	VMOVUPS Y7, Y1
	VMOVUPS Y8, Y2
	VMOVUPS Y12, Y3
	VMOVUPS Y13, Y4
	VMOVUPS Y14, Y5
	VMOVUPS Y9, Y6
	VMOVUPS Y10, Y7
	TRANSPOSE8
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, (R8)(R9*1)
	VMOVUPS Y10, (R8)(R9*2)
	VMOVUPS Y11, (R8)(R10*1)
	VMOVUPS Y12, (R8)(R9*4)
	VMOVUPS Y13, (R8)(R11*1)
	VMOVUPS Y14, (R8)(R10*2)
	VMOVUPS Y15, (R8)(R12*1)
	LEAQ (R8)(R9*8), R8
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ CX
	JNZ gloop
gdone:
	VZEROUPPER
	RET
