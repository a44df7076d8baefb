// Package onnx exports doggogan generators as ONNX models, so that a
// network trained (or imported) with doggogan runs in ONNX Runtime,
// TensorRT, OpenVINO, a browser (onnxruntime-web) or anything else that
// reads ONNX.
//
// The exported graph is the generator layer for layer, in the default
// ai.onnx operator set at version Opset: Pad (mode "reflect"), Conv,
// InstanceNormalization (scale 1 and bias 0 for the reference's
// non-affine instance norm), Relu, ConvTranspose (with output_padding),
// Add for the residual connections, and Tanh. Initializers keep the
// PyTorch state_dict names ("model.1.weight", ...).
//
// The model's input "input" and output "output" are float32 tensors of
// shape [N, 3, H, W] with symbolic N, H and W: one file serves every image
// size. Images are RGB scaled to [−1, 1] (pixel/127.5 − 1), and the output
// is in [−1, 1] too. H and W must be multiples of 4 (the generator halves
// them twice and doubles them back) and at least 8 (the residual blocks
// reflect-pad the quarter-size maps by one pixel); pad other sizes by
// reflection first and crop the output, as cyclegan.(*Generator).Translate
// does.
//
// The protobuf is written by hand with
// google.golang.org/protobuf/encoding/protowire from the subset of
// onnx.proto in proto.go; Unmarshal reads it back.
package onnx

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/internal/atomicfile"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// Opset is the version of the default ONNX operator set the exported
// models import. Every operator used has had its present semantics since
// opset 13 or earlier; 18 is the first with Pad's optional axes input and
// is supported by ONNX Runtime 1.14 and later.
const Opset = 18

// IRVersion is the ONNX IR version written: 8, the version that goes with
// opset 18 (ONNX 1.13).
const IRVersion = 8

// Names of the graph's input and output.
const (
	InputName  = "input"
	OutputName = "output"
)

// Options adjust an export.
type Options struct {
	// GraphName names the graph; "doggogan_generator" if empty.
	GraphName string
	// ProducerVersion is written as the model's producer_version.
	ProducerVersion string
	// Metadata is written as metadata_props, besides the entries the
	// exporter adds itself (doggogan.ngf, doggogan.blocks, doggogan.input,
	// doggogan.output).
	Metadata map[string]string
}

// FromGenerator builds the ONNX model of a generator. It fails only if the
// generator holds a layer that has no ONNX translation here.
func FromGenerator(g *cyclegan.Generator, opt Options) (*Model, error) {
	if g == nil || g.Model == nil {
		return nil, fmt.Errorf("onnx: no generator to export")
	}
	e := &exporter{graph: &Graph{Name: opt.GraphName}, consts: map[string]bool{}}
	if e.graph.Name == "" {
		e.graph.Name = "doggogan_generator"
	}
	out, c, err := e.module(g.Model, "model", InputName, 3)
	if err != nil {
		return nil, err
	}
	if out == InputName || len(e.graph.Node) == 0 {
		return nil, fmt.Errorf("onnx: the generator has no layers")
	}
	last := e.graph.Node[len(e.graph.Node)-1]
	if last.Output[0] != out {
		return nil, fmt.Errorf("onnx: internal error: the last node does not produce the output")
	}
	last.Output[0] = OutputName
	shape := func(c int) []Dim { return []Dim{{Param: "N"}, {Value: int64(c)}, {Param: "H"}, {Param: "W"}} }
	e.graph.Input = []*ValueInfo{{Name: InputName, Type: &TypeProto{ElemType: Float, Shape: shape(3)}}}
	e.graph.Output = []*ValueInfo{{Name: OutputName, Type: &TypeProto{ElemType: Float, Shape: shape(c)}}}
	e.graph.DocString = "CycleGAN ResnetGenerator exported by doggogan. " + inputDoc

	meta := map[string]string{
		"doggogan.ngf":    strconv.Itoa(g.NGF),
		"doggogan.blocks": strconv.Itoa(g.Blocks),
		"doggogan.input":  inputDoc,
		"doggogan.output": "RGB, N×3×H×W float32 in [-1, 1] (tanh); pixel = (v + 1) * 127.5",
	}
	for k, v := range opt.Metadata {
		meta[k] = v
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := &Model{
		IRVersion:       IRVersion,
		ProducerName:    "doggogan",
		ProducerVersion: opt.ProducerVersion,
		Graph:           e.graph,
		OpsetImport:     []OperatorSetID{{Domain: "", Version: Opset}},
	}
	for _, k := range keys {
		m.MetadataProps = append(m.MetadataProps, StringEntry{k, meta[k]})
	}
	return m, nil
}

const inputDoc = "RGB, N×3×H×W float32 in [-1, 1] (pixel/127.5 - 1); H and W multiples of 4, at least 8"

// WriteFile writes a model to path atomically: a crash leaves either the
// old file or the complete new one.
func WriteFile(path string, m *Model) error {
	b := m.Marshal()
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ReadFile reads a model written by WriteFile (or any ONNX file; see
// Unmarshal). Errors name the file.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// exporter appends the nodes and initializers of a module walk.
type exporter struct {
	graph  *Graph
	consts map[string]bool // names of shared constant initializers
}

func (e *exporter) node(op, out string, in []string, attrs ...*Attribute) string {
	e.graph.Node = append(e.graph.Node, &Node{OpType: op, Name: out, Input: in, Output: []string{out}, Attribute: attrs})
	return out
}

func (e *exporter) param(name string, t *tensor.Tensor) string {
	shape := t.Shape()
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	e.graph.Initializer = append(e.graph.Initializer, FloatTensor(name, dims, tensor.ToDType(t.Detach(), tensor.Float32).Float32s()))
	return name
}

// constant adds a shared constant once and returns its name.
func (e *exporter) constant(t *Tensor) string {
	if !e.consts[t.Name] {
		e.consts[t.Name] = true
		e.graph.Initializer = append(e.graph.Initializer, t)
	}
	return t.Name
}

// module translates m, named path, applied to the value in with c
// channels; it returns the output value and its channel count.
func (e *exporter) module(m nn.Module, path, in string, c int) (string, int, error) {
	switch l := m.(type) {
	case *nn.Sequential:
		var err error
		for i, sub := range l.Layers {
			if in, c, err = e.module(sub, path+"."+strconv.Itoa(i), in, c); err != nil {
				return "", 0, err
			}
		}
		return in, c, nil
	case *nn.ReflectionPad2d:
		p := int64(l.P)
		// Pad's pads input lists the begin pads of every axis, then the end
		// pads: [N, C, H, W begins, N, C, H, W ends].
		pads := e.constant(Int64Tensor("pads_reflect_"+strconv.Itoa(l.P), []int64{8}, []int64{0, 0, p, p, 0, 0, p, p}))
		return e.node("Pad", path, []string{in, pads}, StringAttr("mode", "reflect")), c, nil
	case *nn.Conv2d:
		s := l.Weight.Shape()
		if len(s) != 4 || s[1] != c {
			return "", 0, fmt.Errorf("onnx: %s: weight of shape %v does not take %d channels", path, s, c)
		}
		inputs := []string{in, e.param(path+".weight", l.Weight)}
		if l.Bias != nil {
			inputs = append(inputs, e.param(path+".bias", l.Bias))
		}
		p, st := int64(l.Padding), int64(l.Stride)
		return e.node("Conv", path, inputs,
			IntsAttr("kernel_shape", int64(s[2]), int64(s[3])), IntsAttr("strides", st, st),
			IntsAttr("pads", p, p, p, p), IntsAttr("dilations", 1, 1), IntAttr("group", 1)), s[0], nil
	case *nn.ConvTranspose2d:
		s := l.Weight.Shape()
		if len(s) != 4 || s[0] != c {
			return "", 0, fmt.Errorf("onnx: %s: weight of shape %v does not take %d channels", path, s, c)
		}
		inputs := []string{in, e.param(path+".weight", l.Weight)}
		if l.Bias != nil {
			inputs = append(inputs, e.param(path+".bias", l.Bias))
		}
		p, st, op := int64(l.Padding), int64(l.Stride), int64(l.OutputPadding)
		return e.node("ConvTranspose", path, inputs,
			IntsAttr("kernel_shape", int64(s[2]), int64(s[3])), IntsAttr("strides", st, st),
			IntsAttr("pads", p, p, p, p), IntsAttr("output_padding", op, op), IntsAttr("dilations", 1, 1),
			IntAttr("group", 1)), s[1], nil
	case *nn.InstanceNorm2d:
		var scale, bias string
		if l.Weight != nil {
			scale, bias = e.param(path+".weight", l.Weight), e.param(path+".bias", l.Bias)
		} else {
			ones := make([]float32, c)
			for i := range ones {
				ones[i] = 1
			}
			scale = e.constant(FloatTensor("instance_norm_scale_"+strconv.Itoa(c), []int64{int64(c)}, ones))
			bias = e.constant(FloatTensor("instance_norm_bias_"+strconv.Itoa(c), []int64{int64(c)}, make([]float32, c)))
		}
		return e.node("InstanceNormalization", path, []string{in, scale, bias}, FloatAttr("epsilon", float32(l.Eps))), c, nil
	case nn.ReLU, *nn.ReLU:
		return e.node("Relu", path, []string{in}), c, nil
	case nn.Tanh, *nn.Tanh:
		return e.node("Tanh", path, []string{in}), c, nil
	case nn.LeakyReLU:
		return e.node("LeakyRelu", path, []string{in}, FloatAttr("alpha", float32(l.Slope))), c, nil
	case *nn.LeakyReLU:
		return e.node("LeakyRelu", path, []string{in}, FloatAttr("alpha", float32(l.Slope))), c, nil
	}
	// The reference's ResnetBlock, x + conv_block(x), is the one module
	// with a single child named conv_block.
	if p, ok := m.(nn.Parent); ok {
		if ch := p.Children(); len(ch) == 1 && ch[0].Name == "conv_block" {
			body, bc, err := e.module(ch[0].Module, path+".conv_block", in, c)
			if err != nil {
				return "", 0, err
			}
			if bc != c {
				return "", 0, fmt.Errorf("onnx: %s: residual block maps %d channels to %d", path, c, bc)
			}
			return e.node("Add", path, []string{in, body}), c, nil
		}
	}
	return "", 0, fmt.Errorf("onnx: %s: no ONNX translation for a layer of type %T", path, m)
}
