package cyclegan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/nn"
)

func tinyConfig() Config {
	c := DefaultConfig()
	c.Toy = "seasons"
	c.Size, c.LoadSize = 16, 16
	c.NGF, c.NDF, c.Blocks, c.CriticLayers = 4, 4, 1, 2
	c.Steps, c.SampleEvery, c.SaveEvery = 6, 0, 3
	c.Pool = 3
	c.Seed = 9
	return c
}

// csvRows returns losses.csv without the wall-clock column.
func csvRows(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(l, ",")
		rows = append(rows, f[0]+","+strings.Join(f[2:], ","))
	}
	return rows
}

func TestResumeGivesTheSameLosses(t *testing.T) {
	defer kernels.SetThreads(kernels.Threads())
	kernels.SetThreads(1)
	cfg := tinyConfig()

	full := t.TempDir()
	tr, err := NewTrainer(cfg, full, TrainerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	tr.Close()

	// The same run, stopped after 4 steps (past the checkpoint at 3, so the
	// 4th step's row must be dropped) and resumed.
	part := t.TempDir()
	tr, err = NewTrainer(cfg, part, TrainerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	tr, err = NewTrainer(Config{}, part, TrainerOptions{Resume: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Learner.Steps != 3 {
		t.Fatalf("resumed at step %d, want 3", tr.Learner.Steps)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	tr.Close()

	a, b := csvRows(t, full), csvRows(t, part)
	if len(a) != cfg.Steps || len(b) != cfg.Steps {
		t.Fatalf("%d and %d loss rows, want %d", len(a), len(b), cfg.Steps)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d differs after resuming:\n uninterrupted %s\n resumed       %s", i+1, a[i], b[i])
		}
	}
	// Both runs end with the same weights.
	ga, _, err := LoadGenerator(full, A2B)
	if err != nil {
		t.Fatal(err)
	}
	gb, _, err := LoadGenerator(part, A2B)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := nn.Params(ga, ""), nn.Params(gb, "")
	for i := range pa {
		va, vb := pa[i].T.Float32s(), pb[i].T.Float32s()
		for j := range va {
			if va[j] != vb[j] {
				t.Fatalf("%s differs after resuming", pa[i].Name)
			}
		}
	}
}

// A checkpoint reloads to bit-identical outputs, and translation keeps the
// input's size whatever it is.
func TestCheckpointReloadsBitIdentical(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps = 2
	dir := t.TempDir()
	tr, err := NewTrainer(cfg, dir, TrainerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Direction{A2B, B2A} {
		g, c, err := LoadGenerator(dir, d)
		if err != nil {
			t.Fatal(err)
		}
		if c == nil || c.Toy != "seasons" {
			t.Fatalf("config %+v", c)
		}
		live := tr.Learner.Nets.GA
		if d == B2A {
			live = tr.Learner.Nets.GB
		}
		for _, hw := range [][2]int{{16, 16}, {13, 21}, {5, 3}, {1, 1}} {
			h, w := hw[0], hw[1]
			src := make([]float32, 3*h*w)
			for i := range src {
				src[i] = float32(i%17)/8 - 1
			}
			a, err := g.TranslateCHW(src, h, w)
			if err != nil {
				t.Fatal(err)
			}
			b, err := live.TranslateCHW(src, h, w)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 3*h*w {
				t.Fatalf("%d×%d input gave %d values", h, w, len(a))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%s %d×%d: reloaded model differs at %d: %g vs %g", d, h, w, i, a[i], b[i])
				}
			}
		}
	}
}

func TestNewRunRefusesToOverwriteCheckpoints(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps = 1
	dir := t.TempDir()
	tr, err := NewTrainer(cfg, dir, TrainerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := NewTrainer(cfg, dir, TrainerOptions{}); !errors.Is(err, ErrRunExists) {
		t.Fatalf("got %v, want ErrRunExists", err)
	}
}

// Run writes each sample grid and checkpoint once, the last step's
// included, and tells the hooks once each.
func TestRunWritesEachSampleAndCheckpointOnce(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps, cfg.SampleEvery, cfg.SaveEvery = 4, 2, 2
	tr, err := NewTrainer(cfg, t.TempDir(), TrainerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var samples []string
	var saves []int
	h := Hooks{OnSample: func(p string) { samples = append(samples, filepath.Base(p)) }, OnSave: func(s int) { saves = append(saves, s) }}
	if err := tr.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(samples) != "[step_000002.png step_000004.png]" || fmt.Sprint(saves) != "[2 4]" {
		t.Fatalf("samples %v, checkpoints %v; want steps 2 and 4 once each", samples, saves)
	}
}
