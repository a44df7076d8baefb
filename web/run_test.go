package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func getJSON(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	res, body := do(t, "GET", url, "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
	return res
}

func TestRunEndpoints(t *testing.T) {
	run := trainedRun(t)
	_, ts := serve(t, Options{RunDir: run})
	var st runStatus
	getJSON(t, ts.URL+"/api/run", &st)
	if st.Name != "seasons" || st.State != "finished" || st.Step != 6 || st.Steps != 6 || st.Rows != 6 ||
		fmt.Sprint(st.Checkpoints) != "[3 6]" || fmt.Sprint(st.Samples) != "[3 6]" || st.Config == nil || st.Config.DomainB != "winter" {
		t.Errorf("status %+v", st)
	}
	if st.ETASeconds != -1 || st.TrainSeconds <= 0 || st.StepsPerSecond <= 0 {
		t.Errorf("clock: eta %v, trained %v s, %v steps/s", st.ETASeconds, st.TrainSeconds, st.StepsPerSecond)
	}
	if _, ok := st.Latest["cycle_A"]; !ok {
		t.Errorf("latest losses %v", st.Latest)
	}

	// Losses: every row, then averaged down.
	rows := readCSV(t, filepath.Join(run, "losses.csv"))
	var ls lossSeries
	getJSON(t, ts.URL+"/api/run/losses", &ls)
	if ls.Rows != 6 || ls.Bucket != 1 || fmt.Sprint(ls.Step) != "[1 2 3 4 5 6]" || len(ls.Series["cycle_A"]) != 6 {
		t.Fatalf("losses %+v", ls)
	}
	for i, r := range rows {
		if got := float64(ls.Series["D_B"][i]); math.Abs(got-r["D_B"]) > 1e-5*math.Max(1, math.Abs(r["D_B"])) {
			t.Errorf("row %d: D_B %v, losses.csv says %v", i, got, r["D_B"])
		}
	}
	getJSON(t, ts.URL+"/api/run/losses?points=2", &ls)
	if ls.Bucket != 4 || fmt.Sprint(ls.Step) != "[4 6]" {
		t.Fatalf("2 points: %+v", ls)
	}
	mean := (rows[0]["cycle_B"] + rows[1]["cycle_B"] + rows[2]["cycle_B"] + rows[3]["cycle_B"]) / 4
	if got := float64(ls.Series["cycle_B"][0]); math.Abs(got-mean) > 1e-5 {
		t.Errorf("bucket mean %v, want %v", got, mean)
	}
	for _, q := range []string{"0", "-3", "x", "1e9", "20001"} {
		res, body := do(t, "GET", ts.URL+"/api/run/losses?points="+q, "", nil)
		wantJSONError(t, res, body, 400, "points")
	}

	// Samples: the newest, a given step, and refusals.
	res, body := do(t, "GET", ts.URL+"/api/run/sample.png", "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Sample-Step") != "6" {
		t.Fatalf("sample: %d %v", res.StatusCode, res.Header)
	}
	if _, err := png.Decode(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(run, "samples", "step_000006.png"))
	if !bytes.Equal(body, want) {
		t.Error("the newest sample is not samples/step_000006.png")
	}
	res, body = do(t, "GET", ts.URL+"/api/run/sample.png?step=3", "", nil)
	want, _ = os.ReadFile(filepath.Join(run, "samples", "step_000003.png"))
	if res.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Errorf("sample of step 3: %d", res.StatusCode)
	}
	res, body = do(t, "GET", ts.URL+"/api/run/sample.png?step=4", "", nil)
	wantJSONError(t, res, body, 404, "no sample grid for step 4")
	for _, q := range []string{"-1", "../config.json", "3/../../x", "%2e%2e%2fconfig"} {
		res, body = do(t, "GET", ts.URL+"/api/run/sample.png?step="+q, "", nil)
		wantJSONError(t, res, body, 400, "step must be a whole number")
	}
	res, body = do(t, "POST", ts.URL+"/api/run", "", nil)
	wantJSONError(t, res, body, 405, "not allowed")
}

// readCSV reads losses.csv into maps of column → value.
func readCSV(t *testing.T, path string) []map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], ",")
	var out []map[string]float64
	for _, l := range lines[1:] {
		m := map[string]float64{}
		for i, f := range strings.Split(l, ",") {
			m[head[i]], _ = strconv.ParseFloat(f, 64)
		}
		out = append(out, m)
	}
	return out
}

const header = "step,seconds,lr_scale,G_A,G_B,cycle_A,cycle_B,idt_A,idt_B,D_A,D_B,wdist_A,wdist_B,gp_A,gp_B\n"

func row(step int, sec float64) string {
	return fmt.Sprintf("%d,%g,1,0.1,0.2,%g,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2\n", step, sec, 0.01*float64(step))
}

func writeConfig(t *testing.T, dir string, steps int) {
	t.Helper()
	c := tinyConfig()
	c.Steps = steps
	b, _ := json.Marshal(c)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

// TestRunWatcher follows a hand-written run directory as it grows, is
// rewritten on resume, goes quiet and finishes.
func TestRunWatcher(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := newRunWatcher(dir)
	status := func() runStatus { w.checked = time.Time{}; return w.status() }

	if st := status(); st.State != "waiting" || !strings.Contains(st.Message, "waiting") {
		t.Fatalf("no directory: %+v", st)
	}
	writeConfig(t, dir, 100)
	csv := filepath.Join(dir, "losses.csv")
	appendFile(t, csv, header+row(1, 1)+row(2, 2)+row(3, 3))
	st := status()
	if st.State != "running" || st.Rows != 3 || st.Step != 3 || st.Steps != 100 {
		t.Fatalf("3 rows: %+v", st)
	}
	if st.StepsPerSecond != 1 || st.ETASeconds != 97 {
		t.Errorf("speed %v, eta %v; want 1 step/s and 97 s", st.StepsPerSecond, st.ETASeconds)
	}
	// Rows arrive, the last one incomplete.
	appendFile(t, csv, row(4, 3.5)+row(5, 4)+"6,4.5,1,0.1")
	if st := status(); st.Rows != 5 || st.Step != 5 {
		t.Fatalf("5 rows and a partial one: %+v", st)
	}
	appendFile(t, csv, ",0.2,0.06,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2\n")
	if st := status(); st.Rows != 6 || st.Step != 6 {
		t.Fatalf("the partial row completed: %+v", st)
	}
	if ls := w.losses(1000); ls.Series["cycle_A"][5] != jsonFloat(float32(0.06)) {
		t.Errorf("row 6 cycle_A %v", ls.Series["cycle_A"][5])
	}

	// A resume rewrites the file (a new inode) with the rows up to its
	// checkpoint, then a new session's clock starts from zero.
	tmp := csv + ".tmp"
	os.WriteFile(tmp, []byte(header+row(1, 1)+row(2, 2)+row(3, 3)+row(4, 0.5)+row(5, 2.5)), 0o644)
	if err := os.Rename(tmp, csv); err != nil {
		t.Fatal(err)
	}
	st = status()
	if st.Rows != 5 || st.Step != 5 {
		t.Fatalf("after the rewrite: %+v", st)
	}
	if st.TrainSeconds != 5.5 || st.StepsPerSecond != 0.5 {
		t.Errorf("sessions: trained %v s (want 3 + 2.5), %v steps/s (want 0.5)", st.TrainSeconds, st.StepsPerSecond)
	}
	// Quiet for long: stopped, no ETA.
	old := time.Now().Add(-10 * time.Minute)
	os.Chtimes(csv, old, old)
	if st := status(); st.State != "stopped" || st.ETASeconds != -1 {
		t.Errorf("quiet run: %+v", st)
	}
	// Reaching the last step: finished.
	appendFile(t, csv, row(100, 200))
	if st := status(); st.State != "finished" {
		t.Errorf("last step: %+v", st)
	}
	// A damaged config is reported, not fatal.
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o644)
	os.Chtimes(filepath.Join(dir, "config.json"), time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	if st := status(); st.State != "stopped" || !strings.Contains(st.Message, "config.json") {
		t.Errorf("damaged config: %+v", st)
	}
	// Garbage rows are skipped.
	appendFile(t, csv, "x,y\n1,2,3\n"+strings.Repeat(",", 14)+"\n")
	if st := status(); st.Rows != 6 {
		t.Errorf("garbage rows counted: %d", st.Rows)
	}
}

// readEvent reads the next status event of a stream.
func readEvent(t *testing.T, r *bufio.Reader) runStatus {
	t.Helper()
	var st runStatus
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			if err := json.Unmarshal([]byte(line[6:]), &st); err != nil {
				t.Fatal(err)
			}
			return st
		}
	}
}

func TestEvents(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	writeConfig(t, dir, 50)
	csv := filepath.Join(dir, "losses.csv")
	appendFile(t, csv, header+row(1, 1))
	s, ts := serve(t, Options{RunDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/run/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(res.Body)
	if st := readEvent(t, r); st.Step != 1 || st.State != "running" {
		t.Fatalf("first event %+v", st)
	}
	appendFile(t, csv, row(2, 2)+row(3, 3))
	for {
		st := readEvent(t, r)
		if st.Step == 3 {
			break
		}
		if st.Step != 1 {
			t.Fatalf("event %+v", st)
		}
	}
	// Close ends the stream (as http.Server.Shutdown does through it).
	s.Close()
	done := make(chan struct{})
	go func() { r.WriteTo(&bytes.Buffer{}); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end on Close")
	}
}

func TestEventClientsBounded(t *testing.T) {
	s, ts := serve(t, Options{RunDir: t.TempDir()})
	for i := 0; i < cap(s.events); i++ {
		s.events <- struct{}{}
	}
	res, body := do(t, "GET", ts.URL+"/api/run/events", "", nil)
	wantJSONError(t, res, body, 503, "too many dashboards")
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestPagesAndAssets(t *testing.T) {
	run := trainedRun(t)
	m := tinyModel()
	cases := []struct {
		name string
		opt  Options
		root string // the page "/" serves
		gone []string
	}{
		{"both", Options{Model: m, RunDir: run}, "translate.js", nil},
		{"model", Options{Model: m}, "translate.js", []string{"/dashboard", "/api/run", "/api/run/losses", "/api/run/sample.png"}},
		{"run", Options{RunDir: run}, "dashboard.js", []string{"/translate", "/api/model", "/api/translate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ts := serve(t, c.opt)
			res, body := do(t, "GET", ts.URL+"/", "", nil)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(body, []byte(c.root)) {
				t.Errorf("/: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
			for _, p := range c.gone {
				res, body := do(t, "GET", ts.URL+p, "", nil)
				if res.StatusCode != 404 {
					t.Errorf("%s: %d, want 404", p, res.StatusCode)
				}
				if strings.HasPrefix(p, "/api/") {
					wantJSONError(t, res, body, 404, "start the server with")
				}
			}
			var info map[string]bool
			getJSON(t, ts.URL+"/api/info", &info)
			if info["model"] != (c.opt.Model != nil) || info["run"] != (c.opt.RunDir != "") {
				t.Errorf("info %v", info)
			}
		})
	}
	_, ts := serve(t, Options{Model: m, RunDir: run})
	for p, ct := range map[string]string{
		"/static/style.css":      "text/css; charset=utf-8",
		"/static/translate.js":   "text/javascript; charset=utf-8",
		"/static/dashboard.js":   "text/javascript; charset=utf-8",
		"/static/chart.js":       "text/javascript; charset=utf-8",
		"/static/common.js":      "text/javascript; charset=utf-8",
		"/static/favicon.svg":    "image/svg+xml",
		"/static/dashboard.html": "text/html; charset=utf-8",
	} {
		res, _ := do(t, "GET", ts.URL+p, "", nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != ct || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	// Nothing outside the embedded assets, no listings, no unknown API.
	for _, p := range []string{"/static/", "/static/../go.mod", "/static/..%2fserver.go", "/static/%2e%2e/assets.go", "/config.json",
		"/losses.csv", "/samples/step_000006.png", "/checkpoints/", "/static/nope.js"} {
		res, body := do(t, "GET", ts.URL+p, "", nil)
		if res.StatusCode == 200 {
			t.Errorf("%s: 200 (%d bytes)", p, len(body))
		}
	}
	res, body := do(t, "GET", ts.URL+"/api/nope", "", nil)
	wantJSONError(t, res, body, 404, "no such endpoint")
}

// TestAssetsAreSelfContained checks that no page refers to anything off
// the server: no absolute URLs, no protocol-relative ones, no inline
// scripts or styles that the Content-Security-Policy would block.
func TestAssetsAreSelfContained(t *testing.T) {
	ents, err := assets.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := assets.ReadFile("static/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		// An XML namespace and the example in the curl hint are not fetched.
		s := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", "http://HOST/", "").Replace(string(b))
		for _, bad := range []string{"http://", "https://", `src="//`, `href="//`, "url(", "@import", "<script>", "style=\"", "onclick", "onload=", "eval("} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", e.Name(), bad)
			}
		}
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	s, err := New(Options{RunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer("127.0.0.1:0", s)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Errorf("timeouts %v %v %v %v %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New with nothing to serve")
	}
}
