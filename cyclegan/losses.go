package cyclegan

import (
	"fmt"

	"github.com/doggogan/doggogan/tensor"
)

// Loss names an adversarial objective.
type Loss string

const (
	// WGANGP is the Wasserstein loss with gradient penalty: the critic
	// minimises E[D(fake)] − E[D(real)] + λ·E[(‖∇D(x̂)‖₂ − 1)²] over random
	// interpolates x̂, the generator minimises −E[D(fake)].
	WGANGP Loss = "wgangp"
	// LSGAN is the least-squares loss of the CycleGAN reference: the critic
	// minimises ½(E[(D(real) − 1)²] + E[D(fake)²]), the generator
	// E[(D(fake) − 1)²].
	LSGAN Loss = "lsgan"
)

// ParseLoss checks a loss name.
func ParseLoss(s string) (Loss, error) {
	switch Loss(s) {
	case WGANGP, LSGAN:
		return Loss(s), nil
	}
	return "", fmt.Errorf("unknown loss %q (want wgangp or lsgan)", s)
}

// generatorLoss is the adversarial term for the generator whose fakes the
// critic scores as pred.
func generatorLoss(kind Loss, pred *tensor.Tensor) *tensor.Tensor {
	if kind == WGANGP {
		return tensor.Neg(tensor.Mean(pred))
	}
	return tensor.Mean(tensor.Square(tensor.AddScalar(pred, -1)))
}

// criticTerms are the parts of one critic's loss.
type criticTerms struct {
	loss    *tensor.Tensor
	realAvg float64 // E[D(real)]
	fakeAvg float64 // E[D(fake)]
	gp      float64 // the penalty before weighting (WGAN-GP only)
}

// criticLoss builds the critic's loss on a real and a fake batch (fake
// carries no graph).
func criticLoss(kind Loss, d *Critic, real, fake *tensor.Tensor, gpWeight float64, rng *tensor.RNG) criticTerms {
	// One pass over real and fake together (instance norm is per sample, so
	// it is the same computation as two passes, with larger products).
	n := real.Dim(0)
	both := d.Forward(tensor.Concat(0, real, fake.Detach()))
	pr, pf := tensor.Narrow(both, 0, 0, n), tensor.Narrow(both, 0, n, fake.Dim(0))
	mr, mf := tensor.Mean(pr), tensor.Mean(pf)
	t := criticTerms{realAvg: mr.Item(), fakeAvg: mf.Item()}
	if kind == LSGAN {
		lr := tensor.Mean(tensor.Square(tensor.AddScalar(pr, -1)))
		lf := tensor.Mean(tensor.Square(pf))
		t.loss = tensor.MulScalar(tensor.Add(lr, lf), 0.5)
		return t
	}
	t.loss = tensor.Sub(mf, mr)
	if gpWeight > 0 {
		gp := GradientPenalty(d, real, fake, rng)
		t.gp = gp.Item()
		t.loss = tensor.Add(t.loss, tensor.MulScalar(gp, gpWeight))
	}
	return t
}

// GradientPenalty returns E[(‖∇ₓD(x̂)‖₂ − 1)²] over x̂ = α·real + (1−α)·fake
// with α uniform in [0, 1] per sample, differentiable with respect to the
// critic's parameters.
func GradientPenalty(d *Critic, real, fake *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
	n := real.Dim(0)
	alpha := rng.Uniform(real.DType(), 0, 1, n, 1, 1, 1)
	xhat := tensor.Add(tensor.Mul(alpha, real.Detach()), tensor.Mul(tensor.AddScalar(tensor.Neg(alpha), 1), fake.Detach()))
	xhat = xhat.Detach().SetRequiresGrad(true)
	out := tensor.Sum(d.Forward(xhat))
	g := tensor.Grad([]*tensor.Tensor{out}, []*tensor.Tensor{xhat}, nil, true)[0]
	return tensor.Mean(tensor.Square(tensor.AddScalar(tensor.NormPerSample(g), -1)))
}

// l1 is the mean absolute difference.
func l1(a, b *tensor.Tensor) *tensor.Tensor { return tensor.Mean(tensor.Abs(tensor.Sub(a, b))) }
