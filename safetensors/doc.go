// Package safetensors reads and writes the Hugging Face safetensors format,
// doggogan's checkpoint format.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON header, then the data section:
//
//	{"__metadata__": {"key": "value", ...},
//	 "model.1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7], "data_offsets": [0, 37632]},
//	 ...}
//
// data_offsets are byte offsets relative to the start of the data section.
//
// Writing (Write, WriteFile) is deterministic: header entries sorted by name,
// data ordered by element size and then name, header padded with spaces to a
// multiple of 8 bytes, and the CRC-32C of the data section stored in
// __metadata__ under ChecksumKey. WriteFile replaces the file atomically and
// verifies it before it is installed.
//
// Reading (Open, ReadFile, Read) treats every file as hostile: malformed files
// give an error wrapping ErrFormat (naming the file when read from a path),
// never a panic, and no allocation is sized by the file's claims beyond the
// file's real size. A stored checksum is verified (ErrChecksum on mismatch);
// files written by other tools, which have none, load as well.
//
// Tensors cross the package boundary as names, shapes and Go slices (or raw
// little-endian bytes); the package imports nothing else from doggogan except
// its atomic file writer.
package safetensors
