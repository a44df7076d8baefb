package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
)

// runWatcher follows a run directory by reading what the trainer writes
// there: config.json, losses.csv (read incrementally, as it grows),
// samples/step_NNNNNN.png and checkpoints/step_NNNNNN/. It never touches
// the trainer, so it cannot slow a step by holding a lock.
type runWatcher struct {
	dir  string
	name string // the directory's base name, shown as the run's name

	mu      sync.Mutex
	checked time.Time // last refresh

	cfg    *cyclegan.Config
	cfgErr string
	cfgMod time.Time

	csv     os.FileInfo // the losses.csv read so far
	csvOff  int64
	partial []byte   // an incomplete last line
	cols    []string // value columns (after step and seconds)
	steps   []int
	secs    []float64
	vals    [][]float32 // vals[c][row]

	samples map[int]string // step → file name in samples/
	ckpts   []int
}

func newRunWatcher(dir string) *runWatcher {
	name := dir
	if abs, err := filepath.Abs(dir); err == nil {
		name = abs
	}
	return &runWatcher{dir: dir, name: filepath.Base(name)}
}

// refreshEvery bounds how often the directory is read, however many
// dashboards are watching.
const refreshEvery = 500 * time.Millisecond

// maxCSVRead bounds how much of losses.csv one refresh reads.
const maxCSVRead = 32 << 20

// refresh re-reads what changed; w.mu must be held.
func (w *runWatcher) refresh() {
	if time.Since(w.checked) < refreshEvery {
		return
	}
	w.checked = time.Now()
	w.readConfig()
	w.readCSV()
	w.samples = listSamples(filepath.Join(w.dir, "samples"))
	w.ckpts = cyclegan.CheckpointSteps(w.dir)
}

func (w *runWatcher) readConfig() {
	p := filepath.Join(w.dir, "config.json")
	st, err := os.Stat(p)
	if err != nil {
		w.cfg, w.cfgErr, w.cfgMod = nil, "", time.Time{}
		return
	}
	if w.cfg != nil && st.ModTime().Equal(w.cfgMod) {
		return
	}
	c, err := cyclegan.ReadConfig(p)
	if err != nil {
		w.cfg, w.cfgErr = nil, err.Error()
		return
	}
	w.cfg, w.cfgErr, w.cfgMod = &c, "", st.ModTime()
}

func (w *runWatcher) resetCSV() {
	w.csv, w.csvOff, w.partial, w.cols = nil, 0, nil, nil
	w.steps, w.secs, w.vals = nil, nil, nil
}

func (w *runWatcher) readCSV() {
	p := filepath.Join(w.dir, "losses.csv")
	f, err := os.Open(p)
	if err != nil {
		w.resetCSV()
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		w.resetCSV()
		return
	}
	// A new file (the trainer rewrites it when it resumes) or a shorter
	// one is read again from the start.
	if w.csv == nil || !os.SameFile(st, w.csv) || st.Size() < w.csvOff {
		w.resetCSV()
	}
	w.csv = st
	if st.Size() == w.csvOff {
		return
	}
	if _, err := f.Seek(w.csvOff, io.SeekStart); err != nil {
		return
	}
	b, err := io.ReadAll(io.LimitReader(f, min(st.Size()-w.csvOff, maxCSVRead)))
	if err != nil {
		return
	}
	w.csvOff += int64(len(b))
	b = append(w.partial, b...)
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		w.partial = b
		return
	}
	w.partial = append([]byte(nil), b[end+1:]...)
	for _, line := range strings.Split(string(b[:end]), "\n") {
		w.parseLine(strings.TrimRight(line, "\r"))
	}
}

func (w *runWatcher) parseLine(line string) {
	f := strings.Split(line, ",")
	if w.cols == nil {
		if len(f) < 3 || f[0] != "step" || f[1] != "seconds" {
			// No header: the trainer's columns.
			f = strings.Split("step,seconds,lr_scale,G_A,G_B,cycle_A,cycle_B,idt_A,idt_B,D_A,D_B,wdist_A,wdist_B,gp_A,gp_B", ",")
			w.cols = f[2:]
			w.vals = make([][]float32, len(w.cols))
			w.parseLine(line)
			return
		}
		w.cols = f[2:]
		w.vals = make([][]float32, len(w.cols))
		return
	}
	if len(f) != len(w.cols)+2 {
		return
	}
	step, err := strconv.Atoi(f[0])
	if err != nil || step < 0 {
		return
	}
	sec, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return
	}
	vs := make([]float32, len(w.cols))
	for i, s := range f[2:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return
		}
		vs[i] = float32(v)
	}
	w.steps = append(w.steps, step)
	w.secs = append(w.secs, sec)
	for i, v := range vs {
		w.vals[i] = append(w.vals[i], v)
	}
}

var sampleName = regexp.MustCompile(`^step_([0-9]{1,9})\.png$`)

func listSamples(dir string) map[int]string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	m := map[int]string{}
	for _, e := range ents {
		if s := sampleName.FindStringSubmatch(e.Name()); s != nil && e.Type().IsRegular() {
			n, _ := strconv.Atoi(s[1])
			m[n] = e.Name()
		}
	}
	return m
}

// runConfig is the part of config.json the dashboard shows (not the data
// folders: a public server need not show its paths).
type runConfig struct {
	Toy          string  `json:"toy,omitempty"`
	DomainA      string  `json:"domain_a"`
	DomainB      string  `json:"domain_b"`
	Size         int     `json:"size"`
	NGF          int     `json:"ngf"`
	NDF          int     `json:"ndf"`
	Blocks       int     `json:"blocks"`
	CriticLayers int     `json:"critic_layers"`
	Loss         string  `json:"loss"`
	LR           float64 `json:"lr"`
	Batch        int     `json:"batch"`
	Steps        int     `json:"steps"`
	SampleEvery  int     `json:"sample_every"`
	SaveEvery    int     `json:"save_every"`
}

// runStatus is the answer of GET /api/run and the data of each status
// event.
type runStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"` // waiting, running, stopped or finished
	Message string `json:"message,omitempty"`
	Step    int    `json:"step"`
	Steps   int    `json:"steps"`
	Rows    int    `json:"rows"`
	// StepsPerSecond is measured over the last minute of the current
	// session (0 when unknown); ETASeconds is -1 unless running.
	StepsPerSecond float64              `json:"steps_per_second"`
	ETASeconds     float64              `json:"eta_seconds"`
	TrainSeconds   float64              `json:"train_seconds"`
	UpdatedAgo     float64              `json:"updated_seconds_ago"`
	Config         *runConfig           `json:"config,omitempty"`
	Checkpoints    []int                `json:"checkpoints"`
	Samples        []int                `json:"samples"`
	Latest         map[string]jsonFloat `json:"latest,omitempty"`
}

// status reads what changed and describes the run.
func (w *runWatcher) status() runStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refresh()
	st := runStatus{Name: w.name, Rows: len(w.steps), ETASeconds: -1,
		Checkpoints: append([]int{}, w.ckpts...), Samples: []int{}}
	for s := range w.samples {
		st.Samples = append(st.Samples, s)
	}
	sort.Ints(st.Samples)
	if c := w.cfg; c != nil {
		st.Steps = c.Steps
		st.Config = &runConfig{Toy: c.Toy, DomainA: c.DomainA, DomainB: c.DomainB, Size: c.Size, NGF: c.NGF, NDF: c.NDF,
			Blocks: c.Blocks, CriticLayers: c.CriticLayers, Loss: c.Loss, LR: c.LR, Batch: c.Batch, Steps: c.Steps,
			SampleEvery: c.SampleEvery, SaveEvery: c.SaveEvery}
	}
	n := len(w.steps)
	if n > 0 {
		st.Step = w.steps[n-1]
		st.Latest = map[string]jsonFloat{}
		for i, c := range w.cols {
			if v := float64(w.vals[i][n-1]); !math.IsNaN(v) && !math.IsInf(v, 0) {
				st.Latest[c] = jsonFloat(v)
			}
		}
	} else if len(w.ckpts) > 0 {
		st.Step = w.ckpts[len(w.ckpts)-1]
	}
	// The seconds column restarts at each session (each resume): sum the
	// sessions' ends, and measure speed in the last one.
	seg := 0
	for i := 1; i < n; i++ {
		if w.secs[i] < w.secs[i-1] || w.steps[i] <= w.steps[i-1] {
			st.TrainSeconds += w.secs[i-1]
			seg = i
		}
	}
	if n > 0 {
		st.TrainSeconds += w.secs[n-1]
	}
	if n-seg >= 2 {
		ref := seg
		for ref < n-2 && w.secs[n-1]-w.secs[ref] > 60 {
			ref++
		}
		if dt := w.secs[n-1] - w.secs[ref]; dt > 0 {
			st.StepsPerSecond = float64(w.steps[n-1]-w.steps[ref]) / dt
		}
	}
	if w.csv != nil {
		st.UpdatedAgo = math.Max(0, time.Since(w.csv.ModTime()).Seconds())
	}
	switch {
	case w.cfg == nil && w.cfgErr != "":
		st.State, st.Message = "stopped", w.cfgErr
	case w.cfg == nil:
		st.State, st.Message = "waiting", "waiting for a run to start in "+st.Name
	case st.Steps > 0 && st.Step >= st.Steps:
		st.State = "finished"
	default:
		// A step, a sample grid or a checkpoint may take a while; the run
		// is taken to be stopped when losses.csv has not grown for ten
		// steps' time (and at least a minute).
		stale := 60.0
		if st.StepsPerSecond > 0 {
			stale = math.Max(stale, 10/st.StepsPerSecond)
		}
		if w.csv != nil && st.UpdatedAgo < stale || w.csv == nil && time.Since(w.cfgMod) < time.Minute {
			st.State = "running"
			if st.StepsPerSecond > 0 {
				st.ETASeconds = math.Round(float64(st.Steps-st.Step) / st.StepsPerSecond)
			}
		} else {
			st.State = "stopped"
		}
	}
	st.StepsPerSecond = math.Round(st.StepsPerSecond*1000) / 1000
	st.TrainSeconds = math.Round(st.TrainSeconds*10) / 10
	st.UpdatedAgo = math.Round(st.UpdatedAgo*10) / 10
	return st
}

// jsonFloat encodes NaN and infinities as null.
type jsonFloat float32

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', 6, 32), nil
}

// lossSeries is the answer of GET /api/run/losses: per column, the mean
// over buckets of Bucket consecutive rows (aligned to the first row, so
// that earlier buckets stay put as the run grows), at the bucket's last
// step.
type lossSeries struct {
	Rows   int                    `json:"rows"`
	Bucket int                    `json:"bucket"`
	Step   []int                  `json:"step"`
	Series map[string][]jsonFloat `json:"series"`
}

const (
	defaultPoints = 1000
	maxPoints     = 20000
)

func (w *runWatcher) losses(points int) lossSeries {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refresh()
	n := len(w.steps)
	b := 1
	for n > points*b {
		b *= 2 // powers of two: the bucketing changes rarely as the run grows
	}
	out := lossSeries{Rows: n, Bucket: b, Step: []int{}, Series: map[string][]jsonFloat{}}
	for lo := 0; lo < n; lo += b {
		out.Step = append(out.Step, w.steps[min(lo+b, n)-1])
	}
	for c, name := range w.cols {
		vs := w.vals[c]
		s := make([]jsonFloat, 0, len(out.Step))
		for lo := 0; lo < n; lo += b {
			sum, k := 0.0, 0
			for _, v := range vs[lo:min(lo+b, n)] {
				if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
					sum += f
					k++
				}
			}
			if k == 0 {
				s = append(s, jsonFloat(math.NaN()))
			} else {
				s = append(s, jsonFloat(sum/float64(k)))
			}
		}
		out.Series[name] = s
	}
	return out
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.run.status())
}

func (s *Server) handleLosses(w http.ResponseWriter, r *http.Request) {
	points := defaultPoints
	if v := r.URL.Query().Get("points"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPoints {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("points must be a whole number from 1 to %d", maxPoints))
			return
		}
		points = n
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.run.losses(points))
}

// sampleFile returns the path of the sample grid of a step (the newest
// when step < 0). The name comes from the directory listing, never from
// the request.
func (w *runWatcher) sampleFile(step int) (string, int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refresh()
	if step < 0 {
		for s := range w.samples {
			step = max(step, s)
		}
	}
	name, ok := w.samples[step]
	if !ok {
		return "", 0, false
	}
	return filepath.Join(w.dir, "samples", name), step, true
}

func (s *Server) handleSample(w http.ResponseWriter, r *http.Request) {
	step := -1
	if v := r.URL.Query().Get("step"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "step must be a whole number")
			return
		}
		step = n
	}
	path, got, ok := s.run.sampleFile(step)
	if !ok {
		if step < 0 {
			writeError(w, http.StatusNotFound, "no sample grid yet")
		} else {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no sample grid for step %d", step))
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		// Removed since the listing (a fresh run): say so plainly.
		writeError(w, http.StatusNotFound, "the sample grid is gone")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "the sample grid is gone")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("X-Sample-Step", strconv.Itoa(got))
	if step >= 0 {
		h.Set("Cache-Control", "private, max-age=60")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// Event streams: a status event when the run changes (and every few
// seconds while it runs, for the clock), a comment as a heartbeat.
const (
	eventPoll      = time.Second
	eventHeartbeat = 15 * time.Second
	eventRefresh   = 5 * time.Second
)

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case s.events <- struct{}{}:
		defer func() { <-s.events }()
	default:
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "too many dashboards are following this run; try again later")
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	send := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 2000\n\n")) {
		return
	}
	var lastKey string
	var lastSent time.Time
	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	for {
		st := s.run.status()
		key := fmt.Sprint(st.State, st.Step, st.Rows, len(st.Samples), st.Checkpoints, st.Message, st.Steps)
		now := time.Now()
		if key != lastKey || st.State == "running" && now.Sub(lastSent) >= eventRefresh {
			b, _ := json.Marshal(st)
			if !send([]byte("event: status\ndata: " + string(b) + "\n\n")) {
				return
			}
			lastKey, lastSent = key, now
		} else if now.Sub(lastSent) >= eventHeartbeat {
			if !send([]byte(": heartbeat\n\n")) {
				return
			}
			lastSent = now
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}
