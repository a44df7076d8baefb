package cyclegan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/doggogan/doggogan/internal/atomicfile"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
	"github.com/doggogan/doggogan/torchpth"
)

// PyTorch interop: generators saved by the reference implementation
// (junyanz/pytorch-CycleGAN-and-pix2pix, latest_net_G_A.pth and the
// pretrained *.pth files) are state_dicts of its ResnetGenerator with the
// same names and layouts as doggogan's, so they load directly.

// ReadPth reads a state_dict saved by torch.save (zip format, PyTorch 1.6
// and later) as float32 tensors by name. Errors name the file.
func ReadPth(path string) (map[string]*tensor.Tensor, error) {
	ts, err := torchpth.Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%s: %v", path, plainErr(err))
		}
		return nil, err
	}
	out := make(map[string]*tensor.Tensor, len(ts))
	for _, t := range ts {
		out[t.Name] = tensor.FromFloat32(t.Data, t.Shape...)
	}
	return out, nil
}

// isTorchFile reports whether path looks like a torch.save file: by its
// extension, or by the zip (or legacy pickle) magic at its start.
func isTorchFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pth", ".pt":
		return true
	case ".safetensors":
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return bytes.Equal(head, []byte("PK\x03\x04")) || bytes.Equal(head[:2], []byte{0x80, 0x02})
}

var dropoutConv = regexp.MustCompile(`^(model\.\d+\.conv_block\.)6\.(weight|bias)$`)

// normalizeGeneratorState rewrites the variants of the reference's
// ResnetGenerator state_dict names to the plain ones:
//
//   - "module." in front of every name (a network wrapped in
//     nn.DataParallel and saved without unwrapping) is removed;
//
//   - generators built with use_dropout have nn.Dropout at index 4 of each
//     residual block, so the block's second convolution is conv_block.6
//     instead of conv_block.5; it is renamed (dropout is the identity at
//     inference, so the network is the same);
//
//   - running statistics of instance norms without parameters (saved by
//     PyTorch before 0.4) are dropped, as the reference does on load.
//
// It reports, by name, normalisation layers that carry parameters
// (norm='batch' or an affine instance norm), which doggogan's generator
// does not have. The caller's map is never changed.
func normalizeGeneratorState(st map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	out, copied := st, false
	if len(st) > 0 {
		all := true
		for name := range st {
			if !strings.HasPrefix(name, "module.") {
				all = false
				break
			}
		}
		if all {
			out = make(map[string]*tensor.Tensor, len(st))
			for name, t := range st {
				out[strings.TrimPrefix(name, "module.")] = t
			}
			copied = true
		}
	}
	var renames [][2]string
	for name := range out {
		m := dropoutConv.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		// Only a block with no conv_block.5 parameters has dropout.
		if _, ok := out[m[1]+"5.weight"]; ok {
			continue
		}
		renames = append(renames, [2]string{name, m[1] + "5." + m[2]})
	}
	if len(renames) > 0 {
		if !copied {
			out, copied = copyState(out), true
		}
		for _, r := range renames {
			out[r[1]] = out[r[0]]
			delete(out, r[0])
		}
	}
	// Running statistics of parameter-less instance norms, as PyTorch
	// before 0.4 saved them, are unused: the reference deletes them on load
	// (__patch_instance_norm_state_dict), and so does this.
	var stale []string
	for name := range out {
		for _, suffix := range []string{".running_mean", ".running_var", ".num_batches_tracked"} {
			if strings.HasSuffix(name, suffix) && out[strings.TrimSuffix(name, suffix)+".weight"] == nil {
				stale = append(stale, name)
			}
		}
	}
	if len(stale) > 0 {
		if !copied {
			out = copyState(out)
		}
		for _, name := range stale {
			delete(out, name)
		}
	}
	// A normalisation layer with parameters: model.2 is the first norm.
	if _, ok := out["model.2.weight"]; ok {
		return nil, fmt.Errorf("the generator's normalisation layers have parameters (%q): it was built with "+
			"norm='batch' or an affine instance norm, but doggogan supports the reference's default "+
			"norm='instance' (InstanceNorm2d without affine parameters)", "model.2.weight")
	}
	return out, nil
}

func copyState(st map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	out := make(map[string]*tensor.Tensor, len(st))
	for k, v := range st {
		out[k] = v
	}
	return out
}

// checkGeneratorNames lists, by name, the tensors of st that a generator
// with ngf filters and the given blocks lacks, and those it needs that st
// lacks, with their expected shapes.
func checkGeneratorNames(g *Generator, st map[string]*tensor.Tensor) error {
	params := nn.Params(g, "")
	want := map[string][]int{}
	for _, p := range params {
		want[p.Name] = p.T.Shape()
	}
	// The last convolution (weight then bias) makes the output image.
	if last := params[len(params)-2].Name; st[last] != nil && st[last].Rank() == 4 && st[last].Dim(0) != 3 {
		return fmt.Errorf("%q has shape %v: the generator makes %d-channel images (output_nc %d), but doggogan translates RGB images (3 channels)",
			last, st[last].Shape(), st[last].Dim(0), st[last].Dim(0))
	}
	var unknown, missing []string
	for name := range st {
		if _, ok := want[name]; !ok {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	for name, shape := range want {
		if _, ok := st[name]; !ok {
			missing = append(missing, fmt.Sprintf("%q %v", name, shape))
		}
	}
	if len(unknown) == 0 && len(missing) == 0 {
		return nil
	}
	sort.Strings(unknown)
	sort.Strings(missing)
	var parts []string
	if len(unknown) > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown tensor(s): %s", len(unknown), listSome(unknown)))
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d missing tensor(s): %s", len(missing), listSome(missing)))
	}
	return errors.New(strings.Join(parts, "; "))
}

func listSome(s []string) string {
	const most = 6
	if len(s) <= most {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:most], ", ") + fmt.Sprintf(" and %d more", len(s)-most)
}

// ErrImportedRun is returned when training would resume a run made by
// ImportRun, which holds generators only.
var ErrImportedRun = errors.New("this run was imported from PyTorch generators (doggogan import): " +
	"it holds no critics and no optimiser state, so it serves translate, serve and export but cannot be trained; " +
	"start a new run with doggogan train instead")

// Imported records where the generators of an imported run came from; a
// direction with no source has no generator in the run.
type Imported struct {
	A2B string `json:"a2b,omitempty"` // file G_A was imported from
	B2A string `json:"b2a,omitempty"` // file G_B was imported from
}

func (im *Imported) source(d Direction) string {
	if d == B2A {
		return im.B2A
	}
	return im.A2B
}

// ImportRun makes an inference-only run directory in runDir from
// generator files (PyTorch .pth state_dicts or safetensors), by direction:
// config.json records the inferred ngf and blocks and, under "imported",
// the source files; checkpoints/step_000000/ holds net_G_A.safetensors
// and/or net_G_B.safetensors. translate, serve and export read it like a
// trained run; training refuses it (ErrImportedRun). runDir must not hold
// checkpoints already.
func ImportRun(runDir string, sources map[Direction]string) (*Config, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("no generator to import")
	}
	if HasCheckpoint(runDir) {
		return nil, fmt.Errorf("%s: %w (choose another output folder)", runDir, ErrRunExists)
	}
	cfg := DefaultConfig()
	cfg.Imported = &Imported{}
	gens := map[Direction]*Generator{}
	first := true
	for _, d := range []Direction{A2B, B2A} {
		src, ok := sources[d]
		if !ok {
			continue
		}
		if st, err := os.Stat(src); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: is a folder; import takes generator files (.pth or .safetensors)", src)
		}
		g, _, err := LoadGenerator(src, d)
		if err != nil {
			return nil, err
		}
		if first {
			cfg.NGF, cfg.Blocks = g.NGF, g.Blocks
			first = false
		} else if g.NGF != cfg.NGF || g.Blocks != cfg.Blocks {
			return nil, fmt.Errorf("%s: ngf %d with %d blocks, but the other generator has ngf %d with %d blocks; a run holds one architecture",
				src, g.NGF, g.Blocks, cfg.NGF, cfg.Blocks)
		}
		abs, err := filepath.Abs(src)
		if err != nil {
			abs = src
		}
		if d == A2B {
			cfg.Imported.A2B = abs
		} else {
			cfg.Imported.B2A = abs
		}
		gens[d] = g
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("no generator to import (directions are a2b and b2a)")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	root := filepath.Join(runDir, checkpointsDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %v", root, plainErr(err))
	}
	name := stepPrefix + "000000"
	tmp := filepath.Join(root, ".tmp-"+name)
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %v", tmp, plainErr(err))
	}
	for d, g := range gens {
		meta := map[string]string{formatKey: formatValue, "step": "0", "imported_from": filepath.Base(cfg.Imported.source(d))}
		if err := SaveModule(filepath.Join(tmp, netFile(d.net())), g, meta); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
	}
	if err := writeConfig(runDir, cfg); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(root, name)); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("%s: %v", filepath.Join(root, name), plainErr(err))
	}
	if err := plainErr(atomicfile.SyncDir(root)); err != nil {
		return nil, fmt.Errorf("%s: %v", root, err)
	}
	return &cfg, nil
}
