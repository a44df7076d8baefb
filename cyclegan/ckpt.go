package cyclegan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/doggogan/doggogan/internal/atomicfile"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/safetensors"
	"github.com/doggogan/doggogan/tensor"
)

// A run directory keeps its checkpoints in checkpoints/step_NNNNNN/, one
// safetensors file per network named as the reference names them
// (net_G_A.safetensors holds what the reference saves as latest_net_G_A.pth,
// with the same tensor names and layouts) and state.safetensors with the
// optimisers, pools, random state and data positions. A checkpoint is
// written into a temporary folder and renamed into place, so a crash at any
// moment leaves the previous ones intact; the newest two are kept.

const (
	checkpointsDir = "checkpoints"
	stepPrefix     = "step_"
	stateFile      = "state.safetensors"
	keepCheckpoint = 2
	formatKey      = "doggogan.format"
	formatValue    = "doggogan-checkpoint-1"
)

// NetNames are the four networks in the reference's names.
var NetNames = [4]string{"G_A", "G_B", "D_A", "D_B"}

func netFile(name string) string { return "net_" + name + ".safetensors" }

func (n *Nets) byName(name string) nn.Module {
	switch name {
	case "G_A":
		return n.GA
	case "G_B":
		return n.GB
	case "D_A":
		return n.DA
	case "D_B":
		return n.DB
	}
	return nil
}

// stateTensors converts named parameters to safetensors tensors.
func stateTensors(params []nn.Param) []safetensors.Tensor {
	ts := make([]safetensors.Tensor, 0, len(params))
	for _, p := range params {
		ts = append(ts, safetensors.Float32Tensor(p.Name, p.T.Shape(), tensor.ToDType(p.T.Detach(), tensor.Float32).Float32s()))
	}
	return ts
}

// SaveModule writes m's parameters to a safetensors file, atomically.
func SaveModule(path string, m nn.Module, meta map[string]string) error {
	return safetensors.WriteFile(path, stateTensors(nn.Params(m, "")), meta)
}

// ReadState reads every floating-point tensor of a safetensors file.
func ReadState(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]*tensor.Tensor{}
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		v, err := f.Float32(name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %v", path, name, err)
		}
		shape := info.Shape
		if len(shape) == 0 {
			shape = nil
		}
		out[name] = tensor.FromFloat32(v, shape...)
	}
	return out, f.Metadata(), nil
}

// LoadModule reads a safetensors file into m's parameters; every name and
// shape must match.
func LoadModule(path string, m nn.Module) error {
	st, _, err := ReadState(path)
	if err != nil {
		return err
	}
	if err := nn.LoadState(m, st); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// trainState is everything besides the networks that a run needs to go on
// exactly where it stopped.
type trainState struct {
	steps      int
	posA, posB int64
	skipped    [2]int64
}

func (t *Trainer) stateTensors() ([]safetensors.Tensor, error) {
	l := t.Learner
	rng, err := l.RNG.MarshalBinary()
	if err != nil {
		return nil, err
	}
	ts := []safetensors.Tensor{
		safetensors.Int64Tensor("steps", []int{1}, []int64{int64(l.Steps)}),
		safetensors.Int64Tensor("data_position", []int{2}, []int64{t.srcA.Position(), t.srcB.Position()}),
		safetensors.Int64Tensor("skipped_files", []int{2}, []int64{t.skipped[0], t.skipped[1]}),
		safetensors.Uint8Tensor("rng", []int{len(rng)}, rng),
	}
	for _, o := range []struct {
		name string
		opt  *nn.Adam
	}{{"optimizer_G", l.OptG}, {"optimizer_D", l.OptD}} {
		ts = append(ts, safetensors.Int64Tensor(o.name+".step", []int{1}, []int64{int64(o.opt.Step)}))
		for i, p := range o.opt.Params {
			ts = append(ts,
				safetensors.Float32Tensor(o.name+"."+p.Name+".exp_avg", p.T.Shape(), o.opt.M[i].Float32s()),
				safetensors.Float32Tensor(o.name+"."+p.Name+".exp_avg_sq", p.T.Shape(), o.opt.V[i].Float32s()))
		}
	}
	for _, p := range []struct {
		name string
		pool *ImagePool
	}{{"pool_A", l.PoolA}, {"pool_B", l.PoolB}} {
		if s := p.pool.State(); s != nil {
			ts = append(ts, safetensors.Float32Tensor(p.name, s.Shape(), s.Float32s()))
		}
	}
	return ts, nil
}

// checkpointDirs lists the complete checkpoints of a run, newest first.
func checkpointDirs(runDir string) ([]string, []int, error) {
	root := filepath.Join(runDir, checkpointsDir)
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", root, plainErr(err))
	}
	type ck struct {
		dir  string
		step int
	}
	var cks []ck
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stepPrefix) {
			continue
		}
		s, err := strconv.Atoi(strings.TrimPrefix(e.Name(), stepPrefix))
		if err != nil || s < 0 {
			continue
		}
		cks = append(cks, ck{filepath.Join(root, e.Name()), s})
	}
	sort.Slice(cks, func(i, j int) bool { return cks[i].step > cks[j].step })
	dirs, steps := make([]string, len(cks)), make([]int, len(cks))
	for i, c := range cks {
		dirs[i], steps[i] = c.dir, c.step
	}
	return dirs, steps, nil
}

// errNoCheckpoint is returned by newestUsableCheckpoint for a run with no
// checkpoint.
var errNoCheckpoint = errors.New("no checkpoint")

// newestUsableCheckpoint calls try on a run's checkpoints, newest first,
// until it succeeds, and returns that checkpoint's directory and step, and
// the newest one's error when it had to fall back past it (nil otherwise).
// When try fails on all of them, err is the newest one's error;
// errNoCheckpoint when there are none.
func newestUsableCheckpoint(runDir string, try func(dir string) error) (dir string, step int, skipped, err error) {
	dirs, steps, err := checkpointDirs(runDir)
	if err != nil {
		return "", 0, nil, err
	}
	if len(dirs) == 0 {
		return "", 0, nil, errNoCheckpoint
	}
	for i, d := range dirs {
		err := try(d)
		if err == nil {
			return d, steps[i], skipped, nil
		}
		if skipped == nil {
			skipped = err
		}
	}
	return "", 0, nil, skipped
}

// CheckpointSteps lists the steps of a run's checkpoints, oldest first;
// none when the run has none or its checkpoints folder cannot be read.
func CheckpointSteps(runDir string) []int {
	_, steps, _ := checkpointDirs(runDir)
	slices.Reverse(steps)
	return steps
}

// HasCheckpoint reports whether runDir holds at least one checkpoint.
func HasCheckpoint(runDir string) bool {
	d, _, _ := checkpointDirs(runDir)
	return len(d) > 0
}

// Save writes a checkpoint of the current step and keeps the newest two.
func (t *Trainer) Save() error {
	step := t.Learner.Steps
	root := filepath.Join(t.RunDir, checkpointsDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("%s: %v", root, plainErr(err))
	}
	name := fmt.Sprintf("%s%06d", stepPrefix, step)
	final := filepath.Join(root, name)
	tmp := filepath.Join(root, ".tmp-"+name)
	// Folders left by a save that was killed part-way are incomplete.
	if stale, err := filepath.Glob(filepath.Join(root, ".tmp-"+stepPrefix+"*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fmt.Errorf("%s: %v", tmp, plainErr(err))
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		return err
	}
	meta := map[string]string{formatKey: formatValue, "step": strconv.Itoa(step)}
	for _, n := range NetNames {
		if err := SaveModule(filepath.Join(tmp, netFile(n)), t.Learner.Nets.byName(n), meta); err != nil {
			return fail(err)
		}
	}
	st, err := t.stateTensors()
	if err != nil {
		return fail(err)
	}
	if err := safetensors.WriteFile(filepath.Join(tmp, stateFile), st, meta); err != nil {
		return fail(err)
	}
	if err := plainErr(atomicfile.SyncDir(tmp)); err != nil {
		return fail(fmt.Errorf("%s: %v", tmp, err))
	}
	// Move an existing checkpoint of the same step aside first: rename
	// cannot replace a non-empty folder.
	old := filepath.Join(root, ".old-"+name)
	os.RemoveAll(old)
	if _, err := os.Stat(final); err == nil {
		if err := os.Rename(final, old); err != nil {
			return fail(fmt.Errorf("%s: %v", final, plainErr(err)))
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(fmt.Errorf("%s: %v", final, plainErr(err)))
	}
	if err := plainErr(atomicfile.SyncDir(root)); err != nil {
		return fmt.Errorf("%s: %v", root, err)
	}
	os.RemoveAll(old)
	dirs, _, err := checkpointDirs(t.RunDir)
	if err == nil {
		for _, d := range dirs[min(len(dirs), keepCheckpoint):] {
			os.RemoveAll(d)
		}
	}
	t.savedStep = step
	return nil
}

// loadCheckpoint restores nets and learner state from dir.
func loadCheckpoint(dir string, l *Learner) (trainState, error) {
	var ts trainState
	for _, n := range NetNames {
		if err := LoadModule(filepath.Join(dir, netFile(n)), l.Nets.byName(n)); err != nil {
			return ts, err
		}
	}
	path := filepath.Join(dir, stateFile)
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return ts, err
	}
	ints := func(name string, n int) ([]int64, error) {
		v, err := f.Int64(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(v) != n {
			return nil, fmt.Errorf("%s: tensor %q has %d values, want %d", path, name, len(v), n)
		}
		return v, nil
	}
	steps, err := ints("steps", 1)
	if err != nil {
		return ts, err
	}
	pos, err := ints("data_position", 2)
	if err != nil {
		return ts, err
	}
	skipped, err := ints("skipped_files", 2)
	if err != nil {
		return ts, err
	}
	if steps[0] < 0 || pos[0] < 0 || pos[1] < 0 {
		return ts, fmt.Errorf("%s: negative step or data position", path)
	}
	rng, err := f.Bytes("rng")
	if err != nil {
		return ts, fmt.Errorf("%s: %v", path, err)
	}
	if err := l.RNG.UnmarshalBinary(rng); err != nil {
		return ts, fmt.Errorf("%s: random state: %v", path, err)
	}
	for _, o := range []struct {
		name string
		opt  *nn.Adam
	}{{"optimizer_G", l.OptG}, {"optimizer_D", l.OptD}} {
		st, err := ints(o.name+".step", 1)
		if err != nil {
			return ts, err
		}
		o.opt.Step = int(st[0])
		for i, p := range o.opt.Params {
			for _, mv := range []struct {
				suffix string
				t      *tensor.Tensor
			}{{".exp_avg", o.opt.M[i]}, {".exp_avg_sq", o.opt.V[i]}} {
				name := o.name + "." + p.Name + mv.suffix
				v, err := f.Float32(name)
				if err != nil {
					return ts, fmt.Errorf("%s: %v", path, err)
				}
				if len(v) != mv.t.Numel() {
					return ts, fmt.Errorf("%s: tensor %q has %d values, want %d", path, name, len(v), mv.t.Numel())
				}
				copy(mv.t.Float32s(), v)
			}
		}
	}
	for _, p := range []struct {
		name string
		pool *ImagePool
	}{{"pool_A", l.PoolA}, {"pool_B", l.PoolB}} {
		info, ok := f.Info(p.name)
		if !ok {
			p.pool.SetState(nil)
			continue
		}
		v, err := f.Float32(p.name)
		if err != nil {
			return ts, fmt.Errorf("%s: %v", path, err)
		}
		if len(info.Shape) != 4 {
			return ts, fmt.Errorf("%s: tensor %q has shape %v", path, p.name, info.Shape)
		}
		if err := p.pool.SetState(tensor.FromFloat32(v, info.Shape...)); err != nil {
			return ts, fmt.Errorf("%s: %v", path, err)
		}
	}
	l.Steps = int(steps[0])
	ts.steps = int(steps[0])
	ts.posA, ts.posB = pos[0], pos[1]
	ts.skipped = [2]int64{skipped[0], skipped[1]}
	return ts, nil
}
