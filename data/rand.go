package data

import (
	"math/bits"
	"math/rand/v2"
)

// Stream tags keep the random streams drawn from one seed independent.
const (
	streamShuffle uint64 = 0x5348554646 // "SHUFF"
	streamAugment uint64 = 0x4155474d   // "AUGM"
	streamLatent  uint64 = 0x4c4154     // "LAT"
)

// splitmix64 is a bijective 64-bit mixer (the SplitMix64 finaliser).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns the generator for item i of the given stream of seed. Its
// output depends only on (seed, stream, i): PCG's output is fixed by its
// specification, and every draw in this package goes through Uint64.
func newRand(seed, stream, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed^splitmix64(stream)), splitmix64(i+splitmix64(stream+1))))
}

// intn returns a number in [0, n) from r (0 when n ≤ 1, without drawing).
func intn(r *rand.Rand, n int) int {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

// unit returns a float64 in [0, 1) from r.
func unit(r *rand.Rand) float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// permutation returns the shuffled order of n items for one epoch
// (Fisher–Yates driven by intn, so independent of math/rand's internals).
func permutation(seed uint64, epoch int64, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r := newRand(seed, streamShuffle, uint64(epoch))
	for i := n - 1; i > 0; i-- {
		j := intn(r, i+1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
