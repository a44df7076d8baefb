//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

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

func setParam(name string, v int) {
	switch name {
	case "kcfew":
		kcFewRows = v
	case "mc":
		asmMC = v
	case "pf":
		pfB = uintptr(v)
	case "directA":
		directAMaxPanels = v
	case "rowpack":
		rowPackB = v == 1
	case "minfma":
		minTaskFMA = v
	case "threads":
		SetThreads(v)
	}
}

// TestTune runs SHAPES (m,n,k,tA,tB;...) for each value in VALS of PARAM,
// interleaved round-robin REPS times, and prints the best and median
// GFLOPS of each. FIX="name=v,name=v" sets other parameters first.
func TestTune(t *testing.T) {
	if os.Getenv("SHAPES") == "" {
		t.Skip("tuning run only")
	}
	for _, f := range strings.Split(os.Getenv("FIX"), ",") {
		if kv := strings.SplitN(f, "=", 2); len(kv) == 2 {
			v, _ := strconv.Atoi(kv[1])
			setParam(kv[0], v)
		}
	}
	reps := 30
	if r := envInts("REPS"); len(r) > 0 {
		reps = r[0]
	}
	param, vals := os.Getenv("PARAM"), envInts("VALS")
	if len(vals) == 0 {
		vals = []int{0}
	}
	for _, shs := range strings.Split(os.Getenv("SHAPES"), ";") {
		var sh [5]int
		for i, f := range strings.Split(shs, ",") {
			sh[i], _ = strconv.Atoi(f)
		}
		m, n, k, tA, tB := sh[0], sh[1], sh[2], sh[3] == 1, sh[4] == 1
		rng := rand.New(rand.NewPCG(1, 1))
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = rng.Float32()
		}
		for i := range b {
			b[i] = rng.Float32()
		}
		lda, ldb := k, n
		if tA {
			lda = m
		}
		if tB {
			ldb = k
		}
		times := make([][]time.Duration, len(vals))
		for r := 0; r < reps+1; r++ {
			for vi, v := range vals {
				setParam(param, v)
				t0 := time.Now()
				Gemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
				if r > 0 {
					times[vi] = append(times[vi], time.Since(t0))
				}
			}
		}
		for vi, v := range vals {
			ts := times[vi]
			sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
			fl := 2 * float64(m) * float64(n) * float64(k) / 1e9
			fmt.Printf("%-22s %s=%-6d best %6.1f  median %6.1f GFLOPS\n", shs, param, v, fl/ts[0].Seconds(), fl/ts[len(ts)/2].Seconds())
		}
	}
}
