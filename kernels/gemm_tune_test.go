//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkGemmTune explores the blocking parameters of the assembly path
// on other machines. It runs only when SHAPES is set, e.g.
//
//	SHAPES='1024,1024,1024;128,1152,256,0,1' PARAM=mc VALS=96,144,192 \
//	  go test -run X -bench GemmTune -count 5 ./kernels/
//
// SHAPES lists m,n,k[,transA,transB] separated by ';'; each of VALS is
// given to PARAM (mc, kcfew, pf, directA, rowpack, minfma, moretasks,
// threads);
// FIX='name=v,...' sets other parameters first. Compare with benchstat.
func BenchmarkGemmTune(b *testing.B) {
	if os.Getenv("SHAPES") == "" {
		b.Skip("set SHAPES (see the comment) to explore parameters")
	}
	defer func(mc, kcf, da, mf, mt int, pf uintptr, rp bool) {
		asmMC, kcFewRows, directAMaxPanels, minTaskFMA, moreTasksFMA, pfB, rowPackB = mc, kcf, da, mf, mt, pf, rp
		SetThreads(0)
	}(asmMC, kcFewRows, directAMaxPanels, minTaskFMA, moreTasksFMA, pfB, rowPackB)
	for _, f := range strings.Split(os.Getenv("FIX"), ",") {
		if kv := strings.SplitN(f, "=", 2); len(kv) == 2 {
			v, _ := strconv.Atoi(kv[1])
			setParam(b, kv[0], v)
		}
	}
	param := os.Getenv("PARAM")
	vals := envInts("VALS")
	if len(vals) == 0 {
		param, vals = "threads", []int{0}
	}
	for _, shs := range strings.Split(os.Getenv("SHAPES"), ";") {
		var sh [5]int
		for i, f := range strings.Split(shs, ",") {
			if i < len(sh) {
				sh[i], _ = strconv.Atoi(f)
			}
		}
		for _, v := range vals {
			b.Run(fmt.Sprintf("%s/%s=%d", strings.ReplaceAll(shs, ",", "x"), param, v), func(b *testing.B) {
				setParam(b, param, v)
				benchGemm(b, Gemm[float32], sh[3] == 1, sh[4] == 1, sh[0], sh[1], sh[2])
			})
		}
	}
}

func setParam(b *testing.B, name string, v int) {
	switch name {
	case "mc":
		if v < asmMR || v > maxMC || v%asmMR != 0 {
			b.Fatalf("mc must be a multiple of %d in [%d, %d]", asmMR, asmMR, maxMC)
		}
		asmMC = v
	case "kcfew":
		if v < 1 || 2*v > asmKC {
			b.Fatalf("kcfew must be in [1, %d]", asmKC/2)
		}
		kcFewRows = v
	case "pf":
		pfB = uintptr(v)
	case "directA":
		directAMaxPanels = v
	case "rowpack":
		rowPackB = v == 1
	case "minfma":
		minTaskFMA = max(v, 1)
	case "moretasks":
		moreTasksFMA = max(v, 1)
	case "threads":
		SetThreads(v)
	default:
		b.Fatalf("unknown parameter %q", name)
	}
}

// envInts reads a comma-separated list of ints from an environment variable.
func envInts(name string) []int {
	var r []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if v, err := strconv.Atoi(f); err == nil {
			r = append(r, v)
		}
	}
	return r
}
