package main

// Tests that run the real binary as a separate process, to kill and
// interrupt it.

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds cmd/doggogan once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "doggogan-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "doggogan")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("building doggogan: %v", binErr)
	}
	return binPath
}

func tinyTrainArgs(out string, steps int) []string {
	return []string{"train", "--toy", "seasons", "--size", "16", "--ngf", "4", "--ndf", "4", "--blocks", "1",
		"--critic-layers", "2", "--steps", strconv.Itoa(steps), "--save-every", "5", "--sample-every", "0",
		"--threads", "1", "--out", out}
}

// lossSteps returns the step column of losses.csv.
func lossSteps(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "losses.csv"))
	if err != nil {
		return nil
	}
	var steps []int
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 || l == "" {
			continue
		}
		s, err := strconv.Atoi(strings.SplitN(l, ",", 2)[0])
		if err != nil {
			t.Fatalf("losses.csv line %d: %q", i+1, l)
		}
		steps = append(steps, s)
	}
	return steps
}

// SIGKILL at random moments, then --resume, until the run finishes: every
// step is logged exactly once and the model loads.
func TestKillNineAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a training process repeatedly; skipped in -short mode")
	}
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "run")
	const steps = 600
	rng := rand.New(rand.NewPCG(7, 7))
	kills, resumes := 0, 0
	for attempt := 0; ; attempt++ {
		if attempt > 40 {
			t.Fatalf("the run did not finish after %d attempts", attempt)
		}
		args := tinyTrainArgs(out, steps)
		if _, err := os.Stat(filepath.Join(out, "config.json")); err == nil {
			args = []string{"train", "--resume", "--out", out, "--threads", "1"}
			resumes++
		}
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill at a random moment, before the run would finish, for the first
		// cycles; then let it finish.
		var timer <-chan time.Time
		if kills < 8 {
			timer = time.After(time.Duration(150+rng.IntN(900)) * time.Millisecond)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("attempt %d failed: %v\n%s", attempt, err, stderr.String())
			}
			if kills < 6 {
				t.Fatalf("the run finished after only %d kills; make it longer", kills)
			}
			goto finished
		case <-timer:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
finished:
	got := lossSteps(t, out)
	if len(got) != steps {
		t.Fatalf("losses.csv has %d rows after %d kills, want %d", len(got), kills, steps)
	}
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("losses.csv row %d is step %d: steps lost or repeated", i+1, s)
		}
	}
	if _, _, err := cyclegan.LoadGenerator(out, cyclegan.A2B); err != nil {
		t.Fatalf("final model does not load: %v", err)
	}
	cks, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*"))
	if len(cks) > 2 {
		t.Errorf("%d checkpoint folders kept, want at most 2: %v", len(cks), cks)
	}
	t.Logf("%d SIGKILLs, %d resumes, %d steps all accounted for", kills, resumes, steps)
}

var resumeHint = regexp.MustCompile(`interrupted at step (\d+); checkpoint saved. Resume with: doggogan train --resume --out (\S+)`)

// SIGINT saves a checkpoint and says how to resume.
func TestInterruptSavesCheckpoint(t *testing.T) {
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, tinyTrainArgs(out, 100000)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSteps(t, out, 3)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	m := resumeHint.FindStringSubmatch(stderr.String())
	if m == nil || m[2] != out {
		t.Fatalf("no resume instructions in stderr:\n%s", stderr.String())
	}
	step, _ := strconv.Atoi(m[1])
	ck := filepath.Join(out, "checkpoints", "step_"+strings.Repeat("0", 6-len(m[1]))+m[1])
	if _, err := os.Stat(filepath.Join(ck, "state.safetensors")); err != nil {
		t.Fatalf("no checkpoint at the step reported: %v", err)
	}
	if got := lossSteps(t, out); len(got) != step {
		t.Fatalf("losses.csv has %d rows, the message says step %d", len(got), step)
	}
	// The run resumes from there.
	code, _, e := runCLI("train", "--resume", "--out", out, "--steps", strconv.Itoa(step+2), "--threads", "1")
	if code != 0 {
		t.Fatalf("resume: %s", e)
	}
	if got := lossSteps(t, out); len(got) != step+2 || got[step+1] != step+2 {
		t.Fatalf("after resuming: steps %v", got)
	}
}

// A second SIGINT during a step exits at once without saving.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "run")
	// Steps long enough that both signals land inside one.
	args := []string{"train", "--toy", "seasons", "--size", "64", "--ngf", "16", "--ndf", "16", "--blocks", "4",
		"--steps", "1000", "--save-every", "0", "--sample-every", "0", "--threads", "1", "--out", out}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSteps(t, out, 1)
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(20 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	start := time.Now()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted again: exiting without saving") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to exit after the second interrupt", d)
	}
	if cyclegan.HasCheckpoint(out) {
		t.Error("a checkpoint was written although the second interrupt came first")
	}
}

func waitForSteps(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(lossSteps(t, dir)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d training steps within a minute", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
