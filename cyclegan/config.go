package cyclegan

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/nn"
)

// Config describes a training run completely; it is saved as config.json
// in the run directory, and a resumed run continues with it.
type Config struct {
	// Data: a built-in toy, or two folders of images.
	Toy      string `json:"toy,omitempty"`
	DirA     string `json:"dir_a,omitempty"`
	DirB     string `json:"dir_b,omitempty"`
	DomainA  string `json:"domain_a"` // display names of the domains
	DomainB  string `json:"domain_b"`
	Size     int    `json:"size"`      // training crop side
	LoadSize int    `json:"load_size"` // shorter side after resizing, before cropping
	NoFlip   bool   `json:"no_flip,omitempty"`

	// Model.
	NGF          int `json:"ngf"`
	NDF          int `json:"ndf"`
	Blocks       int `json:"blocks"`
	CriticLayers int `json:"critic_layers"`

	// Objective and optimiser.
	Loss        string  `json:"loss"`
	GP          float64 `json:"gp"`
	NCritic     int     `json:"n_critic"`
	LambdaCycle float64 `json:"lambda_cycle"`
	LambdaID    float64 `json:"lambda_id"`
	Pool        int     `json:"pool"`
	LR          float64 `json:"lr"`
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`

	// Schedule: Steps generator updates in all, the learning rate constant
	// for the first half and decaying linearly over the second.
	Steps int    `json:"steps"`
	Batch int    `json:"batch"`
	Seed  uint64 `json:"seed"`

	SampleEvery int `json:"sample_every"` // steps between sample grids (0: none)
	SaveEvery   int `json:"save_every"`   // steps between checkpoints (0: only at the end)

	// Imported is set on runs made by ImportRun from PyTorch (or
	// safetensors) generators: they hold generators only and cannot be
	// trained.
	Imported *Imported `json:"imported,omitempty"`
}

// DefaultConfig returns the CycleGAN paper's settings with a WGAN-GP
// objective, on 256-pixel crops of images resized to 286.
func DefaultConfig() Config {
	return Config{
		DomainA: "A", DomainB: "B", Size: 256, LoadSize: 286,
		NGF: 64, NDF: 64, Blocks: 9, CriticLayers: 3,
		Loss: string(WGANGP), GP: 10, NCritic: 1, LambdaCycle: 10, LambdaID: 0.5, Pool: 50,
		LR: 2e-4, Beta1: 0.5, Beta2: 0.999,
		Steps: 10000, Batch: 1, Seed: 1, SampleEvery: 500, SaveEvery: 1000,
	}
}

// Limits on sizes read from a config file, so that a hostile file cannot
// make the program allocate without bound.
const (
	maxSize    = 4096
	maxWidth   = 1024
	maxBlocks  = 64
	maxBatch   = 1024
	maxPool    = 10000
	maxLayers  = 8
	maxNCritic = 100
)

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	if c.Toy == "" && (c.DirA == "" || c.DirB == "") && c.Imported == nil {
		return fmt.Errorf("no data: give a toy or both folders A and B")
	}
	if c.Toy != "" && (c.DirA != "" || c.DirB != "") {
		return fmt.Errorf("give a toy or folders, not both")
	}
	if _, err := ParseLoss(c.Loss); err != nil {
		return err
	}
	check := []struct {
		name   string
		v      int
		lo, hi int
	}{
		{"size", c.Size, 8, maxSize},
		{"ngf", c.NGF, 1, maxWidth},
		{"ndf", c.NDF, 1, maxWidth},
		{"blocks", c.Blocks, 0, maxBlocks},
		{"critic layers", c.CriticLayers, 1, maxLayers},
		{"n-critic", c.NCritic, 1, maxNCritic},
		{"pool", c.Pool, 0, maxPool},
		{"batch", c.Batch, 1, maxBatch},
		{"steps", c.Steps, 1, math.MaxInt32},
		{"sample-every", c.SampleEvery, 0, math.MaxInt32},
		{"save-every", c.SaveEvery, 0, math.MaxInt32},
	}
	for _, k := range check {
		if k.v < k.lo || k.v > k.hi {
			return fmt.Errorf("%s %d is out of range [%d, %d]", k.name, k.v, k.lo, k.hi)
		}
	}
	if c.Size%4 != 0 {
		return fmt.Errorf("size %d is not a multiple of 4 (the generator halves it twice)", c.Size)
	}
	if m := MinCriticSize(c.CriticLayers); c.Size < m {
		return fmt.Errorf("size %d is too small for a critic with %d layers (it needs at least %d; use fewer critic layers)", c.Size, c.CriticLayers, m)
	}
	if c.Toy == "" && c.LoadSize < c.Size {
		return fmt.Errorf("load size %d is smaller than the crop size %d", c.LoadSize, c.Size)
	}
	if c.LoadSize > 4*maxSize {
		return fmt.Errorf("load size %d is over %d", c.LoadSize, 4*maxSize)
	}
	for _, f := range []struct {
		name   string
		v      float64
		lo, hi float64
	}{
		{"gp", c.GP, 0, 1e6}, {"lambda-cycle", c.LambdaCycle, 0, 1e6}, {"lambda-id", c.LambdaID, 0, 1e6},
		{"lr", c.LR, 0, 10}, {"beta1", c.Beta1, 0, 0.999999}, {"beta2", c.Beta2, 0, 0.999999},
	} {
		if !(f.v >= f.lo && f.v <= f.hi) {
			return fmt.Errorf("%s %g is out of range [%g, %g]", f.name, f.v, f.lo, f.hi)
		}
	}
	if c.Toy != "" {
		if _, err := data.ToyByName(c.Toy); err != nil {
			return err
		}
	}
	return nil
}

// Options returns the learner's hyper-parameters.
func (c Config) Options() Options {
	half := c.Steps / 2
	return Options{
		Loss: Loss(c.Loss), GPWeight: c.GP, NCritic: c.NCritic, LambdaCycle: c.LambdaCycle, LambdaID: c.LambdaID,
		PoolSize: c.Pool, LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2,
		Schedule: nn.LinearDecay{Constant: c.Steps - half, Decay: half},
	}
}

// maxConfigBytes bounds config.json.
const maxConfigBytes = 1 << 20

// ReadConfig reads and validates a config.json.
func ReadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, plainErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, plainErr(err))
	}
	if len(b) > maxConfigBytes {
		return Config{}, fmt.Errorf("%s: over %d bytes, not a doggogan config", path, maxConfigBytes)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("%s: not a valid config: %v", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// plainErr strips the operation and path from an *os.PathError, which the
// caller names itself.
func plainErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// configPath is where a run keeps its config.
func configPath(runDir string) string { return filepath.Join(runDir, "config.json") }
