package safetensors

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxRank is the largest number of dimensions a tensor may have in a file
// that Read accepts.
const MaxRank = 64

// maxDepth bounds the nesting of JSON values in unknown fields.
const maxDepth = 128

// The header is parsed by a small JSON parser of its own rather than
// encoding/json: the header is untrusted and up to MaxHeaderSize bytes, and
// this parser allocates only the strings it keeps (names, metadata) and one
// Info per tensor, so memory stays a small multiple of the header size.
// It also sees duplicate names, which encoding/json silently merges.
// It accepts exactly RFC 8259 JSON (the fuzz test cross-checks accepted
// headers against encoding/json).

// parser is a cursor over the header bytes.
type parser struct {
	b   []byte
	pos int
}

// syntaxError reports a JSON error at the current position.
func (p *parser) syntaxError(format string, args ...any) error {
	return fmt.Errorf("header JSON at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.pos >= len(p.b) {
		return 0
	}
	return p.b[p.pos]
}

// expect consumes the byte c after white space.
func (p *parser) expect(c byte) error {
	if p.peek() != c {
		if p.pos >= len(p.b) {
			return p.syntaxError("unexpected end, want %q", c)
		}
		return p.syntaxError("found %q, want %q", p.b[p.pos], c)
	}
	p.pos++
	return nil
}

// str parses a JSON string. The header has been checked to be valid UTF-8.
func (p *parser) str() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if c == '"' {
			s := string(p.b[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.syntaxError("control character in string")
		}
		p.pos++
	}
	out := slices.Clone(p.b[start:p.pos])
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(out), nil
		case c < 0x20:
			return "", p.syntaxError("control character in string")
		case c != '\\':
			out = append(out, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.b) {
			break
		}
		e := p.b[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.syntaxError("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A valid pair combines; a lone surrogate becomes
				// U+FFFD, as encoding/json does.
				r2 := rune(-1)
				if p.pos+1 < len(p.b) && p.b[p.pos] == '\\' && p.b[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					if v, ok := p.hex4(); ok && utf16.DecodeRune(r, v) != utf8.RuneError {
						r2 = v
					} else {
						p.pos = save
					}
				}
				if r2 >= 0 {
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.syntaxError("bad escape \\%c", e)
		}
	}
	return "", p.syntaxError("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.pos : p.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// number consumes a JSON number and returns its text (a sub-slice, no copy).
func (p *parser) number() ([]byte, error) {
	p.ws()
	start := p.pos
	if p.pos < len(p.b) && p.b[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.b) && '0' <= p.b[p.pos] && p.b[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	switch {
	case p.pos < len(p.b) && p.b[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return nil, p.syntaxError("invalid number")
	}
	if p.pos < len(p.b) && p.b[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.syntaxError("invalid number")
		}
	}
	if p.pos < len(p.b) && (p.b[p.pos] == 'e' || p.b[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.b) && (p.b[p.pos] == '+' || p.b[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.syntaxError("invalid number")
		}
	}
	return p.b[start:p.pos], nil
}

// literal consumes true, false or null.
func (p *parser) literal(word string) error {
	if len(p.b)-p.pos < len(word) || string(p.b[p.pos:p.pos+len(word)]) != word {
		return p.syntaxError("invalid value")
	}
	p.pos += len(word)
	return nil
}

// skip consumes any JSON value.
func (p *parser) skip(depth int) error {
	if depth > maxDepth {
		return p.syntaxError("nested deeper than %d", maxDepth)
	}
	switch c := p.peek(); c {
	case '"':
		// Validate without keeping the string.
		_, err := p.str()
		return err
	case '{':
		p.pos++
		if p.peek() == '}' {
			p.pos++
			return nil
		}
		for {
			if _, err := p.str(); err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if p.peek() == ',' {
				p.pos++
				continue
			}
			return p.expect('}')
		}
	case '[':
		p.pos++
		if p.peek() == ']' {
			p.pos++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if p.peek() == ',' {
				p.pos++
				continue
			}
			return p.expect(']')
		}
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	case 0:
		return p.syntaxError("unexpected end")
	default:
		_, err := p.number()
		return err
	}
}

// object calls member for each key of a JSON object, with the parser placed
// at the value, which member must consume.
func (p *parser) object(member func(key string) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for {
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}
		return p.expect('}')
	}
}

// uintArray parses an array of at most maxLen non-negative integers, each at
// most max. Strings, fractions, exponents, negative or oversized numbers and
// nesting are refused. The result is non-nil.
func (p *parser) uintArray(what string, maxLen int, max uint64) ([]uint64, error) {
	if p.peek() != '[' {
		return nil, fmt.Errorf("%s is not an array", what)
	}
	p.pos++
	out := make([]uint64, 0, 4)
	if p.peek() == ']' {
		p.pos++
		return out, nil
	}
	for {
		if len(out) == maxLen {
			return nil, fmt.Errorf("%s has more than %d numbers", what, maxLen)
		}
		if c := p.peek(); c != '-' && (c < '0' || c > '9') {
			return nil, fmt.Errorf("%s: element %d is not a number", what, len(out))
		}
		num, err := p.number()
		if err != nil {
			return nil, err
		}
		u, ok := parseDecimal(num, max)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not an integer in [0, %d]", what, num, max)
		}
		out = append(out, u)
		if p.peek() == ',' {
			p.pos++
			continue
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// parseDecimal parses plain decimal digits as a uint64 no larger than max.
func parseDecimal(num []byte, max uint64) (uint64, bool) {
	if len(num) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(u, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 || lo > max {
			return 0, false
		}
		u = lo
	}
	return u, true
}

// knownDType returns the DType constant spelled s, or unknown. Returning the
// constant avoids keeping a copy of the string per tensor.
func knownDType(s string) DType {
	for _, d := range []DType{F64, F32, F16, BF16, F8E4M3, F8E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL} {
		if string(d) == s {
			return d
		}
	}
	return unknown
}

// parseHeader parses and checks the JSON header: tensor entries (with
// duplicate names refused) and __metadata__.
func (f *File) parseHeader(hdr []byte, dataSize int64) error {
	if hdr[0] != '{' {
		return formatErr(f.name, "header does not start with '{'")
	}
	if !utf8.Valid(hdr) {
		return formatErr(f.name, "header is not valid UTF-8")
	}
	p := &parser{b: hdr}
	f.infos = make(map[string]Info)
	seenMeta := false
	err := p.object(func(key string) error {
		if key == "__metadata__" {
			if seenMeta {
				return errors.New("duplicate __metadata__")
			}
			seenMeta = true
			return f.parseMetadata(p)
		}
		if _, dup := f.infos[key]; dup {
			return fmt.Errorf("duplicate tensor name %q", key)
		}
		in, err := p.entry(dataSize)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", key, err)
		}
		f.infos[key] = in
		return nil
	})
	if err != nil {
		return formatErr(f.name, "%v", err)
	}
	p.ws()
	if p.pos != len(hdr) {
		return formatErr(f.name, "header JSON is followed by %d bytes that are not white space", len(hdr)-p.pos)
	}
	f.names = make([]string, 0, len(f.infos))
	for k := range f.infos {
		f.names = append(f.names, k)
	}
	slices.Sort(f.names)
	return nil
}

func (f *File) parseMetadata(p *parser) error {
	if p.peek() == 'n' {
		return p.literal("null") // allowed: no metadata
	}
	if p.peek() != '{' {
		return errors.New("__metadata__ is not an object of strings")
	}
	f.meta = make(map[string]string)
	return p.object(func(k string) error {
		if p.peek() != '"' {
			return fmt.Errorf("__metadata__ %q: value is not a string", k)
		}
		v, err := p.str()
		if err != nil {
			return err
		}
		if _, dup := f.meta[k]; dup {
			return fmt.Errorf("__metadata__: duplicate key %q", k)
		}
		f.meta[k] = v
		return nil
	})
}

// entry parses one tensor entry and checks it against the data section
// size. Unknown fields are skipped, as the reference implementation does;
// repeated known fields are refused (JSON parsers disagree on which wins).
func (p *parser) entry(dataSize int64) (Info, error) {
	var in Info
	if p.peek() != '{' {
		return in, errors.New("entry is not an object")
	}
	var dtype *string
	var shape, offsets []uint64
	err := p.object(func(key string) error {
		var err error
		switch key {
		case "dtype":
			if dtype != nil {
				return errors.New(`duplicate field "dtype"`)
			}
			if p.peek() != '"' {
				return errors.New("dtype is not a string")
			}
			s, err := p.str()
			dtype = &s
			return err
		case "shape":
			if shape != nil {
				return errors.New(`duplicate field "shape"`)
			}
			shape, err = p.uintArray("shape", MaxRank, math.MaxInt)
		case "data_offsets":
			if offsets != nil {
				return errors.New(`duplicate field "data_offsets"`)
			}
			offsets, err = p.uintArray("data_offsets", 2, uint64(dataSize))
		default:
			err = p.skip(0)
		}
		return err
	})
	if err != nil {
		return in, err
	}
	if dtype == nil || shape == nil || offsets == nil {
		return in, errors.New("entry needs dtype, shape and data_offsets")
	}
	if in.DType = knownDType(*dtype); in.DType == unknown {
		return in, fmt.Errorf("unknown dtype %s", strconv.Quote(*dtype))
	}
	if len(offsets) != 2 {
		return in, fmt.Errorf("data_offsets has %d numbers, want 2", len(offsets))
	}
	begin, end := offsets[0], offsets[1]
	if end < begin {
		return in, fmt.Errorf("data_offsets [%d, %d] end before they begin", begin, end)
	}
	in.Begin, in.End = int64(begin), int64(end)
	// Element count × size must equal the byte range, computed without
	// overflow. A zero dimension makes the others irrelevant.
	in.Shape = make([]int, len(shape))
	total, overflow := uint64(in.DType.Size()), false
	for i, d := range shape {
		in.Shape[i] = int(d)
		hi, lo := bits.Mul64(total, d)
		if hi != 0 {
			overflow = true
		}
		total = lo
	}
	if slices.Contains(shape, 0) {
		total, overflow = 0, false
	}
	if overflow || total != end-begin {
		return in, fmt.Errorf("shape %v of %s does not match data_offsets [%d, %d] (%d bytes)",
			in.Shape, in.DType, begin, end, end-begin)
	}
	return in, nil
}
