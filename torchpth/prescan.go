package torchpth

import (
	"encoding/binary"
	"fmt"
)

// maxMarkDepth bounds the nesting of pickle MARKs (tuples, lists, dicts
// under construction). A state_dict pickle nests a handful deep.
const maxMarkDepth = 256

// maxNumberLine bounds text-encoded numbers and GLOBAL names (protocol 0).
const maxNumberLine = 1024

// prescan walks the pickle's opcodes without executing them and checks that
// every opcode is known and every length-prefixed argument lies within the
// pickle. gopickle allocates a buffer of the claimed length before reading
// it, so a hostile BINBYTES8 claiming 2^62 bytes would otherwise exhaust
// memory or panic; after prescan every such allocation is bounded by the
// pickle's real size. It also bounds the MARK nesting depth. Bytes after
// STOP are ignored, as the unpickler ignores them.
func prescan(b []byte) error {
	pos := 0
	marks := 0
	need := func(n uint64) error {
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("pickle opcode at byte %d claims %d bytes, only %d remain", pos, n, len(b)-pos)
		}
		pos += int(n)
		return nil
	}
	line := func(max int) error {
		for i := pos; i < len(b) && i-pos <= max; i++ {
			if b[i] == '\n' {
				pos = i + 1
				return nil
			}
		}
		return fmt.Errorf("pickle opcode at byte %d: unterminated or overlong line", pos)
	}
	counted := func(width uint64) error {
		start := pos
		if err := need(width); err != nil {
			return err
		}
		var n uint64
		switch width {
		case 1:
			n = uint64(b[start])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(b[start:]))
		case 8:
			n = binary.LittleEndian.Uint64(b[start:])
		}
		return need(n)
	}
	for pos < len(b) {
		op := b[pos]
		at := pos
		pos++
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(': // MARK
			if marks++; marks > maxMarkDepth {
				return fmt.Errorf("pickle nests deeper than %d at byte %d", maxMarkDepth, at)
			}
		case 't', 'l', 'd', 'e', 'u', '1', 0x90, 0x91: // TUPLE LIST DICT APPENDS SETITEMS POP_MARK ADDITEMS FROZENSET
			if marks > 0 {
				marks--
			}
		case 'o': // OBJ
			if marks > 0 {
				marks--
			}
		case '0', '2', 'N', 'Q', 'R', 'a', 'b', '}', ']', ')', 's',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x92, 0x93, 0x94, 0x97, 0x98:
			// POP DUP NONE BINPERSID REDUCE APPEND BUILD EMPTY_DICT
			// EMPTY_LIST EMPTY_TUPLE SETITEM NEWOBJ TUPLE1-3 NEWTRUE
			// NEWFALSE EMPTY_SET NEWOBJ_EX STACK_GLOBAL MEMOIZE
			// NEXT_BUFFER READONLY_BUFFER: no argument
		case 'F', 'I', 'L', 'g', 'p': // numbers as text: short (big.Int parsing is superlinear)
			err = line(maxNumberLine)
		case 'P', 'S', 'V': // PERSID, STRING, UNICODE: text
			err = line(len(b))
		case 'c', 'i': // GLOBAL, INST: module and name lines
			if err = line(maxNumberLine); err == nil {
				err = line(maxNumberLine)
			}
			if op == 'i' && marks > 0 {
				marks--
			}
		case 'K', 'h', 'q', 0x80, 0x82: // BININT1 BINGET BINPUT PROTO EXT1
			err = need(1)
		case 'M', 0x83: // BININT2 EXT2
			err = need(2)
		case 'J', 'j', 'r', 0x84: // BININT LONG_BINGET LONG_BINPUT EXT4
			err = need(4)
		case 'G', 0x95: // BINFLOAT FRAME (the frame's content is scanned as opcodes)
			err = need(8)
			if op == 0x95 && err == nil {
				if n := binary.LittleEndian.Uint64(b[pos-8:]); n > uint64(len(b)-pos) {
					err = fmt.Errorf("pickle frame at byte %d claims %d bytes, only %d remain", at, n, len(b)-pos)
				}
			}
		case 'U', 'C', 0x8a, 0x8c: // SHORT_BINSTRING SHORT_BINBYTES LONG1 SHORT_BINUNICODE
			err = counted(1)
		case 'T', 'X', 'B', 0x8b: // BINSTRING BINUNICODE BINBYTES LONG4
			err = counted(4)
		case 0x8d, 0x8e, 0x96: // BINUNICODE8 BINBYTES8 BYTEARRAY8
			err = counted(8)
		default:
			return fmt.Errorf("unknown pickle opcode 0x%02x at byte %d", op, at)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("pickle ends without STOP")
}
