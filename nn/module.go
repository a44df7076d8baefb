// Package nn builds neural networks on package tensor: modules with named
// parameters (named as PyTorch's state_dict names them), weight
// initialisation, the Adam optimiser and learning-rate schedules.
package nn

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/doggogan/doggogan/tensor"
)

// Module is a layer or a network: a function of one tensor.
type Module interface {
	Forward(x *tensor.Tensor) *tensor.Tensor
}

// Param is a named parameter. Names join the path of modules with dots, as
// in a PyTorch state_dict ("model.1.weight").
type Param struct {
	Name string
	T    *tensor.Tensor
}

// Child is a named sub-module.
type Child struct {
	Name   string
	Module Module
}

// Parent is implemented by modules that contain other modules.
type Parent interface {
	Children() []Child
}

// Holder is implemented by modules that own parameters directly.
type Holder interface {
	OwnParams() []Param
}

// Params returns every parameter of m and its sub-modules, depth first in
// declaration order, with names prefixed by prefix (which may be empty).
func Params(m Module, prefix string) []Param {
	var out []Param
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "." + b
	}
	if h, ok := m.(Holder); ok {
		for _, p := range h.OwnParams() {
			if p.T != nil {
				out = append(out, Param{join(prefix, p.Name), p.T})
			}
		}
	}
	if pa, ok := m.(Parent); ok {
		for _, c := range pa.Children() {
			out = append(out, Params(c.Module, join(prefix, c.Name))...)
		}
	}
	return out
}

// Tensors returns the tensors of params.
func Tensors(params []Param) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		ts[i] = p.T
	}
	return ts
}

// SetRequiresGrad marks every parameter as needing gradients, or not (as
// a critic's parameters are frozen while the generators learn).
func SetRequiresGrad(params []Param, b bool) {
	for _, p := range params {
		p.T.SetRequiresGrad(b)
	}
}

// ZeroGrad clears the accumulated gradients of params.
func ZeroGrad(params []Param) {
	for _, p := range params {
		p.T.SetGrad(nil)
	}
}

// Sequential applies its layers in order; its children are named "0", "1",
// … like PyTorch's nn.Sequential.
type Sequential struct {
	Layers []Module
}

// NewSequential returns a Sequential of the given layers.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

// Forward applies the layers in order, fusing neighbours that have a
// one-pass implementation with the same result: a ReflectionPad2d followed
// by a Conv2d without padding of its own runs as one convolution with
// reflection padding, and an InstanceNorm2d without affine parameters
// followed by a ReLU or LeakyReLU as one normalisation-activation pass.
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	for i := 0; i < len(s.Layers); i++ {
		var next Module
		if i+1 < len(s.Layers) {
			next = s.Layers[i+1]
		}
		switch l := s.Layers[i].(type) {
		case *ReflectionPad2d:
			if c, ok := next.(*Conv2d); ok && c.Padding == 0 && c.fusable(x, l.P) {
				x = c.forward(x, l.P, tensor.PadReflect)
				i++
				continue
			}
		case *InstanceNorm2d:
			if l.Weight == nil {
				switch a := next.(type) {
				case ReLU:
					x = tensor.InstanceNormReLU(x, l.Eps)
					i++
					continue
				case LeakyReLU:
					x = tensor.InstanceNormLeakyReLU(x, l.Eps, a.Slope)
					i++
					continue
				}
			}
		}
		x = s.Layers[i].Forward(x)
	}
	return x
}

// Children names the layers by index.
func (s *Sequential) Children() []Child {
	cs := make([]Child, len(s.Layers))
	for i, l := range s.Layers {
		cs[i] = Child{strconv.Itoa(i), l}
	}
	return cs
}

// Conv2d is a 2-D convolution layer with weight K×C×KH×KW and optional bias.
type Conv2d struct {
	Weight, Bias *tensor.Tensor
	Stride       int
	Padding      int // zero padding on each side
}

// NewConv2d returns a convolution from in to out channels with a k×k
// kernel, zero-initialised (see the Init functions).
func NewConv2d(in, out, k, stride, padding int, bias bool) *Conv2d {
	c := &Conv2d{Weight: tensor.Zeros(out, in, k, k).SetRequiresGrad(true), Stride: stride, Padding: padding}
	if bias {
		c.Bias = tensor.Zeros(out).SetRequiresGrad(true)
	}
	return c
}

// Forward convolves x.
func (c *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return c.forward(x, c.Padding, tensor.PadZero)
}

func (c *Conv2d) forward(x *tensor.Tensor, pad int, mode tensor.PadMode) *tensor.Tensor {
	return tensor.Conv2d(x, c.Weight, c.Bias, tensor.ConvOptions{Stride: c.Stride, Padding: pad, Mode: mode})
}

// fusable reports whether reflection padding p can be folded into c for x.
func (c *Conv2d) fusable(x *tensor.Tensor, p int) bool {
	return x.Rank() == 4 && p < x.Dim(2) && p < x.Dim(3)
}

// OwnParams returns "weight" and, if present, "bias".
func (c *Conv2d) OwnParams() []Param {
	return []Param{{"weight", c.Weight}, {"bias", c.Bias}}
}

// ConvTranspose2d is a transposed convolution layer with weight
// Cin×Cout×KH×KW (PyTorch's layout) and optional bias.
type ConvTranspose2d struct {
	Weight, Bias  *tensor.Tensor
	Stride        int
	Padding       int
	OutputPadding int
}

// NewConvTranspose2d returns a transposed convolution from in to out
// channels with a k×k kernel, zero-initialised.
func NewConvTranspose2d(in, out, k, stride, padding, outputPadding int, bias bool) *ConvTranspose2d {
	c := &ConvTranspose2d{Weight: tensor.Zeros(in, out, k, k).SetRequiresGrad(true), Stride: stride, Padding: padding, OutputPadding: outputPadding}
	if bias {
		c.Bias = tensor.Zeros(out).SetRequiresGrad(true)
	}
	return c
}

// Forward applies the transposed convolution.
func (c *ConvTranspose2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.ConvTranspose2d(x, c.Weight, c.Bias, tensor.ConvOptions{Stride: c.Stride, Padding: c.Padding, OutputPadding: c.OutputPadding})
}

// OwnParams returns "weight" and, if present, "bias".
func (c *ConvTranspose2d) OwnParams() []Param {
	return []Param{{"weight", c.Weight}, {"bias", c.Bias}}
}

// InstanceNorm2d normalises each channel of each sample over its pixels,
// optionally followed by a per-channel scale and shift (affine).
type InstanceNorm2d struct {
	Eps          float64
	Weight, Bias *tensor.Tensor // nil unless affine
}

// NewInstanceNorm2d returns an instance norm over c channels with PyTorch's
// default eps of 1e-5.
func NewInstanceNorm2d(c int, affine bool) *InstanceNorm2d {
	n := &InstanceNorm2d{Eps: 1e-5}
	if affine {
		n.Weight = tensor.Full(tensor.Float32, 1, c).SetRequiresGrad(true)
		n.Bias = tensor.Zeros(c).SetRequiresGrad(true)
	}
	return n
}

// Forward normalises x.
func (n *InstanceNorm2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := tensor.InstanceNorm2d(x, n.Eps)
	if n.Weight != nil {
		c := x.Dim(1)
		y = tensor.Add(tensor.Mul(y, tensor.Reshape(n.Weight, 1, c, 1, 1)), tensor.Reshape(n.Bias, 1, c, 1, 1))
	}
	return y
}

// OwnParams returns the affine parameters, if any.
func (n *InstanceNorm2d) OwnParams() []Param {
	return []Param{{"weight", n.Weight}, {"bias", n.Bias}}
}

// ReflectionPad2d pads each side of an image by P pixels, mirroring.
type ReflectionPad2d struct{ P int }

// Forward pads x.
func (p *ReflectionPad2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	return tensor.Pad2d(x, p.P, p.P, p.P, p.P, tensor.PadReflect)
}

// ReLU is max(x, 0).
type ReLU struct{}

// Forward applies ReLU.
func (ReLU) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Relu(x) }

// LeakyReLU is x for x > 0 and Slope·x otherwise.
type LeakyReLU struct{ Slope float64 }

// Forward applies the leaky ReLU.
func (l LeakyReLU) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.LeakyRelu(x, l.Slope) }

// Tanh is the hyperbolic tangent.
type Tanh struct{}

// Forward applies tanh.
func (Tanh) Forward(x *tensor.Tensor) *tensor.Tensor { return tensor.Tanh(x) }

// Func adapts a function to a Module without parameters.
type Func func(*tensor.Tensor) *tensor.Tensor

// Forward calls f.
func (f Func) Forward(x *tensor.Tensor) *tensor.Tensor { return f(x) }

// LoadState copies values into the parameters of m by name. Every
// parameter must be present with the right number of elements; names in
// values that m lacks are reported too.
func LoadState(m Module, values map[string]*tensor.Tensor) error {
	params := Params(m, "")
	seen := map[string]bool{}
	for _, p := range params {
		v, ok := values[p.Name]
		if !ok {
			return fmt.Errorf("missing tensor %q", p.Name)
		}
		if !slices.Equal(v.Shape(), p.T.Shape()) {
			return fmt.Errorf("tensor %q has shape %v, the model needs %v", p.Name, v.Shape(), p.T.Shape())
		}
		p.T.CopyFrom_(tensor.ToDType(v.Detach(), p.T.DType()))
		seen[p.Name] = true
	}
	for name := range values {
		if !seen[name] {
			return fmt.Errorf("unexpected tensor %q", name)
		}
	}
	return nil
}
