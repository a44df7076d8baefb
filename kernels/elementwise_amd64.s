//go:build amd64 && !purego

#include "textflag.h"

// Horizontal sum of the four doubles of Y4 into X4 (low lane).
#define HSUM4(Y, X, T) \
	VEXTRACTF128 $1, Y, T \
	VADDPD       T, X, X  \
	VHADDPD      X, X, X

// func sumAsm(x []float32) float64
TEXT ·sumAsm(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5

sum_loop:
	CMPQ      CX, $8
	JL        sum_done
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD    Y0, Y4, Y4
	VADDPD    Y1, Y5, Y5
	ADDQ      $32, SI
	SUBQ      $8, CX
	JMP       sum_loop

sum_done:
	VADDPD Y5, Y4, Y4
	HSUM4(Y4, X4, X6)
	VMOVSD X4, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAsm(x []float32, m float32) float64
TEXT ·sumSqDevAsm(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5

ssd_loop:
	CMPQ         CX, $8
	JL           ssd_done
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VMULPS       Y0, Y0, Y0
	VCVTPS2PD    X0, Y1
	VEXTRACTF128 $1, Y0, X2
	VCVTPS2PD    X2, Y2
	VADDPD       Y1, Y4, Y4
	VADDPD       Y2, Y5, Y5
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          ssd_loop

ssd_done:
	VADDPD Y5, Y4, Y4
	HSUM4(Y4, X4, X6)
	VMOVSD X4, ret+32(FP)
	VZEROUPPER
	RET

// func affineLeakyAsm(o, x []float32, a, b, slope float32)
TEXT ·affineLeakyAsm(SB), NOSPLIT, $0-60
	MOVQ         o_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS a+48(FP), Y13
	VBROADCASTSS b+52(FP), Y14
	VBROADCASTSS slope+56(FP), Y15

al_loop:
	CMPQ        CX, $8
	JL          al_done
	VMOVUPS     (SI), Y0
	VMOVAPS     Y14, Y1
	VFMADD231PS Y0, Y13, Y1 // y = x·a + b
	VMULPS      Y1, Y15, Y2 // slope·y
	VMAXPS      Y2, Y1, Y1  // max(y, slope·y)
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         al_loop

al_done:
	VZEROUPPER
	RET

// func leakyGradSumsAsm(o, g, x []float32, a, b, slope float32) (s, sy float64)
TEXT ·leakyGradSumsAsm(SB), NOSPLIT, $0-104
	MOVQ         o_base+0(FP), DI
	MOVQ         g_base+24(FP), DX
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	VBROADCASTSS a+72(FP), Y13
	VBROADCASTSS b+76(FP), Y14
	VBROADCASTSS slope+80(FP), Y15
	MOVL         $0x3f800000, AX // 1.0
	MOVL         AX, X12
	VBROADCASTSS X12, Y12
	VXORPS       Y11, Y11, Y11 // 0
	VXORPD       Y4, Y4, Y4    // Σo
	VXORPD       Y5, Y5, Y5
	VXORPD       Y6, Y6, Y6    // Σo·y
	VXORPD       Y7, Y7, Y7

lg_loop:
	CMPQ         CX, $8
	JL           lg_done
	VMOVUPS      (SI), Y0
	VMOVAPS      Y14, Y1
	VFMADD231PS  Y0, Y13, Y1      // y
	VCMPPS       $0x0e, Y11, Y1, Y2 // y > 0
	VBLENDVPS    Y2, Y12, Y15, Y3 // y > 0 ? 1 : slope
	VMULPS       (DX), Y3, Y3     // o = g·f′(y)
	VMOVUPS      Y3, (DI)
	VMULPS       Y3, Y1, Y1       // o·y
	VCVTPS2PD    X3, Y8
	VEXTRACTF128 $1, Y3, X9
	VCVTPS2PD    X9, Y9
	VADDPD       Y8, Y4, Y4
	VADDPD       Y9, Y5, Y5
	VCVTPS2PD    X1, Y8
	VEXTRACTF128 $1, Y1, X9
	VCVTPS2PD    X9, Y9
	VADDPD       Y8, Y6, Y6
	VADDPD       Y9, Y7, Y7
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          lg_loop

lg_done:
	VADDPD Y5, Y4, Y4
	HSUM4(Y4, X4, X8)
	VMOVSD X4, s+88(FP)
	VADDPD Y7, Y6, Y6
	HSUM4(Y6, X6, X8)
	VMOVSD X6, sy+96(FP)
	VZEROUPPER
	RET

// func axpbycAsm(o, x []float32, p, q, r float32)
TEXT ·axpbycAsm(SB), NOSPLIT, $0-60
	MOVQ         o_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	VBROADCASTSS p+48(FP), Y13
	VBROADCASTSS q+52(FP), Y14
	VBROADCASTSS r+56(FP), Y15

ax_loop:
	CMPQ        CX, $8
	JL          ax_done
	VMOVAPS     Y15, Y1
	VFMADD231PS (DI), Y13, Y1 // r + p·o
	VFMADD231PS (SI), Y14, Y1 // + q·x
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         ax_loop

ax_done:
	VZEROUPPER
	RET

// func binaryAsm(op int, o, a, b []float32)
TEXT ·binaryAsm(SB), NOSPLIT, $0-80
	MOVQ op+0(FP), AX
	MOVQ o_base+8(FP), DI
	MOVQ a_base+32(FP), SI
	MOVQ a_len+40(FP), CX
	MOVQ b_base+56(FP), DX
	CMPQ AX, $1
	JEQ  bin_sub
	CMPQ AX, $2
	JEQ  bin_mul

bin_add:
	CMPQ    CX, $8
	JL      bin_done
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bin_add

bin_sub:
	CMPQ    CX, $8
	JL      bin_done
	VMOVUPS (SI), Y0
	VSUBPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bin_sub

bin_mul:
	CMPQ    CX, $8
	JL      bin_done
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bin_mul

bin_done:
	VZEROUPPER
	RET

// func scalarAsm(o, a []float32, p, q float32)
TEXT ·scalarAsm(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         a_base+24(FP), SI
	MOVQ         a_len+32(FP), CX
	VBROADCASTSS p+48(FP), Y14
	VBROADCASTSS q+52(FP), Y15

sc_loop:
	CMPQ        CX, $8
	JL          sc_done
	VMOVAPS     Y15, Y1
	VFMADD231PS (SI), Y14, Y1 // a·p + q
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         sc_loop

sc_done:
	VZEROUPPER
	RET

// func adamAsm(p, g, m, v []float32, b1, c1, b2, c2, eps, step, s float32)
TEXT ·adamAsm(SB), NOSPLIT, $0-124
	MOVQ         p_base+0(FP), DI
	MOVQ         p_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), R8
	MOVQ         v_base+72(FP), R9
	VBROADCASTSS b1+96(FP), Y8
	VBROADCASTSS c1+100(FP), Y9
	VBROADCASTSS b2+104(FP), Y10
	VBROADCASTSS c2+108(FP), Y11
	VBROADCASTSS eps+112(FP), Y12
	VBROADCASTSS step+116(FP), Y13
	VBROADCASTSS s+120(FP), Y14

adam_loop:
	CMPQ        CX, $8
	JL          adam_done
	VMOVUPS     (SI), Y0       // g
	VMULPS      (R8), Y8, Y1   // β1·m
	VFMADD231PS Y0, Y9, Y1     // + (1−β1)·g
	VMOVUPS     Y1, (R8)
	VMULPS      Y0, Y0, Y0     // g²
	VMULPS      (R9), Y10, Y2  // β2·v
	VFMADD231PS Y0, Y11, Y2    // + (1−β2)·g²
	VMOVUPS     Y2, (R9)
	VSQRTPS     Y2, Y3
	VFMADD213PS Y12, Y14, Y3   // √v·s + ε
	VDIVPS      Y3, Y1, Y1     // m / (√v·s + ε)
	VMOVUPS     (DI), Y4
	VFNMADD231PS Y1, Y13, Y4   // p − step·m/(…)
	VMOVUPS     Y4, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, R9
	SUBQ        $8, CX
	JMP         adam_loop

adam_done:
	VZEROUPPER
	RET
