package data

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Latent is the parameter vector of one toy scene: a toy-specific list of
// numbers in [0, 1), drawn by Toy.Sample. Rendering the same latent in both
// domains of a toy gives a ground-truth pair.
type Latent []float64

// Toy is a built-in synthetic pair of domains, rendered procedurally from a
// latent, with no files.
type Toy interface {
	// Name is the toy's name ("seasons", "pets").
	Name() string
	// Domains returns the names of domain 0 (A) and domain 1 (B).
	Domains() (a, b string)
	// Sample draws a latent from rng.
	Sample(rng *rand.Rand) Latent
	// Render draws latent l in domain 0 or 1 as a 3×size×size CHW tensor in
	// [−1, 1] into dst (len(dst) ≥ 3×size×size; it panics otherwise or if
	// size is outside [MinToySize, MaxToySize]). It is anti-aliased and
	// deterministic: the same latent and size give the same values on every
	// platform (integer pixel arithmetic, no transcendental functions).
	Render(l Latent, domain int, size int, dst []float32)
}

// Bounds of the toy render sizes.
const (
	MinToySize = 8
	MaxToySize = 512
)

var toys = map[string]Toy{}

func registerToy(t Toy) { toys[t.Name()] = t }

func init() {
	registerToy(seasonsToy{})
	registerToy(petsToy{})
}

// ToyNames returns the names of the built-in toys, sorted.
func ToyNames() []string {
	names := make([]string, 0, len(toys))
	for n := range toys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ToyByName returns the toy with the given name.
func ToyByName(name string) (Toy, error) {
	if t, ok := toys[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown toy %q (the built-in toys are %v)", name, ToyNames())
}

// ToySourceOptions configures a ToySource.
type ToySourceOptions struct {
	Domain int    // 0 (A) or 1 (B)
	Size   int    // side in pixels, MinToySize to MaxToySize
	Seed   uint64 // seed of the stream
	Start  int64  // first stream position
	// Paired makes the latent at position i depend only on (Seed, i), so
	// two Paired sources with the same seed and different domains show the
	// same scenes (ground-truth pairs, for evaluation). When false the
	// domain is mixed into the seed, so the two domains of a training run
	// draw independent latents (unpaired) even from the same seed.
	Paired bool
}

// ToySource is a Source of toy samples: the sample at position i is the
// rendering, in the chosen domain, of the latent drawn from a generator
// seeded by (seed, i).
type ToySource struct {
	toy Toy
	opt ToySourceOptions
	pos int64
}

// NewToySource returns a ToySource.
func NewToySource(t Toy, opt ToySourceOptions) (*ToySource, error) {
	if opt.Domain != 0 && opt.Domain != 1 {
		return nil, fmt.Errorf("toy %s: domain %d is not 0 or 1", t.Name(), opt.Domain)
	}
	if opt.Size < MinToySize || opt.Size > MaxToySize {
		return nil, fmt.Errorf("toy %s: size %d is outside [%d, %d]", t.Name(), opt.Size, MinToySize, MaxToySize)
	}
	if opt.Start < 0 {
		return nil, fmt.Errorf("toy %s: negative start position %d", t.Name(), opt.Start)
	}
	return &ToySource{toy: t, opt: opt, pos: opt.Start}, nil
}

// Latent returns the latent of the sample at stream position pos.
func (s *ToySource) Latent(pos int64) Latent {
	seed := s.opt.Seed
	if !s.opt.Paired {
		seed = splitmix64(seed ^ uint64(s.opt.Domain+1)*0x9e3779b97f4a7c15)
	}
	return s.toy.Sample(newRand(seed, streamLatent, uint64(pos)))
}

// Next renders the next len(dst)/SampleLen() samples into dst.
func (s *ToySource) Next(dst []float32) error {
	sl := s.SampleLen()
	if len(dst) == 0 || len(dst)%sl != 0 {
		return fmt.Errorf("data: batch buffer of %d values is not a positive multiple of the sample size %d", len(dst), sl)
	}
	for o := 0; o < len(dst); o += sl {
		s.toy.Render(s.Latent(s.pos), s.opt.Domain, s.opt.Size, dst[o:o+sl])
		s.pos++
	}
	return nil
}

// SetPosition moves the stream to position pos.
func (s *ToySource) SetPosition(pos int64) error {
	if pos < 0 {
		return fmt.Errorf("data: negative position %d", pos)
	}
	s.pos = pos
	return nil
}

// Position returns the position of the next sample.
func (s *ToySource) Position() int64 { return s.pos }

// SampleLen returns 3×Size×Size.
func (s *ToySource) SampleLen() int { return 3 * s.opt.Size * s.opt.Size }

// Size returns the side of the samples.
func (s *ToySource) Size() int { return s.opt.Size }

// Close does nothing; it is there to satisfy Source.
func (s *ToySource) Close() error { return nil }

var _ Source = (*ToySource)(nil)

// sampleLatent draws n uniform numbers.
func sampleLatent(rng *rand.Rand, n int) Latent {
	l := make(Latent, n)
	for i := range l {
		l[i] = unit(rng)
	}
	return l
}

// checkRender validates Render's arguments.
func checkRender(name string, l Latent, n, domain, size int, dst []float32) {
	if len(l) < n {
		panic(fmt.Sprintf("data: %s latent has %d values, want %d", name, len(l), n))
	}
	if domain != 0 && domain != 1 {
		panic(fmt.Sprintf("data: %s domain %d is not 0 or 1", name, domain))
	}
	if size < MinToySize || size > MaxToySize {
		panic(fmt.Sprintf("data: %s size %d is outside [%d, %d]", name, size, MinToySize, MaxToySize))
	}
	if len(dst) < 3*size*size {
		panic(fmt.Sprintf("data: %s dst holds %d values, want %d", name, len(dst), 3*size*size))
	}
}
