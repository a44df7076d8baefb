package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure speed, with the flags and output of ../shared/bench's PyTorch scripts",
	}
	c.AddCommand(newBenchGemmCmd(), newBenchStepCmd())
	return c
}

func median(ts []float64) float64 {
	s := append([]float64(nil), ts...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// gemmRate measures the float32 n×n matrix product and returns the median
// GFLOPS over iters runs after two warm-up runs.
func gemmRate(n, iters int) float64 {
	rng := tensor.NewRNG(1)
	a := rng.Uniform(tensor.Float32, -1, 1, n, n).Float32s()
	b := rng.Uniform(tensor.Float32, -1, 1, n, n).Float32s()
	cm := make([]float32, n*n)
	run := func() { kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, cm, n) }
	run()
	run()
	ts := make([]float64, iters)
	for i := range ts {
		t := time.Now()
		run()
		ts[i] = time.Since(t).Seconds()
	}
	return 2 * float64(n) * float64(n) * float64(n) / median(ts) / 1e9
}

func newBenchGemmCmd() *cobra.Command {
	var n, threads, iters int
	c := &cobra.Command{
		Use:   "gemm",
		Short: "Float32 n×n matrix product (peer: peer_gemm.py); last line: gflops G",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if n < 1 || n > 16384 || iters < 1 || iters > 10000 {
				return fmt.Errorf("--n %d or --iters %d out of range", n, iters)
			}
			kernels.SetThreads(threads)
			g := gemmRate(n, iters)
			fmt.Fprintf(c.OutOrStdout(), "doggogan gemm n=%d threads=%d\n", n, kernels.Threads())
			fmt.Fprintf(c.OutOrStdout(), "gflops %.1f\n", g)
			return nil
		},
	}
	c.Flags().IntVar(&n, "n", 1024, "matrix side")
	c.Flags().IntVar(&threads, "threads", 2, "threads (0: all cores)")
	c.Flags().IntVar(&iters, "iters", 10, "timed runs")
	return c
}

type stepFlags struct {
	mode, loss, cpuprofile, memprofile          string
	size, ngf, ndf, blocks, batch, iters, thrds int
}

func newBenchStepCmd() *cobra.Command {
	f := stepFlags{}
	c := &cobra.Command{
		Use:   "step",
		Short: "One CycleGAN training iteration or translation (peer: peer_cyclegan.py); last line: median_s_per_iter S",
		Long: `Times the work of ../shared/bench/peer_cyclegan.py with the same flags: in train
mode one full iteration (both generators, then both critics updated; cycle and
identity L1; WGAN-GP or LSGAN; no image pool, as the peer), in infer mode one
generator forward pass without gradients.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBenchStep(c.OutOrStdout(), f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.mode, "mode", "train", "train or infer")
	fl.IntVar(&f.size, "size", 64, "image side")
	fl.IntVar(&f.ngf, "ngf", 32, "generator width")
	fl.IntVar(&f.ndf, "ndf", 32, "critic width")
	fl.IntVar(&f.blocks, "blocks", 6, "residual blocks")
	fl.IntVar(&f.batch, "batch", 1, "batch size")
	fl.StringVar(&f.loss, "loss", "wgangp", "wgangp or lsgan")
	fl.IntVar(&f.iters, "iters", 5, "timed iterations")
	fl.IntVar(&f.thrds, "threads", 2, "threads (0: all cores)")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed iterations to this file")
	fl.StringVar(&f.memprofile, "memprofile", "", "write a heap-allocation profile of the run to this file")
	return c
}

func runBenchStep(w io.Writer, f stepFlags) error {
	if f.mode != "train" && f.mode != "infer" {
		return fmt.Errorf("--mode %q: want train or infer", f.mode)
	}
	loss, err := cyclegan.ParseLoss(f.loss)
	if err != nil {
		return err
	}
	if f.size < cyclegan.MinCriticSize(3) || f.size%4 != 0 || f.size > 2048 || f.ngf < 1 || f.ngf > 512 || f.ndf < 1 || f.ndf > 512 ||
		f.blocks < 0 || f.blocks > 64 || f.batch < 1 || f.batch > 256 || f.iters < 1 || f.iters > 1000 {
		return fmt.Errorf("a size, width, block, batch or iteration count is out of range")
	}
	kernels.SetThreads(f.thrds)
	rng := tensor.NewRNG(0)
	nets := cyclegan.NewNets(f.ngf, f.blocks, f.ndf, 3, rng)
	opt := cyclegan.DefaultOptions()
	opt.Loss, opt.PoolSize = loss, 0
	l := cyclegan.NewLearner(nets, opt, rng)
	realA := rng.Uniform(tensor.Float32, -1, 1, f.batch, 3, f.size, f.size)
	realB := rng.Uniform(tensor.Float32, -1, 1, f.batch, 3, f.size, f.size)
	var run func() error
	if f.mode == "train" {
		run = func() error { _, err := l.Step(realA, realB, nil); return err }
	} else {
		g := nets.GA
		for _, p := range nn.Params(g, "") {
			p.T.SetRequiresGrad(false)
		}
		run = func() error { g.Forward(realA); return nil }
	}
	for i := 0; i < 2; i++ {
		if err := run(); err != nil {
			return err
		}
	}
	ts := make([]float64, f.iters)
	f0 := tensor.FLOPs()
	var ms0, ms runtime.MemStats
	runtime.ReadMemStats(&ms0)
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for i := range ts {
		t := time.Now()
		if err := run(); err != nil {
			return err
		}
		ts[i] = time.Since(t).Seconds()
	}
	runtime.ReadMemStats(&ms)
	if f.memprofile != "" {
		pf, err := os.Create(f.memprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.Lookup("allocs").WriteTo(pf, 0); err != nil {
			return err
		}
	}
	per := float64(f.iters)
	med := median(ts)
	flopsPer := float64(tensor.FLOPs()-f0) / per
	gemm := gemmRate(1024, 5)
	fmt.Fprintf(w, "%.1f GFLOP per iteration (convolutions and matrix products, counted as direct convolutions): %.1f GFLOPS, %.0f%% of this machine's %.1f GFLOPS n=1024 GEMM rate\n",
		flopsPer/1e9, flopsPer/med/1e9, 100*flopsPer/med/1e9/gemm, gemm)
	peak, held := l.ArenaBytes()
	fmt.Fprintf(w, "heap per iteration: %.1f MB in %.0f allocations; heap %.0f MB, of which step arena %.0f MB (peak in use %.0f MB)\n",
		float64(ms.TotalAlloc-ms0.TotalAlloc)/per/(1<<20), float64(ms.Mallocs-ms0.Mallocs)/per, float64(ms.HeapSys)/(1<<20),
		float64(held)/(1<<20), float64(peak)/(1<<20))
	fmt.Fprintf(w, "doggogan mode=%s size=%d ngf=%d ndf=%d blocks=%d batch=%d loss=%s threads=%d\n",
		f.mode, f.size, f.ngf, f.ndf, f.blocks, f.batch, f.loss, kernels.Threads())
	fmt.Fprintf(w, "median_s_per_iter %.4f\n", med)
	return nil
}
