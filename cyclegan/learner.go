package cyclegan

import (
	"fmt"
	"math"

	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// Options are the training hyper-parameters.
type Options struct {
	Loss        Loss    // adversarial objective
	GPWeight    float64 // λ_gp of WGAN-GP
	NCritic     int     // critic updates per generator update
	LambdaCycle float64 // weight of the cycle-consistency L1 terms
	LambdaID    float64 // weight of the identity L1 terms relative to LambdaCycle
	PoolSize    int     // images in each history pool
	LR          float64 // Adam's base learning rate
	Beta1       float64
	Beta2       float64
	Schedule    nn.LinearDecay // learning-rate schedule over generator steps
}

// DefaultOptions returns the defaults of the CycleGAN paper with a
// WGAN-GP objective.
func DefaultOptions() Options {
	return Options{Loss: WGANGP, GPWeight: 10, NCritic: 1, LambdaCycle: 10, LambdaID: 0.5,
		PoolSize: 50, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}
}

// Nets are the four networks: G_A translates A to B, G_B translates B to A,
// D_A scores images of A and D_B images of B (the reference's names).
type Nets struct {
	GA, GB *Generator
	DA, DB *Critic
}

// NewNets returns the four networks initialised as the reference does
// (normal(0, 0.02) weights, zero biases).
func NewNets(ngf, blocks, ndf, criticLayers int, rng *tensor.RNG) *Nets {
	n := &Nets{GA: NewGenerator(ngf, blocks), GB: NewGenerator(ngf, blocks), DA: NewCritic(ndf, criticLayers), DB: NewCritic(ndf, criticLayers)}
	for _, m := range []nn.Module{n.GA, n.GB, n.DA, n.DB} {
		nn.InitNormal(m, 0.02, rng)
	}
	return n
}

// Losses are the terms of one training step, for logging.
type Losses struct {
	Step      int     // the generator step these losses belong to (from 1)
	GA, GB    float64 // adversarial terms of G_A (fooling D_B) and G_B (fooling D_A)
	CycleA    float64 // ‖G_B(G_A(a)) − a‖₁ (mean, before λ)
	CycleB    float64
	IdtA      float64 // ‖G_A(b) − b‖₁ (mean, before weighting)
	IdtB      float64
	DA, DB    float64 // critic losses
	WDistA    float64 // E[D_A(real)] − E[D_A(fake)], the critic's Wasserstein estimate
	WDistB    float64
	GPA, GPB  float64 // gradient penalties before λ_gp
	LRScale   float64 // learning-rate multiplier used
	Generator float64 // the generators' total loss
}

// Learner trains the four networks.
type Learner struct {
	Nets         *Nets
	Opt          Options
	OptG, OptD   *nn.Adam
	PoolA, PoolB *ImagePool
	RNG          *tensor.RNG // interpolation weights and pool choices
	Steps        int         // generator updates done

	gParams, dParams []nn.Param
	arena            *tensor.Arena // storage of each step's intermediate tensors
}

// NewLearner returns a learner for nets; rng drives the pool and the
// gradient-penalty interpolation.
func NewLearner(nets *Nets, opt Options, rng *tensor.RNG) *Learner {
	l := &Learner{Nets: nets, Opt: opt, RNG: rng, PoolA: NewImagePool(opt.PoolSize), PoolB: NewImagePool(opt.PoolSize),
		arena: tensor.NewArena()}
	l.gParams = append(nn.Params(nets.GA, "G_A"), nn.Params(nets.GB, "G_B")...)
	l.dParams = append(nn.Params(nets.DA, "D_A"), nn.Params(nets.DB, "D_B")...)
	l.OptG = nn.NewAdam(l.gParams, opt.LR, opt.Beta1, opt.Beta2)
	l.OptD = nn.NewAdam(l.dParams, opt.LR, opt.Beta1, opt.Beta2)
	return l
}

// NonFiniteError reports a NaN or infinity in a loss or gradient.
type NonFiniteError struct {
	Step    int
	Network string // "G_A", "D_B", …
	What    string // the loss or parameter
}

// Error says which step, network and quantity went wrong.
func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("step %d: %s is not finite (in %s); the networks were not updated", e.Step, e.What, e.Network)
}

// Batches supplies further real batches for extra critic updates.
type Batches func() (a, b *tensor.Tensor, err error)

// Step makes one generator update on the batches realA and realB and then
// Opt.NCritic critic updates, the first on the same batches and the fakes
// just made, the others on batches from more (which may be nil when
// NCritic is 1). A NaN or infinity in any loss or gradient stops the step
// before the networks concerned are updated and returns a *NonFiniteError.
// Step copies each batch as it takes it, so the caller may reuse a batch's
// storage for the next one that more returns.
func (l *Learner) Step(realA, realB *tensor.Tensor, more Batches) (Losses, error) {
	if err := checkImage(realA); err != nil {
		return Losses{}, fmt.Errorf("domain A batch: %v", err)
	}
	if err := checkImage(realB); err != nil {
		return Losses{}, fmt.Errorf("domain B batch: %v", err)
	}
	o := l.Opt
	n := l.Nets
	step := l.Steps + 1
	// Every tensor of the step lives in the arena, recycled when it ends.
	defer func() {
		nn.ZeroGrad(l.gParams)
		nn.ZeroGrad(l.dParams)
		l.arena.Reset()
	}()
	realA, realB = l.arena.Copy(realA), l.arena.Copy(realB)
	lrScale := o.Schedule.Factor(l.Steps)
	ls := Losses{Step: step, LRScale: lrScale}

	// Generators: the critics are frozen.
	nn.SetRequiresGrad(l.dParams, false)
	// Each generator first runs once on a batch of its real inputs and the
	// other domain's (for the identity loss): instance norm is per sample,
	// so this is the same computation as separate passes, with larger and
	// fewer matrix products.
	bs := realA.Dim(0)
	var fakeB, fakeA, idtOfB, idtOfA *tensor.Tensor
	if o.LambdaID > 0 {
		outA := n.GA.Forward(tensor.Concat(0, realA, realB))
		outB := n.GB.Forward(tensor.Concat(0, realB, realA))
		fakeB, idtOfB = tensor.Narrow(outA, 0, 0, bs), tensor.Narrow(outA, 0, bs, bs)
		fakeA, idtOfA = tensor.Narrow(outB, 0, 0, bs), tensor.Narrow(outB, 0, bs, bs)
	} else {
		fakeB, fakeA = n.GA.Forward(realA), n.GB.Forward(realB)
	}
	recA := n.GB.Forward(fakeB)
	recB := n.GA.Forward(fakeA)
	advA := generatorLoss(o.Loss, n.DB.Forward(fakeB))
	advB := generatorLoss(o.Loss, n.DA.Forward(fakeA))
	cycA, cycB := l1(recA, realA), l1(recB, realB)
	total := tensor.Add(tensor.Add(advA, advB), tensor.MulScalar(tensor.Add(cycA, cycB), o.LambdaCycle))
	ls.GA, ls.GB, ls.CycleA, ls.CycleB = advA.Item(), advB.Item(), cycA.Item(), cycB.Item()
	if o.LambdaID > 0 {
		idtA, idtB := l1(idtOfB, realB), l1(idtOfA, realA)
		ls.IdtA, ls.IdtB = idtA.Item(), idtB.Item()
		total = tensor.Add(total, tensor.MulScalar(tensor.Add(idtA, idtB), o.LambdaCycle*o.LambdaID))
	}
	ls.Generator = total.Item()
	nn.SetRequiresGrad(l.dParams, true)
	for _, v := range []struct {
		net, what string
		v         float64
	}{{"G_A", "adversarial loss", ls.GA}, {"G_B", "adversarial loss", ls.GB}, {"G_A and G_B", "cycle loss A", ls.CycleA},
		{"G_A and G_B", "cycle loss B", ls.CycleB}, {"G_A", "identity loss", ls.IdtA}, {"G_B", "identity loss", ls.IdtB}} {
		if !finite(v.v) {
			return ls, &NonFiniteError{step, v.net, v.what}
		}
	}
	// The fakes outlive the generators' backward pass, which recycles the
	// storage of the graph's tensors: copy them out first.
	fA, fB := l.arena.Copy(fakeA), l.arena.Copy(fakeB)
	nn.ZeroGrad(l.gParams)
	tensor.BackwardAndRecycle(total)
	if err := checkGrads(step, l.gParams); err != nil {
		nn.ZeroGrad(l.gParams)
		return ls, err
	}
	l.OptG.Update(lrScale)
	l.releaseGrads(l.gParams)

	// Critics.
	for k := 0; k < max(o.NCritic, 1); k++ {
		if k > 0 {
			if more == nil {
				return ls, fmt.Errorf("NCritic %d needs a source of further batches", o.NCritic)
			}
			var err error
			if realA, realB, err = more(); err != nil {
				return ls, err
			}
			realA, realB = l.arena.Copy(realA), l.arena.Copy(realB)
			nn.SetRequiresGrad(l.gParams, false)
			fB, fA = n.GA.Forward(realA), n.GB.Forward(realB)
			nn.SetRequiresGrad(l.gParams, true)
		}
		pB, pA := l.PoolB.Query(fB, l.RNG), l.PoolA.Query(fA, l.RNG)
		tB := criticLoss(o.Loss, n.DB, realB, pB, o.GPWeight, l.RNG)
		tA := criticLoss(o.Loss, n.DA, realA, pA, o.GPWeight, l.RNG)
		ls.DA, ls.DB = tA.loss.Item(), tB.loss.Item()
		ls.WDistA, ls.WDistB = tA.realAvg-tA.fakeAvg, tB.realAvg-tB.fakeAvg
		ls.GPA, ls.GPB = tA.gp, tB.gp
		if !finite(ls.DA) {
			return ls, &NonFiniteError{step, "D_A", "critic loss"}
		}
		if !finite(ls.DB) {
			return ls, &NonFiniteError{step, "D_B", "critic loss"}
		}
		nn.ZeroGrad(l.dParams)
		tensor.BackwardAndRecycle(tA.loss, tB.loss)
		if err := checkGrads(step, l.dParams); err != nil {
			nn.ZeroGrad(l.dParams)
			return ls, err
		}
		l.OptD.Update(lrScale)
		l.releaseGrads(l.dParams)
	}
	l.Steps = step
	return ls, nil
}

// ArenaBytes reports the most storage a step's intermediate tensors used at
// once, and what the learner's step arena holds for reuse.
func (l *Learner) ArenaBytes() (peak, held int64) {
	_, held = l.arena.Bytes()
	return l.arena.Peak(), held
}

// releaseGrads hands the parameters' gradients back to the step's arena
// and clears them.
func (l *Learner) releaseGrads(params []nn.Param) {
	for _, p := range params {
		l.arena.Free(p.T.Grad())
		p.T.SetGrad(nil)
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func checkGrads(step int, params []nn.Param) error {
	for _, p := range params {
		g := p.T.Grad()
		if g == nil {
			continue
		}
		// The sum of finite float32 values cannot overflow a float64: it is
		// finite exactly when every value is.
		if !finite(kernels.Sum(g.Float32s())) {
			net := p.Name
			if len(net) > 3 {
				net = net[:3]
			}
			return &NonFiniteError{step, net, "the gradient of " + p.Name[4:]}
		}
	}
	return nil
}
