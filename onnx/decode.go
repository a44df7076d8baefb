package onnx

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Unmarshal decodes an ONNX model from the protobuf wire format, keeping
// the fields that Model and its parts hold and skipping all others (so a
// model written by another tool reads too, minus what this package does
// not represent). Malformed input gives an error, never a panic; nothing is
// allocated beyond a constant multiple of len(b).
func Unmarshal(b []byte) (*Model, error) {
	m := &Model{}
	err := fields(b, "ModelProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.IRVersion = int64(x)
		case num == 2 && typ == protowire.BytesType:
			m.ProducerName = string(v)
		case num == 3 && typ == protowire.BytesType:
			m.ProducerVersion = string(v)
		case num == 4 && typ == protowire.BytesType:
			m.Domain = string(v)
		case num == 5 && typ == protowire.VarintType:
			m.ModelVersion = int64(x)
		case num == 6 && typ == protowire.BytesType:
			m.DocString = string(v)
		case num == 7 && typ == protowire.BytesType:
			g, err := unmarshalGraph(v)
			if err != nil {
				return err
			}
			m.Graph = g
		case num == 8 && typ == protowire.BytesType:
			var o OperatorSetID
			err := fields(v, "OperatorSetIdProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					o.Domain = string(v)
				case num == 2 && typ == protowire.VarintType:
					o.Version = int64(x)
				}
				return nil
			})
			if err != nil {
				return err
			}
			m.OpsetImport = append(m.OpsetImport, o)
		case num == 14 && typ == protowire.BytesType:
			var e StringEntry
			err := fields(v, "StringStringEntryProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ == protowire.BytesType {
					switch num {
					case 1:
						e.Key = string(v)
					case 2:
						e.Value = string(v)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			m.MetadataProps = append(m.MetadataProps, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func unmarshalGraph(b []byte) (*Graph, error) {
	g := &Graph{}
	err := fields(b, "GraphProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n, err := unmarshalNode(v)
			if err != nil {
				return err
			}
			g.Node = append(g.Node, n)
		case 2:
			g.Name = string(v)
		case 5:
			t, err := unmarshalTensor(v)
			if err != nil {
				return err
			}
			g.Initializer = append(g.Initializer, t)
		case 10:
			g.DocString = string(v)
		case 11, 12:
			vi, err := unmarshalValueInfo(v)
			if err != nil {
				return err
			}
			if num == 11 {
				g.Input = append(g.Input, vi)
			} else {
				g.Output = append(g.Output, vi)
			}
		}
		return nil
	})
	return g, err
}

func unmarshalNode(b []byte) (*Node, error) {
	n := &Node{}
	err := fields(b, "NodeProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			n.Input = append(n.Input, string(v))
		case 2:
			n.Output = append(n.Output, string(v))
		case 3:
			n.Name = string(v)
		case 4:
			n.OpType = string(v)
		case 5:
			a, err := unmarshalAttribute(v)
			if err != nil {
				return err
			}
			n.Attribute = append(n.Attribute, a)
		case 7:
			n.Domain = string(v)
		}
		return nil
	})
	return n, err
}

func unmarshalAttribute(b []byte) (*Attribute, error) {
	a := &Attribute{}
	err := fields(b, "AttributeProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			a.Name = string(v)
		case num == 2 && typ == protowire.Fixed32Type:
			a.F = math.Float32frombits(uint32(x))
		case num == 3 && typ == protowire.VarintType:
			a.I = int64(x)
		case num == 4 && typ == protowire.BytesType:
			a.S = append([]byte(nil), v...)
		case num == 7 && typ == protowire.Fixed32Type:
			a.Floats = append(a.Floats, math.Float32frombits(uint32(x)))
		case num == 7 && typ == protowire.BytesType: // packed
			fs, err := packedFixed32(v, "AttributeProto.floats")
			if err != nil {
				return err
			}
			a.Floats = append(a.Floats, fs...)
		case num == 8 && typ == protowire.VarintType:
			a.Ints = append(a.Ints, int64(x))
		case num == 8 && typ == protowire.BytesType: // packed
			is, err := packedVarint(v, "AttributeProto.ints")
			if err != nil {
				return err
			}
			a.Ints = append(a.Ints, is...)
		case num == 20 && typ == protowire.VarintType:
			a.Type = AttributeType(x)
		}
		return nil
	})
	return a, err
}

func unmarshalTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	err := fields(b, "TensorProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			t.Dims = append(t.Dims, int64(x))
		case num == 1 && typ == protowire.BytesType:
			ds, err := packedVarint(v, "TensorProto.dims")
			if err != nil {
				return err
			}
			t.Dims = append(t.Dims, ds...)
		case num == 2 && typ == protowire.VarintType:
			t.DataType = DataType(x)
		case num == 4 && typ == protowire.BytesType:
			fs, err := packedFixed32(v, "TensorProto.float_data")
			if err != nil {
				return err
			}
			t.FloatData = append(t.FloatData, fs...)
		case num == 4 && typ == protowire.Fixed32Type:
			t.FloatData = append(t.FloatData, math.Float32frombits(uint32(x)))
		case num == 7 && typ == protowire.BytesType:
			is, err := packedVarint(v, "TensorProto.int64_data")
			if err != nil {
				return err
			}
			t.Int64Data = append(t.Int64Data, is...)
		case num == 7 && typ == protowire.VarintType:
			t.Int64Data = append(t.Int64Data, int64(x))
		case num == 8 && typ == protowire.BytesType:
			t.Name = string(v)
		case num == 9 && typ == protowire.BytesType:
			t.RawData = append([]byte{}, v...)
		}
		return nil
	})
	return t, err
}

func unmarshalValueInfo(b []byte) (*ValueInfo, error) {
	vi := &ValueInfo{}
	err := fields(b, "ValueInfoProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			vi.Name = string(v)
		case 2: // TypeProto
			return fields(v, "TypeProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != 1 || typ != protowire.BytesType {
					return nil
				}
				tp := &TypeProto{}
				vi.Type = tp
				return fields(v, "TypeProto.Tensor", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						tp.ElemType = DataType(x)
					case num == 2 && typ == protowire.BytesType:
						tp.Shape = []Dim{}
						return fields(v, "TensorShapeProto", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							var d Dim
							err := fields(v, "TensorShapeProto.Dimension", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
								switch {
								case num == 1 && typ == protowire.VarintType:
									d.Value = int64(x)
								case num == 2 && typ == protowire.BytesType:
									d.Param = string(v)
								}
								return nil
							})
							tp.Shape = append(tp.Shape, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return vi, err
}

// fields calls f for every field of the message b: v holds the bytes of a
// length-delimited field, x the value of a varint or fixed field. Groups
// and unknown fields are skipped.
func fields(b []byte, msg string, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("onnx: %s: %v", msg, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n >= 0 {
				b = b[n:]
				continue
			}
		}
		if n < 0 {
			return fmt.Errorf("onnx: %s field %d: %v", msg, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

var errPacked = errors.New("truncated packed field")

func packedVarint(b []byte, what string) ([]int64, error) {
	var out []int64
	for len(b) > 0 {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, fmt.Errorf("onnx: %s: %v", what, errPacked)
		}
		out = append(out, int64(x))
		b = b[n:]
	}
	return out, nil
}

func packedFixed32(b []byte, what string) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("onnx: %s: %v", what, errPacked)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		u, _ := protowire.ConsumeFixed32(b[4*i:])
		out[i] = math.Float32frombits(u)
	}
	return out, nil
}
