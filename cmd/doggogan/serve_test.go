package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
)

// syncBuffer is a bytes.Buffer safe for a command writing and a test
// reading at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`http://(127\.0\.0\.1:[0-9]+)/`)

// waitAddr waits for the command to print the address it serves on.
func waitAddr(t *testing.T, w *syncBuffer, done <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := urlRE.FindStringSubmatch(w.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("the command ended (%d) before serving: %s", code, w.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no address printed: %s", w.String())
	return ""
}

func tinyRun(t *testing.T) string {
	t.Helper()
	cfg := cyclegan.DefaultConfig()
	cfg.Toy, cfg.DomainA, cfg.DomainB = "seasons", "summer", "winter"
	cfg.Size, cfg.LoadSize = 16, 16
	cfg.NGF, cfg.NDF, cfg.Blocks, cfg.CriticLayers = 4, 4, 1, 2
	cfg.Steps, cfg.SampleEvery, cfg.SaveEvery, cfg.Pool = 2, 0, 0, 2
	dir := filepath.Join(t.TempDir(), "run")
	tr, err := cyclegan.NewTrainer(cfg, dir, cyclegan.TrainerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(context.Background(), cyclegan.Hooks{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "nothing to serve"},
		{[]string{"serve", "--model", "/no/such/run"}, "/no/such/run"},
		{[]string{"serve", "--run", "/no/such/run"}, "/no/such/run"},
		{[]string{"serve", "--run", ".", "--max-upload-mb", "0"}, "--max-upload-mb"},
		{[]string{"serve", "--run", ".", "--concurrency", "0"}, "--concurrency"},
		{[]string{"serve", "--run", ".", "--translate-timeout", "10ms"}, "--translate-timeout"},
		{[]string{"serve", "--model", ".", "--direction", "up"}, "--direction"},
		{[]string{"serve", "--run", ".", "--addr", "256.1.1.1:99999"}, "cannot listen"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestServeCommand starts doggogan serve on a free port with a model and
// a run, uses it, and stops it by cancelling its context.
func TestServeCommand(t *testing.T) {
	dir := tinyRun(t)
	var stdout, stderr syncBuffer
	root := newRoot(&stdout, &stderr)
	root.SetArgs([]string{"serve", "--model", dir, "--run", dir, "--addr", "127.0.0.1:0", "--threads", "1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	errc := make(chan error, 1)
	go func() { err := root.ExecuteContext(ctx); errc <- err; done <- 0 }()
	addr := waitAddr(t, &stdout, done)
	base := "http://" + addr

	res, err := http.Get(base + "/api/model")
	if err != nil {
		t.Fatal(err)
	}
	var mi struct {
		DomainA string `json:"domain_a"`
		Step    int    `json:"step"`
	}
	json.NewDecoder(res.Body).Decode(&mi)
	res.Body.Close()
	if mi.DomainA != "summer" || mi.Step != 2 {
		t.Errorf("model %+v", mi)
	}
	var img bytes.Buffer
	png.Encode(&img, image.NewNRGBA(image.Rect(0, 0, 10, 7)))
	res, err = http.Post(base+"/api/translate?direction=b2a", "image/png", &img)
	if err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(res.Body)
	res.Body.Close()
	if err != nil || out.Bounds().Dx() != 10 || out.Bounds().Dy() != 7 {
		t.Errorf("translation: %v %v", err, out)
	}
	res, err = http.Get(base + "/api/run")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `"state":"finished"`) {
		t.Errorf("run: %s", b)
	}
	if s := stderr.String(); !strings.Contains(s, "summer → winter and winter → summer translations") || !strings.Contains(s, "the dashboard of") {
		t.Errorf("stderr %q", s)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("serve ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context was cancelled")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after stopping")
	}
}

// TestTrainUI trains with --ui and reads the dashboard's status while the
// run trains; the server stops with the training.
func TestTrainUI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"train", "--toy", "seasons", "--size", "16", "--ngf", "4", "--ndf", "4", "--blocks", "1",
			"--critic-layers", "2", "--steps", "150", "--sample-every", "0", "--save-every", "0", "--threads", "1", "--workers", "1",
			"--ui", "127.0.0.1:0", "--out", out}, &stdout, &stderr)
	}()
	addr := waitAddr(t, &stderr, done)
	var st struct {
		State string `json:"state"`
		Step  int    `json:"step"`
		Steps int    `json:"steps"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for st.Step < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard never showed a running step: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
		res, err := http.Get("http://" + addr + "/api/run")
		if err != nil {
			t.Fatalf("dashboard: %v (stderr %s)", err, stderr.String())
		}
		json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
	}
	if st.State != "running" || st.Steps != 150 {
		t.Errorf("status while training: %+v", st)
	}
	// Interrupting is the trainer's business; here the run is left to
	// finish, which takes a few seconds at this size.
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("train exited %d: %s", code, stderr.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("training did not end")
	}
	if _, err := http.Get("http://" + addr + "/api/run"); err == nil {
		t.Error("the dashboard still answers after training")
	}
}
