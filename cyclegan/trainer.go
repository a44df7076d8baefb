package cyclegan

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/internal/atomicfile"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// TrainerOptions are the settings of a Trainer that are not part of the
// run's config.
type TrainerOptions struct {
	// Resume continues the run in the run directory from its newest valid
	// checkpoint, with the config saved there.
	Resume bool
	// Workers is the number of image-decoding goroutines (0: GOMAXPROCS).
	Workers int
	// MaxPixels refuses training images whose header claims more pixels
	// than this, before decoding them (0: data.DefaultMaxPixels, 50
	// megapixels; negative: no limit). Refused files are skipped.
	MaxPixels int64
	// Logf receives warnings and notices (skipped files, checkpoint
	// fall-backs); nil discards them.
	Logf func(format string, args ...any)
}

// Trainer runs a training job in a run directory: it feeds the learner
// from the configured data, logs losses to losses.csv, writes sample grids
// and checkpoints.
type Trainer struct {
	Cfg     Config
	RunDir  string
	Learner *Learner

	opt        TrainerOptions
	srcA, srcB data.Source
	bufA, bufB []float32
	skipped    [2]int64
	savedStep  int
	csv        *os.File
	csvw       *bufio.Writer
	start      time.Time
	startStep  int
	samples    [2]*tensor.Tensor // fixed inputs of the sample grids
	history    []Losses
}

// ErrRunExists is returned when a new run would overwrite a directory that
// already holds checkpoints.
var ErrRunExists = errors.New("the run directory already holds checkpoints")

// NewTrainer prepares a run in runDir: a new one with cfg, or with
// opt.Resume the run saved there (cfg is then ignored, except that a
// positive cfg.Steps extends or shortens the run), from its newest
// checkpoint that reads back whole, or from the beginning if it was
// stopped before its first.
func NewTrainer(cfg Config, runDir string, opt TrainerOptions) (*Trainer, error) {
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	t := &Trainer{RunDir: runDir, opt: opt}
	if opt.Resume {
		saved, err := ReadConfig(configPath(runDir))
		if err != nil {
			return nil, err
		}
		if cfg.Steps > 0 && cfg.Steps != saved.Steps {
			saved.Steps = cfg.Steps
		}
		cfg = saved
	} else {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if HasCheckpoint(runDir) {
			return nil, fmt.Errorf("%s: %w (resume it, or choose another output folder)", runDir, ErrRunExists)
		}
	}
	if cfg.Imported != nil {
		return nil, fmt.Errorf("%s: %w", runDir, ErrImportedRun)
	}
	t.Cfg = cfg
	if err := os.MkdirAll(filepath.Join(runDir, "samples"), 0o755); err != nil {
		return nil, fmt.Errorf("%s: %v", runDir, plainErr(err))
	}
	if err := writeConfig(t.RunDir, t.Cfg); err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(cfg.Seed)
	nets := NewNets(cfg.NGF, cfg.Blocks, cfg.NDF, cfg.CriticLayers, rng)
	t.Learner = NewLearner(nets, cfg.Options(), tensor.NewRNG(cfg.Seed^0x5eed))

	var posA, posB int64
	if opt.Resume && !HasCheckpoint(runDir) {
		// Stopped before its first checkpoint: start the run over.
		opt.Logf("%s holds no checkpoint yet: starting the run from the beginning", runDir)
	} else if opt.Resume {
		st, err := t.restore()
		if err != nil {
			return nil, err
		}
		posA, posB = st.posA, st.posB
		t.skipped = st.skipped
	}
	if err := t.openSources(posA, posB); err != nil {
		return nil, err
	}
	if err := t.openCSV(); err != nil {
		t.Close()
		return nil, err
	}
	if err := t.prepareSamples(); err != nil {
		t.Close()
		return nil, err
	}
	t.start, t.startStep = time.Now(), t.Learner.Steps
	return t, nil
}

// writeConfig writes a run's config.json.
func writeConfig(runDir string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(configPath(runDir), 0o644, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// SetSteps changes the run's total number of generator steps (and so its
// learning-rate schedule) and saves the config.
func (t *Trainer) SetSteps(n int) error {
	t.Cfg.Steps = n
	if err := t.Cfg.Validate(); err != nil {
		return err
	}
	t.Learner.Opt.Schedule = t.Cfg.Options().Schedule
	return writeConfig(t.RunDir, t.Cfg)
}

// restore loads the newest checkpoint that reads back whole, falling back
// to older ones.
func (t *Trainer) restore() (trainState, error) {
	var st trainState
	d, _, skipped, err := newestUsableCheckpoint(t.RunDir, func(dir string) (err error) {
		st, err = loadCheckpoint(dir, t.Learner)
		return err
	})
	if errors.Is(err, errNoCheckpoint) {
		return trainState{}, fmt.Errorf("%s: no checkpoint to resume from", t.RunDir)
	}
	if err != nil {
		return trainState{}, fmt.Errorf("no usable checkpoint in %s: %v", t.RunDir, err)
	}
	if skipped != nil {
		t.opt.Logf("warning: the newest checkpoint is damaged (%v); resuming from %s", skipped, d)
	}
	t.savedStep = st.steps
	return st, nil
}

func (t *Trainer) openSources(posA, posB int64) error {
	c := t.Cfg
	var srcs [2]data.Source
	defer func() { t.srcA, t.srcB = srcs[0], srcs[1] }() // for Close, also after an error
	pos := [2]int64{posA, posB}
	if c.Toy != "" {
		toy, err := data.ToyByName(c.Toy)
		if err != nil {
			return err
		}
		for d := range srcs {
			s, err := data.NewToySource(toy, data.ToySourceOptions{Domain: d, Size: c.Size, Seed: c.Seed, Start: pos[d]})
			if err != nil {
				return err
			}
			srcs[d] = s
		}
	} else {
		for d, dir := range []string{c.DirA, c.DirB} {
			l, err := data.NewFolderLoader(dir, data.LoaderOptions{
				Transform: data.Transform{LoadSize: c.LoadSize, CropSize: c.Size, NoFlip: c.NoFlip},
				Decode:    data.DecodeOptions{MaxPixels: t.opt.MaxPixels},
				Seed:      c.Seed + uint64(d)*0x9e3779b97f4a7c15,
				Start:     pos[d],
				Workers:   t.opt.Workers,
				OnSkip: func(path string, err error) {
					t.skipped[d]++
					t.opt.Logf("warning: skipping %v", err)
				},
			})
			if err != nil {
				return err
			}
			srcs[d] = l
		}
	}
	n := srcs[0].SampleLen() * c.Batch
	t.bufA, t.bufB = make([]float32, n), make([]float32, n)
	return nil
}

// csvHeader names the columns of losses.csv.
const csvHeader = "step,seconds,lr_scale,G_A,G_B,cycle_A,cycle_B,idt_A,idt_B,D_A,D_B,wdist_A,wdist_B,gp_A,gp_B"

// openCSV opens losses.csv for appending, first dropping rows past the
// restored step (written after the last checkpoint of a crashed run).
func (t *Trainer) openCSV() error {
	path := filepath.Join(t.RunDir, "losses.csv")
	var keep []string
	if b, err := os.ReadFile(path); err == nil {
		for i, line := range strings.Split(string(b), "\n") {
			if i == 0 || line == "" {
				continue
			}
			f := strings.SplitN(line, ",", 2)
			s, err := strconv.Atoi(f[0])
			if err != nil || s > t.Learner.Steps {
				continue
			}
			keep = append(keep, line)
			if ls, ok := parseCSVRow(line); ok {
				t.history = append(t.history, ls)
			}
		}
	}
	if err := atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, csvHeader+"\n"+strings.Join(keep, "\n")+map[bool]string{true: "\n"}[len(keep) > 0])
		return err
	}); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %v", path, plainErr(err))
	}
	t.csv, t.csvw = f, bufio.NewWriter(f)
	return nil
}

func parseCSVRow(line string) (Losses, bool) {
	f := strings.Split(line, ",")
	if len(f) != 15 {
		return Losses{}, false
	}
	v := make([]float64, len(f))
	for i, s := range f {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Losses{}, false
		}
		v[i] = x
	}
	return Losses{Step: int(v[0]), LRScale: v[2], GA: v[3], GB: v[4], CycleA: v[5], CycleB: v[6], IdtA: v[7], IdtB: v[8],
		DA: v[9], DB: v[10], WDistA: v[11], WDistB: v[12], GPA: v[13], GPB: v[14]}, true
}

func (t *Trainer) writeCSV(ls Losses) error {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	row := []string{strconv.Itoa(ls.Step), strconv.FormatFloat(time.Since(t.start).Seconds(), 'f', 2, 64), g(ls.LRScale),
		g(ls.GA), g(ls.GB), g(ls.CycleA), g(ls.CycleB), g(ls.IdtA), g(ls.IdtB), g(ls.DA), g(ls.DB),
		g(ls.WDistA), g(ls.WDistB), g(ls.GPA), g(ls.GPB)}
	if _, err := t.csvw.WriteString(strings.Join(row, ",") + "\n"); err != nil {
		return err
	}
	return t.csvw.Flush()
}

// batch reads the next batch of each domain.
func (t *Trainer) batch() (*tensor.Tensor, *tensor.Tensor, error) {
	if err := t.srcA.Next(t.bufA); err != nil {
		return nil, nil, err
	}
	if err := t.srcB.Next(t.bufB); err != nil {
		return nil, nil, err
	}
	s := t.Cfg.Size
	// No copies: Learner.Step copies its batches before the next is read.
	a := tensor.FromFloat32(t.bufA, t.Cfg.Batch, 3, s, s)
	b := tensor.FromFloat32(t.bufB, t.Cfg.Batch, 3, s, s)
	return a, b, nil
}

// Done reports whether the run has made all its steps.
func (t *Trainer) Done() bool { return t.Learner.Steps >= t.Cfg.Steps }

// Step makes one training step and logs its losses.
func (t *Trainer) Step() (Losses, error) {
	a, b, err := t.batch()
	if err != nil {
		return Losses{}, err
	}
	ls, err := t.Learner.Step(a, b, t.batch)
	if err != nil {
		return ls, err
	}
	t.history = append(t.history, ls)
	if err := t.writeCSV(ls); err != nil {
		return ls, fmt.Errorf("%s: %v", filepath.Join(t.RunDir, "losses.csv"), err)
	}
	return ls, nil
}

// StepsPerSecond returns the rate since the trainer started.
func (t *Trainer) StepsPerSecond() float64 {
	d := time.Since(t.start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(t.Learner.Steps-t.startStep) / d
}

// Skipped returns how many unusable image files were skipped in each
// domain since the run began.
func (t *Trainer) Skipped() (a, b int64) { return t.skipped[0], t.skipped[1] }

// History returns the losses of every step so far (restored from
// losses.csv on resume).
func (t *Trainer) History() []Losses { return t.history }

// Hooks let a caller follow a run.
type Hooks struct {
	OnStep   func(ls Losses) // after every step
	OnSample func(path string)
	OnSave   func(step int)
}

// ErrInterrupted is returned by Run when its context is cancelled; a
// checkpoint was saved first.
var ErrInterrupted = errors.New("training interrupted")

// Run trains until the configured number of steps, writing sample grids and
// checkpoints at the configured intervals and a final checkpoint, samples
// and loss chart at the end. When ctx is cancelled it saves a checkpoint
// and returns ErrInterrupted. A *NonFiniteError leaves the last checkpoint
// as it was.
func (t *Trainer) Run(ctx context.Context, h Hooks) error {
	for !t.Done() {
		if ctx.Err() != nil {
			if err := t.saveAll(h); err != nil {
				return err
			}
			return ErrInterrupted
		}
		ls, err := t.Step()
		if err != nil {
			return err
		}
		if h.OnStep != nil {
			h.OnStep(ls)
		}
		// The last step's samples and checkpoint are written below.
		if s := t.Learner.Steps; !t.Done() {
			if t.Cfg.SampleEvery > 0 && s%t.Cfg.SampleEvery == 0 {
				if err := t.sample(h); err != nil {
					return err
				}
			}
			if t.Cfg.SaveEvery > 0 && s%t.Cfg.SaveEvery == 0 {
				if err := t.saveAll(h); err != nil {
					return err
				}
			}
		}
	}
	if err := t.sample(h); err != nil {
		return err
	}
	return t.saveAll(h)
}

// sample writes the sample grid of the current step.
func (t *Trainer) sample(h Hooks) error {
	p, err := t.WriteSamples()
	if err != nil {
		return err
	}
	if h.OnSample != nil {
		h.OnSample(p)
	}
	return nil
}

func (t *Trainer) saveAll(h Hooks) error {
	if t.savedStep == t.Learner.Steps && HasCheckpoint(t.RunDir) {
		return nil
	}
	if err := t.Save(); err != nil {
		return err
	}
	if err := t.WriteChart(); err != nil {
		t.opt.Logf("warning: loss chart: %v", err)
	}
	if h.OnSave != nil {
		h.OnSave(t.Learner.Steps)
	}
	return nil
}

// Close stops the data loaders and closes the loss log.
func (t *Trainer) Close() error {
	var first error
	for _, s := range []data.Source{t.srcA, t.srcB} {
		if s != nil {
			if err := s.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	if t.csv != nil {
		t.csvw.Flush()
		if err := t.csv.Close(); err != nil && first == nil {
			first = err
		}
		t.csv = nil
	}
	return first
}

// noGrad runs f with the parameters of ms not requiring gradients, so that
// inference records no graph. It only writes to parameters that require
// gradients, so on frozen modules (see Generator.Freeze) it writes nothing
// and may run from several goroutines at once.
func noGrad(f func(), ms ...nn.Module) {
	var ps []nn.Param
	for _, m := range ms {
		for _, p := range nn.Params(m, "") {
			if p.T.RequiresGrad() {
				ps = append(ps, p)
			}
		}
	}
	for _, p := range ps {
		p.T.SetRequiresGrad(false)
	}
	defer func() {
		for _, p := range ps {
			p.T.SetRequiresGrad(true)
		}
	}()
	f()
}
