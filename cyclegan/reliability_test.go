package cyclegan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A full disk makes a checkpoint save fail with a clear error, and the
// previous checkpoint stays loadable.
func TestFullDiskKeepsPreviousCheckpoint(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	cfg := tinyConfig()
	cfg.Steps, cfg.SaveEvery = 4, 0
	dir := filepath.Join(mnt, "run")
	tr, err := NewTrainer(cfg, dir, TrainerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Save(); err != nil {
		t.Fatal(err)
	}
	// Fill the disk.
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	if _, err := tr.Step(); err != nil && !strings.Contains(err.Error(), "no space") {
		t.Fatal(err)
	}
	err = tr.Save()
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("save on a full disk: %v", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the run", err)
	}
	if _, _, err := LoadGenerator(dir, A2B); err != nil {
		t.Fatalf("the previous checkpoint no longer loads: %v", err)
	}
	dirs, steps, _ := checkpointDirs(dir)
	if len(dirs) != 1 || steps[0] != 1 {
		t.Fatalf("checkpoints %v", dirs)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "checkpoints", ".tmp-*"))
	if len(tmps) != 0 {
		t.Errorf("the failed save left %v", tmps)
	}
}

// An unwritable output folder gives a clear error naming it.
func TestUnwritableRunDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	_, err := NewTrainer(tinyConfig(), filepath.Join(file, "run"), TrainerOptions{})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("got %v", err)
	}
}

// A hostile config.json is refused with an error, never a panic, and
// nothing it claims is allocated.
func FuzzReadConfig(f *testing.F) {
	good := `{"toy":"seasons","domain_a":"a","domain_b":"b","size":16,"load_size":16,"ngf":4,"ndf":4,"blocks":1,"critic_layers":2,"loss":"wgangp","gp":10,"n_critic":1,"lambda_cycle":10,"lambda_id":0.5,"pool":3,"lr":0.0002,"beta1":0.5,"beta2":0.999,"steps":6,"batch":1,"seed":9,"sample_every":0,"save_every":3}`
	f.Add([]byte(good))
	f.Add([]byte(strings.Replace(good, `"ngf":4`, `"ngf":1000000000`, 1)))
	f.Add([]byte(strings.Replace(good, `"size":16`, `"size":-16`, 1)))
	f.Add([]byte(strings.Replace(good, `"loss":"wgangp"`, `"loss":"hinge"`, 1)))
	f.Add([]byte(strings.Replace(good, `"lr":0.0002`, `"lr":1e309`, 1)))
	f.Add([]byte(`{"toy": 5}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(strings.Repeat("[", 100000)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "config.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadConfig(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
	})
}

// A run resumed from a folder whose newest checkpoint is damaged falls back
// to the previous one.
func TestResumeFallsBackFromDamagedCheckpoint(t *testing.T) {
	cfg := tinyConfig()
	cfg.Steps, cfg.SaveEvery = 6, 3
	dir := t.TempDir()
	tr, err := NewTrainer(cfg, dir, TrainerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	newest := filepath.Join(dir, "checkpoints", "step_000006", "state.safetensors")
	b, _ := os.ReadFile(newest)
	b[len(b)-5] ^= 0xff
	os.WriteFile(newest, b, 0o644)
	var warned string
	tr, err = NewTrainer(Config{Steps: 8}, dir, TrainerOptions{Resume: true, Logf: func(f string, a ...any) { warned += f }})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Learner.Steps != 3 || !strings.Contains(warned, "damaged") {
		t.Fatalf("resumed at step %d, warning %q", tr.Learner.Steps, warned)
	}
}
