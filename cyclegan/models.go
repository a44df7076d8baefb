// Package cyclegan implements the CycleGAN of Zhu et al. (2017) with
// Wasserstein critics (WGAN-GP, Gulrajani et al. 2017): the ResNet
// generator and 70×70 PatchGAN critic of the reference implementation,
// with its parameter names, the losses, the training step, and
// checkpoints that PyTorch can read.
package cyclegan

import (
	"fmt"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// Generator is the reference's ResnetGenerator: reflection pad 3 and a 7×7
// convolution, two stride-2 convolutions, residual blocks, two stride-2
// transposed convolutions, reflection pad 3, a 7×7 convolution and tanh,
// with instance norm and ReLU between. Its parameters are named as the
// reference's state_dict names them ("model.1.weight", …).
type Generator struct {
	Model  *nn.Sequential
	NGF    int
	Blocks int
}

// NewGenerator returns a generator from 3-channel to 3-channel images with
// ngf filters in the first layer and the given number of residual blocks,
// with zero weights (see nn.InitNormal).
func NewGenerator(ngf, blocks int) *Generator {
	layers := []nn.Module{
		&nn.ReflectionPad2d{P: 3},
		nn.NewConv2d(3, ngf, 7, 1, 0, true),
		nn.NewInstanceNorm2d(ngf, false),
		nn.ReLU{},
	}
	c := ngf
	for i := 0; i < 2; i++ {
		layers = append(layers, nn.NewConv2d(c, 2*c, 3, 2, 1, true), nn.NewInstanceNorm2d(2*c, false), nn.ReLU{})
		c *= 2
	}
	for i := 0; i < blocks; i++ {
		layers = append(layers, newResnetBlock(c))
	}
	for i := 0; i < 2; i++ {
		layers = append(layers, nn.NewConvTranspose2d(c, c/2, 3, 2, 1, 1, true), nn.NewInstanceNorm2d(c/2, false), nn.ReLU{})
		c /= 2
	}
	layers = append(layers, &nn.ReflectionPad2d{P: 3}, nn.NewConv2d(c, 3, 7, 1, 0, true), nn.Tanh{})
	return &Generator{Model: nn.NewSequential(layers...), NGF: ngf, Blocks: blocks}
}

// Forward translates a batch of N×3×H×W images in [−1, 1]; H and W must be
// multiples of 4 (see Translate for any size).
func (g *Generator) Forward(x *tensor.Tensor) *tensor.Tensor { return g.Model.Forward(x) }

// Children names the network "model", as the reference does.
func (g *Generator) Children() []nn.Child { return []nn.Child{{Name: "model", Module: g.Model}} }

// resnetBlock is x + conv_block(x).
type resnetBlock struct{ body *nn.Sequential }

func newResnetBlock(c int) *resnetBlock {
	return &resnetBlock{nn.NewSequential(
		&nn.ReflectionPad2d{P: 1}, nn.NewConv2d(c, c, 3, 1, 0, true), nn.NewInstanceNorm2d(c, false), nn.ReLU{},
		&nn.ReflectionPad2d{P: 1}, nn.NewConv2d(c, c, 3, 1, 0, true), nn.NewInstanceNorm2d(c, false),
	)}
}

func (b *resnetBlock) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Add(x, b.body.Forward(x))
}

func (b *resnetBlock) Children() []nn.Child { return []nn.Child{{Name: "conv_block", Module: b.body}} }

// Critic is the reference's NLayerDiscriminator: with three layers, the
// 70×70 PatchGAN. 4×4 convolutions with leaky ReLU (slope 0.2) and instance
// norm give one unbounded score per overlapping patch (no sigmoid).
type Critic struct {
	Model  *nn.Sequential
	NDF    int
	Layers int
}

// NewCritic returns a PatchGAN critic with ndf filters in the first layer
// and the given number of stride-2 layers (3 for the 70×70 PatchGAN), with
// zero weights.
func NewCritic(ndf, layers int) *Critic {
	lrelu := nn.LeakyReLU{Slope: 0.2}
	seq := []nn.Module{nn.NewConv2d(3, ndf, 4, 2, 1, true), lrelu}
	mult := 1
	for n := 1; n < layers; n++ {
		prev := mult
		mult = min(1<<n, 8)
		seq = append(seq, nn.NewConv2d(ndf*prev, ndf*mult, 4, 2, 1, true), nn.NewInstanceNorm2d(ndf*mult, false), lrelu)
	}
	prev := mult
	mult = min(1<<layers, 8)
	seq = append(seq, nn.NewConv2d(ndf*prev, ndf*mult, 4, 1, 1, true), nn.NewInstanceNorm2d(ndf*mult, false), lrelu,
		nn.NewConv2d(ndf*mult, 1, 4, 1, 1, true))
	return &Critic{Model: nn.NewSequential(seq...), NDF: ndf, Layers: layers}
}

// Forward scores a batch of N×3×H×W images, giving N×1×h×w patch scores.
func (d *Critic) Forward(x *tensor.Tensor) *tensor.Tensor { return d.Model.Forward(x) }

// Children names the network "model", as the reference does.
func (d *Critic) Children() []nn.Child { return []nn.Child{{Name: "model", Module: d.Model}} }

// MinCriticSize returns the smallest image side a critic with the given
// number of stride-2 layers accepts: the two stride-1 4×4 convolutions at
// the end each take one pixel off a side.
func MinCriticSize(layers int) int { return 3 << layers }

// checkImage reports whether x is an N×3×H×W batch.
func checkImage(x *tensor.Tensor) error {
	if x.Rank() != 4 || x.Dim(1) != 3 {
		return fmt.Errorf("want an N×3×H×W batch, got shape %v", x.Shape())
	}
	return nil
}
