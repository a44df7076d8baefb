package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file holds the subset of onnx.proto (package onnx, proto2 syntax;
// https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that a
// feed-forward convolutional graph needs, written and read with
// google.golang.org/protobuf/encoding/protowire. Field numbers are given
// next to each field as "onnx.proto: <type> <name> = <number>". Fields the
// exporter never writes are left out; the reader skips them.
//
// Why hand-written rather than generated: the nine messages used here are
// flat and stable (their numbers have not changed since IR version 3), so
// encoding them with protowire costs a few hundred lines, needs no protoc
// or protoc-gen-go at build time, no vendored .proto and no generated code
// to keep in sync, and keeps the module's only protobuf dependency the
// runtime library's wire package.

// DataType is TensorProto.DataType.
type DataType int32

// The element types used here (onnx.proto: enum TensorProto.DataType).
const (
	Float DataType = 1 // FLOAT = 1
	Int64 DataType = 7 // INT64 = 7
)

// AttributeType is AttributeProto.AttributeType.
type AttributeType int32

// Attribute kinds (onnx.proto: enum AttributeProto.AttributeType).
const (
	AttrFloat  AttributeType = 1 // FLOAT = 1
	AttrInt    AttributeType = 2 // INT = 2
	AttrString AttributeType = 3 // STRING = 3
	AttrFloats AttributeType = 6 // FLOATS = 6
	AttrInts   AttributeType = 7 // INTS = 7
)

// Model is a ModelProto: the top-level container of an ONNX file.
type Model struct {
	IRVersion       int64           // onnx.proto: int64 ir_version = 1
	ProducerName    string          // onnx.proto: string producer_name = 2
	ProducerVersion string          // onnx.proto: string producer_version = 3
	Domain          string          // onnx.proto: string domain = 4
	ModelVersion    int64           // onnx.proto: int64 model_version = 5
	DocString       string          // onnx.proto: string doc_string = 6
	Graph           *Graph          // onnx.proto: GraphProto graph = 7
	OpsetImport     []OperatorSetID // onnx.proto: repeated OperatorSetIdProto opset_import = 8
	MetadataProps   []StringEntry   // onnx.proto: repeated StringStringEntryProto metadata_props = 14
}

// OperatorSetID is an OperatorSetIdProto: an operator set and its version.
type OperatorSetID struct {
	Domain  string // onnx.proto: string domain = 1 ("" is the default ai.onnx set)
	Version int64  // onnx.proto: int64 version = 2
}

// StringEntry is a StringStringEntryProto, a key-value pair.
type StringEntry struct {
	Key   string // onnx.proto: string key = 1
	Value string // onnx.proto: string value = 2
}

// Graph is a GraphProto: nodes in topological order, constant tensors,
// and the graph's inputs and outputs.
type Graph struct {
	Node        []*Node      // onnx.proto: repeated NodeProto node = 1
	Name        string       // onnx.proto: string name = 2
	Initializer []*Tensor    // onnx.proto: repeated TensorProto initializer = 5
	DocString   string       // onnx.proto: string doc_string = 10
	Input       []*ValueInfo // onnx.proto: repeated ValueInfoProto input = 11
	Output      []*ValueInfo // onnx.proto: repeated ValueInfoProto output = 12
}

// Node is a NodeProto: one operator application.
type Node struct {
	Input     []string     // onnx.proto: repeated string input = 1
	Output    []string     // onnx.proto: repeated string output = 2
	Name      string       // onnx.proto: string name = 3
	OpType    string       // onnx.proto: string op_type = 4
	Attribute []*Attribute // onnx.proto: repeated AttributeProto attribute = 5
	Domain    string       // onnx.proto: string domain = 7
}

// Attribute is an AttributeProto. Type says which value field is in use.
type Attribute struct {
	Name   string        // onnx.proto: string name = 1
	F      float32       // onnx.proto: float f = 2
	I      int64         // onnx.proto: int64 i = 3
	S      []byte        // onnx.proto: bytes s = 4
	Floats []float32     // onnx.proto: repeated float floats = 7
	Ints   []int64       // onnx.proto: repeated int64 ints = 8
	Type   AttributeType // onnx.proto: AttributeType type = 20
}

// Tensor is a TensorProto holding its elements in RawData (fixed width,
// little-endian), as the specification requires of raw_data.
type Tensor struct {
	Dims     []int64  // onnx.proto: repeated int64 dims = 1
	DataType DataType // onnx.proto: int32 data_type = 2
	Name     string   // onnx.proto: string name = 8
	RawData  []byte   // onnx.proto: bytes raw_data = 9
	// FloatData and Int64Data are read from files that use the typed
	// fields instead of raw_data; the writer never sets them.
	FloatData []float32 // onnx.proto: repeated float float_data = 4 [packed = true]
	Int64Data []int64   // onnx.proto: repeated int64 int64_data = 7 [packed = true]
}

// ValueInfo is a ValueInfoProto: a named value with its type.
type ValueInfo struct {
	Name string     // onnx.proto: string name = 1
	Type *TypeProto // onnx.proto: TypeProto type = 2
}

// TypeProto is the tensor case of TypeProto (onnx.proto: TypeProto.Tensor
// tensor_type = 1; TypeProto.Tensor: int32 elem_type = 1,
// TensorShapeProto shape = 2).
type TypeProto struct {
	ElemType DataType
	Shape    []Dim // nil: shape unknown
}

// Dim is a TensorShapeProto.Dimension: a fixed size (Value) or a symbolic
// one (Param, e.g. "H").
type Dim struct {
	Value int64  // onnx.proto: int64 dim_value = 1
	Param string // onnx.proto: string dim_param = 2
}

// FloatTensor returns a float32 initializer.
func FloatTensor(name string, dims []int64, v []float32) *Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &Tensor{Name: name, Dims: dims, DataType: Float, RawData: raw}
}

// Int64Tensor returns an int64 initializer.
func Int64Tensor(name string, dims []int64, v []int64) *Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return &Tensor{Name: name, Dims: dims, DataType: Int64, RawData: raw}
}

// Float32s returns the elements of a FLOAT tensor.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("tensor %q has data type %d, not FLOAT", t.Name, t.DataType)
	}
	if t.RawData == nil {
		return t.FloatData, nil
	}
	if len(t.RawData)%4 != 0 {
		return nil, fmt.Errorf("tensor %q: %d raw bytes is not a whole number of floats", t.Name, len(t.RawData))
	}
	v := make([]float32, len(t.RawData)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
	}
	return v, nil
}

// Int64s returns the elements of an INT64 tensor.
func (t *Tensor) Int64s() ([]int64, error) {
	if t.DataType != Int64 {
		return nil, fmt.Errorf("tensor %q has data type %d, not INT64", t.Name, t.DataType)
	}
	if t.RawData == nil {
		return t.Int64Data, nil
	}
	if len(t.RawData)%8 != 0 {
		return nil, fmt.Errorf("tensor %q: %d raw bytes is not a whole number of int64s", t.Name, len(t.RawData))
	}
	v := make([]int64, len(t.RawData)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.RawData[8*i:]))
	}
	return v, nil
}

// IntsAttr returns an INTS attribute.
func IntsAttr(name string, v ...int64) *Attribute {
	return &Attribute{Name: name, Type: AttrInts, Ints: v}
}

// IntAttr returns an INT attribute.
func IntAttr(name string, v int64) *Attribute { return &Attribute{Name: name, Type: AttrInt, I: v} }

// FloatAttr returns a FLOAT attribute.
func FloatAttr(name string, v float32) *Attribute {
	return &Attribute{Name: name, Type: AttrFloat, F: v}
}

// StringAttr returns a STRING attribute.
func StringAttr(name, v string) *Attribute {
	return &Attribute{Name: name, Type: AttrString, S: []byte(v)}
}

// Marshal encodes the model in the protobuf wire format.
func (m *Model) Marshal() []byte {
	var b []byte
	b = appendVarintField(b, 1, uint64(m.IRVersion))
	b = appendStringField(b, 2, m.ProducerName)
	b = appendStringField(b, 3, m.ProducerVersion)
	b = appendStringField(b, 4, m.Domain)
	if m.ModelVersion != 0 {
		b = appendVarintField(b, 5, uint64(m.ModelVersion))
	}
	b = appendStringField(b, 6, m.DocString)
	if m.Graph != nil {
		b = appendMessage(b, 7, m.Graph.marshal())
	}
	for _, o := range m.OpsetImport {
		var ob []byte
		ob = appendStringField(ob, 1, o.Domain)
		ob = appendVarintField(ob, 2, uint64(o.Version))
		b = appendMessage(b, 8, ob)
	}
	for _, e := range m.MetadataProps {
		b = appendMessage(b, 14, e.marshal())
	}
	return b
}

func (e StringEntry) marshal() []byte {
	var b []byte
	b = appendStringField(b, 1, e.Key)
	return appendStringField(b, 2, e.Value)
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Node {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendStringField(b, 2, g.Name)
	for _, t := range g.Initializer {
		b = appendMessage(b, 5, t.marshal())
	}
	b = appendStringField(b, 10, g.DocString)
	for _, v := range g.Input {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.Output {
		b = appendMessage(b, 12, v.marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, s := range n.Input {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s) // an empty name (a skipped optional input) is kept
	}
	for _, s := range n.Output {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendStringField(b, 3, n.Name)
	b = appendStringField(b, 4, n.OpType)
	for _, a := range n.Attribute {
		b = appendMessage(b, 5, a.marshal())
	}
	b = appendStringField(b, 7, n.Domain)
	return b
}

func (a *Attribute) marshal() []byte {
	var b []byte
	b = appendStringField(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, a.S)
	case AttrFloats:
		// Unpacked, as proto2 declares "repeated float floats = 7" without
		// [packed = true]; parsers accept either form.
		for _, f := range a.Floats {
			b = protowire.AppendTag(b, 7, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case AttrInts:
		for _, v := range a.Ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	b = appendVarintField(b, 20, uint64(a.Type))
	return b
}

func (t *Tensor) marshal() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = appendVarintField(b, 2, uint64(t.DataType))
	if len(t.FloatData) > 0 {
		var p []byte
		for _, f := range t.FloatData {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessage(b, 4, p)
	}
	if len(t.Int64Data) > 0 {
		var p []byte
		for _, v := range t.Int64Data {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 7, p)
	}
	b = appendStringField(b, 8, t.Name)
	if t.RawData != nil {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendBytes(b, t.RawData)
	}
	return b
}

func (v *ValueInfo) marshal() []byte {
	var b []byte
	b = appendStringField(b, 1, v.Name)
	if v.Type != nil {
		var tt []byte // TypeProto.Tensor
		tt = appendVarintField(tt, 1, uint64(v.Type.ElemType))
		if v.Type.Shape != nil {
			var sb []byte // TensorShapeProto
			for _, d := range v.Type.Shape {
				var db []byte // TensorShapeProto.Dimension
				if d.Param != "" {
					db = appendStringField(db, 2, d.Param)
				} else {
					db = protowire.AppendTag(db, 1, protowire.VarintType)
					db = protowire.AppendVarint(db, uint64(d.Value))
				}
				sb = appendMessage(sb, 1, db)
			}
			tt = appendMessage(tt, 2, sb)
		}
		b = appendMessage(b, 2, appendMessage(nil, 1, tt))
	}
	return b
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendStringField writes a string field unless it is empty (proto2
// optional fields are simply absent when unset).
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendMessage writes an embedded message (or packed field) of any length,
// including zero.
func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}
