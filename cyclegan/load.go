package cyclegan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// Direction names a translation: "a2b" uses G_A, "b2a" uses G_B.
type Direction string

const (
	// A2B translates domain A to domain B with G_A.
	A2B Direction = "a2b"
	// B2A translates domain B to domain A with G_B.
	B2A Direction = "b2a"
)

// ParseDirection checks a direction name.
func ParseDirection(s string) (Direction, error) {
	switch Direction(strings.ToLower(s)) {
	case A2B:
		return A2B, nil
	case B2A:
		return B2A, nil
	}
	return "", fmt.Errorf("unknown direction %q (want a2b or b2a)", s)
}

func (d Direction) net() string {
	if d == B2A {
		return "G_B"
	}
	return "G_A"
}

var blockKey = regexp.MustCompile(`^model\.(\d+)\.conv_block\.1\.weight$`)

// GeneratorFromState builds a generator whose architecture (ngf, number of
// residual blocks) is read off the shapes of a reference ResnetGenerator
// state_dict, and loads it. Unknown or missing names and wrong shapes are
// reported by name.
//
// Names are accepted as the reference's ResnetGenerator saves them, also
// with a "module." prefix (nn.DataParallel) and with the shifted indices of
// a generator built with use_dropout (see normalizeGeneratorState).
func GeneratorFromState(st map[string]*tensor.Tensor) (*Generator, error) {
	st, err := normalizeGeneratorState(st)
	if err != nil {
		return nil, err
	}
	first, ok := st["model.1.weight"]
	if !ok {
		return nil, fmt.Errorf("not a ResnetGenerator state: no tensor %q", "model.1.weight")
	}
	if s := first.Shape(); len(s) != 4 || s[1] != 3 || s[2] != 7 || s[3] != 7 || s[0] < 1 || s[0] > maxWidth {
		return nil, fmt.Errorf("not a 3-channel ResnetGenerator: %q has shape %v, want [ngf 3 7 7]", "model.1.weight", s)
	}
	ngf := first.Dim(0)
	blocks := 0
	for name := range st {
		if blockKey.MatchString(name) {
			blocks++
		}
	}
	if blocks > maxBlocks {
		return nil, fmt.Errorf("%d residual blocks is over the limit of %d", blocks, maxBlocks)
	}
	g := NewGenerator(ngf, blocks)
	if err := checkGeneratorNames(g, st); err != nil {
		return nil, fmt.Errorf("not a ResnetGenerator with ngf %d and %d blocks: %v", ngf, blocks, err)
	}
	if err := nn.LoadState(g, st); err != nil {
		return nil, fmt.Errorf("ResnetGenerator with ngf %d and %d blocks: %v", ngf, blocks, err)
	}
	return g, nil
}

// LoadGenerator loads the generator for a direction from a run directory
// (its newest checkpoint that reads back whole; also a run made by
// ImportRun) or from a file holding a generator state (see
// LoadGeneratorFile). It also returns the run's config when there is one
// (nil otherwise).
func LoadGenerator(path string, dir Direction) (*Generator, *Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, plainErr(err))
	}
	if !st.IsDir() {
		g, _, err := LoadGeneratorFile(path)
		return g, nil, err
	}
	cfg, err := ReadConfig(configPath(path))
	if err != nil {
		return nil, nil, err
	}
	if cfg.Imported != nil && cfg.Imported.source(dir) == "" {
		return nil, nil, fmt.Errorf("%s: this imported run has no %s generator for %s (import both directions into a new run with doggogan import --from G_A.pth --reverse G_B.pth)", path, dir.net(), dir)
	}
	gens, _, err := loadCheckpointGenerators(path, []Direction{dir})
	if err != nil {
		return nil, nil, err
	}
	return gens[dir], &cfg, nil
}

// LoadGeneratorFile loads a generator from a file holding its state:
// safetensors, or a PyTorch state_dict saved by torch.save (.pth, .pt, or
// any zip-format torch file), such as the reference implementation's
// latest_net_G_A.pth. It also returns the training step the file records
// (0 when it records none, as PyTorch files).
func LoadGeneratorFile(path string) (*Generator, int, error) {
	var (
		s    map[string]*tensor.Tensor
		meta map[string]string
		err  error
	)
	if isTorchFile(path) {
		s, err = ReadPth(path)
	} else {
		s, meta, err = ReadState(path)
	}
	if err != nil {
		return nil, 0, err
	}
	g, err := GeneratorFromState(s)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", path, err)
	}
	step, _ := strconv.Atoi(meta["step"])
	return g, max(step, 0), nil
}

// LoadRunGenerators loads every generator of a run directory (both for a
// trained run; those it has for a run made by ImportRun) from its newest
// checkpoint in which they all read back whole, so that they come from the
// same step even while the run is training. It returns them with the run's
// config and that checkpoint's step.
func LoadRunGenerators(runDir string) (map[Direction]*Generator, *Config, int, error) {
	cfg, err := ReadConfig(configPath(runDir))
	if err != nil {
		return nil, nil, 0, err
	}
	var dirs []Direction
	for _, d := range []Direction{A2B, B2A} {
		if cfg.Imported == nil || cfg.Imported.source(d) != "" {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: this imported run records no generator", runDir)
	}
	gens, step, err := loadCheckpointGenerators(runDir, dirs)
	if err != nil {
		return nil, nil, 0, err
	}
	return gens, &cfg, step, nil
}

// loadCheckpointGenerators loads the generators of the given directions
// from the newest checkpoint of a run in which all of them read back whole,
// and returns that checkpoint's step; when none does, the error of the
// newest.
func loadCheckpointGenerators(runDir string, dirs []Direction) (map[Direction]*Generator, int, error) {
	var gens map[Direction]*Generator
	_, step, _, err := newestUsableCheckpoint(runDir, func(ck string) (err error) {
		gens, err = loadGenerators(ck, dirs)
		return err
	})
	if errors.Is(err, errNoCheckpoint) {
		return nil, 0, fmt.Errorf("%s: no checkpoint in this run yet", runDir)
	}
	return gens, step, err
}

// loadGenerators reads the generators of the given directions from one
// checkpoint directory.
func loadGenerators(ck string, dirs []Direction) (map[Direction]*Generator, error) {
	gens := map[Direction]*Generator{}
	for _, d := range dirs {
		p := filepath.Join(ck, netFile(d.net()))
		s, _, err := ReadState(p)
		if err != nil {
			return nil, err
		}
		if gens[d], err = GeneratorFromState(s); err != nil {
			return nil, fmt.Errorf("%s: %v", p, err)
		}
	}
	return gens, nil
}
