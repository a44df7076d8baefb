package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/kernels"
	"github.com/spf13/cobra"
)

type trainFlags struct {
	cfg              cyclegan.Config
	a, b, dataDir    string
	out              string
	epochs           int
	resume           bool
	threads, workers int
	ui               string
	maxPixels        int64
}

func addModelFlags(c *cobra.Command, cfg *cyclegan.Config) {
	f := c.Flags()
	f.IntVar(&cfg.NGF, "ngf", cfg.NGF, "generator filters in the first layer")
	f.IntVar(&cfg.NDF, "ndf", cfg.NDF, "critic filters in the first layer")
	f.IntVar(&cfg.Blocks, "blocks", cfg.Blocks, "residual blocks in each generator (6 or 9 in the paper)")
	f.IntVar(&cfg.CriticLayers, "critic-layers", cfg.CriticLayers, "stride-2 layers of the PatchGAN critic (3: 70×70 patches)")
}

func addTrainFlags(c *cobra.Command, cfg *cyclegan.Config) {
	f := c.Flags()
	addModelFlags(c, cfg)
	f.StringVar(&cfg.Loss, "loss", cfg.Loss, "adversarial loss: wgangp or lsgan")
	f.Float64Var(&cfg.GP, "gp", cfg.GP, "gradient-penalty weight λ_gp (wgangp)")
	f.IntVar(&cfg.NCritic, "n-critic", cfg.NCritic, "critic updates per generator update")
	f.Float64Var(&cfg.LambdaCycle, "lambda-cycle", cfg.LambdaCycle, "cycle-consistency weight λ")
	f.Float64Var(&cfg.LambdaID, "lambda-id", cfg.LambdaID, "identity-loss weight, as a fraction of λ (0 turns it off)")
	f.IntVar(&cfg.Pool, "pool", cfg.Pool, "generated images kept in each critic's history pool (0: none)")
	f.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate (constant for the first half, then decaying linearly)")
	f.Float64Var(&cfg.Beta1, "beta1", cfg.Beta1, "Adam β1")
	f.Float64Var(&cfg.Beta2, "beta2", cfg.Beta2, "Adam β2")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, "images per batch")
	f.IntVar(&cfg.Size, "size", cfg.Size, "training crop size in pixels (a multiple of 4)")
	f.IntVar(&cfg.LoadSize, "load-size", 0, "shorter side after resizing, before the random crop (default: size+size/8; size for toys)")
	f.BoolVar(&cfg.NoFlip, "no-flip", cfg.NoFlip, "do not flip images horizontally at random")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	f.IntVar(&cfg.SampleEvery, "sample-every", cfg.SampleEvery, "steps between sample grids (0: only at the end)")
	f.IntVar(&cfg.SaveEvery, "save-every", cfg.SaveEvery, "steps between checkpoints (0: only at the end)")
}

func newTrainCmd() *cobra.Command {
	tf := &trainFlags{cfg: cyclegan.DefaultConfig()}
	c := &cobra.Command{
		Use:   "train",
		Short: "Train a CycleGAN on two folders of images, or on a built-in toy domain",
		Long: `Train G_A: A→B and G_B: B→A with critics D_A and D_B.

Data: --a DIR --b DIR, or --data DIR holding trainA/ and trainB/ (the CycleGAN
layout), or --toy seasons|pets for a built-in synthetic pair of domains; with
none of these it trains on the seasons toy.
Images are read in any of JPEG, PNG, GIF, BMP, WebP and TIFF; files that cannot
be read are skipped with a warning.

The run directory (--out) receives config.json, checkpoints/ (safetensors, the
reference's tensor names), samples/step_NNNNNN.png, losses.csv and losses.png.
Ctrl-C saves a checkpoint; --resume continues exactly where the run stopped.`,
		Example: `  doggogan train --data ../shared/data/cat2dog --size 128 --steps 20000 --out runs/cat2dog
  doggogan train --toy seasons --size 32 --ngf 16 --blocks 3 --steps 2000 --out runs/seasons
  doggogan train --resume --out runs/cat2dog`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runTrain(c, tf)
		},
	}
	addTrainFlags(c, &tf.cfg)
	f := c.Flags()
	f.StringVar(&tf.a, "a", "", "folder of domain A images")
	f.StringVar(&tf.b, "b", "", "folder of domain B images")
	f.StringVar(&tf.dataDir, "data", "", "folder holding trainA/ and trainB/")
	f.StringVar(&tf.cfg.Toy, "toy", "", "train on a built-in domain pair: "+fmt.Sprint(data.ToyNames()))
	f.StringVar(&tf.cfg.DomainA, "name-a", "", "display name of domain A (default: from the folder or toy)")
	f.StringVar(&tf.cfg.DomainB, "name-b", "", "display name of domain B")
	f.IntVar(&tf.cfg.Steps, "steps", tf.cfg.Steps, "generator updates in all")
	f.IntVar(&tf.epochs, "epochs", 0, "train for this many passes over the larger folder instead of --steps")
	f.StringVar(&tf.out, "out", "runs/train", "run directory")
	f.BoolVar(&tf.resume, "resume", false, "continue the run in --out from its newest valid checkpoint")
	f.IntVar(&tf.threads, "threads", 0, "threads for the numeric kernels (0: all cores)")
	f.IntVar(&tf.workers, "workers", 0, "image-decoding goroutines (0: all cores)")
	f.Int64Var(&tf.maxPixels, "max-pixels", data.DefaultMaxPixels, "skip training images whose header claims more pixels than this, before decoding them")
	f.StringVar(&tf.ui, "ui", "", "serve a live dashboard of the run on this address while it trains (e.g. 127.0.0.1:8090)")
	return c
}

func runTrain(c *cobra.Command, tf *trainFlags) error {
	kernels.SetThreads(tf.threads)
	if tf.maxPixels < 1 {
		return fmt.Errorf("--max-pixels %d: give a positive pixel count", tf.maxPixels)
	}
	if tf.ui != "" {
		stop, err := startUI(c.ErrOrStderr(), tf.ui, tf.out)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg := tf.cfg
	if tf.resume {
		steps := 0
		if c.Flags().Changed("steps") {
			steps = cfg.Steps
		}
		return trainLoop(c, cyclegan.Config{Steps: steps}, tf.out, cyclegan.TrainerOptions{Resume: true, Workers: tf.workers, MaxPixels: tf.maxPixels})
	}
	if tf.dataDir != "" {
		if tf.a != "" || tf.b != "" {
			return errors.New("give --data or --a and --b, not both")
		}
		tf.a, tf.b = filepath.Join(tf.dataDir, "trainA"), filepath.Join(tf.dataDir, "trainB")
		// CycleGAN datasets are named after their domains: cat2dog, horse2zebra.
		if a, b, ok := strings.Cut(filepath.Base(filepath.Clean(tf.dataDir)), "2"); ok && a != "" && b != "" && !strings.Contains(b, "2") {
			if cfg.DomainA == "" {
				cfg.DomainA = a
			}
			if cfg.DomainB == "" {
				cfg.DomainB = b
			}
		}
	}
	if (tf.a == "") != (tf.b == "") {
		return errors.New("give both --a and --b")
	}
	cfg.DirA, cfg.DirB = tf.a, tf.b
	if cfg.DirA == "" && cfg.Toy == "" {
		cfg.Toy = "seasons" // the built-in default, as the demo's
	}
	if cfg.Toy != "" {
		toy, err := data.ToyByName(cfg.Toy)
		if err != nil {
			return err
		}
		na, nb := toy.Domains()
		if cfg.DomainA == "" {
			cfg.DomainA = na
		}
		if cfg.DomainB == "" {
			cfg.DomainB = nb
		}
		if !c.Flags().Changed("load-size") {
			cfg.LoadSize = cfg.Size
		}
	} else {
		if cfg.DomainA == "" {
			cfg.DomainA = domainName(cfg.DirA, "A")
		}
		if cfg.DomainB == "" {
			cfg.DomainB = domainName(cfg.DirB, "B")
		}
		if !c.Flags().Changed("load-size") {
			cfg.LoadSize = cfg.Size + cfg.Size/8 // 286 for 256, as the reference
		}
	}
	if tf.epochs > 0 {
		if c.Flags().Changed("steps") {
			return errors.New("give --steps or --epochs, not both")
		}
		if cfg.Toy != "" {
			return errors.New("--epochs needs folders of images; toys are endless, use --steps")
		}
		n := 0
		for _, d := range []string{cfg.DirA, cfg.DirB} {
			paths, err := data.IndexDir(d)
			if err != nil {
				return err
			}
			n = max(n, len(paths))
		}
		cfg.Steps = tf.epochs * ((n + cfg.Batch - 1) / cfg.Batch)
	}
	return trainLoop(c, cfg, tf.out, cyclegan.TrainerOptions{Workers: tf.workers, MaxPixels: tf.maxPixels})
}

// domainName names a domain after its folder ("trainA" gives fallback).
func domainName(dir, fallback string) string {
	b := filepath.Base(filepath.Clean(dir))
	if b == "trainA" || b == "trainB" || b == "." || b == "/" {
		return fallback
	}
	return b
}

// trainLoop runs a trainer with a progress display and signal handling:
// SIGINT or SIGTERM saves a checkpoint and exits; a second SIGINT exits at
// once.
func trainLoop(c *cobra.Command, cfg cyclegan.Config, out string, opt cyclegan.TrainerOptions) error {
	stderr := c.ErrOrStderr()
	rep := newReporter(stderr)
	opt.Logf = rep.logf
	t, err := cyclegan.NewTrainer(cfg, out, opt)
	if err != nil {
		return err
	}
	defer t.Close()
	ctx, stop := interruptContext(stderr)
	defer stop()
	return runTrainer(ctx, c.OutOrStdout(), stderr, t, rep, nil)
}

// runTrainer runs t with the progress display rep; onStep, if not nil, is
// called after each step too.
func runTrainer(ctx context.Context, stdout, stderr io.Writer, t *cyclegan.Trainer, rep *reporter, onStep func(cyclegan.Losses)) error {
	cfg := t.Cfg
	fmt.Fprintf(stderr, "training %s → %s and back in %s: %d steps from step %d, %d px, ngf %d, %d blocks, %s loss, %d thread(s)\n",
		cfg.DomainA, cfg.DomainB, t.RunDir, cfg.Steps, t.Learner.Steps, cfg.Size, cfg.NGF, cfg.Blocks, cfg.Loss, kernels.Threads())
	rep.begin(t.Learner.Steps, cfg.Steps)
	err := t.Run(ctx, cyclegan.Hooks{OnStep: func(ls cyclegan.Losses) {
		if onStep != nil {
			onStep(ls)
		}
		rep.step(ls)
	}})
	rep.finish()
	if a, b := t.Skipped(); a+b > 0 {
		fmt.Fprintf(stderr, "skipped %d unreadable image(s) in %s and %d in %s\n", a, cfg.DirA, b, cfg.DirB)
	}
	var nf *cyclegan.NonFiniteError
	switch {
	case errors.Is(err, cyclegan.ErrInterrupted):
		return &exitError{130, fmt.Sprintf("interrupted at step %d; checkpoint saved. Resume with: doggogan train --resume --out %s", t.Learner.Steps, t.RunDir)}
	case errors.As(err, &nf):
		return fmt.Errorf("%v. The last checkpoint is kept; try a lower --lr, a smaller --gp or --lambda-cycle, or resume from it with --resume", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "trained %d steps; model in %s\n", t.Learner.Steps, t.RunDir)
	return nil
}

// interruptContext is cancelled by the first SIGINT or SIGTERM; a second
// SIGINT exits the process at once.
func interruptContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for s := range ch {
			n++
			if n == 1 {
				fmt.Fprintf(stderr, "\n%v: saving a checkpoint before exiting (interrupt again to exit at once)\n", s)
				cancel()
				continue
			}
			if s == os.Interrupt {
				fmt.Fprintln(stderr, "doggogan: interrupted again: exiting without saving")
				os.Exit(130)
			}
		}
	}()
	return ctx, func() { signal.Stop(ch); close(ch); cancel() }
}
