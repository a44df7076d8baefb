package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/doggogan/doggogan/cyclegan"
)

// Model is what the translate page translates with: one frozen generator
// per direction it supports, and the run's settings when it came from a
// run directory.
type Model struct {
	// Generators maps a direction to its generator; a model loaded from
	// one generator file has one direction.
	Generators map[cyclegan.Direction]*cyclegan.Generator
	// Config is the run's config.json, or nil for a generator file.
	Config *cyclegan.Config
	// Step is the training step of the checkpoint, or 0 when unknown.
	Step int
	// Name is what the model is called on the page: the run directory's
	// or the file's base name.
	Name string
}

// NewModel returns a model of the given generators, freezing them so that
// they can translate from several goroutines at once.
func NewModel(name string, gens map[cyclegan.Direction]*cyclegan.Generator, cfg *cyclegan.Config, step int) *Model {
	for _, g := range gens {
		g.Freeze()
	}
	return &Model{Generators: gens, Config: cfg, Step: step, Name: name}
}

// LoadModel loads a model from a run directory (see
// cyclegan.LoadRunGenerators) or from a generator file, safetensors or a
// PyTorch state_dict (see cyclegan.LoadGeneratorFile). A file translates in one direction only: fileDir, or
// when that is empty the direction its name says ("G_A" in the name for
// a2b, "G_B" for b2a).
func LoadModel(path string, fileDir cyclegan.Direction) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, plainErr(err))
	}
	name := path
	if abs, err := filepath.Abs(path); err == nil {
		name = abs
	}
	name = filepath.Base(name)
	if st.IsDir() {
		gens, cfg, step, err := cyclegan.LoadRunGenerators(path)
		if err != nil {
			return nil, err
		}
		return NewModel(name, gens, cfg, step), nil
	}
	dir := fileDir
	if dir == "" {
		switch base := strings.ToUpper(filepath.Base(path)); {
		case strings.Contains(base, "G_A") && !strings.Contains(base, "G_B"):
			dir = cyclegan.A2B
		case strings.Contains(base, "G_B") && !strings.Contains(base, "G_A"):
			dir = cyclegan.B2A
		default:
			return nil, fmt.Errorf("%s: cannot tell from the name which way this generator translates; say it with a direction (a2b or b2a)", path)
		}
	}
	g, step, err := cyclegan.LoadGeneratorFile(path)
	if err != nil {
		return nil, err
	}
	return NewModel(name, map[cyclegan.Direction]*cyclegan.Generator{dir: g}, nil, step), nil
}

// modelInfo is the answer of GET /api/model.
type modelInfo struct {
	Name       string   `json:"name"`
	DomainA    string   `json:"domain_a"`
	DomainB    string   `json:"domain_b"`
	Directions []string `json:"directions"`
	Step       int      `json:"step"`
	// Size is the training crop size (0 when unknown).
	Size   int    `json:"size"`
	Steps  int    `json:"steps,omitempty"`
	Toy    string `json:"toy,omitempty"`
	NGF    int    `json:"ngf"`
	Blocks int    `json:"blocks"`
	Loss   string `json:"loss,omitempty"`
	// Limits of /api/translate.
	MaxUploadBytes int64 `json:"max_upload_bytes"`
	MaxPixels      int64 `json:"max_pixels"`
}

func (m *Model) info() modelInfo {
	mi := modelInfo{Name: m.Name, DomainA: "A", DomainB: "B", Step: m.Step}
	for _, d := range []cyclegan.Direction{cyclegan.A2B, cyclegan.B2A} {
		if g, ok := m.Generators[d]; ok {
			mi.Directions = append(mi.Directions, string(d))
			mi.NGF, mi.Blocks = g.NGF, g.Blocks
		}
	}
	if c := m.Config; c != nil {
		// Not the data folders: a public server need not show its paths.
		mi.DomainA, mi.DomainB, mi.Size, mi.Steps, mi.Toy, mi.Loss = c.DomainA, c.DomainB, c.Size, c.Steps, c.Toy, c.Loss
	}
	return mi
}

func plainErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
