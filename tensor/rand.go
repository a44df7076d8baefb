package tensor

import "math/rand/v2"

// RNG is a seeded random number generator whose state can be saved and
// restored, so that an interrupted training run resumes exactly.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &RNG{src: src, r: rand.New(src)}
}

// Float64 returns a uniform number in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// NormFloat64 returns a standard normal number.
func (g *RNG) NormFloat64() float64 { return g.r.NormFloat64() }

// IntN returns a uniform integer in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Uint64 returns a uniform 64-bit integer.
func (g *RNG) Uint64() uint64 { return g.r.Uint64() }

// Uniform returns a tensor of independent uniform numbers in [lo, hi).
func (g *RNG) Uniform(dt DType, lo, hi float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Numel(); i++ {
		t.set(i, lo+(hi-lo)*g.r.Float64())
	}
	return t
}

// Normal returns a tensor of independent normal numbers.
func (g *RNG) Normal(dt DType, mean, std float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	for i := 0; i < t.Numel(); i++ {
		t.set(i, mean+std*g.r.NormFloat64())
	}
	return t
}

// MarshalBinary returns the generator's state.
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state returned by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error { return g.src.UnmarshalBinary(b) }

func (t *Tensor) set(i int, v float64) {
	if t.dtype == Float32 {
		t.f32[i] = float32(v)
	} else {
		t.f64[i] = v
	}
}
