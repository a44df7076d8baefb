package torchpth

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false,
	"rewrite testdata/fuzz/{FuzzRead,FuzzPickle} seeds (run with -run TestFuzzSeeds)")

// fixtureRecords returns the records of a committed fixture, keyed by name
// under the top folder.
func fixtureRecords(t testing.TB, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	records := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		_, rest, _ := strings.Cut(f.Name, "/")
		records[rest] = buf.Bytes()
	}
	return records
}

// storeZip is archive() for fuzzing: records under "archive/", stored.
func storeZip(records map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, k := range slices.Sorted(maps.Keys(records)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + k, Method: zip.Store})
		if err != nil {
			panic(err)
		}
		w.Write(records[k])
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func allocated() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}

// checkRead loads data, which must not panic; a result must be well-formed
// and an error must wrap ErrFormat or ErrLegacyFormat. Memory allocated is
// bounded by a multiple of the input: the unpickler's per-opcode objects
// dominate (up to ~150 bytes for some 1-byte opcodes).
func checkRead(t *testing.T, data []byte, pickleLen int) {
	before := allocated()
	ts, err := Read(bytes.NewReader(data), int64(len(data)))
	used := allocated() - before
	if err == nil {
		checkWellFormed(t, ts)
	} else if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrLegacyFormat) {
		t.Fatalf("error %v wraps neither ErrFormat nor ErrLegacyFormat", err)
	}
	if limit := 16*uint64(len(data)) + 256*uint64(pickleLen) + 1<<20; used > limit {
		t.Fatalf("allocated %d bytes for a %d-byte file (pickle %d bytes)", used, len(data), pickleLen)
	}
}

// FuzzRead feeds whole files to Read. Seeds: testdata/fuzz/FuzzRead (the
// committed fixtures and hand-built hostile archives).
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, len(data))
	})
}

// FuzzPickle replaces data.pkl of the state_dict.pth fixture (keeping its
// storages) with the fuzzer's bytes, so that mutations reach the unpickler
// instead of being caught by the zip CRC. Seeds: testdata/fuzz/FuzzPickle.
func FuzzPickle(f *testing.F) {
	records := fixtureRecords(f, "testdata/state_dict.pth")
	f.Fuzz(func(t *testing.T, pkl []byte) {
		recs := make(map[string][]byte, len(records))
		for k, v := range records {
			recs[k] = v
		}
		recs["data.pkl"] = pkl
		checkRead(t, storeZip(recs), len(pkl))
	})
}

func writeSeed(t *testing.T, target, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFuzzSeeds runs the seeds through the fuzz checks (the seed corpus in
// testdata/fuzz runs with every go test as well) and, with -write-corpus,
// rewrites the corpus.
func TestFuzzSeeds(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"state_dict", "checkpoint", "multi", "legacy"} {
		b, err := os.ReadFile("testdata/" + name + ".pth")
		if err != nil {
			t.Fatal(err)
		}
		files["fixture_"+name] = b
	}
	data := f32bytes(0, 1, 2, 3, 4, 5)
	good := spec{"w", "FloatStorage", "0", 6, 0, []int64{2, 3}, []int64{3, 1}}
	files["handbuilt_views"] = archive(t, map[string][]byte{"data.pkl": stateDictPickle(
		good,
		spec{"wt", "FloatStorage", "0", 6, 0, []int64{3, 2}, []int64{1, 3}},
		spec{"h", "HalfStorage", "1", 2, 1, nil, nil},
	), "data/0": data, "data/1": {0, 0x3c, 0, 0xc0}}, zip.Store)
	bad := good
	bad.numel = 7
	files["hostile_short_storage"] = archive(t, map[string][]byte{"data.pkl": stateDictPickle(bad), "data/0": data}, zip.Store)
	bad = good
	bad.shape, bad.stride = []int64{1 << 40, 1 << 40}, []int64{0, 0}
	files["hostile_huge_shape"] = archive(t, map[string][]byte{"data.pkl": stateDictPickle(bad), "data/0": data}, zip.Store)

	pickles := map[string][]byte{}
	for _, name := range []string{"state_dict", "checkpoint", "multi"} {
		pickles["fixture_"+name] = fixtureRecords(t, "testdata/"+name+".pth")["data.pkl"]
	}
	pickles["hostile_binbytes8"] = []byte{0x80, 2, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'}
	pickles["hostile_frame"] = []byte{0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '.'}
	pickles["hostile_marks"] = []byte(strings.Repeat("(", 300) + ".")

	for name, b := range files {
		t.Run(name, func(t *testing.T) { checkRead(t, b, len(b)) })
		if *writeCorpus {
			writeSeed(t, "FuzzRead", name, b)
		}
	}
	records := fixtureRecords(t, "testdata/state_dict.pth")
	for name, p := range pickles {
		records["data.pkl"] = p
		z := storeZip(records)
		t.Run("pickle_"+name, func(t *testing.T) { checkRead(t, z, len(p)) })
		if *writeCorpus {
			writeSeed(t, "FuzzPickle", name, p)
		}
	}
}
